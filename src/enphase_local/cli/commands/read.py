"""`enphase read|inverters|meters|battery HOST`: a snapshot, whole or one part in detail.

``read --json`` prints exactly `Snapshot.to_dict()` (docs/json-contract.md)
and nothing else on stdout; the tables are rendered from that same document.
The focused commands show one section; their ``--json`` prints that section
in the shape of the JSON contract, with ``taken_at`` and ``gateway`` so a
script knows what it is looking at. A gateway without the hardware answers
exit status 6.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from ..config import Settings
from ..connect import connect, connection_options, settings_from
from ..errors import CliError, set_output
from ..output import console, echo_json, run

__all__ = ["battery", "inverters", "meters", "read", "read_snapshot"]


def snapshot_document(
    params: Mapping[str, Any], sections: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The settings first (prompts and usage errors before any event loop), then the read."""
    settings = settings_from(params)
    return run(lambda: read_snapshot(settings, sections))


async def read_snapshot(
    settings: Settings, sections: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Connect, read one snapshot (only `sections` and production, when given), return it.

    One read: every section asked (not only the fastest), or, for a focused
    command, only the sources of its sections: ``meters`` never waits for
    ``/home``.
    """
    async with connect(settings) as envoy:
        snapshot = await envoy.update(full=True, sections=sections)
        document: dict[str, Any] = snapshot.to_dict()
        return document


@click.command("read")
@connection_options
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract document only.")
def read(*, as_json: bool, **params: Any) -> None:
    """Read everything once: energy, phases, meters, inverters, batteries, settings."""
    set_output(as_json=as_json)
    document = snapshot_document(params)
    if as_json:
        echo_json(document)
        return
    from ..render.snapshot import snapshot_view

    console().print(snapshot_view(document))


_STORAGE = ("battery", "acb", "enpower", "collar", "c6cc", "tariff", "generator", "dry_contacts")


def _head(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": document.get("schema"),
        "taken_at": document.get("taken_at"),
        "gateway": document.get("gateway"),
    }


@click.command("inverters")
@connection_options
@click.option(
    "--sort",
    "sort_by",
    type=click.Choice(["watts", "serial", "last-report", "temperature"]),
    default="watts",
    show_default=True,
    help="Order of the rows (numbers: highest first).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def inverters(*, sort_by: str, as_json: bool, **params: Any) -> None:
    """Microinverters: power, last report and, where the gateway has them, details."""
    set_output(as_json=as_json)
    document = snapshot_document(params, ("inverters",))
    from ..render.devices import inverters_table, sort_inverters

    found = document.get("inverters") or {}
    if not found:
        raise CliError("unavailable", "this gateway reports no microinverters")
    if as_json:
        ordered = dict(sort_inverters(found, sort_by))
        echo_json({**_head(document), "inverters": ordered})
        return
    console().print(inverters_table(found, float(document.get("taken_at") or 0), sort_by))


@click.command("meters")
@connection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def meters(*, as_json: bool, **params: Any) -> None:
    """CT meters (production, net, storage...): power, energy, volts, per phase."""
    set_output(as_json=as_json)
    document = snapshot_document(params, ("meters",))
    from ..render.devices import meters_table
    from ..render.snapshot import flows_table, phases_table

    found = document.get("meters") or {}
    if not found:
        raise CliError(
            "unavailable", "this gateway has no current transformers (CT meters) enabled"
        )
    if as_json:
        echo_json({**_head(document), "meters": found, "phases": document.get("phases") or {}})
        return
    out = console()
    for part in (
        meters_table(found),
        phases_table(document.get("phases") or {}),
        flows_table(document),
    ):
        if part is not None:
            out.print(part)


@click.command("battery")
@connection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def battery(*, as_json: bool, **params: Any) -> None:
    """Batteries (IQ Battery, AC Battery), system controller and storage settings."""
    set_output(as_json=as_json)
    document = snapshot_document(params, _STORAGE)
    from ..render.devices import (
        battery_tables,
        controller_table,
        dry_contacts_table,
        generator_table,
        tariff_table,
    )

    if not any(document.get(k) for k in _STORAGE if k != "tariff"):
        # an Enpower, a generator or dry contacts are worth showing without batteries
        raise CliError(
            "unavailable",
            "this gateway reports no batteries, system controller, generator or dry contacts",
        )
    if as_json:
        echo_json({**_head(document), **{k: document.get(k) for k in _STORAGE}})
        return
    parts = [
        *battery_tables(document),
        controller_table(document),
        tariff_table(document.get("tariff")),
        generator_table(document.get("generator")),
        dry_contacts_table(document.get("dry_contacts") or {}),
    ]
    out = console()
    for part in parts:
        if part is not None:
            out.print(part)
