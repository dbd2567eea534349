"""Adding a gateway: discovered or typed, authenticated, its certificate shown and trusted.

Steps: the address (or zeroconf's ``_enphase-envoy._tcp``) -> the public
``/info`` says the serial and firmware -> firmware 7+: a token (pasted, from an
Enlighten login, or from the library's token store), firmware before 7: digest
(user ``envoy``, password derived from the serial unless given) -> for HTTPS,
the certificate's SHA-256 fingerprint is shown and, once the user accepts it,
pinned (trust on first use: every later connection must present it, before
any token is sent). Reauth asks for a new token; reconfigure takes a new
address, checks it is the same gateway, and shows its certificate again (the
way to accept a certificate that changed with a firmware update).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

from enphase_local.client import Envoy
from enphase_local.engine.password import judge_password
from enphase_local.errors import (
    EnvoyAuthError,
    EnvoyError,
    EnvoyMFARequiredError,
)
from enphase_local.features import FEATURES
from enphase_local.net.address import parse_host
from enphase_local.net.cloud import fetch_cloud_token
from enphase_local.net.token_store import TokenStore
from enphase_local.net.trust import fetch_certificate, fingerprint_of, format_fingerprint

from . import const
from .const import (
    CONF_AUTH,
    CONF_FINGERPRINT,
    CONF_SERIAL,
    CONF_TOKEN,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    MIN_SCAN_INTERVAL,
    OPT_CONTROLS,
    OPT_LIVE,
    OPT_SCAN_INTERVAL,
    OPT_TAKE_OVER,
)

_LOGGER = logging.getLogger(__name__)
_TLS_TIMEOUT_S = 10.0


class CannotConnect(Exception):
    """The gateway did not answer, or answered as no gateway does."""


async def fetch_fingerprint(host: str) -> str:
    """The SHA-256 fingerprint of the certificate the gateway presents now (no HTTP sent)."""
    hostname, port, _scheme = parse_host(host)
    der = await fetch_certificate(hostname, port or 443, _TLS_TIMEOUT_S)
    return format_fingerprint(fingerprint_of(der))


class EnphaseLocalConfigFlow(ConfigFlow, domain=DOMAIN):
    """The config flow (see the module docstring)."""

    VERSION = 1

    def __init__(self) -> None:
        self._host = ""
        self._serial = ""
        self._firmware = ""
        self._uses_tokens = True
        self._data: dict[str, Any] = {}
        self._fingerprint: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: Any) -> OptionsFlow:
        return EnphaseOptionsFlow()

    # -- where the gateway is ---------------------------------------------------------

    async def _identify(self, host: str) -> None:
        """Read the public /info: serial and firmware (no credential is sent)."""
        envoy = Envoy(host, session=async_get_clientsession(self.hass, verify_ssl=False))
        try:
            try:
                await envoy.connect(probe=False)
            except EnvoyAuthError:
                pass  # it needs credentials: /info was read before that was found out
            info = envoy.info
        except (EnvoyError, ValueError) as err:
            raise CannotConnect(str(err)) from err
        finally:
            await envoy.close()
        self._host, self._serial, self._firmware = host, info.serial, info.firmware
        self._uses_tokens = info.fw.uses_tokens or bool(info.web_tokens)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                await self._identify(user_input[CONF_HOST].strip())
            except CannotConnect:
                errors["base"] = "cannot_connect"
            else:
                await self.async_set_unique_id(self._serial)
                self._abort_if_unique_id_configured(updates={CONF_HOST: self._host})
                return await self._async_step_credentials()
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema({vol.Required(CONF_HOST, default=self._host): str}),
            errors=errors,
        )

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        serial = str(discovery_info.properties.get("serialnum") or "")
        host = discovery_info.host
        if ":" in host:
            host = f"[{host}]"
        port = discovery_info.port
        if discovery_info.properties.get("scheme") == "https":
            host = f"https://{host}:{port}"
        elif port not in (None, 80):
            host = f"{host}:{port}"
        if serial:
            await self.async_set_unique_id(serial)
            self._abort_if_unique_id_configured(updates={CONF_HOST: host})
        try:
            await self._identify(host)
        except CannotConnect:
            return self.async_abort(reason="cannot_connect")
        await self.async_set_unique_id(self._serial)
        self._abort_if_unique_id_configured(updates={CONF_HOST: host})
        self.context["title_placeholders"] = {"serial": self._serial}
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        if user_input is not None:
            return await self._async_step_credentials()
        self._set_confirm_only()
        return self.async_show_form(
            step_id="discovery_confirm",
            description_placeholders={
                "serial": self._serial,
                "host": self._host,
                "firmware": self._firmware,
            },
        )

    async def _async_step_credentials(self) -> ConfigFlowResult:
        if self._uses_tokens:
            return await self.async_step_auth()
        return await self.async_step_digest()

    async def async_step_auth(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Firmware 7+: how to get the token (a menu)."""
        return self.async_show_menu(step_id="auth", menu_options=["token", "login", "stored"])

    # -- credentials --------------------------------------------------------------------

    async def async_step_token(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {CONF_TOKEN: user_input[CONF_TOKEN].strip()}
            errors = await self._validate_token(data)
            if not errors:
                return await self.async_step_trust()
        return self.async_show_form(
            step_id="token",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): str}),
            errors=errors,
            description_placeholders={"serial": self._serial},
        )

    async def async_step_login(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            username, password = user_input[CONF_USERNAME], user_input[CONF_PASSWORD]
            try:
                token = await fetch_cloud_token(
                    async_get_clientsession(self.hass),
                    username=username,
                    password=password,
                    serial=self._serial,
                    enlighten_url=const.CLOUD_URLS.enlighten,
                    entrez_url=const.CLOUD_URLS.entrez,
                )
            except EnvoyMFARequiredError:
                errors["base"] = "mfa_required"
            except EnvoyAuthError:
                errors["base"] = "invalid_auth"
            except EnvoyError:
                errors["base"] = "cloud_unreachable"
            else:
                data = {CONF_TOKEN: token, CONF_USERNAME: username, CONF_PASSWORD: password}
                errors = await self._validate_token(data)
                if not errors:
                    return await self.async_step_trust()
        return self.async_show_form(
            step_id="login",
            data_schema=vol.Schema(
                {vol.Required(CONF_USERNAME): str, vol.Required(CONF_PASSWORD): str}
            ),
            errors=errors,
        )

    async def async_step_stored(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            path = user_input.get("path") or None
            token = await self.hass.async_add_executor_job(_stored_token, path, self._serial)
            if token is None:
                errors["base"] = "no_stored_token"
            else:
                errors = await self._validate_token({CONF_TOKEN: token})
                if not errors:
                    return await self.async_step_trust()
        return self.async_show_form(
            step_id="stored",
            data_schema=vol.Schema({vol.Optional("path"): str}),
            errors=errors,
            description_placeholders={"serial": self._serial},
        )

    async def _learn_certificate(self) -> bool:
        """Read the fingerprint the gateway presents now (to show it); False if it cannot."""
        try:
            self._fingerprint = await fetch_fingerprint(self._host)
        except (EnvoyError, ValueError):
            return False
        return True

    async def _validate_token(self, data: dict[str, Any]) -> dict[str, str]:
        """Learn (or, on reauth, keep) the certificate, then log in with the token through it."""
        if self.source == SOURCE_REAUTH:
            self._fingerprint = self._get_reauth_entry().data.get(CONF_FINGERPRINT)
        elif self._fingerprint is None and not await self._learn_certificate():
            return {"base": "cannot_connect"}
        envoy = Envoy(
            self._host,
            token=data[CONF_TOKEN],
            session=async_get_clientsession(self.hass, verify_ssl=False),
            pin=self._fingerprint,
        )
        try:
            await envoy.connect()  # the probe sends the token: a refused one fails here
        except EnvoyAuthError:
            return {"base": "invalid_auth"}
        except EnvoyError:
            return {"base": "cannot_connect"}
        finally:
            await envoy.close()
        self._data = {**data, CONF_AUTH: "token"}
        return {}

    async def async_step_digest(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Firmware before 7: HTTP digest; an empty password is derived from the serial."""
        errors: dict[str, str] = {}
        if user_input is not None:
            username = user_input.get(CONF_USERNAME) or "envoy"
            password = user_input.get(CONF_PASSWORD) or None
            envoy = Envoy(
                self._host,
                username=username,
                password=password,
                session=async_get_clientsession(self.hass, verify_ssl=False),
            )
            try:
                await envoy.connect()
                # a legacy Envoy serves production without login: a wrong password is only
                # seen on the pages behind it, which the probe has just asked for
                if judge_password(envoy.source_status, username) is not None:
                    errors["base"] = "invalid_auth"
            except EnvoyAuthError:
                errors["base"] = "invalid_auth"
            except EnvoyError:
                errors["base"] = "cannot_connect"
            finally:
                await envoy.close()
            if not errors:
                self._data = {CONF_AUTH: "digest", CONF_USERNAME: username}
                if password:
                    self._data[CONF_PASSWORD] = password
                return self._finish()
        return self.async_show_form(
            step_id="digest",
            data_schema=vol.Schema(
                {
                    vol.Optional(CONF_USERNAME, default="envoy"): str,
                    vol.Optional(CONF_PASSWORD): str,
                }
            ),
            errors=errors,
        )

    # -- trust on first use -------------------------------------------------------------

    async def async_step_trust(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the certificate's fingerprint; accepting it pins it."""
        if user_input is not None or self.source == SOURCE_REAUTH:
            return self._finish()
        return self.async_show_form(
            step_id="trust",
            description_placeholders={
                "serial": self._serial,
                "host": self._host,
                "fingerprint": self._fingerprint or "",
            },
        )

    def _finish(self) -> ConfigFlowResult:
        data = {CONF_HOST: self._host, CONF_SERIAL: self._serial, **self._data}
        if self._fingerprint:
            data[CONF_FINGERPRINT] = self._fingerprint
        if self.source == SOURCE_REAUTH:
            return self.async_update_reload_and_abort(self._get_reauth_entry(), data_updates=data)
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            updates = {CONF_HOST: self._host, CONF_FINGERPRINT: self._fingerprint}
            return self.async_update_reload_and_abort(entry, data_updates=updates)
        return self.async_create_entry(title=f"Enphase gateway {self._serial}", data=data)

    # -- reauth and reconfigure ---------------------------------------------------------

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        self._host = entry_data[CONF_HOST]
        self._serial = entry_data.get(CONF_SERIAL, "")
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        if user_input is None:
            return self.async_show_form(
                step_id="reauth_confirm", description_placeholders={"serial": self._serial}
            )
        return await self.async_step_auth()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            try:
                await self._identify(host)
            except CannotConnect:
                errors["base"] = "cannot_connect"
            else:
                await self.async_set_unique_id(self._serial)
                self._abort_if_unique_id_mismatch(reason="wrong_gateway")
                if not self._uses_tokens:
                    self._fingerprint = None
                    return self._finish()
                if await self._learn_certificate():
                    return await self.async_step_trust()
                errors["base"] = "cannot_connect"
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema({vol.Required(CONF_HOST, default=entry.data[CONF_HOST]): str}),
            errors=errors,
        )


def _stored_token(path: str | None, serial: str) -> str | None:
    """The token the library's token store keeps for `serial` (file I/O: run in an executor)."""
    return TokenStore(path).get(serial)


class EnphaseOptionsFlow(OptionsFlow):
    """Update interval, the live stream, which controls exist, taking over core entities."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        options = self.config_entry.options
        controls = [f.id for f in FEATURES if f.writable]
        schema = vol.Schema(
            {
                vol.Optional(
                    OPT_SCAN_INTERVAL,
                    default=options.get(OPT_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
                ): vol.All(vol.Coerce(int), vol.Range(min=MIN_SCAN_INTERVAL, max=3600)),
                vol.Optional(OPT_LIVE, default=options.get(OPT_LIVE, True)): bool,
                vol.Optional(
                    OPT_CONTROLS, default=list(options.get(OPT_CONTROLS, controls))
                ): cv.multi_select({c: c for c in controls}),
                vol.Optional(OPT_TAKE_OVER, default=options.get(OPT_TAKE_OVER, False)): bool,
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema)
