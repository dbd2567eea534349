"""A `ControlTarget` backed by the simulator's site model in-process, and its own checks.

`SimTarget` answers writes with the simulator's real write handlers and
reads with the project's real parsers over the simulator's real bodies: the
control layer is tested against the simulated gateway's state machine, not
a mock. Its clock is a frozen `SimClock` that the control layer's injected
`sleep` moves, so 90 s of polling take no time. Every write is recorded, so
tests can prove that a refused action sent nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson

from enphase_local.capabilities import Capability
from enphase_local.control import Control
from enphase_local.errors import EnvoyHTTPError
from enphase_local.firmware import Firmware
from enphase_local.simulator import SimClock, SiteBackend
from enphase_local.sources.dry_contacts import DRY_CONTACT_SETTINGS, DRY_CONTACTS
from enphase_local.sources.ensemble import ENSEMBLE_INVENTORY, ENSEMBLE_SECCTRL
from enphase_local.sources.generator import GEN_CONFIG, GEN_MODE, GEN_SCHEDULE, GENERATOR
from enphase_local.sources.inventory import INVENTORY
from enphase_local.sources.registry import Source
from enphase_local.sources.storage_controller import SC_SCHED
from enphase_local.sources.tariff import TARIFF

T = TypeVar("T")
T0 = 1_718_000_000.0  # 2024-06-10, daytime in the US

SOURCES: dict[str, Source[Any]] = {
    s.key: s
    for s in (
        TARIFF,
        ENSEMBLE_INVENTORY,
        DRY_CONTACTS,
        DRY_CONTACT_SETTINGS,
        GEN_MODE,
        GEN_SCHEDULE,
        GEN_CONFIG,
        GENERATOR,
        INVENTORY,
        ENSEMBLE_SECCTRL,  # read back after a storage write on 8.2.4225+ (control.storage)
        SC_SCHED,
    )
}


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Sent:
    method: str
    path: str
    json: Any
    body: bytes


def capabilities_of(backend: SiteBackend) -> frozenset[Capability]:
    """What a probe would find on this simulated site."""
    cfg = backend.config
    caps = {Capability.TARIFF} if cfg.fw.at_least(7) else set()
    if cfg.enpower:
        caps.add(Capability.ENPOWER)
    if cfg.dry_contacts:
        caps.add(Capability.DRY_CONTACTS)
    if cfg.generator:
        caps.add(Capability.GENERATOR)
    if cfg.acb.count:
        caps.add(Capability.ACB)
    if cfg.battery.count:
        caps.add(Capability.ENCHARGE)
    return frozenset(caps)


class SimTarget:
    """The simulated gateway as a `ControlTarget`.

    `fail_writes` makes every write answer that HTTP status (the simulator's
    state untouched). `acb_sleep_in_inventory` makes ``/inventory.json``
    show the AC Battery sleep windows set through ``/admin/lib/acb_config``,
    as a real gateway does; the simulator's inventory view does not render
    them yet (it always shows sleep disabled, 25..30).
    """

    def __init__(
        self,
        preset: str,
        *,
        start: float = T0,
        capabilities: frozenset[Capability] | None = None,
        fail_writes: int | None = None,
        acb_sleep_in_inventory: bool = False,
    ) -> None:
        self.clock = SimClock(start=start, speed=0)
        self.backend = SiteBackend.from_preset(preset, clock=self.clock)
        self.capabilities = (
            capabilities if capabilities is not None else capabilities_of(self.backend)
        )
        self.fail_writes = fail_writes
        self.acb_sleep_in_inventory = acb_sleep_in_inventory
        self.writes: list[Sent] = []
        self.reads: list[str] = []

    @property
    def firmware(self) -> Firmware:
        return Firmware.parse(self.backend.firmware)

    async def request(self, method: str, path: str, *, json: Any = None) -> Response:
        body = b"" if json is None else orjson.dumps(json)
        self.writes.append(Sent(method, path, json, body))
        if self.fail_writes is not None:
            return Response(self.fail_writes, b'{"error": "injected"}')
        reply = self.backend.handle(method, path, {}, body)
        if reply is None:
            return Response(404, b"")
        return Response(reply.status, reply.body)

    def get(self, key: str) -> bytes:
        """The raw body of a source now (no parsing, not counted as a read)."""
        path, _, query = SOURCES[key].path.partition("?")
        reply = self.backend.handle("GET", path, dict(parse_qsl(query)), b"")
        if reply is None or reply.status != 200:
            raise EnvoyHTTPError(404 if reply is None else reply.status, path)
        if key == "inventory" and self.acb_sleep_in_inventory:
            return self._with_sleep(reply.body)
        return reply.body

    def _with_sleep(self, body: bytes) -> bytes:
        groups = orjson.loads(body)
        sleep = self.backend.controls.acb_sleep
        for group in groups:
            if group.get("type") == "ACB":
                for d in group["devices"]:
                    window = sleep.get(d["serial_num"])
                    d["sleep_enabled"] = window is not None
                    if window is not None:
                        d["sleep_min_soc"], d["sleep_max_soc"] = window
        return orjson.dumps(groups)

    async def read(self, source: Source[T], /) -> T:
        self.reads.append(source.key)
        return source.parse(self.get(source.key))

    async def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def control(self) -> Control:
        return Control(self, clock=self.clock.now, sleep=self.sleep)


# --- the target itself -------------------------------------------------------------------


async def test_reads_parse_every_control_source_on_a_generator_site() -> None:
    target = SimTarget("generator")
    for key, source in SOURCES.items():
        if key in ("inventory", "sc_sched"):  # sc_sched: IQ Batteries only, none here
            continue
        assert await target.read(source) is not None, key
    assert target.writes == []


async def test_sleep_moves_the_simulated_clock_only() -> None:
    target = SimTarget("battery-backup")
    await target.sleep(90)
    assert target.clock.now() == T0 + 90


def test_capabilities_follow_the_preset() -> None:
    assert Capability.GENERATOR in SimTarget("generator").capabilities
    assert Capability.ACB in SimTarget("acb").capabilities
    assert Capability.GENERATOR not in SimTarget("battery-backup").capabilities
