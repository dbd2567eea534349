"""/metrics of the real `enphase collect` process, from a config file, has the table's series."""

from __future__ import annotations

from pathlib import Path

from tests.service.test_metrics import samples
from tests.service.test_metrics_table import promtool_lint
from tests.service_sinks.test_collect_process import _until, collect, live_gateway, process_env


async def test_enphase_collect_exports_every_reading_of_a_battery_site(tmp_path: Path) -> None:
    async with live_gateway("battery-backup") as gw:
        config = tmp_path / "collect.toml"
        config.write_text(
            f'[collect]\ninterval = 2\nport = 0\ndb = "{tmp_path / "h.db"}"\n\n'
            f'[[gateway]]\nname = "house"\nhost = "{gw.https_host}"\n'
            f'token = "{gw.owner_token()}"\ntoken_store = "{tmp_path / "tokens.json"}"\n'
        )
        config.chmod(0o600)
        env = process_env(tmp_path)
        async with collect(["--config", str(config)], env, tmp_path) as (_proc, url, lines):
            text = await _until(url, lambda m: "enphase_battery_unit_power_watts{" in m, 30)
    got = samples(text)
    serial = gw.serial
    units = {lab["battery"] for lab, _ in got["enphase_battery_unit_power_watts"]}
    assert units and all(lab["serial"] == serial for lab, _ in got["enphase_ct_voltage_volts"])
    assert {lab["meter"] for lab, _ in got["enphase_ct_voltage_volts"]} >= {"production"}
    assert got["enphase_up"] == [({"serial": serial}, 1.0)]
    assert "enphase_energy_flow_joules_total" in got and "enphase_power_watts" in got
    assert gw.owner_token() not in text and "Traceback" not in "".join(lines)
    promtool_lint(text)
