"""The shapes entries share: a power reading, an energy counter, a temperature, a SoC.

Why one home: Home Assistant's energy dashboard and long-term statistics take
an entity only with the right unit, device class and state class together;
spelled once here, an entry cannot get one of the three wrong.
"""

from __future__ import annotations

from typing import Any

from .model import Category

__all__ = ["COUNTER", "DIAG", "POWER", "SOC", "TEMP"]

POWER: dict[str, Any] = {
    "unit": "W",
    "device_class": "power",
    "state_class": "measurement",
    "precision": 0,
}
COUNTER: dict[str, Any] = {
    "unit": "Wh",
    "device_class": "energy",
    "state_class": "total_increasing",
}
TEMP: dict[str, Any] = {"unit": "°C", "device_class": "temperature", "state_class": "measurement"}
SOC: dict[str, Any] = {
    "unit": "%",
    "device_class": "battery",
    "state_class": "measurement",
    "precision": 0,
}
DIAG: dict[str, Any] = {"category": Category.DIAGNOSTIC}
