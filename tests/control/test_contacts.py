"""Dry contacts: state and settings, against the simulated system controller.

The simulator makes a contact read "open" for `dry_contact_settle_s` (30 s)
after a settings write, as real gateways do for 5 to 90 s.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from enphase_local.control import Outcome
from enphase_local.errors import EnvoyFeatureUnavailable
from tests.control.test_target import SimTarget


def _settings(target: SimTarget, cid: str) -> dict[str, Any]:
    doc = orjson.loads(target.get("dry_contact_settings"))
    found: dict[str, Any] = next(c for c in doc["dry_contacts"] if c["id"] == cid)
    return found


async def test_open_and_close_a_contact() -> None:
    target = SimTarget("battery-backup")
    control = target.control()
    opened = await control.set_dry_contact("NC1", "open")
    assert opened.outcome is Outcome.CONFIRMED
    assert (opened.before, opened.after) == ("closed", "open")
    assert target.writes[0].json == {"dry_contacts": {"id": "NC1", "status": "open"}}
    assert target.writes[0].path == "/ivp/ensemble/dry_contacts"
    closed = await control.set_dry_contact("nc1", "CLOSED")  # ids and states in any case
    assert closed.outcome is Outcome.CONFIRMED
    assert target.writes[1].json == {"dry_contacts": {"id": "NC1", "status": "closed"}}


async def test_configure_a_contact_keeps_every_other_key() -> None:
    target = SimTarget("battery-backup")
    before = _settings(target, "NC1")
    result = await target.control().configure_dry_contact("NC1", soc_low=20, load_name="Pool")
    assert result.outcome is Outcome.CONFIRMED
    assert result.requested == {"soc_low": 20.0, "load_name": "Pool"}
    assert result.before == {"soc_low": 30.0, "load_name": "Water heater"}
    assert result.after == result.requested
    assert "90 s" in result.message
    sent = target.writes[0].json["dry_contacts"]
    assert list(sent) == list(before)
    after = _settings(target, "NC1")
    for key, value in before.items():
        if key not in ("soc_low", "load_name"):
            assert orjson.dumps(sent[key]) == orjson.dumps(value), key
            assert orjson.dumps(after[key]) == orjson.dumps(value), key


async def test_contact_settling_after_a_settings_write() -> None:
    """The contact reads open for 30 s: a 90 s poll waits it out, a 10 s one is pending."""
    target = SimTarget("battery-backup")
    control = target.control()
    await control.configure_dry_contact("NC2", load_name="Heat pump")
    pending = await control.set_dry_contact("NC2", "closed", timeout_s=10)
    assert pending.outcome is Outcome.PENDING
    assert pending.after == "open"
    assert "5 to 90 s" in pending.message
    confirmed = await control.set_dry_contact("NC2", "closed")
    assert confirmed.outcome is Outcome.CONFIRMED
    assert 10 <= confirmed.elapsed_s <= 90
    assert len(target.writes) == 3


async def test_unknown_contact_sends_nothing_and_lists_the_known_ones() -> None:
    target = SimTarget("battery-backup")
    with pytest.raises(ValueError, match="NC1, NC2, NO1, NO2"):
        await target.control().set_dry_contact("NC9", "open")
    with pytest.raises(ValueError, match="unknown dry contact"):
        await target.control().configure_dry_contact("XX", soc_low=10)
    assert target.writes == []


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"colour": "red"},
        {"soc_low": 120},
        {"soc_low": 80, "soc_high": 20},
        {"mode": "sometimes"},
        {"override": "yes"},
        {"load_name": "x" * 10_000},  # issue 30: this one was sent
        {"load_name": "Pump\r\nX-Injected: 1"},
        {"pv_serial_nb": ["1" * 50]},
    ],
)
async def test_invalid_settings_send_nothing(changes: dict[str, Any]) -> None:
    target = SimTarget("battery-backup")
    with pytest.raises(ValueError):
        await target.control().configure_dry_contact("NC1", **changes)
    assert target.writes == []


async def test_invalid_state_sends_nothing() -> None:
    target = SimTarget("battery-backup")
    with pytest.raises(ValueError, match="open, closed"):
        await target.control().set_dry_contact("NC1", "ajar")
    assert target.writes == [] and target.reads == []


async def test_dry_run_sends_nothing() -> None:
    target = SimTarget("battery-backup")
    control = target.control()
    state = await control.set_dry_contact("NO1", "open", dry_run=True)
    settings = await control.configure_dry_contact("NO1", soc_high=90, dry_run=True)
    assert state.outcome is settings.outcome is Outcome.DRY_RUN
    assert settings.request.body is not None
    assert settings.request.body["dry_contacts"]["soc_high"] == 90.0
    assert target.writes == []


async def test_site_without_contacts_sends_nothing() -> None:
    target = SimTarget("acb")
    with pytest.raises(EnvoyFeatureUnavailable, match="dry_contacts"):
        await target.control().set_dry_contact("NC1", "open")
    assert target.writes == []


@pytest.mark.parametrize("dry_run", [False, True])
async def test_a_body_larger_than_any_gateway_write_is_refused_unsent(dry_run: bool) -> None:
    """The last line behind every body builder (issue 30): nothing over 64 KiB leaves."""
    from enphase_local.control._core import MAX_WRITE_BYTES, ControlCore, Poll
    from enphase_local.control.result import Check, WriteRequest
    from enphase_local.sources.dry_contacts import DRY_CONTACT_SETTINGS

    target = SimTarget("battery-backup")
    core = ControlCore(target, clock=target.clock.now, sleep=target.sleep)
    body = {"dry_contacts": {"id": "NC1", "load_name": "x" * MAX_WRITE_BYTES}}
    with pytest.raises(ValueError, match=r"nothing was sent"):
        await core.write(
            action="configure_dry_contact",
            request=WriteRequest(method="POST", path="/ivp/ss/dry_contact_settings", body=body),
            check=Check(DRY_CONTACT_SETTINGS, lambda _value: None),
            requested=None,
            before=None,
            poll=Poll(timeout_s=1, interval_s=1),
            dry_run=dry_run,
        )
    assert target.writes == []
