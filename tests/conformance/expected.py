"""What a snapshot of a real capture should say, computed from its raw bodies with plain `json`.

Deliberately independent of the library: no parser, model or engine function
is imported. Each rule is the gateway fact it rests on (``gateway.md``), read
off the capture's own bodies:

- production comes from the production CT (production.json's active ``eim``
  entry); without one from ``/api/v1/production`` where its lifetime is
  non-zero, not below the inverter section's and trustworthy (not on metered
  units from 8.2.4264); otherwise from the inverter section. Before 3.9,
  from the HTML page.
- with CTs, power is the CT's (``/ivp/meters/readings``) and the counters
  are production.json's (the same meter; nothing has moved since the read);
  house = production CT + net CT where no total CT is fitted.
- net consumption's today / 7-day counters, sent as 0 and never filled, are
  None.
- per-phase values come from ``lines[]`` and the CT channels.
- meters join ``/ivp/meters`` and the readings on ``eid``; per-phase volts
  are the channels', the aggregate the mean of the live channels.
- inverters: the basic list, with device_data's details for active units.
- battery: the gateway's own aggregate (secctrl) when it counts Encharge
  capacity, units from the inventory with live SoC / power from
  ``/ivp/ensemble/power``; storage settings from the tariff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

__all__ = ["Capture", "Flow"]

Flow = dict[str, Any]  # watts, wh_today, wh_last_7_days, wh_lifetime (None: not given)
PHASES = ("L1", "L2", "L3")
WRAP_LAG_WH, WRAP_LAG_FRACTION = 1000.0, 0.01
LIVE_FRACTION = 0.5


def _version(text: str) -> tuple[int, ...]:
    match = re.search(r"<software>\s*[A-Za-z]*([\d.]+)", text)
    assert match, "info without <software>"
    return tuple(int(p) for p in match.group(1).split("."))


class Capture:
    """One capture folder read with plain json."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        info = (folder / "info").read_text()
        self.fw = _version(info)
        imeter = re.search(r"<imeter>\s*(\w+)\s*</imeter>", info)
        self.imeter: bool | None = None if imeter is None else imeter.group(1) == "true"

    # -- raw bodies ----------------------------------------------------------

    def status(self, name: str) -> int:
        log = self.folder / f"{name}_log.json"
        return int(json.loads(log.read_text())["code"]) if log.is_file() else 200

    def body(self, name: str) -> Any:
        """The decoded JSON body, or None (missing, refused, not JSON, or an error document)."""
        path = self.folder / name
        if name == "production.json_details_1" and not path.is_file():
            path = self.folder / "production.json"
        if not path.is_file() or self.status(path.name) != 200:
            return None
        try:
            data = json.loads(path.read_text())
        except ValueError:
            return None
        if isinstance(data, dict) and set(data) == {"error"}:
            return None
        return data

    @property
    def report(self) -> dict[str, Any] | None:
        """The production document the client reads (details=1 first, then /production)."""
        if self.fw < (3, 9):
            return None
        for name in ("production.json_details_1", "production"):
            doc = self.body(name)
            if isinstance(doc, dict) and isinstance(doc.get("production"), list):
                return doc
        return None

    def _entry(self, section: str, kind: str) -> dict[str, Any] | None:
        """The first active eim entry of `kind` (production, total- or net-consumption)."""
        report = self.report or {}
        for entry in report.get(section) or []:
            if entry.get("type", "eim") != "eim" or not entry.get("activeCount"):
                continue
            if entry.get("measurementType", "production") == kind:
                return dict(entry)
        return None

    @property
    def inverters_entry(self) -> dict[str, Any] | None:
        for entry in (self.report or {}).get("production") or []:
            if entry.get("type") == "inverters":
                return dict(entry)
        return None

    @property
    def lists_eim(self) -> bool:
        report = self.report or {}
        produced = any(e.get("type") == "eim" for e in report.get("production") or [])
        return produced or any(
            e.get("type", "eim") == "eim" for e in report.get("consumption") or []
        )

    # -- CTs -------------------------------------------------------------------

    @property
    def meters(self) -> list[dict[str, Any]]:
        configs = self.body("ivp_meters")
        return list(configs) if isinstance(configs, list) else []

    @property
    def readings(self) -> dict[int, dict[str, Any]]:
        data = self.body("ivp_meters_readings")
        return {r["eid"]: r for r in data} if isinstance(data, list) else {}

    def ct(self, kind: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(config, reading) of the enabled CT of `kind` with a reading."""
        readings = self.readings
        for config in self.meters:
            if config.get("measurementType") == kind and config.get("state") == "enabled":
                reading = readings.get(config["eid"])
                if reading is not None:
                    return config, reading
        return None

    def phase_count(self) -> int | None:
        meters = self.meters
        for config in meters:
            if config.get("measurementType") == "production":
                return int(config["phaseCount"])
        return int(meters[0]["phaseCount"]) if meters else None

    def _ct_watts(self) -> dict[str, float]:
        """Flow (or "L1:flow") -> CT watts; house / grid derived as the gateway does."""
        out: dict[str, float] = {}
        parts: dict[str, dict[str, Any]] = {}
        for kind, flow in (
            ("production", "production"),
            ("net-consumption", "net_consumption"),
            ("total-consumption", "consumption"),
        ):
            found = self.ct(kind)
            if found is None:
                continue
            config, reading = found
            parts[flow] = reading
            out[flow] = reading["activePower"]
            for i, ch in enumerate(reading.get("channels", [])[: int(config["phaseCount"])]):
                out[f"{PHASES[i]}:{flow}"] = ch["activePower"]
        if "production" in parts:
            prefixes = [""] + [f"{p}:" for p in PHASES]
            for pre in prefixes:
                prod = out.get(f"{pre}production")
                if prod is None:
                    continue
                net, total = out.get(f"{pre}net_consumption"), out.get(f"{pre}consumption")
                if net is not None and total is None:
                    out[f"{pre}consumption"] = prod + net
                elif total is not None and net is None:
                    out[f"{pre}net_consumption"] = total - prod
        return out

    def same_meter(self) -> tuple[float, int, int] | None:
        """(CT lifetime Wh, CT timestamp, eim readingTime) when both describe the production CT."""
        eim = self._entry("production", "production")
        found = self.ct("production")
        if eim is None or found is None or not eim.get("readingTime"):
            return None
        reading = found[1]
        return reading["actEnergyDlvd"], reading["timestamp"], eim["readingTime"]

    # -- flows -----------------------------------------------------------------

    def _v1_preferred(self, inverters: dict[str, Any] | None) -> bool:
        v1 = self.body("api_v1_production")
        if not isinstance(v1, dict) or not v1.get("wattHoursLifetime"):
            return False
        metered = self.imeter is True or self.lists_eim
        if metered and self.fw >= (8, 2, 4264):
            return False  # v1 stalls on metered units from this build
        if inverters is None:
            return True
        section = inverters["whLifetime"]
        lag = max(WRAP_LAG_WH, WRAP_LAG_FRACTION * section)
        return bool(v1["wattHoursLifetime"] >= section - lag)

    def production(self) -> tuple[Flow, str] | None:
        """The expected production flow and the name of its source."""
        if self.fw < (3, 9):
            return _html_production(self.folder / "production"), "production.html"
        eim = self._entry("production", "production")
        inverters = self.inverters_entry
        v1 = self.body("api_v1_production")
        if eim is not None:
            flow, source = _flow(eim), "eim"
            watts = self._ct_watts().get("production")
            if watts is not None:
                flow["watts"] = watts
            return flow, source
        if self.report is None or self._v1_preferred(inverters):
            if not isinstance(v1, dict):
                return None
            return {
                "watts": v1["wattsNow"],
                "wh_today": v1["wattHoursToday"],
                "wh_last_7_days": v1["wattHoursSevenDays"],
                "wh_lifetime": v1["wattHoursLifetime"],
            }, "api/v1/production"
        assert inverters is not None
        return _flow(inverters), "inverters"

    def consumption(self) -> tuple[Flow | None, Flow | None]:
        """Expected (house, grid) flows: None where no active CT entry measures them."""
        total = self._entry("consumption", "total-consumption")
        net = self._entry("consumption", "net-consumption")
        prod = self._entry("production", "production") or self.inverters_entry
        ct = self._ct_watts()
        house = _flow(total) if total else None
        grid = _unfilled(_flow(net)) if net else None
        if house is not None and grid is not None and prod is not None:
            _repair(house, grid, _flow(prod))
        if house is not None and "consumption" in ct:
            house["watts"] = ct["consumption"]
        if grid is not None and "net_consumption" in ct:
            grid["watts"] = ct["net_consumption"]
        return house, grid

    def phases(self) -> dict[str, dict[str, Flow | None]]:
        """Per-phase flows from ``lines[]``, with CT power, for the phases in use."""
        lines: dict[str, dict[str, Flow]] = {}
        for section, kind, flow in (
            ("production", "production", "production"),
            ("consumption", "total-consumption", "consumption"),
            ("consumption", "net-consumption", "net_consumption"),
        ):
            entry = self._entry(section, kind)
            for i, line in enumerate((entry or {}).get("lines") or []):
                lines.setdefault(PHASES[i], {})[flow] = _flow(line)
        count = self.phase_count()
        if count is not None:
            used = [p for p in sorted(lines) if int(p[1:]) <= count]
        else:
            used = [p for p in sorted(lines) if any(_in_use(f) for f in lines[p].values())]
        if not (len(used) > 1 or (count or 0) > 1):
            return {}
        ct = self._ct_watts()
        out: dict[str, dict[str, Flow | None]] = {}
        for name in used:
            flows: dict[str, Flow | None] = {}
            prod = lines[name].get("production")
            for flow in ("production", "consumption", "net_consumption"):
                value = lines[name].get(flow)
                if value is not None and flow == "net_consumption":
                    value = _unfilled(value)
                if value is not None and flow == "consumption":
                    grid = lines[name].get("net_consumption")
                    if grid is not None and prod is not None:
                        _repair(value, grid, prod)
                if value is not None and f"{name}:{flow}" in ct:
                    value["watts"] = ct[f"{name}:{flow}"]
                flows[flow] = value
            out[name] = flows
        return out

    # -- devices ---------------------------------------------------------------

    def meter_values(self) -> dict[int, dict[str, Any]]:
        """eid -> the CT's values and per-phase values, for every configured CT with a reading."""
        readings = self.readings
        out: dict[int, dict[str, Any]] = {}
        for config in self.meters:
            reading = readings.get(config["eid"])
            if reading is None:
                continue
            channels = reading.get("channels", [])[: int(config["phaseCount"])]
            volts = [ch["voltage"] for ch in channels]
            live = [v for v in volts if volts and v >= LIVE_FRACTION * max(volts) and v > 0]
            out[config["eid"]] = {
                "watts": reading["activePower"],
                "wh_delivered": reading["actEnergyDlvd"],
                "wh_received": reading["actEnergyRcvd"],
                "volts": sum(live) / len(live) if live else reading["voltage"],
                "amps": reading["current"],
                "hz": reading["freq"],
                "power_factor": reading["pwrFactor"],
                "phases": {
                    PHASES[i]: {
                        "watts": ch["activePower"],
                        "wh_delivered": ch["actEnergyDlvd"],
                        "wh_received": ch["actEnergyRcvd"],
                        "volts": ch["voltage"],
                        "amps": ch["current"],
                        "hz": ch["freq"],
                        "power_factor": ch["pwrFactor"],
                    }
                    for i, ch in enumerate(channels)
                },
            }
        return out

    def inverters(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        basic = self.body("api_v1_production_inverters")
        for inv in basic if isinstance(basic, list) else []:
            known = out.get(inv["serialNumber"])
            if known is None or inv["lastReportDate"] >= known["last_report"]:
                out[inv["serialNumber"]] = {
                    "watts": inv["lastReportWatts"],
                    "max_watts": inv["maxReportWatts"],
                    "last_report": inv["lastReportDate"],
                    "ac_volts": None,
                }
        details = self.body("ivp_pdm_device_data") if self.fw >= (7,) else None
        for dev in (details or {}).values():
            if not isinstance(dev, dict) or str(dev.get("devName")).lower() != "pcu":
                continue
            if dev.get("active") is False:
                continue
            ch = dev["channels"][0]
            last = ch["lastReading"]
            out[dev["sn"]] = {
                "watts": ch["watts"]["now"],
                "max_watts": ch["watts"]["max"],
                "last_report": last["endDate"],
                "ac_volts": last["acVoltageINmV"] / 1000,
                "dc_volts": last["dcVoltageINmV"] / 1000,
                "dc_amps": last["dcCurrentINmA"] / 1000,
                "ac_amps": last["acCurrentInmA"] / 1000,
                "hz": last["acFrequencyINmHz"] / 1000,
                "temperature_c": last["channelTemp"],
                "wh_today": ch["wattHours"]["today"],
                "wh_last_7_days": ch["wattHours"]["week"],
                "wh_lifetime": ch["lifetime"]["joulesProduced"] / 3600,
            }
        return out

    def _inventory_group(self, kind: str) -> list[dict[str, Any]]:
        groups = self.body("ivp_ensemble_inventory")
        for group in groups if isinstance(groups, list) else []:
            if group.get("type") == kind:
                return list(group.get("devices") or [])
        return []

    @property
    def has_ensemble(self) -> bool:
        """Batteries, a system controller or a collar: what brings the ensemble endpoints."""
        if self.fw < (7,):
            return False
        return any(self._inventory_group(k) for k in ("ENCHARGE", "ENPOWER", "COLLAR"))

    def battery(self) -> dict[str, Any] | None:
        """The Encharge bank: aggregate and units (None without Encharge)."""
        if self.fw < (7,):
            return None
        units: dict[str, dict[str, Any]] = {}
        power = self.body("ivp_ensemble_power") or {}
        live = {d["serial_num"]: d for d in power.get("devices:", power.get("devices", []))}
        for dev in self._inventory_group("ENCHARGE"):
            now = live.get(dev["serial_num"])
            units[dev["serial_num"]] = {
                "soc_percent": now["soc"] if now else dev["percentFull"],
                "watts": now["real_power_mw"] / 1000 if now else None,
                "capacity_wh": dev["encharge_capacity"],
            }
        secctrl = self.body("ivp_ensemble_secctrl") if (units or self.has_ensemble) else None
        secctrl = secctrl or {}
        capacity = secctrl.get("Enc_max_available_capacity") or secctrl.get(
            "Enc_commissioned_capacity"
        )
        if not capacity and not units:
            return None
        reserve = secctrl.get("adjusted_backup_soc", secctrl.get("configured_backup_soc"))
        if capacity:
            soc, available = secctrl.get("ENC_agg_soc"), secctrl.get("ENC_agg_avail_energy")
        else:
            capacity = sum(u["capacity_wh"] for u in units.values())
            soc = sum(u["soc_percent"] * u["capacity_wh"] for u in units.values()) / capacity
            available = capacity * soc / 100
        return {
            "soc_percent": soc,
            "available_wh": available,
            "capacity_wh": capacity,
            "reserve_soc_percent": reserve,
            "units": units,
        }

    def storage_settings(self) -> dict[str, Any] | None:
        """The tariff's storage settings, when the site has ensemble hardware to apply them."""
        if not self.has_ensemble:
            return None
        tariff = self.body("admin_lib_tariff")
        settings = ((tariff or {}).get("tariff") or {}).get("storage_settings")
        if not isinstance(settings, dict):
            return None
        mode = settings.get("mode")
        return {
            "storage_mode": "economy" if mode == "savings-mode" else mode,
            "reserve_soc_percent": settings.get("reserved_soc"),
            "very_low_soc_percent": settings.get("very_low_soc"),
            "charge_from_grid": settings.get("charge_from_grid"),
        }


# -- helpers --------------------------------------------------------------------


def _flow(entry: dict[str, Any]) -> Flow:
    return {
        "watts": entry["wNow"],
        "wh_today": entry.get("whToday"),
        "wh_last_7_days": entry.get("whLastSevenDays"),
        "wh_lifetime": entry.get("whLifetime"),
    }


def _unfilled(flow: Flow) -> Flow:
    """Net consumption's today / 7-day: the gateway sends 0 and never fills them."""
    if not flow["wh_today"] and not flow["wh_last_7_days"]:
        flow = {**flow, "wh_today": None, "wh_last_7_days": None}
    return flow


def _repair(house: Flow, grid: Flow, prod: Flow) -> None:
    """8.3.5433: a total equal to the net (power and lifetime) is net + production."""
    if (house["watts"], house["wh_lifetime"]) != (grid["watts"], grid["wh_lifetime"]):
        return
    if prod["wh_lifetime"]:
        house["watts"] = grid["watts"] + prod["watts"]
        house["wh_lifetime"] = grid["wh_lifetime"] + prod["wh_lifetime"]


def _in_use(flow: Flow) -> bool:
    return bool(flow["watts"] != 0 or flow["wh_lifetime"])


_UNITS = {"W": 1.0, "kW": 1e3, "MW": 1e6, "Wh": 1.0, "kWh": 1e3, "MWh": 1e6}


def _html_production(path: Path) -> Flow:
    """The pre-3.9 ``/production`` page: Currently, Today, Past Week, Since Installation."""
    text = path.read_text()

    def value(label: str) -> float:
        match = re.search(label + r"</td>\s*<td>\s*([\d.]+)\s*(\w+)</td>", text)
        assert match, f"{path}: no {label!r} row"
        return float(match.group(1)) * _UNITS[match.group(2)]

    return {
        "watts": value("Currently"),
        "wh_today": value("Today"),
        "wh_last_7_days": value("Past Week"),
        "wh_lifetime": value("Since Installation"),
    }
