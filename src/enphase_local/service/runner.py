"""Assemble and run a collector: targets from the config, the sinks, signals, the demo.

Why apart from the CLI: the same assembly serves ``enphase collect``, the
``--demo`` (simulated gateways on an accelerated clock), the tests and the
benchmarks; the click command only turns options into a `CollectConfig`.

Shutdown: SIGTERM and SIGINT (Ctrl-C) ask the collector to stop; it closes
the clients and their shared session, and stops every sink, which flushes what it holds, so a
``systemctl stop`` loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .collector import Collector, Target
from .config import CollectConfig, GatewayEntry, default_db_path, live_mode
from .history_sink import DAY, HistorySink
from .sink_registry import build_sinks
from .sinks import Sink

if TYPE_CHECKING:
    import aiohttp

    from ..client import Envoy
    from ..net.probe_cache import ProbeCache

__all__ = ["DemoSite", "build", "demo_sites", "run_collector"]

_LOGGER = logging.getLogger("enphase_local.service")


def envoy_factory(
    entry: GatewayEntry,
    clock: Callable[[], float],
    probes: ProbeCache | None = None,
    history: Path | None = None,
) -> Callable[[aiohttp.ClientSession], Envoy]:
    """A function making the (unconnected) `Envoy` of one configured gateway on `session`.

    `probes`: the probe cache its client remembers probes in (`held_probe_caches`).
    `history`: the history file whose derived energy counters it continues (`restore_energy`).
    """

    def make(session: aiohttp.ClientSession) -> Envoy:
        from ..client import Envoy
        from ..net.backoff import RetryPolicy
        from ..net.credentials import CloudUrls
        from ..net.exchange import Timeouts
        from ..net.token_store import TokenStore

        kwargs: dict[str, Any] = {}
        if entry.timeout is not None:
            kwargs["timeouts"] = Timeouts(fast_s=entry.timeout, slow_s=max(entry.timeout, 60.0))
        if entry.retries is not None:
            kwargs["retry"] = RetryPolicy(attempts=entry.retries + 1)
        if entry.enlighten_url or entry.entrez_url:
            default = CloudUrls()
            kwargs["cloud"] = CloudUrls(
                entry.enlighten_url or default.enlighten, entry.entrez_url or default.entrez
            )
        envoy = Envoy(
            entry.host,
            token=entry.token,
            username=entry.username,
            password=entry.password,
            token_store=TokenStore(entry.token_store),
            session=session,
            clock=clock,
            probe_cache=probes,
            timezone=entry.timezone,
            **kwargs,
        )
        if history is not None:
            restore_energy(envoy, history)
        return envoy

    return make


def restore_energy(envoy: Envoy, history: Path) -> None:
    """Continue the derived energy counters the history last kept for this host's gateway.

    Derived counters (battery energy without a storage CT, house by balance)
    exist only in the client: without this a restart would begin them again at
    zero and the history's counters would step back. Nothing kept: nothing done.
    """
    from .history_query import derived_state

    if not history.exists():
        return
    try:
        with contextlib.closing(sqlite3.connect(f"file:{history}?mode=ro", uri=True)) as db:
            found = db.execute(
                "SELECT serial FROM gateways WHERE host = ? ORDER BY last_seen DESC LIMIT 1",
                (envoy.host,),
            ).fetchone()
            if found is None:
                return
            kept = derived_state(db, str(found[0]))
    except sqlite3.Error as err:
        _LOGGER.warning("derived energy counters not restored from %s: %s", history, err)
        return
    envoy.energy_book.restore(*kept)


def held_probe_caches(gateways: Sequence[GatewayEntry]) -> dict[str, ProbeCache]:
    """One held probe cache per token-store folder, by gateway name.

    A restarted collector then connects each gateway without its probe (a
    dozen requests, seconds each on a real gateway, 8 gateways at a time).
    Held (`ProbeCache`): read once, written at most every 30 s while gateways
    connect and when the collector stops, not once per gateway.
    """
    from ..net.probe_cache import ProbeCache
    from ..net.token_store import TokenStore

    by_path: dict[Path, ProbeCache] = {}
    out: dict[str, ProbeCache] = {}
    for entry in gateways:
        cache = ProbeCache.beside(TokenStore(entry.token_store).path, held=True)
        out[entry.name] = by_path.setdefault(cache.path, cache)
    return out


@dataclass(slots=True)
class Built:
    collector: Collector
    history: HistorySink | None
    web: Any  # WebSink | None (imported lazily: aiohttp server and prometheus-client)


def build(
    config: CollectConfig,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    targets: list[Target] | None = None,
    web: bool = True,
    history: bool = True,
    extra_sinks: tuple[Sink, ...] = (),
) -> Built:
    """The collector of `config` with its history, configured and web sinks (not started).

    Raises `SinkSettingsError` for a ``[sinks.*]`` table that cannot be used.
    """
    probes = held_probe_caches(config.gateways)
    if targets is None:
        db = (config.db or default_db_path()) if history else None
        targets = [
            Target(g.name, envoy_factory(g, clock, probes[g.name], db), live_mode(config, g))
            for g in config.gateways
        ]
    sinks: list[Sink] = []
    history_sink = None
    if history:
        history_sink = HistorySink(
            config.db or default_db_path(),
            clock=clock,
            keep_live_s=config.keep_live_days * DAY,
            live_step_s=config.live_history_step_s,
        )
        sinks.append(history_sink)
    sinks.extend(build_sinks(config.sinks))
    collector = Collector(
        targets,
        sinks,
        clock=clock,
        sleep=sleep,
        interval_s=config.interval_s,
        stale_after_s=config.stale_after_s,
        retry_after_s=min(30.0, config.interval_s),
        unreachable_after_s=config.unreachable_after_s,
        closers=[cache.flush for cache in set(probes.values())],  # one per folder
    )
    web_sink = None
    if web:
        from .web import WebSink

        web_sink = WebSink(
            lambda: collector.states,
            host="0.0.0.0" if config.lan else "127.0.0.1",
            port=config.port,
            clock=clock,
            history=history_sink,
            stale_after_s=config.stale_after_s,
            token=config.lan_token if config.lan else None,
            watch=collector.demand.watch,
        )
        collector.sinks.append(web_sink)
    collector.sinks.extend(extra_sinks)
    _add_sites(config, collector)
    _say_live(collector, web_sink is not None)
    return Built(collector, history_sink, web_sink)


def _say_live(collector: Collector, web: bool) -> None:
    """One line at start: which gateways follow live data, and when (`live_demand`)."""
    modes = [t.mode for t in collector.targets]
    on, auto = modes.count("on"), modes.count("auto")
    if not on and not auto:
        return
    _LOGGER.info(
        "live data: %d gateway(s) always, %d while a dashboard watches%s",
        on,
        auto if web else 0,
        "; MQTT and Prometheus get one power reading per update from the others "
        "(live = true in the config for 1 Hz)"
        if auto
        else "",
    )


def _add_sites(config: CollectConfig, collector: Collector) -> None:
    """[[site]]: the sums go to every sink; sinks that tag by site learn who is in which."""
    if not config.sites:
        return
    from .site_sum import site_serial
    from .sites import SiteSink

    members = {g: site.name for site in config.sites for g in site.gateways}
    # a dashboard showing a site watches the gateways summed into it (`live_demand`)
    collector.demand.sites = {g: site_serial(members[g]) for g in members}
    members.update({site_serial(site.name): site.name for site in config.sites})
    for sink in collector.sinks:
        use_sites = getattr(sink, "use_sites", None)
        if use_sites is not None:
            use_sites(members)
    skew = max(3 * config.interval_s, config.stale_after_s)
    collector.sinks.append(SiteSink(config.sites, max_skew_s=skew))


async def run_collector(built: Built, *, announce: Callable[[str], None] | None = None) -> None:
    """Run until SIGTERM / SIGINT; the sinks are flushed on the way out."""
    loop = asyncio.get_running_loop()
    collector = built.collector
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, collector.stop)
            installed.append(sig)
    try:
        runner = asyncio.create_task(collector.run())
        started = asyncio.create_task(collector.started.wait())
        await asyncio.wait([runner, started], return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if announce is not None and built.web is not None and not runner.done():
            announce(f"dashboard: {built.web.url}  metrics: {built.web.url}metrics")
            if built.web.host != "127.0.0.1":
                announce(_lan_words(built.web))
        await runner
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _lan_words(web: Any) -> str:
    """What listening on the LAN means, said at start."""
    if web.token_required:
        return (
            f"listening on every interface (port {web.port}); other machines must send the "
            "LAN token: 'Authorization: Bearer <token>', or open /?token=<token> once"
        )
    return (
        f"WARNING: listening on every interface (port {web.port}) WITHOUT authentication "
        "(--lan-no-auth): anyone on the network sees this house's data"
    )


# -- the demo ------------------------------------------------------------------------


@dataclass(slots=True)
class DemoSite:
    """A simulated gateway of the demo and how to reach it."""

    gateway: Any  # SimulatedGateway
    target: Target


@contextlib.asynccontextmanager
async def demo_sites(presets: list[str], clock: Any) -> AsyncIterator[list[DemoSite]]:
    """Start one simulated gateway per preset on 127.0.0.1, sharing the demo's clock."""
    from ..simulator import SimulatedGateway, SiteBackend

    sites: list[DemoSite] = []
    async with contextlib.AsyncExitStack() as stack:
        for i, preset in enumerate(presets):
            backend = SiteBackend.from_preset(preset, clock=clock, seed=i)
            gw = await stack.enter_async_context(SimulatedGateway(backend, clock=clock))
            # live=False: on the demo's accelerated clock 1 Hz live data would be thousands
            # of polls a real second; one frame per snapshot shows the same flows
            target = Target(f"{preset}", _demo_envoy(gw, clock), live=False)
            sites.append(DemoSite(gw, target))
        yield sites


def _demo_envoy(gw: Any, clock: Any) -> Callable[[aiohttp.ClientSession], Envoy]:
    def make(session: aiohttp.ClientSession) -> Envoy:
        from ..client import Envoy
        from ..firmware import Firmware

        if Firmware.parse(gw.firmware).uses_tokens:
            return Envoy(gw.https_host, token=gw.owner_token(), session=session, clock=clock)
        return Envoy(gw.http_host, session=session, clock=clock)

    return make
