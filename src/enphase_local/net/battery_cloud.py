"""The Enphase cloud's battery-configuration service (Enlighten ``batteryConfig``) for one site.

Why: from firmware 8.2.4225 the gateway answers 200 to local storage writes
and ignores them; the Enphase app changes these settings through this
service, and so does `BatteryCloud` (docs/control.md, docs cloud.md section
1). It is opt-in: it needs an Enlighten account and the internet.

Each write takes a fresh XSRF token right before it (a GET of the battery
settings sets the ``BP-XSRF-Token`` cookie; EMEA sites set none and give it
as the ``x-csrf-token`` header of the site settings instead), is sent once
and never repeated on our own: the control layer (`control.cloud_route`)
decides what a write meant by reading the result back. Reads survive an
expired session (`net.enlighten`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import EnvoyHTTPError
from ..models.cloud_battery import BatterySettings, CloudSchedules, CloudSiteSettings
from ..sources.cloud_battery import (
    parse_battery_settings,
    parse_cloud_schedules,
    parse_site_settings,
)
from .cloud_http import CloudAnswer
from .enlighten import EnlightenSession

__all__ = ["API", "XSRF_COOKIE", "BatteryCloud"]

API = "/service/batteryConfig/api/v1"
XSRF_COOKIE = "BP-XSRF-Token"
_SNIPPET = 120


class BatteryCloud:
    """Reads and writes of one gateway's battery settings through the Enphase cloud.

    ``async with BatteryCloud(EnlightenSession(username=..., password=..., serial=...))``.
    The session's `serial` chooses the site on multi-site accounts and is the
    gateway whose pending state the control layer watches. The session is
    taken whole (one home for the login's settings: `net.enlighten`), and
    closed with this object.
    """

    def __init__(self, enlighten: EnlightenSession) -> None:
        self.enlighten = enlighten
        self._xsrf_cookie: dict[str, str] = {}
        self._writing = asyncio.Lock()  # one XSRF token, one write: never two interleaved
        self.writes = 0  # writes sent (each once)

    def __repr__(self) -> str:
        return f"BatteryCloud(serial={self.serial!r})"

    @property
    def serial(self) -> str:
        return self.enlighten.serial

    async def __aenter__(self) -> BatteryCloud:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.enlighten.close()

    # -- reads ------------------------------------------------------------------------

    async def _ids(self) -> tuple[str, str]:
        return await self.enlighten.site_id(), await self.enlighten.user_id()

    async def _get(self, path: str) -> CloudAnswer:
        answer = await self.enlighten.call("GET", path)
        if answer.status != 200:
            bare = path.split("?", maxsplit=1)[0]
            raise EnvoyHTTPError(
                answer.status, bare, f"the Enphase cloud answered HTTP {answer.status} to {bare}"
            )
        token = answer.cookies.get(XSRF_COOKIE)
        if token:
            self._xsrf_cookie = {XSRF_COOKIE: token}
        return answer

    async def site_settings(self) -> CloudSiteSettings:
        """What the site has and may do (batteries, System Controller, EMEA, owner)."""
        site, user = await self._ids()
        answer = await self._get(f"{API}/siteSettings/{site}?userId={user}")
        return parse_site_settings(answer.body)

    async def battery_settings(self) -> BatterySettings:
        """Profile, reserve, charge from grid, shutdown level, Storm Guard and what is pending."""
        site, user = await self._ids()
        answer = await self._get(f"{API}/batterySettings/{site}?userId={user}&source=enho")
        return parse_battery_settings(answer.body)

    async def schedules(self) -> CloudSchedules:
        """The charge-from-grid and discharge-to-grid schedules."""
        site, _user = await self._ids()
        answer = await self._get(f"{API}/battery/sites/{site}/schedules")
        return parse_cloud_schedules(answer.body)

    # -- writes -----------------------------------------------------------------------

    async def _xsrf(self) -> dict[str, str]:
        """Headers carrying an XSRF token taken just now (one GET; EMEA sites need a second)."""
        self._xsrf_cookie = {}
        site, user = await self._ids()
        await self._get(f"{API}/batterySettings/{site}?userId={user}&source=enho")
        if self._xsrf_cookie:
            return {"X-XSRF-Token": self._xsrf_cookie[XSRF_COOKIE]}
        answer = await self._get(f"{API}/siteSettings/{site}?userId={user}")
        token = answer.headers.get("x-csrf-token")
        if not token:
            raise EnvoyHTTPError(
                403, "/batterySettings", "the Enphase cloud gave no XSRF token: try again later"
            )
        return {"X-XSRF-Token": token, "X-CSRF-Token": token}

    async def _write(self, method: str, path: str, body: Any, what: str) -> CloudAnswer:
        async with self._writing:
            headers = await self._xsrf()
            self.writes += 1
            answer = await self.enlighten.call(
                method,
                path,
                json_body=body,
                headers=headers,
                cookies=self._xsrf_cookie,
                retry=False,
            )
        if not 200 <= answer.status < 300:
            text = answer.body[:_SNIPPET].decode("utf-8", "replace").strip()
            if answer.status == 403:
                hint = "it refused the XSRF token; nothing was changed, run it again"
            elif answer.status >= 500:
                hint = "the service is failing; read the settings before trying again"
            else:
                hint = "check the value and that the site allows it"
            raise EnvoyHTTPError(
                answer.status,
                path.split("?", maxsplit=1)[0],
                f"the Enphase cloud refused to {what}: HTTP {answer.status}"
                + (f" ({text})" if text and not answer.looks_like_html() else "")
                + f"; {hint}",
            )
        return answer

    async def put_battery_settings(self, changes: Mapping[str, Any], what: str) -> CloudAnswer:
        """``PUT /batterySettings`` with only the changed keys (``veryLowSoc``...)."""
        site, user = await self._ids()
        path = f"{API}/batterySettings/{site}?userId={user}"
        return await self._write("PUT", path, dict(changes), what)

    async def put_profile(self, profile: str, reserve_percent: float | None) -> CloudAnswer:
        """``PUT /profile``: the profile, with its reserve (else the profile's own is restored)."""
        site, user = await self._ids()
        body: dict[str, Any] = {"profile": profile}
        if reserve_percent is not None:
            body["batteryBackupPercentage"] = _whole(reserve_percent)
        path = f"{API}/profile/{site}?userId={user}&source=enho"
        return await self._write("PUT", path, body, f"set the profile to {profile}")

    async def accept_itc_disclaimer(self) -> CloudAnswer:
        """Accept the US ITC disclaimer (charging from the grid needs it once, where it applies)."""
        site, _user = await self._ids()
        path = f"{API}/batterySettings/acceptDisclaimer/{site}"
        return await self._write("POST", path, {"disclaimer-type": "itc"}, "accept the disclaimer")

    async def set_storm_guard(self, enabled: bool, *, evse: bool = False) -> CloudAnswer:
        site, _user = await self._ids()
        body = {"stormGuardState": "enabled" if enabled else "disabled", "evseStormEnabled": evse}
        return await self._write("PUT", f"{API}/stormGuard/toggle/{site}", body, "set Storm Guard")

    async def add_schedule(
        self,
        *,
        schedule_type: str,
        start: str,
        end: str,
        limit_percent: int,
        days: Sequence[int],
        timezone: str,
    ) -> CloudAnswer:
        """Add a CFG / DTG / RBD schedule (``HH:MM`` times, days 1..7)."""
        site, _user = await self._ids()
        body = {
            "timezone": timezone,
            "startTime": start,
            "endTime": end,
            "limit": limit_percent,
            "scheduleType": schedule_type.upper(),
            "days": list(days),
        }
        path = f"{API}/battery/sites/{site}/schedules"
        return await self._write("POST", path, body, "add the schedule")

    async def delete_schedule(self, schedule_id: str) -> CloudAnswer:
        site, _user = await self._ids()
        path = f"{API}/battery/sites/{site}/schedules/{schedule_id}/delete"
        return await self._write("POST", path, {}, "delete the schedule")


def _whole(percent: float) -> int | float:
    return int(percent) if float(percent).is_integer() else percent
