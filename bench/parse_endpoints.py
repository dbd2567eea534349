"""CPU of parsing per endpoint: our parser against pyenphase's code for the same body.

parsebench.py compares whole pyenphase updaters, several endpoints at once
(the meters updater reads /ivp/meters and the readings; the ensemble updater
five endpoints). Here each large endpoint stands alone: ours is
``SOURCES[key].parse(body)``; pyenphase's is the code its updater (or
`Envoy`, for /home and /info) runs on that body: ``json_loads`` and the
``from_api`` calls of that endpoint, copied from pyenphase 4.2.0 without
its network and bookkeeping. Where pyenphase has an updater for one endpoint
alone (production.json, device_data, v1 inverters) its ``update()`` runs
against an in-memory request, as in parsebench.py. pyenphase does not read
``/ivp/livedata/status``: ours alone. Each endpoint on the capture with its
largest body; livedata from the simulator's battery preset.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from common import FIXTURES, emit
from parsebench import _batch, _batch_size, _bodies, _pair, _Resp, _updater_run, probed_updaters

# endpoint -> (capture folder, our source key)
ENDPOINTS: dict[str, tuple[str, str]] = {
    "/production.json?details=1": ("8.3.1598_collar", "production_json"),
    "/ivp/meters/readings": ("8.3.1598_collar", "meters_readings"),
    "/ivp/pdm/device_data": ("8.3.5169_with_generator", "device_data"),
    "/api/v1/production/inverters": ("8.3.1598_collar", "inverters_v1"),
    "/ivp/ensemble/inventory": ("8.3.1598_collar", "ensemble_inventory"),
    "/ivp/ensemble/secctrl": ("8.3.1598_collar", "ensemble_secctrl"),
    "/ivp/ensemble/power": ("8.3.1598_collar", "ensemble_power"),
    "/inventory.json?deleted=1": ("8.3.5169_with_generator", "inventory"),  # no ACB there
    "/home": ("8.3.1598_collar", "home"),
    "/info": ("8.3.5167_3rd-pv", "info"),
    "/ivp/livedata/status": ("battery-backup", "livedata"),
}


def _theirs(endpoint: str, body: bytes, meters: bytes | None) -> Any:
    """pyenphase's parse of `body`, as a no-argument function (None: it has none)."""
    from lxml import etree
    from pyenphase.json import json_loads
    from pyenphase.models.acb import EnvoyACB
    from pyenphase.models.c6combiner import EnvoyC6CC
    from pyenphase.models.collar import EnvoyCollar
    from pyenphase.models.encharge import (
        EnvoyEncharge,
        EnvoyEnchargeAggregate,
        EnvoyEnchargePower,
    )
    from pyenphase.models.enpower import EnvoyEnpower
    from pyenphase.models.home import EnvoyInterfaceInformation
    from pyenphase.models.meters import EnvoyMeterData
    from pyenphase.updaters.meters import _meter_data_for_phases

    def readings() -> None:  # updaters/meters.py update(), the readings' part
        status_by_eid = {ct["eid"]: ct for ct in statuses}
        for meter in json_loads(endpoint, body):
            if (status := status_by_eid.get(meter["eid"])) and meter["eid"] in enabled:
                EnvoyMeterData.from_api(meter, status)
                _meter_data_for_phases(phase_range, meter, status)

    def inventory() -> None:  # updaters/ensemble.py, the inventory's part
        for item in json_loads(endpoint, body):
            kind, devices = item["type"], item.get("devices") or []
            if kind == "ENCHARGE":
                {d["serial_num"]: EnvoyEncharge.from_api(d) for d in devices}
            elif kind == "ENPOWER" and devices:
                EnvoyEnpower.from_api(devices[0])
            elif kind == "COLLAR" and devices:
                EnvoyCollar.from_api(devices[0])
            elif kind == "C6 COMBINER CONTROLLER" and devices:
                EnvoyC6CC.from_api(devices[0])

    def power() -> None:
        data = json_loads(endpoint, body)
        {d["serial_num"]: EnvoyEnchargePower.from_api(d) for d in data["devices:"]}

    def acb() -> None:  # updaters/inventory.py (no v1 inverters: power None)
        for item in json_loads(endpoint, body):
            if item.get("type") == "ACB":
                for d in item.get("devices", []):
                    if isinstance(d, dict) and d.get("admin_state") != 0 and d.get("serial_num"):
                        EnvoyACB.from_api(d, None)

    def info() -> None:  # firmware.py
        xml = etree.fromstring(body)  # nosec
        if (device := xml.find("device")) is not None:
            for tag in ("software", "sn", "pn", "imeter"):
                device.find(tag)

    statuses = json_loads("/ivp/meters", meters) if meters else []
    # what its probe keeps of /ivp/meters: the enabled CTs and the phase count
    enabled = {ct["eid"] for ct in statuses if ct["state"] == "enabled"}
    phase_count = max([1] + [ct["phaseCount"] for ct in statuses if ct["eid"] in enabled])
    phase_range = phase_count if phase_count > 1 else 0
    return {
        "/ivp/meters/readings": readings,
        "/ivp/ensemble/inventory": inventory,
        "/ivp/ensemble/secctrl": lambda: EnvoyEnchargeAggregate.from_api(json_loads("s", body)),
        "/ivp/ensemble/power": power,
        "/inventory.json?deleted=1": acb,
        "/home": lambda: EnvoyInterfaceInformation.from_api(json_loads(endpoint, body)),
        "/info": info,
    }.get(endpoint)


async def _updater(folder: Path, endpoint: str) -> Any:
    """The run of the pyenphase updater that reads `endpoint` alone (None: none does)."""
    from pyenphase.models.envoy import EnvoyData

    backend, get = _bodies(folder)
    asked: list[str] = []

    async def request(path: str) -> _Resp:
        asked.append(path)
        status, body = get(path)
        return _Resp(status, body, path)

    async for _klass, updater in probed_updaters(backend, request):
        asked.clear()
        await updater.update(EnvoyData())
        if set(asked) == {endpoint}:
            return _updater_run(updater)
    return None


def _decode_us(body: bytes) -> float:
    """The floor under any parse of `body`: decoding it alone (orjson; XML: the C parser
    building a tree), best of 7 batches, in µs."""
    import xml.etree.ElementTree as ET

    import orjson

    def decode() -> None:
        if body.lstrip().startswith(b"<"):
            ET.fromstring(body)  # nosec: a capture
        else:
            orjson.loads(body)

    n = _batch_size(decode)
    return 1e6 * min(_batch(decode, n) for _ in range(7))


def _livedata() -> bytes:
    from enphase_local.simulator import SimClock, SiteBackend

    backend = SiteBackend.from_preset("battery-backup", clock=SimClock(1_781_550_000.0))
    reply = backend.handle("GET", "/ivp/livedata/status", {}, b"")
    assert reply is not None
    return reply.body


async def rows() -> list[dict[str, Any]]:
    from enphase_local.sources.keys import SourceKey
    from enphase_local.sources.table import SOURCES

    out = []
    for endpoint, (folder, key) in ENDPOINTS.items():
        source = SOURCES[SourceKey(key)]
        if folder == "battery-backup":
            body, meters, theirs = _livedata(), None, None
        else:
            _, get = _bodies(FIXTURES / folder)
            body, meters = get(endpoint)[1], get("/ivp/meters")[1]
            theirs = _theirs(endpoint, body, meters) or await _updater(FIXTURES / folder, endpoint)
        source.parse(body)  # fails loudly here rather than inside the timing

        def ours(source: Any = source, body: bytes = body) -> None:
            source.parse(body)

        if theirs is None:
            py_s, ours_s = _pair(ours, ours)  # same batches, one side
            py_s = float("nan")
        else:
            theirs()
            py_s, ours_s = _pair(theirs, ours)
        out.append({
            "endpoint": endpoint, "folder": folder, "bytes": len(body),
            "ours_us": 1e6 * ours_s, "pyenphase_us": 1e6 * py_s, "decode_us": _decode_us(body),
        })  # fmt: skip
    return out


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    emit({"endpoints": asyncio.run(rows())})


if __name__ == "__main__":
    main()
