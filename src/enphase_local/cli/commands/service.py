"""`enphase collect` and `enphase history`: keep what the gateways say, and read it back.

    enphase collect 192.168.1.50            one gateway (or $ENPHASE_HOST)
    enphase collect --config sites.toml     many gateways (see docs/service.md)
    enphase collect --demo                  simulated gateways, a day a minute
    enphase history --every 1d --from 2026-06-01
    enphase history --every 1mo --csv

`collect` runs until SIGTERM or Ctrl-C, logging one line per state change,
with the dashboard, /metrics and /healthz on http://127.0.0.1:8787/ (the LAN
only with ``--lan``). `history` reads the SQLite file `collect` writes.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import os
import sqlite3
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click

from ...models.energy_flows import ENERGY_FLOWS
from ..connect import connection_flags
from . import collect_setup

__all__ = ["collect", "history"]


def _config(host: str | None, config_file: Path | None, connection: dict[str, Any]) -> Any:
    """The gateways to read: the TOML file, or one HOST with the shared connection options."""
    from ...service.config import CollectConfig, ConfigError, GatewayEntry, load_config
    from ..connect import settings_from

    if config_file is not None:
        if host or connection.get("host_option"):
            raise click.UsageError("give HOST or --config, not both")
        try:
            return load_config(config_file)
        except ConfigError as err:
            raise click.UsageError(str(err)) from None
    settings = settings_from({"host": host, **connection}, need_host=False)
    if not settings.host:
        raise click.UsageError("no gateway: give HOST, set ENPHASE_HOST, use --config or --demo")
    entry = GatewayEntry(
        name=settings.host,
        host=settings.host,
        token=settings.token,
        username=settings.username,
        password=settings.password,
        token_store=settings.token_store,
        timeout=settings.timeout,
        retries=settings.retries,
        enlighten_url=settings.enlighten_url,
        entrez_url=settings.entrez_url,
    )
    return CollectConfig(gateways=(entry,))


def _five_am(timezone: str) -> float:
    """05:00 today at the simulated site: the demo's sun rises within seconds."""
    import zoneinfo

    try:
        tz: dt.tzinfo = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return dt.datetime.now(tz).replace(hour=5, minute=0, second=0, microsecond=0).timestamp()


async def _collect(config: Any, demo: tuple[str, ...], speed: float) -> Any:
    """Run until stopped; the `Built` collector (its history says what was not written)."""
    from ...service.runner import build, demo_sites, run_collector

    def announce(text: str) -> None:
        click.echo(f"enphase collect: {text}", err=True)

    if not demo:
        built = build(config)
        await run_collector(built, announce=announce)
        return built
    from ...simulator import PRESETS, SimClock

    # The demo clock runs `speed` times faster than real time, so one slow update (a
    # loaded machine) spans simulated minutes: stale means no data for a few real seconds.
    config = replace(
        config,
        stale_after_s=max(config.stale_after_s, 3.0 * speed),
        unreachable_after_s=max(3.0 * config.interval_s, 3.0 * speed),
    )
    start = _five_am(PRESETS[demo[0]].timezone)
    clock = SimClock(start=start, speed=speed)

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / speed)

    async with demo_sites(list(demo), clock) as sites:
        built = build(config, clock=clock, sleep=sleep, targets=[s.target for s in sites])
        announce(
            f"demo: {len(sites)} simulated gateway(s), clock {speed:g}x from 05:00 at the site, "
            f"history in {config.db}"
        )
        await run_collector(built, announce=announce)
        return built


@click.command("collect")
@click.argument("host", required=False)
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="TOML listing gateways."
)
@click.option("--db", type=click.Path(path_type=Path), help="History file (SQLite).")
@click.option("--interval", type=click.FloatRange(min=1), help="Seconds between updates [60].")
@click.option(
    "--keep-live-days",
    type=click.FloatRange(min=0, min_open=True),
    help="Days of live-rate power to keep; minutes are kept for ever [7].",
)
@click.option("--port", type=click.IntRange(0, 65535), help="Dashboard and /metrics port [8787].")
@click.option(
    "--live/--no-live",
    default=None,
    help="Follow every gateway's live 1 Hz data always / never [the config's live, else only "
    "while a dashboard shows the gateway].",
)
@click.option("--lan", is_flag=True, help="Listen on every interface, not only 127.0.0.1.")
@click.option(
    "--lan-token-file",
    type=click.Path(path_type=Path),
    help="File holding the token the LAN must send (or $ENPHASE_LAN_TOKEN).",
)
@click.option("--lan-no-auth", is_flag=True, help="With --lan: no token (anyone sees the data).")
@click.option(
    "--token-file",
    type=click.Path(path_type=Path),
    help="File holding the gateway token (kept out of `ps`, unlike --token).",
)
@collect_setup.sink_flags
@connection_flags
@click.option("--demo", is_flag=True, help="Collect from built-in simulated gateways.")
@click.option("--demo-preset", multiple=True, help="Simulated site(s) [battery-backup].")
@click.option(
    "--demo-speed",
    type=click.FloatRange(min=1),
    default=1440.0,
    show_default=True,
    help="Simulated seconds per real second (1440: a day a minute).",
)
def collect(
    *,
    host: str | None,
    config_file: Path | None,
    db: Path | None,
    interval: float | None,
    keep_live_days: float | None,
    port: int | None,
    live: bool | None,
    lan: bool,
    lan_token_file: Path | None,
    lan_no_auth: bool,
    token_file: Path | None,
    demo: bool,
    demo_preset: tuple[str, ...],
    demo_speed: float,
    debug: bool,
    **connection: Any,
) -> None:
    """Read gateways for as long as it runs: history, dashboard, Prometheus metrics."""
    from ...service.config import CollectConfig, ConfigError, check_lan, forced_live, read_secret

    sink_flags = {k: connection.pop(k) for k in list(connection) if k.startswith("sink_")}
    visible = collect_setup.visible_secrets(connection, sink_flags)
    try:
        if token_file is not None:
            if connection.get("token"):
                raise click.UsageError("give --token or --token-file, not both")
            connection["token"] = read_secret(token_file, "--token-file")
        lan_token = read_secret(lan_token_file, "--lan-token-file") if lan_token_file else None
    except ConfigError as err:
        raise click.UsageError(str(err)) from None
    lan_token = lan_token or os.environ.get("ENPHASE_LAN_TOKEN") or None
    if demo:
        from ...simulator import PRESETS

        presets = demo_preset or ("battery-backup",)
        unknown = [p for p in presets if p not in PRESETS]
        if unknown:
            raise click.UsageError(f"unknown preset(s) {unknown}: use {', '.join(sorted(PRESETS))}")
        # stale means "nothing for 10 real seconds", whatever the clock's speed
        config = CollectConfig(gateways=(), stale_after_s=max(180.0, 10 * demo_speed))
        if db is None:  # where `enphase history` looks for the demo's when there is no other
            db = collect_setup.fresh_demo_db()
    else:
        presets = ()
        config = _config(host, config_file, connection)
    config = collect_setup.with_sink_flags(config, sink_flags)
    collect_setup.setup_logging(debug, config)
    changes: dict[str, Any] = {"db": db, "interval_s": interval, "port": port}
    changes["keep_live_days"] = keep_live_days
    config = replace(config, **{k: v for k, v in changes.items() if v is not None})
    if live is not None:
        config = forced_live(config, live)
    if lan:
        config = replace(config, lan=True)
    if lan_token:
        config = replace(config, lan_token=lan_token)
    if lan_no_auth:
        config = replace(config, lan_no_auth=True)
    try:
        check_lan(config)
    except ConfigError as err:
        raise click.UsageError(str(err)) from None
    for flag in visible:
        click.echo(
            f"enphase collect: warning: {flag} on the command line is visible to every user of "
            "this machine (ps); use a file or the environment (see --help)",
            err=True,
        )
    built = _run(config, presets, demo_speed, config_file)
    history = getattr(built, "history", None)
    if history is not None and history.unwritten:
        click.echo(
            f"enphase collect: stopped; {history.unwritten} rows could not be written to "
            f"{history.path} ({history.last_error})",
            err=True,
        )
    else:
        click.echo("enphase collect: stopped, history flushed", err=True)


def _run(config: Any, presets: tuple[str, ...], speed: float, config_file: Path | None) -> Any:
    """Run the collector; a failure of the user's making is one line and its exit code."""
    from ...service.sink_registry import SinkSettingsError
    from ...service.sqlite_store import HistoryError

    try:
        return asyncio.run(_collect(config, presets, speed))
    except KeyboardInterrupt:
        return None
    except SinkSettingsError as err:
        where = f"{config_file}: " if config_file is not None else ""
        raise click.UsageError(f"{where}{err}") from None
    except ConnectionError as err:  # a sink's service (broker, database) is away
        raise collect_setup.fail(str(err), 3) from None
    except ImportError as err:  # the dashboard's and metrics' libraries: the service extra
        message = f"collect needs {err.name}: pip install 'enphase-local[service]'"
        raise collect_setup.fail(message, 6) from None
    except (OSError, sqlite3.Error, HistoryError) as err:
        raise collect_setup.fail(str(err), 2) from None


# -- history -------------------------------------------------------------------------


def _when(text: str | None, default: float, zone: str | None = None) -> float:
    """`text` as a moment in `zone` (the buckets' zone: --tz / --utc), else in local time."""
    if text is None:
        return default
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if zone is not None and moment.tzinfo is None:
        import zoneinfo

        try:
            where = dt.UTC if zone.lower() == "utc" else zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise click.UsageError(f"unknown time zone {zone!r}: use utc or an IANA name") from None
        moment = moment.replace(tzinfo=where)
    return moment.timestamp()


def _rows(
    kind: str,
    db: sqlite3.Connection,
    span: tuple[float, float],
    every: str,
    *,
    tz: str,
    serials: tuple[str, ...],
) -> list[dict[str, Any]]:
    from ...service import history_query as hq

    start, end = span
    rows: list[Any]
    if kind == "energy":
        rows = hq.energy(db, start, end, every, serials=serials, tz=tz)
    elif kind == "power":
        rows = hq.power(db, start, end, every, serials=serials, tz=tz)
    else:
        rows = hq.inverters(db, start, end, every, serials=serials, tz=tz)
    return [asdict(row) for row in rows]


@click.command("history")
@click.option("--db", type=click.Path(path_type=Path), help="History file [the collector's].")
@click.option("--from", "start", metavar="DATE", help="Start (in the buckets' zone) [7 days ago].")
@click.option("--to", "end", metavar="DATE", help="End (in the buckets' zone) [now].")
@click.option(
    "--every", type=click.Choice(["15m", "1h", "1d", "1mo", "1y"]), default="1d", show_default=True
)
@click.option(
    "--what",
    type=click.Choice(["energy", "power", "inverters"]),
    default="energy",
    show_default=True,
    help="Energy per flow (from counters), mean/min/max power, or per microinverter.",
)
@click.option("--serial", multiple=True, help="Only these gateways.")
@click.option(
    "--site", multiple=True, help="Only this [[site]]: the sums of its gateways, as collected."
)
@click.option(
    "--tz", "zone", metavar="ZONE", help="Buckets in this IANA zone [the sites' own, else local]."
)
@click.option("--utc", is_flag=True, help="Buckets in UTC (same as --tz UTC).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def history(
    *,
    db: Path | None,
    start: str | None,
    end: str | None,
    every: str,
    what: str,
    serial: tuple[str, ...],
    site: tuple[str, ...],
    zone: str | None,
    utc: bool,
    as_csv: bool,
    as_json: bool,
) -> None:
    """Energy and power over a range from the collector's history, per flow or inverter."""
    import time

    from ...service.config import default_db_path
    from ...service.site_sum import site_serial

    serial = serial + tuple(site_serial(name) for name in site)
    path = db or default_db_path()
    if db is None and not path.exists() and collect_setup.demo_db().exists():
        click.echo(
            f"enphase history: showing the demo's history ({collect_setup.demo_db()})", err=True
        )
        path = collect_setup.demo_db()
    if not path.exists():
        raise collect_setup.fail(
            f"no history at {path}: run `enphase collect` first (or give --db)", 2
        )
    now = time.time()
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        bucket_zone = "utc" if utc else zone or _site_zone(conn, serial)
        t_end = _when(end, now, bucket_zone)
        t_start = _when(start, t_end - 7 * 86_400, bucket_zone)
        if t_start >= t_end:
            raise click.UsageError("--from must be before --to")
        tz = bucket_zone or "localtime"
        rows = _rows(what, conn, (t_start, t_end), every, tz=tz, serials=serial)
    except sqlite3.Error as err:
        raise click.ClickException(f"cannot read {path}: {err}") from None
    except ValueError as err:  # an unknown zone
        raise click.UsageError(str(err)) from None
    if as_json:
        click.echo(json.dumps(rows, indent=1))
    elif as_csv:
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif what == "energy" and any(r["flow"] in ENERGY_COLUMNS[1:] for r in rows):
        _energy_table(rows, tz)
    else:
        _table(rows, what)


# the six flows (and a generator) as columns, then the two shares
ENERGY_COLUMNS = ENERGY_FLOWS


_SHORT = {
    "grid_import": "import",
    "grid_export": "export",
    "battery_charge": "charge",
    "battery_discharge": "discharge",
}


def _site_zone(conn: sqlite3.Connection, serials: tuple[str, ...]) -> str | None:
    """The sites' own zone from the history (their days, not the host's), if they share one."""
    from ...service.history_query import site_zone

    try:
        return site_zone(conn, serials)
    except sqlite3.Error:  # a history from before the zone was kept
        return None


def _energy_table(rows: list[dict[str, Any]], zone: str) -> None:
    """One line per bucket and gateway: every flow in kWh, and the two shares in %."""
    from rich.console import Console
    from rich.table import Table

    from ..render.energy import self_shares

    lines: dict[tuple[str, str], dict[str, float]] = {}
    for row in rows:
        lines.setdefault((row["bucket"], row["serial"]), {})[row["flow"]] = row["wh"]
    present = [name for name in ENERGY_COLUMNS if any(name in v for v in lines.values())]
    where = "local time" if zone == "localtime" else zone
    table = Table(title=f"energy per bucket (kWh), days in {where}")
    table.caption = "SC: self-consumption (solar used on site), SS: self-sufficiency (house)"
    for name in ("bucket", "serial", *(_SHORT.get(n, n) for n in present), "SC %", "SS %"):
        table.add_column(name, justify="left" if name in ("bucket", "serial") else "right")
    for (bucket, serial), flows in sorted(lines.items()):
        shares = self_shares(flows)
        cells = [f"{flows[n] / 1000:,.2f}" if n in flows else "" for n in present]
        pct = ["" if v is None else f"{v:.0f}" for v in shares]
        table.add_row(bucket, serial, *cells, *pct)
    Console().print(table)


def _table(rows: list[dict[str, Any]], what: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{what} per bucket", show_lines=False)
    if not rows:
        Console().print("no data in that range")
        return
    for name in rows[0]:
        table.add_column(
            name,
            justify="right" if name not in ("bucket", "serial", "flow", "inverter") else "left",
        )
    for row in rows:
        table.add_row(
            *(
                "" if v is None else f"{v:,.1f}" if isinstance(v, float) else str(v)
                for v in row.values()
            )
        )
    Console().print(table)
