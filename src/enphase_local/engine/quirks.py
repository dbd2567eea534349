"""Firmware quirks: every known misbehaviour, named, with the firmware it applies to.

Each row of gateway.md section 5 is a `Quirk` in `QUIRKS`, so the table is
the documentation and the tests iterate over it. Quirks that change what we
do are small functions here that the client calls; those fixed where the data
is read say where (`handled_in`), and their tests live with that code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..firmware import Firmware
from ..models.energy import EnergyReading
from ..models.meters import CtType, Meter, MeterChannel, MeterReading, MeterState
from ..models.production import ProductionReport
from ..sources.tariff import tariff_writes_ignored

__all__ = [
    "QUIRKS",
    "Quirk",
    "blank_half_storage_ct",
    "eim_went_inactive",
    "repair_total_consumption",
]


@dataclass(frozen=True, slots=True)
class Quirk:
    """One known firmware misbehaviour and where it is corrected."""

    name: str
    firmware: str  # human-readable range, as in gateway.md
    applies: Callable[[Firmware], bool]
    doc: str
    handled_in: str


def _any(_: Firmware) -> bool:
    return True


def _before(*parts: int) -> Callable[[Firmware], bool]:
    return lambda fw: fw.before(*parts)


def _range(low: tuple[int, ...], high: tuple[int, ...]) -> Callable[[Firmware], bool]:
    return lambda fw: fw.known and low <= fw.parts < high


def _exact(*parts: int) -> Callable[[Firmware], bool]:
    return lambda fw: fw.parts[: len(parts)] == parts


# -- corrections the client applies -------------------------------------------

Counter = tuple[float, float]  # (lifetime Wh, watts) of a CT, aggregate or one phase


def repair_total_consumption(
    fw: Firmware, report: ProductionReport, meters: Mapping[str, Meter] | None = None
) -> ProductionReport:
    """8.3.5433: total consumption equals net consumption, aggregate and on every phase line.

    Each flow whose total reads exactly the net values (power and lifetime)
    while production has a lifetime is rebuilt: from the total-consumption
    (load-side) CT's own readings where `meters` has that CT, else as
    net + production. Applied whenever the signature is there, whatever the
    firmware, since the bug may live on in later builds; the firmware check
    only documents where it was seen. Today / 7-day counters are left as sent.
    """
    ct_total, ct_phases = _total_ct(meters or {})
    total = _repaired(
        report.total_consumption, report.net_consumption, report.best_production, ct_total
    )
    phases = dict(report.phases)
    for name, line in report.phases.items():
        fixed = _repaired(
            line.consumption, line.net_consumption, line.production, ct_phases.get(name)
        )
        if fixed is not None:
            phases[name] = dataclasses.replace(line, consumption=fixed)
    if total is None and phases == report.phases:
        return report
    return dataclasses.replace(
        report,
        total_consumption=total if total is not None else report.total_consumption,
        phases=phases,
    )


def _repaired(
    total: EnergyReading | None,
    net: EnergyReading | None,
    prod: EnergyReading | None,
    ct: Counter | None,
) -> EnergyReading | None:
    """The repaired total of one flow, or None when it does not show the quirk."""
    if total is None or net is None:
        return None
    if total.watts != net.watts or total.wh_lifetime != net.wh_lifetime:
        return None
    if ct is not None:
        wh, watts = ct
        return dataclasses.replace(
            total, watts=watts, wh_lifetime=wh, source=f"{total.source}+repaired"
        )
    if prod is None or not prod.wh_lifetime:
        return None  # nothing was ever produced: total equal to net is the truth
    return dataclasses.replace(
        total,
        watts=net.watts + prod.watts,
        wh_lifetime=_add(net.wh_lifetime, prod.wh_lifetime),
        source=f"{total.source}+repaired",
    )


def _total_ct(meters: Mapping[str, Meter]) -> tuple[Counter | None, dict[str, Counter]]:
    """The enabled total-consumption CT's (Wh, W), aggregate and per phase, if it reads."""
    for meter in meters.values():
        reading = meter.reading
        config = meter.config
        if config.measurement_type is not CtType.TOTAL_CONSUMPTION or reading is None:
            continue
        if config.state is not MeterState.ENABLED:
            continue
        # delivered - received, as the gateway itself counts the house (8.3.5433 capture)
        phases = {ch.phase: (ch.wh_delivered - ch.wh_received, ch.watts) for ch in reading.channels}
        return (reading.wh_delivered - reading.wh_received, reading.watts), phases
    return None, {}


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


# -- firmware data guards (issue 11) -------------------------------------------------------


def eim_went_inactive(
    previous: ProductionReport | None, new: ProductionReport, cts: frozenset[CtType]
) -> str | None:
    """5.3.5528 / 8.3.5528: the production eim entry reports ``activeCount: 0`` for one read.

    The parser leaves an inactive entry out, so production would silently
    fall back to the inverters section and its lifetime drop by megawatt-hours.
    When the last report had CT production and the production CT is still
    configured and enabled, the new answer is a glitch: the caller keeps the
    last report (carried forward by the healthy CT readings) and asks again.
    Returns why, or None when the answer is fine. Any firmware: the bug may
    live on in later builds.
    """
    if new.production is not None or previous is None or previous.production is None:
        return None
    if CtType.PRODUCTION not in cts:
        return None  # the CT was really disabled: the inverters section is all there is
    return (
        "production: the gateway's production CT entry read activeCount 0 (known firmware "
        "glitch on 5.3.5528 / 8.3.5528); that answer was set aside and production comes from "
        "the CT readings until the next good one"
    )


def _dead(channel: MeterChannel) -> bool:
    return not any((channel.volts, channel.watts, channel.wh_delivered, channel.wh_received))


def blank_half_storage_ct(meters: Mapping[str, Meter]) -> tuple[dict[str, Meter], list[str]]:
    """8.3.6000+: a split-phase storage CT reports one phase all zero (half the truth).

    A wired phase never reads zero volts and zero lifetime energy, so such a
    channel beside a live one is a bad read: that meter's values become None
    (with a warning) rather than half of the battery's flow and counters.
    Applied whatever the firmware, as the pattern cannot be a real reading.
    """
    out: dict[str, Meter] = dict(meters)
    warnings: list[str] = []
    for key, meter in meters.items():
        reading: MeterReading | None = meter.reading
        if meter.measurement_type is not CtType.STORAGE or reading is None:
            continue
        channels = reading.channels
        if len(channels) < 2 or not any(_dead(c) for c in channels):
            continue
        if all(_dead(c) for c in channels):
            continue  # the whole meter reads zero: not this quirk
        out[key] = dataclasses.replace(meter, reading=None)
        dead = ", ".join(c.phase for c in channels if _dead(c))
        warnings.append(
            f"meters: storage CT {key} read phase {dead} all zero (known firmware glitch on "
            "8.3.6000 and later): its values are left out of this snapshot, not halved"
        )
    return out, warnings


QUIRKS: tuple[Quirk, ...] = (
    Quirk(
        "html_production_only",
        "before 3.9",
        _before(3, 9),
        "Only HTML pages: /production is a table in W/kW/MW and Wh/kWh/MWh.",
        "engine/production.production_chain, sources/legacy_html.py",
    ),
    Quirk(
        "legacy_html_or_401",
        "3.x",
        _range((3,), (4,)),
        "/production and /production.json may be HTML or 401 even with good credentials; "
        "right after boot production is all zero with status 200.",
        "client: a 401 where the credentials work elsewhere marks the endpoint forbidden; "
        "fallback along engine/production.production_chain",
    ),
    Quirk(
        "meters_401",
        "3.18.x",
        _exact(3, 18),
        "/ivp/meters answers 401.",
        "client: a 401 where the credentials work elsewhere marks the endpoint forbidden",
    ),
    Quirk(
        "consumption_without_type",
        "4.x",
        _range((4,), (5,)),
        "Inactive consumption entries lack measurementType; /ivp/meters lacks statusFlags.",
        "sources/production.py (activeCount first), sources/meters.py (statusFlags optional)",
    ),
    Quirk(
        "early_7x_401",
        "early 7.x",
        _range((7,), (7, 6)),
        "Several endpoints answer 401 for reasons unknown: treat as absent.",
        "client: a 401 where the credentials work elsewhere marks the endpoint forbidden",
    ),
    Quirk(
        "lines_need_details",
        "7.6 and later",
        lambda fw: fw.at_least(7, 6),
        "Per-phase lines[] only with ?details=1.",
        "sources/production.py (path /production.json?details=1)",
    ),
    Quirk(
        "metered_without_ct",
        "metered, no CTs",
        _any,
        "/api/v1/production all zero (stalled from 8.2.4264): use the inverters section; "
        "where v1's lifetime is non-zero and not below the inverter section's (before "
        "8.2.4264), v1 wins: the inverter section wraps and has no today / 7-day counters.",
        "engine/production.prefers_v1, ProductionReport.best_production",
    ),
    Quirk(
        "ensemble_fields_removed",
        "8.x",
        lambda fw: fw.at_least(8),
        "operating and zigbee_dongle_fw_version gone from the ensemble inventory.",
        "sources/ensemble.py (optional fields)",
    ),
    Quirk(
        "tariff_writes_ignored",
        "8.2.4225 and later",
        tariff_writes_ignored,
        "Local writes of storage mode, reserve and charge-from-grid answer 200 and are ignored; "
        "the cloud also overwrites locally set modes within 1 to 2 minutes.",
        "engine/quirks.tariff_writes_ignored, control (reports 'ignored' / 'reverted')",
    ),
    Quirk(
        "extra_zero_reading",
        "8.3.5025, 8.3.5027",
        lambda fw: fw.parts[:3] in ((8, 3, 5025), (8, 3, 5027)),
        "An extra all-zero readings entry for an eid /ivp/meters does not list.",
        "engine/joins.py join_meters (readings joined on configured eids only)",
    ),
    Quirk(
        "device_data_keeps_gone",
        "8.3.5289",
        _exact(8, 3, 5289),
        "device_data keeps removed (modGone) and inactive inverters.",
        "sources/inverters.py (skips active: false; modGone alone keeps the unit)",
    ),
    Quirk(
        "total_equals_net",
        "8.3.5433",
        _exact(8, 3, 5433),
        "Total-consumption lifetime and power equal the net values, aggregate and per phase; "
        "total = net + production, or the total-consumption CT's own readings.",
        "engine/quirks.repair_total_consumption",
    ),
    Quirk(
        "today_resets_late",
        "any, metered",
        _any,
        "whToday resets late after midnight, resets to a non-zero value, or jumps.",
        "engine/counters.CounterGuard",
    ),
    Quirk(
        "lifetime_step_down",
        "any, before 8.x",
        _before(8),
        "Lifetime production resets near 1.19 MWh or steps down by 1.19 MWh.",
        "engine/counters.CounterGuard",
    ),
    Quirk(
        "eim_active_count_zero",
        "5.3.5528, 8.3.5528",
        lambda fw: fw.parts[:3] in ((5, 3, 5528), (8, 3, 5528)),
        "The production eim entry sometimes reports activeCount 0 for one read (garbage values); "
        "the CT readings of the same moment are healthy.",
        "engine/quirks.eim_went_inactive (the answer is set aside; production from the CTs)",
    ),
    Quirk(
        "storage_ct_phase_zero",
        "8.3.6000 and later",
        lambda fw: fw.at_least(8, 3, 6000),
        "A split-phase storage CT sometimes reports one phase all zero; its totals drop to the "
        "other phase's value (half the truth).",
        "engine/quirks.blank_half_storage_ct (that meter's values None, with a warning)",
    ),
    Quirk(
        "http_closed",
        "8.3.5286 and later",
        lambda fw: fw.at_least(8, 3, 5286),
        "Plain HTTP (port 80) may be closed: HTTPS only.",
        "transport.detect_scheme (HTTPS first; HTTP only as a fallback)",
    ),
    Quirk(
        "lifetime_wrap_exact",
        "any",
        _any,
        "The 32-bit lifetime wrap is 1,193,046 Wh (2^32 J); no other drop of a lifetime counter "
        "is a wrap: a zero or low answer after a reboot is a bad read, not a reset.",
        "engine/counters.CounterGuard (only the exact wrap is added to the offset; other drops "
        "and impossible jumps are held until a new level persists)",
    ),
    # -- learned from issue 12 (docs/firmware.md) ----------------------------------
    Quirk(
        "imeter_missing",
        "3.x, some 4.x",
        _before(5),
        "/info has no <imeter> element, also on metered Envoy-S units: unknown, not false.",
        "sources/info.py (imeter None), engine/probe.base_candidates (meters probed anyway), "
        "engine/probe.is_metered",
    ),
    Quirk(
        "mod_gone_while_active",
        "8.3 with AC Batteries, IQ7+",
        _any,
        "device_data flags working microinverters modGone: true with active: true; removed "
        "units read active: false.",
        "sources/inverters.py (drops only active: false)",
    ),
    Quirk(
        "relay_substates",
        "8.3.6000 and later",
        lambda fw: fw.at_least(8, 3, 6000),
        "The mains relay reads 'open synchronizing', then 'open synchronized' (never plain "
        "'open'), and may top the batteries off first (27 to 28 s).",
        "models/ensemble.RelayState.with_substate, control/relay.py (confirm on the contact; "
        "poll up to 90 s)",
    ),
    Quirk(
        "legacy_public_production",
        "3.x (Envoy-R)",
        _range((3,), (4,)),
        "Production pages answer without login while the password is refused on the pages "
        "behind it (inverters).",
        "engine/password.judge_password (fatal only when nothing answered)",
    ),
    Quirk(
        "net_lifetime_is_import",
        "4.x",
        _range((4,), (5,)),
        "production.json's net-consumption whLifetime is the energy imported (the net CT's "
        "actEnergyDlvd), not imported minus exported as on 7.x and later.",
        "documented only (docs/firmware.md); the CT carry-forward uses import - export",
    ),
)
