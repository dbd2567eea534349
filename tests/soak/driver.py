"""A day (or three) of a misbehaving gateway, minute by minute, and what the client made of it.

Shared by the suite's soak test (one simulated day) and ``bench/soak.py``
(three days). A simulated battery site runs on a frozen clock that the
driver advances one minute per update, so a day takes seconds. The gateway
misbehaves the way real ones do:

- on a few percent of requests: 5xx, connection resets, truncated bodies,
  random bytes and HTML error pages (the simulator's seeded rates);
- now and then, one endpoint or the whole gateway hangs past the client's
  timeouts (a real-time delay, so timeouts are real);
- every day: a reboot followed by one all-zero answer, a reboot onto new
  firmware (the first day only), token expiry (renewed through the
  simulated cloud), the production eim entry reading ``activeCount: 0``,
  the storage CT losing a phase (on the new firmware), and the 23:00 outage.

Faults stop `calm_minutes` before the end; the report says how long every
section took to be fresh again, and compares the reported lifetime gains
with the simulator's truth.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from enphase_local import Snapshot
from enphase_local.client import Envoy
from enphase_local.engine.rhythm import BATTERY_UNITS_WITH_CT
from enphase_local.net.credentials import CloudUrls
from enphase_local.net.exchange import Timeouts
from enphase_local.simulator import LatencyProfile, SimClock, SimulatedGateway, SiteBackend

__all__ = ["SoakReport", "run_soak"]

PRESET = "battery-backup"
NEW_FIRMWARE = "D8.3.6000"
ZONE = ZoneInfo("US/Mountain")  # the preset's zone
NO_LATENCY = LatencyProfile("none", ())
TIMEOUTS = Timeouts(fast_s=0.2, slow_s=0.4)
HANG_S = 0.6  # past both timeouts: a hang costs the run well under a second of real time
RATES = {"status": 0.015, "drop": 0.01, "truncate": 0.005, "garbage": 0.005, "html": 0.005}


@dataclass
class SoakReport:
    """What a soak run counted. `ok` says whether the issue's assertions hold."""

    minutes: int
    faults: bool
    updates: int = 0
    snapshots: int = 0
    update_errors: list[str] = field(default_factory=list)
    backwards: list[str] = field(default_factory=list)
    reported_gain_wh: dict[str, float] = field(default_factory=dict)
    truth_gain_wh: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    recovered_after_s: float | None = None  # after faults stopped, until all fresh and clean
    stale_at_end: dict[str, float] = field(default_factory=dict)  # section -> age (s)
    errors_at_end: dict[str, str] = field(default_factory=dict)
    firmware_at_end: str = ""
    warnings_seen: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def requests_per_hour(self) -> float:
        return self.requests / (self.minutes / 60.0)

    def lifetime_error(self, flow: str) -> float:
        """Relative error of the reported lifetime gain against the simulator's truth."""
        truth = self.truth_gain_wh.get(flow, 0.0)
        return abs(self.reported_gain_wh.get(flow, 0.0) - truth) / truth if truth else 0.0


def _cloud(gw: SimulatedGateway) -> CloudUrls:
    urls = gw.cloud_base_url
    return CloudUrls(enlighten=urls.enlighten, entrez=urls.entrez)


def _start_of_local_day() -> float:
    return datetime(2026, 6, 15, 0, 1, tzinfo=ZONE).timestamp()


@dataclass
class _Monotonic:
    """Every counter the snapshot reports that may never go back, checked update by update."""

    last: dict[str, tuple[float, Any]] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)

    def see(self, name: str, value: float | None, when: float, day: Any = None) -> None:
        if value is None:
            return
        previous = self.last.get(name)
        if previous is not None and previous[1] == day and value < previous[0] - 1e-6:
            stamp = datetime.fromtimestamp(when, ZONE).strftime("%d %H:%M")
            self.steps.append(f"{stamp} {name}: {previous[0]:.1f} -> {value:.1f}")
        self.last[name] = (value, day)

    def check(self, snap: Snapshot) -> None:
        day = datetime.fromtimestamp(snap.taken_at, ZONE).date()
        for flow in ("production", "consumption"):
            reading = getattr(snap, flow)
            if reading is not None:
                self.see(f"{flow}.wh_lifetime", reading.wh_lifetime, snap.taken_at)
                self.see(f"{flow}.wh_today", reading.wh_today, snap.taken_at, day)
        for key, meter in snap.meters.items():
            if meter.reading is not None:
                self.see(f"meters.{key}.wh_delivered", meter.reading.wh_delivered, snap.taken_at)
                self.see(f"meters.{key}.wh_received", meter.reading.wh_received, snap.taken_at)


def _events(minutes: int, rng: random.Random) -> dict[int, list[str]]:
    """Minute -> faults to start then; the day's schedule, repeated each day."""
    out: dict[int, list[str]] = {}

    def at(minute: int, what: str) -> None:
        if minute < minutes:
            out.setdefault(minute, []).append(what)

    for day in range(minutes // 1440 + 1):
        base = day * 1440
        at(base + 5 * 60, "reboot")
        at(base + 5 * 60 + 3, "zero")  # the first answers after the restart read all zero
        if day == 0:
            at(base + 9 * 60, "reboot-new-firmware")
        at(base + 10 * 60 + 30, "zero")
        at(base + 11 * 60, "eim-inactive")
        at(base + 13 * 60, "storage-ct-half")
        at(base + 14 * 60, "expire-tokens")
        at(base + 16 * 60 + 7, "eim-inactive")
        at(base + 18 * 60, "storage-ct-half")
        for _ in range(4):
            at(base + rng.randrange(60, 1380), "hang-one")
        at(base + rng.randrange(60, 1380), "hang-all")
    return out


def _apply(gw: SimulatedGateway, what: str, rng: random.Random) -> None:
    faults = gw.faults
    if what == "reboot":
        faults.reboot(60.0, settle_s=300.0)
    elif what == "reboot-new-firmware":
        faults.reboot(60.0, settle_s=300.0, firmware=NEW_FIRMWARE)
    elif what == "zero":
        faults.zero_next(1)
    elif what == "eim-inactive":
        faults.eim_inactive_next(1)
    elif what == "storage-ct-half":
        faults.storage_ct_half_next(1)
    elif what == "expire-tokens":
        gw.expire_tokens()
    elif what == "hang-one":
        path = rng.choice(["/ivp/meters/readings", "/ivp/ensemble/power", "/production.json"])
        faults.latency = LatencyProfile("hang-one", ((f"^{path}", HANG_S, HANG_S),))
    elif what == "hang-all":
        faults.latency = LatencyProfile("hang-all", (), default=(HANG_S, HANG_S))


def _fresh(snap: Snapshot) -> dict[str, float]:
    """Sections older than the snapshot, with their age in seconds.

    Live data is left out: its freshness is the gateway's own `last_update`,
    hours old whenever the live stream is off, however often it is read. The
    battery section is as old as its last per-battery read, every 5 minutes
    beside a storage CT (engine.rhythm): stale only when older than that.
    """
    ages = {s: snap.taken_at - t for s, t in snap.freshness.items() if t < snap.taken_at}
    ages.pop("live", None)
    if ages.get("battery", 0.0) < BATTERY_UNITS_WITH_CT:
        ages.pop("battery", None)
    return ages


async def run_soak(
    minutes: int = 1440, *, faults: bool = True, calm_minutes: int = 30, seed: int = 11
) -> SoakReport:
    """Drive `minutes` minutely updates; faults (if any) stop `calm_minutes` before the end."""
    report = SoakReport(minutes=minutes, faults=faults)
    rng = random.Random(seed)
    started = time.perf_counter()
    clock = SimClock(start=_start_of_local_day(), speed=0)
    backend = SiteBackend.from_preset(PRESET, clock=clock, seed=seed)
    async with SimulatedGateway(backend, clock=clock) as gw:
        events = _events(minutes - calm_minutes, rng) if faults else {}
        if faults:
            gw.faults.daily_outage(3.0, offset_s=120.0)
        envoy = Envoy(
            gw.https_host,
            token=gw.owner_token(),
            username="owner@example.com",
            password="owner-password",
            cloud=_cloud(gw),
            clock=clock,
            sleep=_no_sleep,
            timeouts=TIMEOUTS,
        )
        seen = _Monotonic()
        first: Snapshot | None = None
        truth0: dict[str, float] = {}
        last: Snapshot | None = None
        calm_at: float | None = None
        try:
            await envoy.connect()
            for minute in range(minutes):
                clock.advance(60.0)
                gw.faults.latency = NO_LATENCY
                if faults and minute == 1:
                    for kind, rate in RATES.items():
                        gw.faults.set_rate(kind, rate)  # type: ignore[arg-type]
                for what in events.get(minute, ()):
                    _apply(gw, what, rng)
                if faults and minute == minutes - calm_minutes:
                    gw.faults.reset()
                    calm_at = clock.now()
                report.updates += 1
                try:
                    snap = await envoy.update()
                except Exception as err:  # every update must return a snapshot: count, go on
                    report.update_errors.append(f"minute {minute}: {type(err).__name__}: {err}")
                    continue
                report.snapshots += 1
                seen.check(snap)
                for warning in snap.warnings:
                    head = warning.split(":")[0]
                    head = "nightly restart window" if "nightly restart" in head else head
                    report.warnings_seen[head] = report.warnings_seen.get(head, 0) + 1
                if first is None and snap.production is not None and snap.consumption is not None:
                    first = snap
                    truth0 = dict(backend.state()["lifetime_wh"])
                last = snap
                clean = not snap.errors and not _fresh(snap)
                if calm_at is not None and clean and report.recovered_after_s is None:
                    report.recovered_after_s = clock.now() - calm_at
                if calm_at is not None and not clean:
                    report.recovered_after_s = None  # not yet for good
            report.requests = envoy.stats.requests
            report.firmware_at_end = envoy.info.firmware
        finally:
            await envoy.close()
        truth = backend.state()["lifetime_wh"]
    report.backwards = seen.steps
    if first is not None and last is not None:
        for flow, key in (("production", "prod"), ("consumption", "load")):
            a, b = getattr(first, flow), getattr(last, flow)
            if a is not None and b is not None and a.wh_lifetime and b.wh_lifetime:
                report.reported_gain_wh[flow] = b.wh_lifetime - a.wh_lifetime
                report.truth_gain_wh[flow] = truth[key] - truth0[key]
        report.stale_at_end = _fresh(last)
        report.errors_at_end = dict(last.errors)
    report.wall_s = time.perf_counter() - started
    return report


async def _no_sleep(_: float) -> None:
    return None
