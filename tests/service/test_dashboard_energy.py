"""The dashboard's energy view in real headless Chromium: every flow, from zero, kWh as numbers.

Issue 23: the bars showed solar and house only, their y axes began at 14,
29 or 190 kWh, and no "kWh today" appeared anywhere. A battery site is
collected from just before its midnight, then the page is looked at on a
desktop and at a phone's 390 px; the screenshots are saved as artifacts.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from enphase_local.service.collector import Collector
from enphase_local.service.history_sink import HistorySink
from enphase_local.service.web import WebSink
from tests.energy_day import day_start
from tests.service.helpers import run_for, target_for
from tests.service.test_dashboard_browser import ROOT, SPEED, driver, wait_for
from tests.simkit import gateway

__all__ = ["driver"]  # the fixture, shared with the other browser test

FLOWS = ("solar", "house", "grid_import", "grid_export", "battery_charge", "battery_discharge")


async def test_energy_view_shows_every_flow_from_zero_with_totals(
    tmp_path: Path, driver: Any
) -> None:
    start = day_start("battery-backup")
    async with gateway("battery-backup", start=start) as (gw, clock):
        history = HistorySink(tmp_path / "h.db", clock=clock, flush_every_s=0.5)

        async def sleep(seconds: float) -> None:
            await asyncio.sleep(seconds / SPEED)

        collector = Collector([target_for(gw, clock)], [history], clock=clock, sleep=sleep)
        web = WebSink(lambda: collector.states, port=0, clock=clock, history=history)
        collector.sinks.append(web)
        await collector.start_sinks()
        try:
            await run_for(collector, clock, 20 * 3600, 120)  # to 19:40: a day's flows
            await history.flush()
            await history.maintain(force=True)
            clock.set_speed(SPEED)
            reading = asyncio.create_task(collector.read_until_stopped())
            try:
                await _look(driver, web.url)
            finally:
                collector.stop()
                await reading
        finally:
            await collector.stop_sinks()


TOTALS = """
const out = {};
for (const col of document.querySelectorAll('#energy-totals .total')) {
  out[col.dataset.when] = {};
  for (const row of col.querySelectorAll('.row'))
    out[col.dataset.when][row.dataset.flow] = row.querySelector('b').textContent;
}
return out;
"""


async def _look(driver: Any, url: str) -> None:
    await asyncio.to_thread(driver.set_window_size, 1280, 1100)
    await asyncio.to_thread(driver.get, url)
    js = driver.execute_script
    await wait_for(
        lambda: int(js("return document.querySelector('#chart-energy').dataset.points") or 0),
        15,
        "the energy bars",
    )
    totals = await wait_for(lambda: js(TOTALS), 10, "today's and this month's totals")
    assert set(totals) == {"today", "month"}
    for when in ("today", "month"):
        assert set(FLOWS) <= set(totals[when]), totals
        assert all(v.endswith(" kWh") for v in totals[when].values()), totals
    assert float(totals["today"]["solar"].split()[0]) > 1.0
    # every flow is a series of the bars, and the axis includes zero
    labels = js("return dashboard.charts['chart-energy'].series.slice(1).map(s => s.label)")
    assert {"solar", "house", "grid in", "grid out", "battery in", "battery out"} <= set(labels)
    y_min = js("return dashboard.charts['chart-energy'].scales.y.min")
    y_max = js("return dashboard.charts['chart-energy'].scales.y.max")
    assert y_min < 0 < y_max  # sources above zero, sinks below: zero is on the axis
    today_min = js("return dashboard.charts['chart-today'].scales.y.min")
    assert today_min <= 0
    ticks = js(
        "return [...document.querySelectorAll('#chart-energy .u-axis')][1].innerText.split('\\n')"
    )
    shown = [t for t in ticks if t.strip()]
    assert len(shown) == len(set(shown)), f"repeated tick labels: {shown}"
    artifacts = Path(os.environ.get("ENPHASE_ARTIFACTS", ROOT / ".artifacts"))
    await asyncio.to_thread(artifacts.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(driver.save_screenshot, str(artifacts / "energy-desktop.png"))
    await asyncio.to_thread(driver.set_window_size, 390, 844)
    await wait_for(
        lambda: js("return document.documentElement.scrollWidth <= window.innerWidth + 1"),
        5,
        "the page to fit a phone's width",
    )
    js("document.querySelector('#energy-totals').scrollIntoView()")
    await asyncio.to_thread(driver.save_screenshot, str(artifacts / "energy-phone.png"))
