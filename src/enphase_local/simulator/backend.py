"""`SiteBackend`: the physical site model answering as a gateway (a `contract.Backend`).

Each request first integrates the model up to the clock's now, then renders
every body from one `SiteState`. Which endpoints exist depends on hardware and
firmware: legacy firmware answers the ensemble endpoints with the captured
``{ "error" : "404 - Not Found" }`` bodies (HTTP 404 on 3.x/4.x, 200 on 5.0.x),
and None (plain 404) marks endpoints the site simply does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from .clock import SimClock
from .contract import HTML, XML, Reply
from .site import settings as sets
from .site.config import SiteConfig
from .site.export_limit import DPEL_PATH, POWER_PATH
from .site.physics import PhysicsModel
from .site.presets import PRESETS
from .site.writes import Controls, handle_write
from .views import controller as ctl
from .views import ensemble as ens
from .views import identity as ident
from .views import meters as met
from .views import production as prod
from .views.state import SiteState, build_snapshot
from .views.wiring import CtReversal, rewired

__all__ = ["SiteBackend"]

_ENSEMBLE_404 = b'{ "error" : "404 - Not Found" }'
_SS_404 = b' { "err": "404 - Not Found" }'
_LEGACY_ENSEMBLE = (
    "/ivp/ensemble/inventory",
    "/ivp/ensemble/power",
    "/ivp/ensemble/secctrl",
    "/ivp/ensemble/status",
    "/ivp/ensemble/dry_contacts",
    "/ivp/ensemble/generator",
)
_LEGACY_SS = (
    "/ivp/ss/dry_contact_settings",
    "/ivp/ss/gen_config",
    "/ivp/ss/gen_schedule",
    "/ivp/ss/pel_settings",
    "/ivp/sc/pvlimit",
)

View = Callable[[SiteState, Mapping[str, str]], Reply | None]


def _fixed(reply: Reply) -> View:
    """A view that always gives the same canned reply (legacy error bodies)."""
    return lambda s, q: reply


def _json(doc: Any) -> Reply:
    return Reply(200, orjson.dumps(doc))


class SiteBackend:
    """A simulated gateway driven by the physical model of one site."""

    def __init__(self, config: SiteConfig, clock: SimClock, seed: int = 0) -> None:
        self._cfg = config
        self._clock = clock
        self.seed = seed
        self.controls = Controls(config)
        self.model = PhysicsModel(config, self.controls, seed, clock.now())
        self.ct_reversal: CtReversal | None = None  # a CT clamped backwards (`views.wiring`)
        self._stalled_v1: dict[str, Any] | None = None
        self._live_meters: dict[str, Any] | None = None
        self._live_stall_until = float("-inf")
        if config.quirks.v1_production_stalled:
            self._stalled_v1 = prod.v1_production(self._snapshot())
        self._routes = self._build_routes()

    @classmethod
    def from_preset(cls, name: str, *, clock: SimClock, seed: int = 0) -> SiteBackend:
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})")
        return cls(PRESETS[name], clock, seed)

    # --- contract.Backend --------------------------------------------------------------
    @property
    def clock(self) -> SimClock:
        """The clock driving the model: a server built on this backend shares it."""
        return self._clock

    @property
    def serial(self) -> str:
        return self._cfg.serial

    @property
    def firmware(self) -> str:
        return self._cfg.firmware

    @property
    def timezone(self) -> str:
        return self._cfg.timezone

    @property
    def config(self) -> SiteConfig:
        return self._cfg

    def handle(self, method: str, path: str, query: Mapping[str, str], body: bytes) -> Reply | None:
        now = self._clock.now()
        self.model.advance(now)
        self.controls.settle(now)
        method = method.upper()
        if method != "GET":
            if not self._writable(path):
                return None
            return handle_write(self.controls, method, path, body, now)
        view = self._routes.get(path)
        if view is None:
            return None
        return view(self._snapshot(), query)

    # --- the Enphase cloud's view of this site (serve.battery_cloud) ---------------------
    def cloud_apply(self, changes: dict[str, Any], at: float) -> None:
        """A change sent through the Enphase cloud, in force on the gateway from `at`."""
        self.controls.cloud_apply(changes, at)

    def cloud_initial(self) -> dict[str, Any]:
        """What the cloud knows of this site when it starts: hardware and storage settings."""
        cfg = self._cfg
        st = self.controls.storage_at(self._clock.now())
        return {
            "has_batteries": cfg.battery.count > 0,
            "has_acb": cfg.acb.count > 0,
            "enpower": cfg.enpower,
            "timezone": cfg.timezone,
            "mode": st.mode,
            "reserved_soc": st.reserved_soc,
            "charge_from_grid": st.charge_from_grid,
            "very_low_soc": st.very_low_soc,
        }

    # --- extras for the server and tests -----------------------------------------------
    def reboot(self, duration_s: float = 300) -> None:
        """Production reads zero for `duration_s` from now; energy counters carry on."""
        self.model.reboot_until = self._clock.now() + duration_s

    def upgrade(self, firmware: str) -> None:
        """Run `firmware` from now on (a reboot's update): /info, endpoints and views follow.

        The energy counters, settings and history carry on, as on a real update.
        """
        cfg = replace(self._cfg, firmware=firmware)  # validates: ValueError names the field
        self._cfg = self.model.cfg = self.controls.cfg = self.controls.export.cfg = cfg
        self._routes = self._build_routes()

    def state(self) -> dict[str, Any]:
        """Read-only picture of the model now: flows (W), SoC (%), lifetime counters (Wh)."""
        now = self._clock.now()
        self.model.advance(now)
        s = self._snapshot()
        return {
            "t": s.t,
            "pv_w": s.pv_w,
            "load_w": s.load_w,
            "grid_w": s.grid_w,
            "battery_w": s.flows.batt,
            "acb_w": s.flows.acb,
            "generator_w": s.flows.gen,
            "soc_percent": s.soc_pct,
            "acb_soc_percent": s.acb_pct,
            "relay": s.relay_oper,
            "storage_mode": s.storage.mode,
            "reserved_soc": s.storage.reserved_soc,
            "lifetime_wh": {k: sum(v) for k, v in s.energy.items()},
            "today_wh": {k: sum(v) for k, v in s.today.items()},
        }

    def _snapshot(self) -> SiteState:
        state = build_snapshot(self.model, self.controls, self._clock.now())
        return rewired(state, self.model, self.ct_reversal)

    # --- routing -------------------------------------------------------------------------
    def _writable(self, path: str) -> bool:
        cfg, fw = self._cfg, self._cfg.fw
        if not fw.at_least(7):
            return path == "/admin/lib/tariff" and fw.at_least(4)
        return {
            "/admin/lib/tariff": True,
            "/ivp/ensemble/relay": cfg.enpower or cfg.collar,
            "/ivp/ensemble/dry_contacts": cfg.dry_contacts > 0,
            "/ivp/ss/dry_contact_settings": cfg.dry_contacts > 0,
            "/ivp/ss/gen_mode": cfg.generator,
            "/ivp/ss/gen_schedule": cfg.generator,
            "/ivp/ss/gen_config": cfg.generator,
            "/admin/lib/acb_config": cfg.acb.count > 0,
            "/ivp/livedata/stream": cfg.has_ensemble,
            DPEL_PATH: True,
            POWER_PATH: True,
        }.get(path, False)

    def _build_routes(self) -> dict[str, View]:
        cfg, fw, c = self._cfg, self._cfg.fw, self.controls
        r: dict[str, View] = {}
        info: View = lambda s, q: Reply(200, ident.info_xml(s).encode(), XML)  # noqa: E731
        r["/info"] = r["/info.xml"] = info
        if not fw.at_least(4):
            r["/production"] = lambda s, q: Reply(
                200, prod.production_html(s, self._since()).encode(), HTML
            )
            for path in _LEGACY_ENSEMBLE + _LEGACY_SS:
                r[path] = _fixed(Reply(404, _ENSEMBLE_404))
        else:
            r["/production"] = lambda s, q: _json(prod.production_json(s, False))
            r["/production.json"] = lambda s, q: _json(
                prod.production_json(s, q.get("details") == "1")
            )
        if fw.at_least(3, 9):
            r["/api/v1/production"] = lambda s, q: _json(self._stalled_v1 or prod.v1_production(s))
            r["/api/v1/production/inverters"] = lambda s, q: _json(prod.v1_inverters(s))
        if fw.at_least(4):
            r["/admin/lib/tariff"] = lambda s, q: Reply(200, c.tariff_body())
            r["/inventory.json"] = lambda s, q: _json(ident.inventory_json(s))
        if fw.at_least(5) or (cfg.metered and fw.at_least(4)):
            r["/ivp/meters"] = lambda s, q: _json(met.meters(s) if cfg.metered else [])
            r["/ivp/meters/readings"] = lambda s, q: _json(met.readings(s) if cfg.metered else [])
        if fw.at_least(4) and not fw.at_least(7):
            code = 200 if fw.at_least(5) else 404
            for path in _LEGACY_ENSEMBLE:
                r[path] = _fixed(Reply(code, _ENSEMBLE_404))
            for path in _LEGACY_SS:
                r[path] = _fixed(Reply(404, _SS_404))
        if fw.at_least(7):
            self._modern_routes(r)
        return r

    def _modern_routes(self, r: dict[str, View]) -> None:
        cfg, fw, c = self._cfg, self._cfg.fw, self.controls
        r["/home"] = lambda s, q: _json(ident.home(s))
        r["/ivp/ensemble/inventory"] = lambda s, q: _json(ens.inventory(s))
        r["/ivp/ensemble/power"] = lambda s, q: _json(ens.power(s))
        r["/ivp/ss/pel_settings"] = lambda s, q: _json(sets.render_pel_settings(cfg))
        r["/ivp/sc/pvlimit"] = lambda s, q: _json(sets.render_pvlimit())
        r[POWER_PATH] = lambda s, q: _json(c.export.power_doc())
        if c.export.has_dpel:
            r[DPEL_PATH] = lambda s, q: _json(c.export.dpel_doc())
        else:
            r[DPEL_PATH] = _fixed(Reply(200, _SS_404))
        r["/ivp/ss/gen_config"] = lambda s, q: _json(c.gen_config)
        r["/ivp/ss/gen_schedule"] = lambda s, q: _json(c.gen_schedule)
        if cfg.has_ensemble:
            r["/ivp/ensemble/secctrl"] = lambda s, q: _json(ens.secctrl(s))
            r["/ivp/ensemble/status"] = lambda s, q: _json(ens.status(s))
            r["/ivp/livedata/status"] = lambda s, q: _json(self._livedata(s))
        if cfg.enpower:
            r["/ivp/ensemble/generator"] = lambda s, q: _json(ens.generator(s, c))
        if cfg.generator:
            r["/ivp/ss/gen_mode"] = lambda s, q: _json(c.gen_mode)
        if cfg.dry_contacts:
            r["/ivp/ensemble/dry_contacts"] = lambda s, q: _json(ens.dry_contacts(s, c))
            r["/ivp/ss/dry_contact_settings"] = lambda s, q: _json(
                {"dry_contacts": list(c.contact_settings.values())}
            )
        if cfg.acb.count:
            r["/admin/lib/acb_config"] = lambda s, q: _json(sets.render_acb_config(c.acb_sleep))
        if cfg.metered and fw.at_least(8):
            r["/ivp/meters/reports"] = lambda s, q: _json(met.reports(s))
        if fw.at_least(8, 2):
            r["/ivp/pdm/device_data"] = lambda s, q: _json(prod.device_data(s))
        if cfg.battery.count and fw.at_least(8):  # the storage controller of IQ Batteries
            r["/ivp/sc/sched"] = lambda s, q: _json(ctl.sched(s))
            r["/ivp/sc/status"] = lambda s, q: _json(ctl.status(s))
        elif c.export.has_dpel and c.export.has_meter:  # the controller curtails for the limit
            r["/ivp/sc/status"] = lambda s, q: _json(ctl.status(s))

    def stall_livedata(self, duration_s: float) -> None:
        """D8.3.6086: livedata repeats its values to the milliwatt for `duration_s` while
        ``meters.last_update`` keeps advancing (about every 10 minutes, 7 to 60 s)."""
        self._live_stall_until = self._clock.now() + duration_s

    def _livedata(self, s: SiteState) -> dict[str, Any]:
        """Live data; while its stream is off, the values of the last live moment (stale)."""
        stalled = s.t < self._live_stall_until
        if stalled and self._live_meters is not None:
            self._live_meters = {**self._live_meters, "last_update": s.t}
        elif s.live_stream or self._live_meters is None:
            self._live_meters = met.live_meters(s)
        contacts = {k: self.controls.contact(k, s.t) for k in self.controls.contact_status}
        return met.livedata(s, contacts, self._live_meters)

    def _since(self) -> str:
        when = datetime.fromtimestamp(self._cfg.installed, ZoneInfo(self._cfg.timezone))
        return when.strftime("%a %b %d, %Y %I:%M %p %Z")
