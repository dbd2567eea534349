"""Live power of every flow from ``/ivp/livedata/status``.

The endpoint answers in well under a second and reports each flow (pv,
storage, grid, load, generator) in *milliwatts*, per phase, with the battery
state of charge and the relay states. The model converts to watts.

The gateway only refreshes these values while its live stream is on
(``connection.sc_stream == "enabled"``): `LiveData.stream_enabled` tells the
client when to ``POST /ivp/livedata/stream {"enable": 1}`` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._base import Model

__all__ = ["FLOW_NAMES", "PHASE_NAMES", "LiveData", "LiveFlow"]

FLOW_NAMES = ("pv", "storage", "grid", "load", "generator")
PHASE_NAMES = ("L1", "L2", "L3")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class LiveFlow(Model):
    """One flow: active power `watts` (signed as the gateway gives it), apparent power `va`.

    `phases` maps ``L1``..``L3`` to active power in watts, for the phases in
    use only (up to the gateway's `phase_count`).
    """

    watts: float
    va: float | None = None
    phases: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class LiveData(Model):
    """The live data document.

    Relay states are kept as the gateway's integers (`main_relay_state`,
    `gen_relay_state`); `main_relay_closed` and `gen_relay_closed` decode them
    (1 closed, 5 open; None for any other value). `soc_percent` is the combined
    battery state of charge, `enc_*` the Encharge / IQ Battery aggregate and
    `acb_*` the AC Battery aggregate; `*_wh` are the energies they hold.
    `last_update` is epoch seconds.
    """

    stream_enabled: bool
    last_update: int | None
    soc_percent: float | None
    backup_soc_percent: float | None
    main_relay_state: int | None
    main_relay_closed: bool | None
    gen_relay_state: int | None
    gen_relay_closed: bool | None
    phase_count: int | None
    split_phase: bool | None
    enc_soc_percent: float | None
    enc_wh: float | None
    acb_soc_percent: float | None
    acb_wh: float | None
    flows: Mapping[str, LiveFlow] = field(default_factory=dict)
