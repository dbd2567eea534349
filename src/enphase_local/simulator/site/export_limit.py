"""Dynamic export limiting (DPEL) and the production switch of a simulated gateway.

What the field reports say, modelled (cloud.md section 2):

- ``POST /ivp/ss/dpel`` and the production switch take an installer token
  (the personality refuses owners; owners may *read* DPEL from 8.3.5528);
- DPEL needs a consumption CT: without one the write is refused (400);
- nothing happens until the installer has enabled "Power Production
  Limiting by Gateway" for the site in Enlighten (`SiteConfig.export_limiting_enabled`):
  until then the gateway answers 200 and keeps its old setting;
- once in force the limit caps the physics: production follows house +
  battery charge + limit (export mode) or the limit itself (production mode);
- the production switch stops production at once, but switched back on, the
  inverters stay off until `SiteConfig.production_resume_s` later, or (None)
  until the next morning, as VW #112 reports.

Time-aware like `writes.Controls`: queries take the instant, so the physics
integrating past steps sees each change from when it was made.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from ..contract import Reply
from .config import SiteConfig

__all__ = ["DPEL_PATH", "POWER_PATH", "ExportLimitState"]

DPEL_PATH = "/ivp/ss/dpel"
POWER_PATH = "/ivp/mod/603980032/mode/power"
_MORNING = time(7, 0)  # the inverters' next start, when the switch leaves them off


def _bad(message: str) -> Reply:
    return Reply(400, orjson.dumps({"error": message}))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


class ExportLimitState:
    """The DPEL document and the production switch, with time-aware queries."""

    def __init__(self, cfg: SiteConfig) -> None:
        self.cfg = cfg
        self.settings: dict[str, Any] = {
            "enable": False,
            "export_limit": True,
            "limit_value_W": 0.0,
            "slew_rate": 50.0,
            "enable_dynamic_limiting": False,
        }
        self.changed_at = float("-inf")
        self.forced_off = False
        self.off_at = float("-inf")
        self.resume_at = float("-inf")  # production is back from here (after a switch on)
        self.writes = 0  # accepted writes (tests: refusals send nothing)

    # --- facts about the site ----------------------------------------------------------
    @property
    def has_dpel(self) -> bool:
        """Firmware 8 and later serve ``/ivp/ss/dpel``; 7.x answers a 404 body."""
        return self.cfg.fw.at_least(8)

    @property
    def has_meter(self) -> bool:
        return self.cfg.ct_enabled("net-consumption") or self.cfg.ct_enabled("total-consumption")

    # --- queries -------------------------------------------------------------------------
    def dpel_doc(self) -> dict[str, Any]:
        return {
            "dynamic_pel_settings": dict(self.settings),
            "filename": "site_settings",
            "version": "00.00.01",
        }

    def power_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"powerForcedOff": self.forced_off}
        if self.cfg.fw.at_least(8, 3, 5528):
            doc.update({"pvPowerForcedOff": self.forced_off, "enchargePowerForcedOff": False})
        return doc

    def producing(self, t: float) -> bool:
        """False while the switch holds production off, or the inverters have not come back."""
        if self.forced_off and t >= self.off_at:
            return False
        return not (self.off_at <= t < self.resume_at)

    def limit_at(self, t: float) -> tuple[bool, float] | None:
        """(export mode, limit W) in force at `t`, or None when nothing limits."""
        s = self.settings
        if t < self.changed_at or not s.get("enable") or not self.has_meter:
            return None
        return bool(s.get("export_limit", True)), float(s.get("limit_value_W", 0.0))

    def curtail(self, t: float, pv: float, load: float, flows: float) -> float:
        """Production at `t` under the limit.

        `flows` is battery + AC Battery + generator power (W, positive out of them, so a
        charging battery is negative): the grid export is ``pv + flows - load``, and in
        export mode production is cut by whatever exceeds the limit.
        """
        limit = self.limit_at(t)
        if limit is None:
            return pv
        export_mode, watts = limit
        if not export_mode:
            return min(pv, watts)
        export = pv + flows - load
        return max(0.0, pv - (export - watts)) if export > watts else pv

    # --- writes --------------------------------------------------------------------------
    def write(self, method: str, path: str, doc: dict[str, Any] | None, now: float) -> Reply | None:
        """Apply one write (the personality has already refused non-installers)."""
        if path == DPEL_PATH and method == "POST" and self.has_dpel:
            return _bad("body must be a JSON object") if doc is None else self._dpel(doc, now)
        if path == POWER_PATH and method == "PUT":
            return _bad("body must be a JSON object") if doc is None else self._power(doc, now)
        return None

    def _dpel(self, doc: dict[str, Any], now: float) -> Reply:
        s = doc.get("dynamic_pel_settings")
        if not isinstance(s, dict) or not isinstance(s.get("enable"), bool):
            return _bad('body must be {"dynamic_pel_settings": {"enable": true|false, ...}}')
        if s["enable"]:
            if not isinstance(s.get("export_limit"), bool):
                return _bad("dynamic_pel_settings.export_limit must be true or false")
            for key in ("limit_value_W", "slew_rate"):
                if not _number(s.get(key)):
                    return _bad(f"dynamic_pel_settings.{key} must be a number >= 0")
            if not self.has_meter:
                return _bad("ECL Prod Limit Needs Meter")
        if not self.cfg.export_limiting_enabled:
            return Reply(200, orjson.dumps(self.dpel_doc()))  # accepted, and nothing happens
        self.settings = {**self.settings, **s}  # a disable keeps the last limit, as shown
        self.changed_at = now
        self.writes += 1
        return Reply(200, orjson.dumps(self.dpel_doc()))

    def _power(self, doc: dict[str, Any], now: float) -> Reply:
        arr = doc.get("arr")
        if doc.get("length") != 1 or arr not in ([0], [1]):
            return _bad('body must be {"length": 1, "arr": [0]} (on) or [1] (off)')
        off = arr == [1]
        self.writes += 1
        if off and not self.forced_off:
            self.forced_off, self.off_at = True, now
        elif not off and self.forced_off:
            self.forced_off = False
            self.resume_at = self._comeback(now)
        return Reply(200, orjson.dumps(self.power_doc()))

    def _comeback(self, now: float) -> float:
        """When the inverters produce again after the switch is turned back on."""
        if self.cfg.production_resume_s is not None:
            return now + self.cfg.production_resume_s
        zone = ZoneInfo(self.cfg.timezone)
        local = datetime.fromtimestamp(now, zone)
        morning = datetime.combine(local.date() + timedelta(days=1), _MORNING, tzinfo=zone)
        return morning.timestamp()
