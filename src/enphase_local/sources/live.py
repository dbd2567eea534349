"""``/ivp/livedata/status``: live power of every flow, in milliwatts, converted to watts.

Fast (under 0.4 s) and reliable at one-second polling, which makes it the
best source for live values on battery systems. No capture of it exists yet:
the parser follows the documented format (see the test data in
``tests/parsers/test_live.py``).

Per-phase values are reported for phases a, b, c whatever the installation;
only the first ``phase_count`` are kept (as ``L1``..``L3``), because the rest
are zero placeholders. A flow section that is absent (no generator, say)
is left out of `LiveData.flows`.
"""

from __future__ import annotations

from typing import Any

from ..capabilities import Capability
from ..models.live import FLOW_NAMES, PHASE_NAMES, LiveData, LiveFlow
from ._json import Obj, as_obj, json_parser
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed

__all__ = ["LIVEDATA", "LIVEDATA_PATH", "parse_livedata"]

LIVEDATA_PATH = "/ivp/livedata/status"

_RELAY_CLOSED = {1: True, 5: False}
_PHASE_KEYS = ("a", "b", "c")


def _watts(o: Obj, key: str) -> float | None:
    milli = o.number_or(key)
    return None if milli is None else milli / 1000


def _flow(o: Obj, phase_count: int) -> LiveFlow:
    watts = o.number("agg_p_mw") / 1000
    phases: dict[str, float] = {}
    for name, letter in zip(PHASE_NAMES[:phase_count], _PHASE_KEYS, strict=False):
        value = _watts(o, f"agg_p_ph_{letter}_mw")
        if value is not None:
            phases[name] = value
    return LiveFlow(watts=watts, va=_watts(o, "agg_s_mva"), phases=phases)


@json_parser(LIVEDATA_PATH)
def parse_livedata(data: Any) -> LiveData:
    """``/ivp/livedata/status`` JSON -> `LiveData` (watts, not milliwatts)."""
    body = as_obj(data)
    meters = body.child("meters")
    connection = body.child_or("connection")
    stream = None if connection is None else connection.text_or("sc_stream")
    phase_count = meters.integer_or("phase_count")
    in_use = min(max(phase_count or 0, 0), len(PHASE_NAMES))
    flows: dict[str, LiveFlow] = {}
    for name in FLOW_NAMES:
        section = meters.child_or(name)
        if section is not None:
            flows[name] = _flow(section, in_use)
    main_relay = meters.integer_or("main_relay_state")
    gen_relay = meters.integer_or("gen_relay_state")
    return LiveData(
        stream_enabled=stream == "enabled",
        last_update=meters.epoch_or("last_update"),
        soc_percent=meters.number_or("soc"),
        backup_soc_percent=meters.number_or("backup_soc"),
        main_relay_state=main_relay,
        main_relay_closed=None if main_relay is None else _RELAY_CLOSED.get(main_relay),
        gen_relay_state=gen_relay,
        gen_relay_closed=None if gen_relay is None else _RELAY_CLOSED.get(gen_relay),
        phase_count=phase_count,
        split_phase=meters.flag_or("is_split_phase"),
        enc_soc_percent=meters.number_or("enc_agg_soc"),
        enc_wh=meters.number_or("enc_agg_energy"),
        acb_soc_percent=meters.number_or("acb_agg_soc"),
        acb_wh=meters.number_or("acb_agg_energy"),
        flows=flows,
    )


LIVEDATA = Source(
    key=SourceKey.LIVEDATA,
    path=LIVEDATA_PATH,
    parse=parse_livedata,
    role=Role.OWNER,
    cadence=Cadence.LIVE,
    speed=Speed.FAST,
    doc="live pv, storage, grid, load and generator power (W), battery SoC, relay states",
    capability=Capability.LIVE_DATA,
)
