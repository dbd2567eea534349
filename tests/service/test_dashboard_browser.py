"""The dashboard in a real headless Chromium (Debian's), driven by Selenium.

Live flow updates within 3 s, charts drawn with data, the stale banner when
the simulated gateway stops answering; a screenshot is saved as an artifact
(``$ENPHASE_ARTIFACTS`` or ``.artifacts/`` at the repository root). Outside
CI the test skips with one line when Chromium or its driver is missing;
under ``CI=true`` it fails instead (``.ci/browser.sh`` installs them).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from enphase_local.service.collector import Collector
from enphase_local.service.history_sink import HistorySink
from enphase_local.service.web import WebSink
from tests.service.helpers import run_for, target_for
from tests.simkit import NOON, gateway

ROOT = Path(__file__).resolve().parents[2]
SPEED = 60.0  # simulated seconds per real second once the browser looks


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser test cannot run under CI: {reason} (run .ci/browser.sh)")
    pytest.skip(reason)


@pytest.fixture
def driver() -> Iterator[Any]:
    chromium = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    chromedriver = shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        _missing("no chromium / chromedriver (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[dev]')")
    os.environ.setdefault("SE_OFFLINE", "true")  # never let selenium-manager download a browser
    options = webdriver.ChromeOptions()
    options.binary_location = chromium  # type: ignore[assignment]
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--window-size=1280,1100",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(arg)
    browser = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    browser.set_page_load_timeout(20)
    try:
        yield browser
    finally:
        browser.quit()


async def wait_for(check: Callable[[], Any], within: float, what: str) -> Any:
    """Poll a browser-side condition (run in a thread: selenium blocks)."""
    deadline = time.monotonic() + within
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.1)


CANVAS_INK = """
const c = document.querySelector(arguments[0] + ' canvas');
if (!c || !c.width) return 0;
const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
return n;
"""


async def test_dashboard_live_charts_and_stale_banner(tmp_path: Path, driver: Any) -> None:
    async with gateway("battery-backup", start=NOON - 8 * 3600) as (gw, clock):
        history = HistorySink(tmp_path / "h.db", clock=clock, flush_every_s=0.5)

        async def sleep(seconds: float) -> None:
            await asyncio.sleep(seconds / SPEED)

        collector = Collector(
            [target_for(gw, clock)],
            [history],
            clock=clock,
            sleep=sleep,
            interval_s=60.0,
            stale_after_s=180.0,
            retry_after_s=30.0,
        )
        web = WebSink(
            lambda: collector.states, port=0, clock=clock, history=history, stale_after_s=180.0
        )
        collector.sinks.append(web)
        await collector.start_sinks()
        try:
            await run_for(collector, clock, 8 * 3600, 300)  # a morning of history, at once
            await history.flush()
            await history.maintain(force=True)
            clock.set_speed(SPEED)
            reading = asyncio.create_task(collector.read_until_stopped())
            try:
                await _look(driver, web.url, gw, collector)
            finally:
                collector.stop()
                await reading
        finally:
            await collector.stop_sinks()


async def _look(driver: Any, url: str, gw: Any, collector: Collector) -> None:
    await asyncio.to_thread(driver.get, url)
    js = driver.execute_script
    first = await wait_for(lambda: js("return document.body.dataset.frameTime"), 10, "a live frame")
    # the live flow updates within 3 s
    await wait_for(
        lambda: js("return document.body.dataset.frameTime") not in (None, "", first),
        3.0,
        "the live flow to update",
    )
    solar = await asyncio.to_thread(lambda: driver.find_element("id", "flow-solar").text)
    assert solar.endswith("W") and solar != "–"
    for chart in ("#chart-today", "#chart-energy", "#chart-soc"):
        await wait_for(
            lambda c=chart: (
                int(js(f"return document.querySelector('{c}').dataset.points") or 0) > 0
            ),
            10,
            f"{chart} to have data",
        )
        ink = await wait_for(lambda c=chart: js(CANVAS_INK, c), 5, f"{chart} to be drawn")
        assert ink > 500, f"{chart} is almost blank"
    rows = await wait_for(
        lambda: js("return document.querySelectorAll('#inverters tbody tr').length"),
        10,
        "the inverter table",
    )
    snapshot = collector.states[gw.serial].snapshot
    assert snapshot is not None and rows == len(snapshot.inverters) > 0
    assert await asyncio.to_thread(lambda: not driver.find_element("id", "banner").is_displayed())
    artifacts = Path(os.environ.get("ENPHASE_ARTIFACTS", ROOT / ".artifacts"))
    await asyncio.to_thread(artifacts.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(driver.save_screenshot, str(artifacts / "dashboard.png"))
    # readable on a phone: nothing wider than the screen
    await asyncio.to_thread(driver.set_window_size, 390, 844)
    await wait_for(
        lambda: js("return document.documentElement.scrollWidth <= window.innerWidth + 1"),
        5,
        "the page to fit a phone's width",
    )
    await asyncio.to_thread(driver.save_screenshot, str(artifacts / "dashboard-phone.png"))
    # the gateway stops answering: the banner says so
    gw.faults.error_rate = 1.0
    await wait_for(
        lambda: driver.find_element("id", "banner").is_displayed(), 15, "the stale banner"
    )
    # 3 intervals without an answer: unreachable, said without a class name, on a phone
    await wait_for(
        lambda: "unreachable" in driver.find_element("id", "banner").text, 15, "unreachable"
    )
    text = await asyncio.to_thread(lambda: driver.find_element("id", "banner").text)
    assert gw.serial in text and "old" in text and "Error" not in text, text
    assert js("return document.documentElement.scrollWidth <= window.innerWidth + 1"), text
    await asyncio.to_thread(driver.save_screenshot, str(artifacts / "dashboard-stale.png"))


async def test_a_gateway_never_reached_says_so_without_a_class_name(
    tmp_path: Path, driver: Any
) -> None:
    """Before any data: "no data yet" (it said "data never old"), the state, what to do."""
    from enphase_local.client import Envoy
    from enphase_local.service.collector import Target

    history = HistorySink(tmp_path / "h.db", flush_every_s=3600)
    target = Target("garage", lambda s: Envoy("127.0.0.1:1", session=s, token="t" * 40))
    collector = Collector([target], [history], interval_s=60.0)
    web = WebSink(lambda: collector.states, port=0, history=history)
    collector.sinks.append(web)
    await collector.start_sinks()
    try:
        await collector.poll_once()
        assert collector.states["garage"].state == "unreachable"
        await asyncio.to_thread(driver.set_window_size, 390, 844)
        await asyncio.to_thread(driver.get, web.url)
        banner = await wait_for(lambda: driver.find_element("id", "banner").text, 10, "the banner")
        assert "garage is unreachable" in banner and "powered" in banner, banner
        assert "Error" not in banner and "never" not in banner, banner
        updated = await asyncio.to_thread(lambda: driver.find_element("id", "updated").text)
        assert updated == "no data yet"
        assert driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1"
        )
    finally:
        await collector.close_envoys()
        await collector.stop_sinks()


async def test_a_site_is_listed_as_the_sum_of_its_gateways(tmp_path: Path, driver: Any) -> None:
    """A [[site]] in the gateway list says what it is: "house: sum of 2 gateways"."""
    from enphase_local.service.config import CollectConfig, SiteEntry
    from enphase_local.service.runner import build
    from enphase_local.simulator import SimClock, SimulatedGateway, SiteBackend

    clock = SimClock(start=NOON, speed=0)
    main = SiteBackend.from_preset("battery-backup", clock=clock, seed=1)
    garage = SiteBackend.from_preset("metered-split", clock=clock, seed=2)
    async with (
        SimulatedGateway(main, clock=clock) as gw1,
        SimulatedGateway(garage, clock=clock) as gw2,
    ):
        config = CollectConfig(gateways=(), sites=(SiteEntry("house", ("main", "garage")),))
        made = [target_for(gw1, clock), target_for(gw2, clock)]
        targets = [type(t)(n, t.make) for n, t in zip(("main", "garage"), made, strict=True)]
        history = HistorySink(tmp_path / "h.db", clock=clock, flush_every_s=3600)
        built = build(config, clock=clock, targets=targets, web=False, extra_sinks=(history,))
        collector = built.collector
        web = WebSink(lambda: collector.states, port=0, clock=clock, history=history)
        collector.sinks.append(web)
        await collector.start_sinks()
        try:
            await collector.poll_once()
            await asyncio.to_thread(driver.get, web.url)
            options = """return [...document.querySelectorAll('#gateway option')]
                .map((o) => [o.value, o.textContent]);"""
            shown = await wait_for(
                lambda: len(driver.execute_script(options)) == 3 and driver.execute_script(options),
                10,
                "three entries in the gateway list",
            )
        finally:
            await collector.close_envoys()
            await collector.stop_sinks()
    assert dict(shown) == {
        gw1.serial: gw1.serial,
        gw2.serial: gw2.serial,
        "site-house": "house: sum of 2 gateways",
    }
