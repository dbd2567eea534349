"""Site descriptions: presets are valid, files load, and bad fields are named in the error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from enphase_local.simulator import PRESETS, SiteConfig, load_site
from enphase_local.simulator.site.config import CT
from enphase_local.simulator.site.load import site_from_dict

REQUIRED = {
    "legacy-3x",
    "legacy-5x",
    "standard",
    "metered-split",
    "metered-3phase",
    "battery-backup",
    "acb",
    "generator",
    "collar",
    "tariff-ignored",
    "cloud-overwrite",
}


def test_presets_cover_the_brief() -> None:
    assert set(PRESETS) >= REQUIRED
    assert PRESETS["legacy-3x"].firmware == "R3.9.36" and PRESETS["legacy-3x"].inverters.count == 12
    assert PRESETS["metered-3phase"].inverters.count == 17
    assert PRESETS["acb"].acb.count == 3 and PRESETS["acb"].battery.count == 1
    assert (
        PRESETS["battery-backup"].battery.count == 3 and PRESETS["battery-backup"].dry_contacts == 4
    )
    assert PRESETS["tariff-ignored"].quirks.ignore_tariff_writes
    assert PRESETS["tariff-ignored"].fw.at_least(8, 2, 4225)
    assert PRESETS["cloud-overwrite"].quirks.cloud_overwrite_after_s


def test_load_toml(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        'serial = "123456789012"\nfirmware = "D8.2.4345"\ntimezone = "Europe/Paris"\n'
        'latitude = 48\nphase_mode = "three"\nphase_count = 3\n'
        "[inverters]\ncount = 8\nrating_w = 300\n"
        '[[cts]]\nmeasurement_type = "production"\n'
        '[[cts]]\nmeasurement_type = "net-consumption"\nenabled = false\n'
        '[storage]\nmode = "backup"\nreserved_soc = 100\n'
        "[quirks]\ncloud_overwrite_after_s = 60\n"
    )
    cfg = load_site(path)
    assert cfg.serial == "123456789012" and cfg.latitude == 48.0
    assert cfg.inverters.count == 8 and cfg.inverters.rating_w == 300
    assert cfg.cts == (CT("production"), CT("net-consumption", enabled=False))
    assert cfg.storage.mode == "backup" and cfg.quirks.cloud_overwrite_after_s == 60.0


def test_load_json_from_a_preset(tmp_path: Path) -> None:
    path = tmp_path / "site.json"
    path.write_text(
        json.dumps({"preset": "battery-backup", "serial": "999999999999", "battery": {"count": 5}})
    )
    cfg = load_site(path)
    assert cfg.serial == "999999999999" and cfg.battery.count == 5
    assert cfg.enpower and cfg.battery.capacity_wh == PRESETS["battery-backup"].battery.capacity_wh


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"serial": "12ab"}, "site.serial"),
        ({"firmware": "banana"}, "site.firmware"),
        ({"timezone": "Mars/Olympus"}, "site.timezone"),
        ({"phase_mode": "quad"}, "site.phase_mode"),
        ({"inverters": {"count": -1}}, "site.inverters.count"),
        ({"inverters": {"count": "12"}}, "site.inverters.count"),
        ({"inverters": {"colour": "blue"}}, "site.inverters.colour"),
        ({"cts": [{"measurement_type": "solar"}]}, "site.cts[0].measurement_type"),
        ({"cts": [{"enabled": True}]}, "site.cts[0].measurement_type"),
        ({"storage": {"mode": "turbo"}}, "site.storage.mode"),
        ({"storage": {"reserved_soc": 120}}, "site.storage.reserved_soc"),
        ({"metered": "yes"}, "site.metered"),
        ({"latitude": 100}, "site.latitude"),
        ({"quirks": {"late_midnight_reset": True}}, "site.quirks.late_midnight_reset"),
        ({"preset": "nope"}, "site.preset"),
        ({"metered": False, "cts": [{"measurement_type": "production"}]}, "site.cts"),
    ],
)
def test_bad_fields_are_named(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]") + ":"):
        site_from_dict(data)


def test_bad_file_syntax(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("serial = \n")
    with pytest.raises(ValueError, match="not valid toml"):
        load_site(path)


def test_config_is_frozen_and_serials_are_stable() -> None:
    cfg = SiteConfig()
    with pytest.raises(AttributeError):
        cfg.serial = "x"  # type: ignore[misc]
    serials = PRESETS["metered-3phase"].inverter_serials()
    assert len(serials) == len(set(serials)) == 17 and all(
        len(s) == 12 and s.isdigit() for s in serials
    )
