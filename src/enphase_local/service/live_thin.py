"""Live frames thinned for the history: one mean frame per `step_s` seconds per gateway.

Why: live data comes about once a second per gateway, and a history row per
frame is 86,400 rows a day per phase per gateway (12 MB a minute for 1,000
gateways). The dashboard and MQTT still get every frame; only what is kept
is thinned, here, for every history sink (SQLite and PostgreSQL alike).

Why the mean: a bucket's mean power times its length is the energy that
flowed in it, so sums of power over time stay right; a last-value or
first-value row would alias (a kettle switched on for 4 s of 10 would
count 0 or 10 s). Energy itself comes from the gateway's counters (the
``energy_counters`` table), never from power rows, so it is not touched.
The 1-minute min/mean/max the history keeps for ever are then folded from
`step_s` means: the minute's mean is exact, its min and max are those of
the `step_s` means (a spike shorter than `step_s` is smoothed). The state of
charge is the bucket's last value (a level, not a flow).

Buckets are aligned to the epoch (``taken_at // step_s``; `step_s` divides
60, so no bucket spans two minutes); the kept frame's time is the mean of
its frames' times (a bucket of one frame keeps that frame as it came), and
a bucket is emitted when a frame of
a later bucket arrives, or by `drain()` when the sink stops. ``step_s = 0``
keeps every frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models.live_frame import LiveFrame, LivePhase

__all__ = ["STEPS", "LiveThinner"]

# steps that divide a minute: a bucket never spans two of the history's minutes
STEPS = (0, 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)

_SITE = ("solar_watts", "house_watts", "grid_watts", "battery_watts", "generator_watts")
_PHASE = ("solar_watts", "house_watts", "grid_watts", "battery_watts")


@dataclass(slots=True)
class _Sums:
    """Running sums and counts of each flow (a None value is not counted)."""

    total: dict[str, float] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)

    def add(self, obj: object, names: tuple[str, ...]) -> None:
        for name in names:
            value = getattr(obj, name)
            if value is not None:
                self.total[name] = self.total.get(name, 0.0) + value
                self.count[name] = self.count.get(name, 0) + 1

    def means(self, names: tuple[str, ...]) -> dict[str, float | None]:
        return {n: self.total[n] / self.count[n] if n in self.count else None for n in names}


@dataclass(slots=True)
class _Bucket:
    index: int
    last: LiveFrame
    site: _Sums = field(default_factory=_Sums)
    phases: dict[str, _Sums] = field(default_factory=dict)
    frames: int = 0
    times: float = 0.0

    def add(self, frame: LiveFrame) -> None:
        self.last = frame
        self.frames += 1
        self.times += frame.taken_at
        self.site.add(frame, _SITE)
        for name, phase in frame.phases.items():
            self.phases.setdefault(name, _Sums()).add(phase, _PHASE)


class LiveThinner:
    """Turns each gateway's live frames into at most one frame per `step_s` seconds."""

    def __init__(self, step_s: float) -> None:
        if step_s not in STEPS:
            raise ValueError(f"step must be one of {', '.join(map(str, STEPS))} s, got {step_s}")
        self.step_s = step_s
        self._open: dict[str, _Bucket] = {}

    def add(self, serial: str, frame: LiveFrame) -> list[LiveFrame]:
        """Frames to keep now: the gateway's previous bucket, once this frame leaves it."""
        if not self.step_s:
            return [frame]
        index = int(frame.taken_at // self.step_s)
        bucket = self._open.get(serial)
        if bucket is not None and bucket.index == index:
            bucket.add(frame)
            return []
        fresh = _Bucket(index, frame)
        fresh.add(frame)
        self._open[serial] = fresh
        if bucket is None or index < bucket.index:  # a clock step back drops the newer bucket
            return []
        return [self._mean(bucket)]

    def drain(self) -> list[tuple[str, LiveFrame]]:
        """Every open bucket's frame (the sink is stopping: keep what came)."""
        out = [(serial, self._mean(bucket)) for serial, bucket in self._open.items()]
        self._open.clear()
        return out

    def _mean(self, bucket: _Bucket) -> LiveFrame:
        if bucket.frames == 1:
            return bucket.last
        site = bucket.site.means(_SITE)
        phases = {name: LivePhase(**sums.means(_PHASE)) for name, sums in bucket.phases.items()}
        last = bucket.last
        return LiveFrame(
            taken_at=bucket.times / bucket.frames,
            source=last.source,
            soc_percent=last.soc_percent,
            phases=phases,
            stale=last.stale,
            **site,  # type: ignore[arg-type]
        )
