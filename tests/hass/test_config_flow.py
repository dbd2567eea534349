"""The config flow against a simulated gateway: token, login, stored token, digest, failures."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import ssl
from typing import Any

import pytest
from homeassistant import config_entries
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

from custom_components.enphase_local import const
from custom_components.enphase_local.const import CONF_FINGERPRINT, CONF_TOKEN, DOMAIN
from enphase_local.net.address import parse_host
from enphase_local.net.credentials import CloudUrls
from tests.hass.simthread import SimThread


def server_fingerprint(host: str) -> str:
    """The certificate's SHA-256 as the standard library sees it (independent of the library)."""
    name, port, _ = parse_host(host)
    pem = ssl.get_server_certificate((name, port or 443))
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 64, 2)).upper()


async def _start(hass: HomeAssistant, host: str) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "user"
    return await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_HOST: host})


async def _unload_all(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_token_flow_shows_the_certificate_and_pins_it(
    hass: HomeAssistant, sim: SimThread
) -> None:
    result = await _start(hass, sim.host)
    assert result["type"] is FlowResultType.MENU
    assert set(result["menu_options"]) == {"token", "login", "stored"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "token"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: sim.token()}
    )
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "trust"
    expected = await hass.async_add_executor_job(server_fingerprint, sim.host)
    shown = result["description_placeholders"]["fingerprint"]
    assert shown.replace(":", "").upper() == expected.replace(":", "")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert sim.gw is not None
    assert result["result"].unique_id == sim.gw.serial
    assert result["data"][CONF_FINGERPRINT] == shown
    assert result["data"][CONF_TOKEN] == sim.token() or result["data"][CONF_TOKEN]
    await hass.async_block_till_done()
    await _unload_all(hass)


async def test_a_refused_token_is_an_error_on_the_form(hass: HomeAssistant, sim: SimThread) -> None:
    result = await _start(hass, sim.host)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "token"}
    )
    bad = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDAsImVucm9sbG1lbnRfaWQiOjF9.c2lnbmF0dXJl"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: bad})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}


async def test_no_gateway_at_the_address(hass: HomeAssistant, unused_tcp_port_factory: Any) -> None:
    result = await _start(hass, f"127.0.0.1:{unused_tcp_port_factory()}")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


async def test_enlighten_login_gets_a_token_from_the_cloud(
    hass: HomeAssistant, sim: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sim.gw is not None
    urls = sim.gw.cloud_base_url
    monkeypatch.setattr(const, "CLOUD_URLS", CloudUrls(urls.enlighten, urls.entrez))
    username, password = "owner@example.com", "owner-password"  # the cloud stand-in's account
    result = await _start(hass, sim.host)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "login"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: username, CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "mfa@example.com", CONF_PASSWORD: "mfa-password"}
    )
    assert result["errors"] == {"base": "mfa_required"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: username, CONF_PASSWORD: password}
    )
    assert result["step_id"] == "trust", result
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_USERNAME] == username
    await hass.async_block_till_done()
    await _unload_all(hass)


async def test_zeroconf_discovery_then_token(hass: HomeAssistant, sim: SimThread) -> None:
    assert sim.gw is not None
    info = ZeroconfServiceInfo(
        ip_address=ipaddress.ip_address("127.0.0.1"),
        ip_addresses=[ipaddress.ip_address("127.0.0.1")],
        hostname=f"envoy-{sim.gw.serial}.local.",
        name=f"envoy-{sim.gw.serial}._enphase-envoy._tcp.local.",
        port=sim.gw.https_port,
        type="_enphase-envoy._tcp.local.",
        properties={"serialnum": sim.gw.serial, "scheme": "https", "protovers": "8.2.4345"},
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_ZEROCONF}, data=info
    )
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"]["serial"] == sim.gw.serial
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "token"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: sim.token()}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # the same gateway announced again: no second flow
    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_ZEROCONF}, data=info
    )
    assert again["type"] is FlowResultType.ABORT and again["reason"] == "already_configured"
    await _unload_all(hass)


async def test_digest_for_old_firmware(hass: HomeAssistant, sim_legacy: SimThread) -> None:
    assert sim_legacy.gw is not None
    result = await _start(hass, sim_legacy.gw.http_host)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "digest"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "envoy", CONF_PASSWORD: "not-the-password"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "envoy"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_FINGERPRINT not in result["data"]
    await hass.async_block_till_done()
    await _unload_all(hass)
    await asyncio.sleep(0)


async def test_a_changed_certificate_is_a_repair_then_reconfigure_trusts_the_new_one(
    hass: HomeAssistant, sim: SimThread
) -> None:
    """A pinned fingerprint the gateway no longer presents: no token sent, an issue, reconfigure."""
    from homeassistant.config_entries import ConfigEntryState
    from homeassistant.helpers import issue_registry as ir

    from tests.hass.helpers import make_entry

    assert sim.gw is not None
    not_its_certificate = ":".join(["AB"] * 32)
    entry = await make_entry(hass, sim, fingerprint=not_its_certificate)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"certificate_changed_{sim.gw.serial}")
    assert issue is not None and issue.translation_key == "certificate_changed"
    # nothing but the public /info (if even that) reached the gateway: no token was sent
    assert [e.endpoint for e in sim.gw.log.entries if e.endpoint != "/info"] == []

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: sim.host}
    )
    assert result["step_id"] == "trust"
    expected = await hass.async_add_executor_job(server_fingerprint, sim.host)
    assert result["description_placeholders"]["fingerprint"].replace(":", "") == expected.replace(
        ":", ""
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"certificate_changed_{sim.gw.serial}") is None
    )
    await _unload_all(hass)


async def test_reconfigure_refuses_another_gateway(
    hass: HomeAssistant, sim: SimThread, sim_legacy: SimThread
) -> None:
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    assert sim.gw is not None and sim_legacy.gw is not None
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=sim.gw.serial, data={CONF_HOST: sim.host, "serial": sim.gw.serial}
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: sim_legacy.gw.http_host}
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "wrong_gateway"


async def test_options_set_interval_live_and_controls(hass: HomeAssistant, sim: SimThread) -> None:
    from tests.hass.helpers import add_entry, unload

    entry = await add_entry(hass, sim)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"scan_interval": 30, "live": False, "controls": ["reserve_soc"], "take_over_core": False},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()  # the entry reloads with the new options
    coordinator = entry.runtime_data
    assert coordinator.update_interval is not None
    assert coordinator.update_interval.total_seconds() == 30
    from homeassistant.helpers import entity_registry as er

    registry = er.async_get(hass)
    assert registry.async_get_entity_id("number", DOMAIN, f"{entry.unique_id}_reserve_soc")
    # controls left out are not offered (their entities are not created again)
    assert hass.states.get(
        registry.async_get_entity_id("number", DOMAIN, f"{entry.unique_id}_reserve_soc") or ""
    )
    mode = registry.async_get_entity_id("select", DOMAIN, f"{entry.unique_id}_storage_mode")
    assert (
        mode is None
        or hass.states.get(mode) is None
        or hass.states.get(mode).state == "unavailable"
    )  # type: ignore[union-attr]
    await unload(hass, entry)


async def test_the_stored_token(hass: HomeAssistant, sim: SimThread, tmp_path: Any) -> None:
    from enphase_local.net.token_store import TokenStore

    assert sim.gw is not None
    path = tmp_path / "tokens.json"
    await hass.async_add_executor_job(TokenStore(path).put, sim.gw.serial, sim.token())
    result = await _start(hass, sim.host)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "stored"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"path": str(tmp_path / "empty.json")}
    )
    assert result["errors"] == {"base": "no_stored_token"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"path": str(path)})
    assert result["step_id"] == "trust"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await _unload_all(hass)


async def test_the_cloud_answering_an_error_is_said_on_the_form(
    hass: HomeAssistant, sim: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sim.gw is not None and sim.gw.cloud is not None
    urls = sim.gw.cloud_base_url
    monkeypatch.setattr(const, "CLOUD_URLS", CloudUrls(urls.enlighten, urls.entrez))
    sim.call(lambda: sim.gw.cloud.fail_next(1, status=503))  # type: ignore[union-attr]
    result = await _start(hass, sim.host)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "login"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "owner@example.com", CONF_PASSWORD: "owner-password"}
    )
    assert result["errors"] == {"base": "cloud_unreachable"}


async def test_zeroconf_for_a_gateway_that_does_not_answer(
    hass: HomeAssistant, unused_tcp_port_factory: Any
) -> None:
    info = ZeroconfServiceInfo(
        ip_address=ipaddress.ip_address("127.0.0.1"),
        ip_addresses=[ipaddress.ip_address("127.0.0.1")],
        hostname="envoy-123456789012.local.",
        name="envoy-123456789012._enphase-envoy._tcp.local.",
        port=unused_tcp_port_factory(),
        type="_enphase-envoy._tcp.local.",
        properties={"serialnum": "123456789012", "protovers": "7.6.175"},
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_ZEROCONF}, data=info
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "cannot_connect"
