"""Which source serves production: the one home of that decision.

Gateways expose production through up to four endpoints of different
quality: production.json (inverters, CTs, per-phase lines, ACB), ``/production``
(the same without lines), ``/api/v1/production`` (one reading with today's
and the week's counters) and, before 3.9, an HTML table. `production_chain`
orders them for a firmware; `prefers_v1` says when v1 beats production.json's
inverter section; `as_report` gives any of their models one shape.
"""

from __future__ import annotations

from ..firmware import Firmware
from ..models.energy import EnergyReading
from ..models.production import ProductionReport
from ..sources.keys import SourceKey

__all__ = ["as_report", "prefers_v1", "production_chain"]

# Sources whose model is a full ProductionReport (others give one EnergyReading).
REPORT_SOURCES = frozenset({SourceKey.PRODUCTION_JSON, SourceKey.PRODUCTION_SUMMARY})


def production_chain(fw: Firmware) -> tuple[SourceKey, ...]:
    """Production sources to try, best first.

    Before 3.9 production exists only as the HTML page. From 7.6 per-phase
    lines come only with ``?details=1``, which the production_json path
    always asks for (older firmware ignores the parameter).
    """
    if fw.known and fw.before(3, 9):
        return (SourceKey.PRODUCTION_HTML, SourceKey.PRODUCTION_V1)
    return (
        SourceKey.PRODUCTION_JSON,
        SourceKey.PRODUCTION_SUMMARY,
        SourceKey.PRODUCTION_V1,
        SourceKey.PRODUCTION_HTML,
    )


def prefers_v1(key: SourceKey, report: ProductionReport | None, *, metered: bool | None) -> bool:
    """Non-metered sites: /api/v1/production has today's and the week's counters.

    production.json's inverters section lacks them, and v1 is a fast endpoint.
    On metered units without CTs v1 is all zero (and stalls from 8.2.4264),
    so they keep production.json's inverters section.
    """
    if key not in REPORT_SOURCES or report is None:
        return False
    return report.production is None and not metered


def as_report(data: object) -> ProductionReport | None:
    """Any production source's model as a `ProductionReport` (v1 and HTML give one reading)."""
    if isinstance(data, ProductionReport):
        return data
    if isinstance(data, EnergyReading):
        return ProductionReport(inverters=data)
    return None
