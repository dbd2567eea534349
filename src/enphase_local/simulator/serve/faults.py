"""Fault knobs: the ways a real gateway misbehaves, on demand.

Why: a client is only as good as its handling of a slow, fragile gateway
(gateway.md section 6). Every knob has a Python API, a spec string for the
``--fault`` flag and the control endpoint (``POST /__sim__/faults``):

    error-rate=P[:STATUS]        answer STATUS (500) to a share P of requests (seeded)
    fail-next=N[:STATUS][@PATH]  answer STATUS (503) to the next N requests (for PATH)
    drop-rate=P | drop-next=N[@PATH]          close the connection without a response
    truncate-rate=P | truncate-next=N[@PATH]  send half the body, then close
    garbage-rate=P | garbage-next=N[@PATH]    200 with random bytes
    html-error-rate=P | html-error-next=N[@PATH]  200 with an HTML error page
    latency=realistic|none       per-endpoint response time profile
    latency-scale=X              multiply every latency
    outage[=MINUTES]             daily unreachable window shortly after 23:00 local (1 to 5 min)
    reboot[=SECONDS[:FIRMWARE]]  503 for SECONDS (60), then the backend reboots (on FIRMWARE)
    zero-next[=N][@PATH]         the next N answers of each data endpoint read all zero
    eim-inactive-next[=N]        5.3.5528/8.3.5528: production eim `activeCount: 0`, garbage values
    storage-ct-half-next[=N]     8.3.6000+: storage CT phase B all zero, totals = phase A
    ct-reversed=METER[:PHASE[:EPOCH]]  that CT (production, net-consumption) clamped backwards
                                 on PHASE (1) from EPOCH (now); ``ct-reversed=off`` rewires it
    stream-bursts[=on|off]       /stream/meter holds frames 3-13 periods, then bursts <= 8
    stream-drop-next[=N]         the next N stream frames are cut mid-frame, connection closed
    stream-stall[=PERIODS]       the stream sends nothing for PERIODS (60), then a burst
    expire-tokens                every token and session issued so far stops working
    unauthorized=PATH[,PATH]     early 7.x quirk: these endpoints answer 401 for no reason
    production-401               3.x/4.x quirk: /production answers 401 even with credentials
    keepalive-reset              3.18 quirk: digest requests on a reused connection are reset

Data faults (`zero_next`, `eim_inactive_next`, `storage_ct_half_next`) spoil the
*content* of a healthy answer (see `tamper`); they are consumed per endpoint,
so ``zero_next()`` makes the next production.json *and* the next readings
zero, as a gateway's first answers after a restart are.

Tests get no latency and no faults unless they ask.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from enphase_local.firmware import Firmware

from ..clock import SimClock
from ..views.wiring import CtReversal
from .stream import StreamFaults
from .tamper import DataFaultQueue

__all__ = [
    "NO_LATENCY",
    "REALISTIC_LATENCY",
    "Decision",
    "Faults",
    "LatencyProfile",
    "Restart",
]

FaultKind = Literal["status", "drop", "truncate", "garbage", "html"]
_KINDS: tuple[FaultKind, ...] = ("drop", "status", "truncate", "garbage", "html")
_SPEC_KIND: dict[str, FaultKind] = {
    "fail": "status",
    "error": "status",
    "drop": "drop",
    "truncate": "truncate",
    "garbage": "garbage",
    "html-error": "html",
}


@dataclass(frozen=True, slots=True)
class LatencyProfile:
    """Response time ranges (seconds) by path pattern; the first matching rule wins."""

    name: str
    rules: tuple[tuple[str, float, float], ...]
    default: tuple[float, float] = (0.0, 0.0)
    scale: float = 1.0

    def delay(self, path: str, rng: random.Random) -> float:
        low, high = self.default
        for pattern, lo, hi in self.rules:
            if re.search(pattern, path):
                low, high = lo, hi
                break
        if high <= 0 or self.scale <= 0:
            return 0.0
        return rng.uniform(low, high) * self.scale

    def scaled(self, scale: float) -> LatencyProfile:
        return LatencyProfile(self.name, self.rules, self.default, scale)


NO_LATENCY = LatencyProfile("none", ())

# What 2023 firmware does (gateway.md section 6); benchmarks and the command use it.
REALISTIC_LATENCY = LatencyProfile(
    "realistic",
    (
        (r"^/ivp/livedata", 0.05, 0.35),
        (r"^/ivp/", 0.05, 0.3),
        (r"^/production\.json", 0.3, 1.4),
        (r"^/production$", 0.3, 1.0),
        (r"^/api/v1/", 0.1, 0.5),
        (r"^/inventory\.json", 3.0, 8.0),
        (r"^/home", 5.0, 15.0),
        (r"^/info", 0.05, 0.2),
        (r"^/auth/check_jwt", 0.2, 0.6),
    ),
    default=(0.05, 0.3),
)


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do to one request instead of (or on top of) answering it normally."""

    kind: FaultKind
    status: int = 200


@dataclass(frozen=True, slots=True)
class Restart:
    """What happens when a reboot window ends: settle time, and the firmware it comes up on."""

    settle_s: float
    firmware: str | None = None


@dataclass(slots=True)
class _Pending:
    kind: FaultKind
    remaining: int
    status: int
    path: str | None


@dataclass(slots=True)
class _Rates:
    values: dict[FaultKind, float] = field(default_factory=dict)
    error_status: int = 500


class Faults:
    """Mutable knobs read by the server on every request; `reset()` returns to the start."""

    def __init__(
        self, *, seed: int = 0, latency: LatencyProfile | None = None, clock: SimClock | None = None
    ) -> None:
        self._seed = seed
        self._base_latency = latency or NO_LATENCY
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        """Clear every fault; latency returns to the profile given at construction."""
        self.rng = random.Random(self._seed)
        self.latency = self._base_latency
        self._rates = _Rates()
        self._pending: list[_Pending] = []
        self.outage_minutes: float | None = None
        self.outage_offset_s = 120.0
        self.reboot_until: float | None = None
        self._restart: Restart | None = None
        self.data = DataFaultQueue()
        self.stream = StreamFaults(self._seed)
        self.token_generation = 0
        self.unauthorized_paths: set[str] = set()
        self.production_401 = False
        self.keepalive_reset = False
        self.ct_reversal: CtReversal | None = None

    # -- rates and one-shot faults --------------------------------------------------------

    def set_rate(self, kind: FaultKind, probability: float, *, status: int = 500) -> None:
        """Apply fault `kind` to a random share of requests (seeded, so runs repeat)."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError("a fault rate is a probability between 0 and 1")
        self._rates.values[kind] = probability
        if kind == "status":
            self._rates.error_status = status

    @property
    def error_rate(self) -> float:
        return self._rates.values.get("status", 0.0)

    @error_rate.setter
    def error_rate(self, probability: float) -> None:
        self.set_rate("status", probability, status=self._rates.error_status)

    def fail_next(self, n: int = 1, *, status: int = 503, path: str | None = None) -> None:
        """Answer `status` to the next `n` requests (only those for `path` when given)."""
        self._queue("status", n, status, path)

    def drop_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Close the next `n` connections without answering."""
        self._queue("drop", n, 0, path)

    def truncate_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Send half of the next `n` bodies, then close the connection."""
        self._queue("truncate", n, 200, path)

    def garbage_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Answer 200 with random bytes to the next `n` requests."""
        self._queue("garbage", n, 200, path)

    def html_error_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Answer 200 with an HTML error page to the next `n` requests."""
        self._queue("html", n, 200, path)

    def _queue(self, kind: FaultKind, n: int, status: int, path: str | None) -> None:
        if n < 1:
            raise ValueError("the number of requests must be at least 1")
        self._pending.append(_Pending(kind, n, status, path))

    def decide(self, path: str) -> Decision | None:
        """The fault for one request to `path` (without query), consuming one-shot faults."""
        for pending in self._pending:
            if pending.path is None or pending.path == path:
                pending.remaining -= 1
                if pending.remaining <= 0:
                    self._pending.remove(pending)
                return Decision(pending.kind, pending.status)
        for kind in _KINDS:
            rate = self._rates.values.get(kind, 0.0)
            if rate > 0 and self.rng.random() < rate:
                status = self._rates.error_status if kind == "status" else 200
                return Decision(kind, status)
        return None

    def delay(self, path: str) -> float:
        return self.latency.delay(path, self.rng)

    # -- data faults ------------------------------------------------------------------------

    def zero_next(self, n: int = 1, *, path: str | None = None) -> None:
        """The next `n` answers of each data endpoint (or of `path`) read all zero.

        Every power and counter is 0 while ids, times and counts stay: what a gateway
        answers right after a restart (200, well-formed, worthless).
        """
        self.data.add("zero", n, path)

    def eim_inactive_next(self, n: int = 1) -> None:
        """5.3.5528 / 8.3.5528: the production `eim` entry reports `activeCount: 0`.

        Its values are garbage for that read while the CT readings stay healthy.
        """
        self.data.add("eim-inactive", n)

    def storage_ct_half_next(self, n: int = 1) -> None:
        """8.3.6000+: a split-phase storage CT reads phase B all zero, totals = phase A."""
        self.data.add("storage-ct-half", n)

    def reverse_ct(self, meter: str, phase: int = 1, *, since: float | None = None) -> None:
        """Clamp `meter`'s CT on `phase` backwards from `since` (now): a persistent wiring fault.

        Unlike the data faults above it spoils no single answer: every view that
        carries that CT's values measures it backwards until `rewire()`.
        """
        if since is None:
            since = self.clock.now() if self.clock is not None else 0.0
        self.ct_reversal = CtReversal(meter, phase, since)

    def rewire(self) -> None:
        """The installer turned the CT round: every CT reads the right way again."""
        self.ct_reversal = None

    # -- tokens, outage, reboot --------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token and session issued so far stops working (new ones work)."""
        self.token_generation += 1

    def daily_outage(self, minutes: float = 3.0, *, offset_s: float = 120.0) -> None:
        """Be unreachable every day from 23:00 + `offset_s` local time for `minutes`."""
        if not 1.0 <= minutes <= 5.0:
            raise ValueError("the daily outage lasts 1 to 5 minutes")
        self.outage_minutes = minutes
        self.outage_offset_s = offset_s

    def in_outage(self, now: float, tz: dt.tzinfo) -> bool:
        if self.outage_minutes is None:
            return False
        local = dt.datetime.fromtimestamp(now, tz)
        second_of_day = (
            local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        )
        start = 23 * 3600 + self.outage_offset_s
        return start <= second_of_day < start + self.outage_minutes * 60

    def reboot(
        self, unavailable_s: float = 60.0, *, settle_s: float = 300.0, firmware: str | None = None
    ) -> None:
        """Answer 503 for `unavailable_s` simulated seconds, then reboot the backend.

        With `firmware` (``"D8.3.6000"``) the gateway comes back on that firmware, as
        after an over-the-air update: /info shows it, and its personality (auth
        scheme, endpoint rules) follows.
        """
        if self.clock is None:
            raise RuntimeError("Faults.reboot needs the gateway's clock: attach Faults to a server")
        if firmware is not None and not Firmware.parse(firmware).known:
            raise ValueError(f"not a firmware version like 'D8.3.6000': {firmware!r}")
        self.reboot_until = self.clock.now() + unavailable_s
        self._restart = Restart(settle_s, firmware)

    def rebooting(self, now: float) -> bool:
        return self.reboot_until is not None and now < self.reboot_until

    def reboot_finished(self, now: float) -> Restart | None:
        """Once after a reboot window: how the gateway restarts (settle time, firmware)."""
        if self.reboot_until is None or now < self.reboot_until:
            return None
        restart, self.reboot_until, self._restart = self._restart, None, None
        return restart

    # -- specs (CLI and control endpoint) ---------------------------------------------------

    def apply_spec(self, spec: str) -> None:
        """Apply one ``--fault`` spec (see the module docstring); ValueError when malformed."""
        try:
            self._apply_spec(spec.strip())
        except (ValueError, IndexError) as err:
            raise ValueError(f"bad fault spec {spec!r}: {err}") from None

    def _apply_spec(self, spec: str) -> None:
        name, _, value = spec.partition("=")
        value, _, path = value.partition("@")
        path_or_none = path or None
        if name.endswith("-rate") and name[:-5] in _SPEC_KIND:
            probability, _, status = value.partition(":")
            self.set_rate(_SPEC_KIND[name[:-5]], float(probability), status=int(status or 500))
        elif name.endswith("-next") and name[:-5] in _SPEC_KIND:
            count, _, status = value.partition(":")
            kind = _SPEC_KIND[name[:-5]]
            default = 503 if kind == "status" else 200
            self._queue(kind, int(count or 1), int(status or default), path_or_none)
        elif name == "latency":
            if value not in ("realistic", "none"):
                raise ValueError("latency is 'realistic' or 'none'")
            base = REALISTIC_LATENCY if value == "realistic" else NO_LATENCY
            self.latency = base.scaled(self.latency.scale)
        elif name == "latency-scale":
            self.latency = self.latency.scaled(float(value))
        elif name == "outage":
            self.daily_outage(float(value or 3))
        elif name == "reboot":
            seconds, _, firmware = value.partition(":")
            self.reboot(float(seconds or 60), firmware=firmware or None)
        elif name == "stream-bursts":
            self.stream.bursty = value.lower() not in ("0", "false", "off")
        elif name == "stream-drop-next":
            self.stream.drop_next(int(value or 1))
        elif name == "stream-stall":
            self.stream.stall(int(value or 60))
        elif name == "zero-next":
            self.zero_next(int(value or 1), path=path_or_none)
        elif name == "eim-inactive-next":
            self.eim_inactive_next(int(value or 1))
        elif name == "storage-ct-half-next":
            self.storage_ct_half_next(int(value or 1))
        elif name == "ct-reversed":
            if value.lower() in ("off", "none", "0"):
                self.rewire()
            else:
                now = self.clock.now() if self.clock is not None else 0.0
                self.ct_reversal = CtReversal.parse(value, now)
        elif name == "expire-tokens":
            self.expire_tokens()
        elif name == "unauthorized":
            self.unauthorized_paths.update(p for p in value.split(",") if p)
        elif name == "production-401":
            self.production_401 = value.lower() not in ("0", "false", "off")
        elif name == "keepalive-reset":
            self.keepalive_reset = value.lower() not in ("0", "false", "off")
        else:
            raise ValueError("unknown fault (see `enphase simulate --help`)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency": self.latency.name,
            "latency_scale": self.latency.scale,
            "rates": dict(self._rates.values),
            "error_status": self._rates.error_status,
            "pending": [
                {"kind": p.kind, "remaining": p.remaining, "status": p.status, "path": p.path}
                for p in self._pending
            ],
            "outage_minutes": self.outage_minutes,
            "reboot_until": self.reboot_until,
            "reboot_firmware": self._restart.firmware if self._restart else None,
            "data_faults": self.data.to_list(),
            "stream": self.stream.to_dict(),
            "token_generation": self.token_generation,
            "unauthorized_paths": sorted(self.unauthorized_paths),
            "production_401": self.production_401,
            "keepalive_reset": self.keepalive_reset,
            "ct_reversed": dataclasses.asdict(self.ct_reversal) if self.ct_reversal else None,
        }
