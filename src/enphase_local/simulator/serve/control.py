"""The simulator's private control endpoint, under ``/__sim__/``.

Why over HTTP: the `enphase simulate` command, the demo and benchmark
scripts run the simulator in another process, and still need to inject
faults, move the clock, read the request log and reset between runs. Each
request acts on the gateway whose port it arrived on (fleets too). Control
requests are neither logged nor subject to faults.

    GET  /__sim__/                state: serial, firmware, personality, simulated time
    GET  /__sim__/faults          the fault knobs
    POST /__sim__/faults          {"spec": "fail-next=2:503"} or {"specs": [...]} or {"reset": true}
    GET  /__sim__/log             the request log (``?entries=0`` for counts only)
    POST /__sim__/log/reset       forget the log
    POST /__sim__/clock           {"advance": s} | {"set": epoch} | {"speed": x}
    POST /__sim__/reset           faults and log back to the start
    POST /__sim__/tokens          {"role": "owner"|"installer", "valid_for_s": s} -> token text
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

if TYPE_CHECKING:
    from .core import GatewayCore

__all__ = ["CONTROL_PREFIX", "add_control_routes"]

CONTROL_PREFIX = "/__sim__"


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise web.HTTPBadRequest(text="control requests take a JSON object") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="control requests take a JSON object")
    return data


def add_control_routes(
    app: web.Application, core_for: Callable[[web.Request], GatewayCore | None]
) -> None:
    """Register the control routes; `core_for` finds the gateway a request is for."""

    def core(request: web.Request) -> GatewayCore:
        found = core_for(request)
        if found is None:
            raise web.HTTPNotFound(text="no gateway on this port")
        return found

    async def state(request: web.Request) -> web.Response:
        return _json(core(request).state())

    async def get_faults(request: web.Request) -> web.Response:
        return _json(core(request).faults.to_dict())

    async def post_faults(request: web.Request) -> web.Response:
        gateway = core(request)
        data = await _body(request)
        specs = list(data.get("specs", []))
        if "spec" in data:
            specs.append(data["spec"])
        try:
            if data.get("reset"):
                gateway.faults.reset()
            for spec in specs:
                gateway.faults.apply_spec(str(spec))
        except ValueError as err:
            return _json({"error": str(err)}, status=400)
        return _json(gateway.faults.to_dict())

    async def get_log(request: web.Request) -> web.Response:
        data = core(request).log.to_dict()
        if request.query.get("entries") in ("0", "false", "no"):
            del data["entries"]
        return _json(data)

    async def reset_log(request: web.Request) -> web.Response:
        core(request).log.reset()
        return _json({"ok": True})

    async def clock(request: web.Request) -> web.Response:
        sim_clock = core(request).clock
        data = await _body(request)
        try:
            if "set" in data:
                sim_clock.set(float(data["set"]))
            if "advance" in data:
                sim_clock.advance(float(data["advance"]))
            if "speed" in data:
                sim_clock.set_speed(float(data["speed"]))
        except (TypeError, ValueError) as err:
            return _json({"error": str(err)}, status=400)
        return _json({"now": sim_clock.now(), "speed": sim_clock.speed})

    async def reset(request: web.Request) -> web.Response:
        gateway = core(request)
        gateway.faults.reset()
        gateway.log.reset()
        return _json({"ok": True})

    async def tokens(request: web.Request) -> web.Response:
        gateway = core(request)
        data = await _body(request)
        role = data.get("role", "owner")
        if role not in ("owner", "installer"):
            return _json({"error": "role is 'owner' or 'installer'"}, status=400)
        valid = data.get("valid_for_s")
        token = gateway.token(role, float(valid) if valid is not None else None)
        return web.Response(text=token, content_type="text/plain")

    prefix = CONTROL_PREFIX
    app.router.add_get(f"{prefix}/", state)
    app.router.add_get(f"{prefix}/faults", get_faults)
    app.router.add_post(f"{prefix}/faults", post_faults)
    app.router.add_get(f"{prefix}/log", get_log)
    app.router.add_post(f"{prefix}/log/reset", reset_log)
    app.router.add_post(f"{prefix}/clock", clock)
    app.router.add_post(f"{prefix}/reset", reset)
    app.router.add_post(f"{prefix}/tokens", tokens)
