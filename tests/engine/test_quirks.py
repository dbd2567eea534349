"""Each firmware quirk of gateway.md section 5: named, versioned, and corrected."""

from __future__ import annotations

import pytest

from enphase_local.engine.production import production_chain
from enphase_local.engine.quirks import QUIRKS, repair_total_consumption
from enphase_local.firmware import Firmware
from enphase_local.models.energy import EnergyReading
from enphase_local.models.production import ProductionReport
from enphase_local.sources.tariff import tariff_writes_ignored
from tests.support import SHARED


def fw(text: str) -> Firmware:
    return Firmware.parse(text)


def test_every_row_of_the_gateway_doc_is_a_quirk() -> None:
    names = {q.name for q in QUIRKS}
    assert len(names) == len(QUIRKS) >= 14
    doc = SHARED / "docs" / "gateway.md"
    if doc.is_file():
        section = doc.read_text().split("## 5.")[1].split("## 6.")[0]
        rows = [
            line for line in section.splitlines() if line.startswith("| ") and "---" not in line
        ]
        assert len(rows) - 1 <= len(QUIRKS)  # minus the header row
    for quirk in QUIRKS:
        assert quirk.doc and quirk.handled_in and quirk.firmware


@pytest.mark.parametrize(
    ("name", "applies", "not_applies"),
    [
        ("html_production_only", "D3.7.0", "R3.9.36"),
        ("meters_401", "R3.18.4", "R3.17.3"),
        ("consumption_without_type", "R4.10.35", "D5.0.62"),
        ("early_7x_401", "D7.3.130", "D7.6.175"),
        ("lines_need_details", "D7.6.114", "D7.3.517"),
        ("ensemble_fields_removed", "D8.1.41", "D7.6.175"),
        ("tariff_writes_ignored", "D8.2.4225", "D8.2.4224"),
        ("extra_zero_reading", "D8.3.5025", "D8.3.5026"),
        ("device_data_keeps_gone", "D8.3.5289", "D8.3.5288"),
        ("total_equals_net", "D8.3.5433", "D8.3.5432"),
        ("lifetime_step_down", "D7.6.175", "D8.1.41"),
    ],
)
def test_firmware_ranges(name: str, applies: str, not_applies: str) -> None:
    quirk = next(q for q in QUIRKS if q.name == name)
    assert quirk.applies(fw(applies))
    assert not quirk.applies(fw(not_applies))


def test_production_chain_by_firmware() -> None:
    assert production_chain(fw("D3.7.0"))[0] == "production_html"
    assert production_chain(fw("R3.9.36"))[0] == "production_json"
    assert production_chain(fw("D8.2.4345"))[:3] == (
        "production_json",
        "production_summary",
        "production_v1",
    )


def flow(watts: float, lifetime: float, source: str = "production.json:eim") -> EnergyReading:
    return EnergyReading(watts, 1000.0, 7000.0, lifetime, source)


def test_total_consumption_repaired_when_equal_to_net() -> None:
    report = ProductionReport(
        production=flow(3000, 5_000_000),
        net_consumption=flow(-2500, 1_000_000),
        total_consumption=flow(-2500, 1_000_000),
    )
    fixed = repair_total_consumption(fw("D8.3.5433"), report)
    assert fixed.total_consumption is not None
    assert fixed.total_consumption.watts == 500
    assert fixed.total_consumption.wh_lifetime == 6_000_000
    assert fixed.total_consumption.source.endswith("+repaired")


def test_total_consumption_left_alone_when_it_differs() -> None:
    report = ProductionReport(
        production=flow(3000, 5_000_000),
        net_consumption=flow(-2500, 1_000_000),
        total_consumption=flow(500, 6_000_000),
    )
    assert repair_total_consumption(fw("D8.3.5433"), report) is report


def test_tariff_writes_ignored_from_8_2_4225() -> None:
    assert tariff_writes_ignored(fw("D8.3.5167"))
    assert not tariff_writes_ignored(fw("D8.2.127"))
