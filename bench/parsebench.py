"""CPU of parsing alone: the same captured bodies through our parsers and pyenphase's.

Ours: ``SOURCES[key].parse(body)`` for each endpoint. pyenphase has no
public bytes->model function per endpoint: its parsing lives in its
updaters (json_loads plus model construction into EnvoyData), so we run each
updater's ``update()`` against an in-memory fake request function that
serves the capture (no network, no event loop waits), after its ``probe()``
on the same captures. Each pyenphase updater is matched with our sources
for the same endpoints. Folders: the ones with the most bytes of captures.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from common import FIXTURES, emit


class _Resp:
    def __init__(self, status: int, body: bytes, url: str) -> None:
        self.status, self._body, self.url = status, body, url

    async def read(self) -> bytes:
        return self._body

    async def __aenter__(self) -> _Resp:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def _bodies(folder: Path) -> Any:
    from enphase_local.simulator import ReplayBackend

    backend = ReplayBackend(folder)

    def get(endpoint: str) -> tuple[int, bytes]:
        path, _, query = endpoint.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        reply = backend.handle("GET", path, params, b"")
        return (404, b"") if reply is None else (reply.status, reply.body)

    return backend, get


def _batch_size(fn: Any, budget: float = 0.3) -> int:
    """Calls per batch: enough for about a tenth of `budget` seconds of CPU."""
    n = 1
    while True:
        t0 = time.process_time()
        for _ in range(n):
            fn()
        if time.process_time() - t0 > budget / 3 or n > 100_000:
            return n
        n *= 4


def _batch(fn: Any, n: int) -> float:
    t0 = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - t0) / n


def _pair(py_run: Any, ours_run: Any, batches: int = 7) -> tuple[float, float]:
    """Seconds of CPU per call of each, best of `batches` batches taken in turn.

    Alternating the two and keeping the best batch of each makes the ratio
    robust on a shared machine: a slow moment costs one batch, not one side.
    """
    n_py, n_ours = _batch_size(py_run), _batch_size(ours_run)
    best_py = best_ours = float("inf")
    for _ in range(batches):
        best_py = min(best_py, _batch(py_run, n_py))
        best_ours = min(best_ours, _batch(ours_run, n_ours))
    return best_py, best_ours


async def probed_updaters(backend: Any, request: Any) -> AsyncIterator[tuple[type, Any]]:
    """Each pyenphase updater whose probe finds its endpoints on `backend`'s capture,
    probed in pyenphase's order over `request` (an in-memory fake)."""
    from awesomeversion import AwesomeVersion
    from pyenphase.const import SupportedFeatures
    from pyenphase.envoy import get_updaters
    from pyenphase.models.common import CommonProperties

    version = AwesomeVersion(backend.firmware.lstrip("DRS"))
    common = CommonProperties()
    common.reset_probe_properties(is_metered=bool(getattr(backend, "metered", True)))
    features = SupportedFeatures(0)
    for klass in get_updaters():
        updater = klass(version, request, request, common)
        try:
            found = await updater.probe(features)
        except Exception:
            continue
        if found:
            features |= found
            yield klass, updater


def _updater_run(updater: Any) -> Any:
    """`updater.update()` as a plain call: the fake request never suspends, so one
    send() runs the update to the end."""
    from pyenphase.models.envoy import EnvoyData

    def run() -> None:
        coro = updater.update(EnvoyData())
        try:
            coro.send(None)
        except StopIteration:
            return
        coro.close()
        raise RuntimeError("pyenphase update suspended: not a pure parse")

    return run


async def _folder(folder: Path) -> list[dict[str, Any]]:
    from pyenphase.models.envoy import EnvoyData

    from enphase_local.sources.table import SOURCES

    backend, get = _bodies(folder)
    by_path = {s.path: s for s in SOURCES.values()}
    asked: list[str] = []

    async def request(endpoint: str) -> _Resp:
        asked.append(endpoint)
        status, body = get(endpoint)
        return _Resp(status, body, endpoint)

    rows = []
    async for klass, updater in probed_updaters(backend, request):
        asked.clear()
        try:
            await updater.update(EnvoyData())
        except Exception as exc:
            rows.append({"folder": folder.name, "updater": klass.__name__, "error": str(exc)})
            continue
        endpoints = sorted(set(asked))
        ours = [(e, by_path.get(e) or by_path.get(e.split("?")[0])) for e in endpoints]
        if any(s is None for _, s in ours):
            missing = [e for e, s in ours if s is None]
            error = f"no source {missing}"
            rows.append({"folder": folder.name, "updater": klass.__name__, "error": error})
            continue
        bodies = [(s, get(e)[1]) for e, s in ours]

        py_run = _updater_run(updater)

        def ours_run(bodies: list[tuple[Any, bytes]] = bodies) -> None:
            for source, body in bodies:
                source.parse(body)

        py_s, ours_s = _pair(py_run, ours_run)
        rows.append({
            "folder": folder.name, "updater": klass.__name__, "endpoints": endpoints,
            "bytes": sum(len(b) for _, b in bodies),
            "pyenphase_us": 1e6 * py_s, "ours_us": 1e6 * ours_s,
        })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    folders = [p for p in FIXTURES.iterdir() if p.is_dir()]
    size = {p: sum(f.stat().st_size for f in p.iterdir() if not f.name.endswith("_log.json"))
            for p in folders}  # fmt: skip
    chosen = sorted(folders, key=lambda p: -size[p])[: 1 if args.quick else 3]

    async def all_rows() -> list[dict[str, Any]]:
        rows = []
        for folder in chosen:
            rows += await _folder(folder)
        return rows

    emit({"folders": [p.name for p in chosen], "rows": asyncio.run(all_rows())})


if __name__ == "__main__":
    main()
