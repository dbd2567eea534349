"""Everything a client can change on the simulated gateway, and the write handlers.

`Controls` holds the mutable settings (tariff document, relay, dry contacts,
generator, AC Battery sleep, live-data stream). Its queries take a time, so
the physics integrating past steps sees each change from the instant it was
made, and delayed effects (the relay confirming after `relay_delay_s`, dry
contacts reading "open" while they settle, the cloud reverting a storage mode)
are functions of time rather than timers.

Write handlers validate the body first and change nothing when it is bad
(400 with a JSON error), as a careful gateway would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from ..contract import Reply
from .config import STORAGE_MODES, SiteConfig
from .export_limit import ExportLimitState
from .settings import default_dry_contact_settings, default_gen_docs, default_tariff

__all__ = ["Controls", "StorageNow", "handle_write"]

CONTACT_IDS = ("NC1", "NC2", "NO1", "NO2")


@dataclass(frozen=True, slots=True)
class StorageNow:
    """The storage settings in force at one instant."""

    mode: str
    reserved_soc: float
    charge_from_grid: bool
    very_low_soc: float = 10.0


class Controls:
    """The gateway's mutable settings, with time-aware queries."""

    def __init__(self, cfg: SiteConfig) -> None:
        self.cfg = cfg
        self.tariff: dict[str, Any] = default_tariff(cfg)
        self.tariff_raw: bytes | None = None
        self.revert_at: float | None = None
        self.revert_to: dict[str, Any] | None = None
        self.relay_admin = "closed"
        self.relay_prev_oper = "closed"
        self.relay_changed_at = float("-inf")
        n = cfg.dry_contacts
        self.contact_status: dict[str, str] = dict.fromkeys(CONTACT_IDS[:n], "closed")
        self.contact_settings: dict[str, dict[str, Any]] = {
            c["id"]: c for c in default_dry_contact_settings(cfg)[:n]
        }
        self.contact_settle_until: dict[str, float] = {}
        self.gen_mode, self.gen_schedule, self.gen_config = default_gen_docs(cfg)
        self.acb_sleep: dict[str, tuple[int, int]] = {}
        self.live_until = float("-inf")  # live data streams while t < live_until
        # Changes the Enphase cloud sent, each in force from its time on (gateway vocabulary:
        # mode, reserved_soc, charge_from_grid, very_low_soc). On tariff-ignoring firmware
        # they never reach the tariff document, which stays stale as on real gateways.
        self.cloud_changes: list[tuple[float, dict[str, Any]]] = []
        self.export = ExportLimitState(cfg)  # DPEL and the production switch

    # --- queries -----------------------------------------------------------------------
    def storage_at(self, t: float) -> StorageNow:
        ss = self.tariff.get("tariff", {}).get("storage_settings", {})
        if self.revert_at is not None and self.revert_to is not None and t >= self.revert_at:
            ss = {**ss, **self.revert_to}
        for at, changes in self.cloud_changes:
            if t >= at:
                ss = {**ss, **changes}
        mode = ss.get("mode") or "self-consumption"
        reserve = ss.get("reserved_soc", 0)
        vls = ss.get("very_low_soc", self.cfg.storage.very_low_soc)
        return StorageNow(
            mode=mode if mode in STORAGE_MODES else "self-consumption",
            reserved_soc=float(reserve) if isinstance(reserve, int | float) else 0.0,
            charge_from_grid=bool(ss.get("charge_from_grid", False)),
            very_low_soc=float(vls) if isinstance(vls, int | float) else 10.0,
        )

    def cloud_apply(self, changes: dict[str, Any], at: float) -> None:
        """The Enphase cloud's change reaches this gateway at `at` (a time, like every effect).

        Firmware that still honours the tariff gets it written there once due
        (`settle`); tariff-ignoring firmware keeps it beside the stale tariff.
        """
        self.cloud_changes.append((at, dict(changes)))

    def relay_oper(self, t: float) -> str:
        """`mains_oper_state` at `t`: the relay moves `relay_delay_s` after the request.

        From 8.3.6000, opening tops the batteries off first (`relay_top_off_s`): the
        state reads ``open synchronizing``, then ``open synchronized``, never ``open``.
        """
        if self.relay_admin == "open" and self.cfg.fw.at_least(8, 3, 6000):
            if t < self.relay_changed_at + self.cfg.relay_top_off_s:
                return "open synchronizing"
            return "open synchronized"
        if t >= self.relay_changed_at + self.cfg.relay_delay_s:
            return self.relay_admin
        return self.relay_prev_oper

    def grid_connected(self, t: float) -> bool:
        """Whether the relay is physically closed (synchronizing is still on grid)."""
        return self.relay_oper(t) in ("closed", "open synchronizing")

    def topping_off(self, t: float) -> bool:
        """8.3.6000+: the batteries charge before the relay opens."""
        return self.relay_oper(t) == "open synchronizing"

    def contact(self, cid: str, t: float) -> str:
        if t < self.contact_settle_until.get(cid, float("-inf")):
            return "open"
        return self.contact_status[cid]

    def live_stream(self, t: float) -> bool:
        """Whether live data streams at `t` (it turns itself off `livedata_timeout_s` after on)."""
        return t < self.live_until

    def gen_cmd(self) -> str:
        return str(self.gen_mode.get("gen_cmd", "off"))

    def settle(self, now: float) -> None:
        """Apply a due cloud overwrite (and due cloud changes) to the stored tariff document."""
        if not self.cfg.quirks.ignore_tariff_writes:
            due = [changes for at, changes in self.cloud_changes if now >= at]
            if due:
                self.cloud_changes = [(a, c) for a, c in self.cloud_changes if now < a]
                ss = self.tariff.setdefault("tariff", {}).setdefault("storage_settings", {})
                for changes in due:
                    ss.update(changes)
                self.tariff_raw = None
        if self.revert_at is not None and self.revert_to is not None and now >= self.revert_at:
            ss = self.tariff.setdefault("tariff", {}).setdefault("storage_settings", {})
            ss.update(self.revert_to)
            self.tariff_raw = None
            self.revert_at = self.revert_to = None

    def tariff_body(self) -> bytes:
        return self.tariff_raw if self.tariff_raw is not None else orjson.dumps(self.tariff)


# --- handlers ---------------------------------------------------------------------------


def _bad(message: str) -> Reply:
    return Reply(400, orjson.dumps({"error": message}))


def _ok(doc: Any = None) -> Reply:
    return Reply(200, orjson.dumps(doc if doc is not None else {"status": "ok"}))


def _obj(body: bytes) -> dict[str, Any] | None:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def _put_tariff(c: Controls, doc: dict[str, Any], body: bytes, now: float) -> Reply:
    tariff = doc.get("tariff")
    if not isinstance(tariff, dict):
        return _bad('body must be {"tariff": {...the whole tariff document...}}')
    ss = tariff.get("storage_settings")
    if ss is not None:
        if not isinstance(ss, dict):
            return _bad("tariff.storage_settings must be an object")
        mode = ss.get("mode")
        if mode is not None and mode not in STORAGE_MODES:
            return _bad(f"tariff.storage_settings.mode: unknown mode {mode!r}")
        reserve = ss.get("reserved_soc")
        if reserve is not None and (
            isinstance(reserve, bool)
            or not isinstance(reserve, int | float)
            or not 0 <= reserve <= 100
        ):
            return _bad("tariff.storage_settings.reserved_soc must be a number 0..100")
        cfg = ss.get("charge_from_grid")
        if cfg is not None and not isinstance(cfg, bool):
            return _bad("tariff.storage_settings.charge_from_grid must be true or false")
    if c.cfg.quirks.ignore_tariff_writes:
        return _ok(c.tariff)
    old = c.tariff.get("tariff", {}).get("storage_settings", {})
    after = c.cfg.quirks.cloud_overwrite_after_s
    if after is not None and isinstance(ss, dict) and old.get("mode") != ss.get("mode"):
        c.revert_at = now + after
        c.revert_to = {"mode": old.get("mode")}
    new = dict(c.tariff)
    new["tariff"] = tariff
    if "schedule" in doc:
        new["schedule"] = doc["schedule"]
    c.tariff = new
    c.tariff_raw = body if "schedule" in doc else None
    return _ok(c.tariff)


def _relay(c: Controls, doc: dict[str, Any], now: float) -> Reply:
    state = doc.get("mains_admin_state")
    if state not in ("open", "closed"):
        return _bad('body must be {"mains_admin_state": "open"|"closed"}')
    if state == c.relay_admin:
        return _ok({"mains_admin_state": state})  # already asked: nothing starts again
    c.relay_prev_oper = c.relay_oper(now)
    c.relay_admin = state
    c.relay_changed_at = now
    return _ok({"mains_admin_state": state})


def _contact(c: Controls, doc: dict[str, Any], now: float) -> Reply:
    dc = doc.get("dry_contacts")
    if not isinstance(dc, dict) or dc.get("id") not in c.contact_status:
        return _bad('body must be {"dry_contacts": {"id": <known id>, "status": ...}}')
    if dc.get("status") not in ("open", "closed"):
        return _bad('dry_contacts.status must be "open" or "closed"')
    c.contact_status[dc["id"]] = dc["status"]
    return _ok({"dry_contacts": [{"id": k, "status": c.contact(k, now)} for k in c.contact_status]})


def _contact_settings(c: Controls, doc: dict[str, Any], now: float) -> Reply:
    dc = doc.get("dry_contacts")
    if not isinstance(dc, dict) or dc.get("id") not in c.contact_settings:
        return _bad('body must be {"dry_contacts": {"id": <known id>, ...all settings...}}')
    missing = [k for k in c.contact_settings[dc["id"]] if k not in dc]
    if missing:
        return _bad(f"dry_contacts: missing settings {', '.join(missing)} (send the whole contact)")
    c.contact_settings[dc["id"]] = dict(dc)
    c.contact_settle_until[dc["id"]] = now + c.cfg.dry_contact_settle_s
    return _ok({"dry_contacts": list(c.contact_settings.values())})


def _gen_mode(c: Controls, doc: dict[str, Any], now: float) -> Reply:
    if doc.get("gen_cmd") not in ("off", "on", "auto"):
        return _bad('body must be {"gen_cmd": "off"|"on"|"auto"}')
    c.gen_mode = {"gen_cmd": doc["gen_cmd"], "last_updated_by": "owner"}
    return _ok(c.gen_mode)


def _gen_schedule(c: Controls, doc: dict[str, Any], now: float) -> Reply:
    ex = doc.get("exercise_config")
    if not isinstance(ex, dict) or not isinstance(doc.get("default_soc"), dict):
        return _bad("send the whole schedule document (exercise_config, default_soc, schedule)")
    duration, weeks = ex.get("duration"), ex.get("freq_in_weeks")
    if duration not in (10, 20, 30, 40, 50, 60) or weeks not in (1, 2, 3, 4):
        return _bad("exercise_config: duration must be 10..60 in tens, freq_in_weeks 1..4")
    c.gen_schedule = doc
    return _ok(doc)


def _gen_config(c: Controls, doc: dict[str, Any], now: float) -> Reply:
    if not c.gen_config or set(c.gen_config) - set(doc):
        return _bad("send the whole gen_config document")
    if not isinstance(doc.get("charge_from_generator"), bool):
        return _bad("charge_from_generator must be true or false")
    c.gen_config = doc
    return _ok(doc)


def _acb_sleep(c: Controls, doc: dict[str, Any], now: float, *, wake: bool) -> Reply:
    items = doc.get("acb_sleep")
    if not isinstance(items, list) or not items:
        return _bad('body must be {"acb_sleep": [{"serial_num": ..., ...}]}')
    known = set(c.cfg.acb_serials())
    for item in items:
        if not isinstance(item, dict) or item.get("serial_num") not in known:
            return _bad("acb_sleep: every item needs the serial_num of an AC Battery")
        if not wake:
            lo, hi = item.get("sleep_min_soc"), item.get("sleep_max_soc")
            if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi <= 100):
                return _bad(
                    "acb_sleep: sleep_min_soc and sleep_max_soc must be 0 <= min <= max <= 100"
                )
    for item in items:
        if wake:
            c.acb_sleep.pop(item["serial_num"], None)
        else:
            c.acb_sleep[item["serial_num"]] = (item["sleep_min_soc"], item["sleep_max_soc"])
    return _ok(
        {
            "acb_sleep": [
                {"serial_num": s, "sleep_min_soc": v[0], "sleep_max_soc": v[1]}
                for s, v in c.acb_sleep.items()
            ]
        }
    )


def _stream(c: Controls, doc: dict[str, Any], now: float) -> Reply:
    if doc.get("enable") not in (0, 1):
        return _bad('body must be {"enable": 1} or {"enable": 0}')
    c.live_until = now + c.cfg.livedata_timeout_s if doc["enable"] == 1 else float("-inf")
    return _ok({"sc_stream": "enabled" if c.live_stream(now) else "disabled"})


Handler = Callable[[Controls, dict[str, Any], float], Reply]

_WRITES: dict[tuple[str, str], Handler] = {
    ("POST", "/ivp/ensemble/relay"): _relay,
    ("POST", "/ivp/ensemble/dry_contacts"): _contact,
    ("POST", "/ivp/ss/dry_contact_settings"): _contact_settings,
    ("POST", "/ivp/ss/gen_mode"): _gen_mode,
    ("POST", "/ivp/ss/gen_schedule"): _gen_schedule,
    ("POST", "/ivp/ss/gen_config"): _gen_config,
    ("POST", "/ivp/livedata/stream"): _stream,
}


def handle_write(c: Controls, method: str, path: str, body: bytes, now: float) -> Reply | None:
    """Apply one write; None when this site has no such write endpoint."""
    doc = _obj(body)
    limited = c.export.write(method, path, doc, now)
    if limited is not None:
        return limited
    if method == "PUT" and path == "/admin/lib/tariff":
        return _bad("body must be a JSON object") if doc is None else _put_tariff(c, doc, body, now)
    if path == "/admin/lib/acb_config" and method in ("PUT", "DELETE"):
        if not c.cfg.acb.count:
            return None
        if doc is None:
            return _bad("body must be a JSON object")
        return _acb_sleep(c, doc, now, wake=method == "DELETE")
    handler = _WRITES.get((method, path))
    if handler is None:
        return None
    if doc is None:
        return _bad("body must be a JSON object")
    return handler(c, doc, now)
