"""A CT installed backwards: recognised from the readings, said once, in words an installer acts on.

Why: a CT clamped the wrong way round gives counters the guards can hold
(`counters.py`), but on its own that is only noise: about 1,400 "went down,
held" and 150 "jumped, held" warnings a day, and no word of the cause
(issue 30). The signs give it away:

- production negative on a phase in daylight while the inverters report
  power: that phase's production CT is backwards;
- consumption below zero on a phase, persistently, while production there
  looks sane: the net-consumption CT (or the total-consumption CT, when
  the site has one) is backwards on that phase. A backwards net CT reads
  as consumption *too high* while the sun outweighs the house, so it is
  named at dusk, when consumption goes below zero; on sites with batteries
  negative computed consumption is their discharge, so only a
  total-consumption CT is judged there.

One negative reading (dusk, a cloud, a reboot's first answer) proves
nothing, so a finding needs `CONFIRM_UPDATES` consecutive updates with the
evidence spread over at least `CONFIRM_S`; it is cleared after
`CLEAR_UPDATES` consecutive sane ones. While it holds, the counter guards'
per-update warnings of the flows that CT feeds are folded into it (logged
at DEBUG): the guards still hold the counters exactly as before, only the
noise goes. Pure apart from its log lines: it decides over the phases of
one snapshot and the state it keeps between them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..models.energy import PhaseReadings
from ..models.production import ProductionReport

__all__ = [
    "CLEAR_UPDATES",
    "CONFIRM_S",
    "CONFIRM_UPDATES",
    "NEGATIVE_W",
    "PRODUCING_W",
    "CtFinding",
    "CtReversalWatch",
    "inverter_watts",
    "reversal_text",
]

_LOGGER = logging.getLogger("enphase_local.diagnosis")

NEGATIVE_W = 50.0  # below minus this a CT phase reads "backwards" (idle CTs read a few W)
PRODUCING_W = 100.0  # the inverters report at least this: it is daylight for the CTs too
CONFIRM_UPDATES = 10  # this many updates in a row with the evidence...
CONFIRM_S = 10 * 60.0  # ...spread over at least this long before it is said
CLEAR_UPDATES = 10  # this many sane updates in a row and it is over

# Which counter guards' warnings a reversed CT makes (their names start so).
_FOLDED: Mapping[str, tuple[str, ...]] = {
    "production": ("production", "consumption"),  # consumption is computed from production
    "net-consumption": ("consumption",),
    "total-consumption": ("consumption",),
}


@dataclass(frozen=True, slots=True)
class CtFinding:
    """One CT that reads backwards: which meter, which phase, and what showed it."""

    meter: str  # "production", "net-consumption" or "total-consumption"
    phase: str  # "L1", "L2" or "L3"
    evidence: str


def reversal_text(finding: CtFinding) -> str:
    """The one stable line a snapshot carries while `finding` holds."""
    return (
        f"meters: the {finding.meter} CT on phase {finding.phase} looks installed backwards "
        f"({finding.evidence}); the lifetime counters it feeds are held, not counted down. "
        "An installer should check the CT's arrow points toward the load/grid as the "
        "installation guide says, that the CT is on the right phase conductor, and re-run "
        "the meter wizard in the installer app"
    )


def inverter_watts(report: ProductionReport | None) -> float | None:
    """What the inverters themselves report producing (None: not known)."""
    inverters = report.inverters if report is not None else None
    return inverters.watts if inverters is not None else None


@dataclass(slots=True)
class _Streak:
    """Consecutive updates agreeing on one thing, and when the first of them was."""

    count: int = 0
    since: float = 0.0

    def step(self, yes: bool, now: float) -> None:
        if not yes:
            self.count = 0
        elif self.count == 0:
            self.count, self.since = 1, now
        else:
            self.count += 1


@dataclass(slots=True)
class _Channel:
    bad: _Streak = field(default_factory=_Streak)
    good: _Streak = field(default_factory=_Streak)
    finding: CtFinding | None = None


@dataclass(slots=True)
class CtReversalWatch:
    """What the readings said of each CT phase across updates; one per gateway, in its cache."""

    channels: dict[tuple[str, str], _Channel] = field(default_factory=dict)

    @property
    def findings(self) -> tuple[CtFinding, ...]:
        return tuple(c.finding for c in self.channels.values() if c.finding is not None)

    def observe(
        self,
        phases: Mapping[str, PhaseReadings],
        inverters: float | None,
        now: float,
        *,
        consumption_meter: str = "net-consumption",
        totals: PhaseReadings | None = None,
        storage: bool = False,
    ) -> tuple[CtFinding, ...]:
        """Judge one update's per-phase readings; the findings that hold after it.

        `inverters`: the power the inverters report (None: unknown, so no
        production verdict). `consumption_meter`: the CT consumption comes from.
        `totals`: the site's flows, judged as phase L1 when no phase is listed.
        `storage`: batteries on site. Consumption computed from production and net
        CTs counts their discharge as negative consumption, so it proves nothing
        there unless a total-consumption CT measures the house itself.
        """
        producing = inverters is not None and inverters >= PRODUCING_W
        if not phases and totals is not None:  # one phase: the gateway lists no lines
            phases = {"L1": totals}
        for name, line in phases.items():
            prod = line.production.watts if line.production is not None else None
            prod_back = producing and prod is not None and prod < -NEGATIVE_W
            if prod is not None and producing:
                evidence = f"production {prod:.0f} W while the inverters report {inverters:.0f} W"
                right = prod > NEGATIVE_W  # near zero (dusk, a shaded phase) proves nothing
                self._judge(("production", name), prod_back, right, now, evidence)
            cons = line.consumption.watts if line.consumption is not None else None
            judged = not storage or consumption_meter == "total-consumption"
            if (
                cons is not None
                and judged
                and not prod_back
                and not self._holds("production", name)
            ):
                evidence = f"consumption {cons:.0f} W, below zero for {{minutes}} minutes"
                back, right = cons < -NEGATIVE_W, cons > NEGATIVE_W
                self._judge((consumption_meter, name), back, right, now, evidence)
        return self.findings

    def folds(self, warning: str) -> bool:
        """Whether a counter guard's `warning` is noise of a CT this watch has diagnosed."""
        for finding in self.findings:
            for flow in _FOLDED.get(finding.meter, ()):
                if warning.startswith((f"{flow}: ", f"{flow} {finding.phase}: ")):
                    return True
        return False

    def fold(self, warnings: list[str]) -> list[str]:
        """`warnings` without those a finding explains (each logged at DEBUG instead)."""
        kept = []
        for text in warnings:
            if self.folds(text):
                _LOGGER.debug("folded into the reversed-CT diagnosis: %s", text)
            else:
                kept.append(text)
        return kept

    # -- one channel ------------------------------------------------------------------------

    def _holds(self, meter: str, phase: str) -> bool:
        found = self.channels.get((meter, phase))
        return found is not None and found.finding is not None

    def _judge(
        self, key: tuple[str, str], backwards: bool, right: bool, now: float, evidence: str
    ) -> None:
        """One update's verdict on one CT phase: backwards, the right way, or neither."""
        chan = self.channels.setdefault(key, _Channel())
        chan.bad.step(backwards, now)
        chan.good.step(right, now)
        meter, phase = key
        if chan.finding is None and backwards:
            bad = chan.bad
            if bad.count >= CONFIRM_UPDATES and now - bad.since >= CONFIRM_S:
                minutes = f"{(now - bad.since) / 60:.0f}"
                chan.finding = CtFinding(meter, phase, evidence.replace("{minutes}", minutes))
                _LOGGER.warning("%s", reversal_text(chan.finding))
        elif chan.finding is not None and chan.good.count >= CLEAR_UPDATES:
            _LOGGER.info(
                "meters: the %s CT on phase %s reads the right way again: "
                "its counter warnings are shown again",
                meter,
                phase,
            )
            chan.finding = None
