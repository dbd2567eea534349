"""Checking and loading simulated sites: `validate_site`, `site_from_dict`, `load_site`.

Apart from the site description (`site`) because turning untrusted TOML or
JSON into a `SiteConfig` is a job of its own: every field is converted by
its declared type and checked, and the error names the bad field
(``site.battery.count: must be >= 0``), so a typo in a demo config fails at
start-up instead of as a strange body an hour later. `site` imports this
module (its `__post_init__` validates), so `SiteConfig` is imported here
only where it is used.
"""

from __future__ import annotations

import json
import tomllib
import types
import typing
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..firmware import Firmware

if TYPE_CHECKING:
    from .site import SiteConfig

__all__ = ["CT_TYPES", "STORAGE_MODES", "load_site", "site_from_dict", "validate_site"]

CT_TYPES = (
    "production",
    "net-consumption",
    "total-consumption",
    "storage",
    "backfeed",
    "load",
    "evse",
    "pv3p",
)
STORAGE_MODES = ("self-consumption", "backup", "economy", "savings-mode")


def _fail(name: str, problem: str) -> ValueError:
    return ValueError(f"site.{name}: {problem}")


def validate_site(s: SiteConfig) -> None:
    """Raise ValueError naming the first field of `s` that makes no sense."""
    if not (s.serial.isdigit() and len(s.serial) == 12):
        raise _fail("serial", f"must be 12 digits, got {s.serial!r}")
    if not Firmware.parse(s.firmware).known:
        raise _fail("firmware", f"not a firmware version like 'D8.2.4345': {s.firmware!r}")
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail("timezone", f"unknown IANA time zone {s.timezone!r}") from exc
    if not -90 <= s.latitude <= 90:
        raise _fail("latitude", f"must be within -90..90, got {s.latitude}")
    if s.phase_mode not in ("split", "three", "single"):
        raise _fail("phase_mode", f"must be split, three or single, got {s.phase_mode!r}")
    if not 1 <= s.phase_count <= 3:
        raise _fail("phase_count", f"must be 1..3, got {s.phase_count}")
    for name, value in (
        ("inverters.count", s.inverters.count),
        ("battery.count", s.battery.count),
        ("acb.count", s.acb.count),
    ):
        if value < 0:
            raise _fail(name, f"must be >= 0, got {value}")
    if s.inverters.rating_w <= 0:
        raise _fail("inverters.rating_w", f"must be > 0, got {s.inverters.rating_w}")
    if s.inverters.report_interval_s <= 0:
        raise _fail("inverters.report_interval_s", "must be > 0")
    if not 0 <= s.dry_contacts <= 4:
        raise _fail("dry_contacts", f"must be 0..4, got {s.dry_contacts}")
    seen: set[str] = set()
    for i, ct in enumerate(s.cts):
        if ct.measurement_type not in CT_TYPES:
            raise _fail(f"cts[{i}].measurement_type", f"unknown CT type {ct.measurement_type!r}")
        if ct.measurement_type in seen:
            raise _fail(f"cts[{i}].measurement_type", f"duplicate {ct.measurement_type!r}")
        seen.add(ct.measurement_type)
    if s.cts and not s.metered:
        raise _fail("cts", "a non-metered gateway (metered = false) cannot have CTs")
    if s.storage.mode not in STORAGE_MODES:
        raise _fail("storage.mode", f"must be one of {', '.join(STORAGE_MODES)}")
    if not 0 <= s.storage.reserved_soc <= 100:
        raise _fail("storage.reserved_soc", f"must be 0..100, got {s.storage.reserved_soc}")
    for name, soc in (
        ("battery.initial_soc", s.battery.initial_soc),
        ("acb.initial_soc", s.acb.initial_soc),
    ):
        if not 0 <= soc <= 100:
            raise _fail(name, f"must be 0..100, got {soc}")
    for name, amount in (
        ("relay_delay_s", s.relay_delay_s),
        ("dry_contact_settle_s", s.dry_contact_settle_s),
    ):
        if amount < 0:
            raise _fail(name, f"must be >= 0, got {amount}")
    for f in fields(s.counters):
        if getattr(s.counters, f.name) < 0:
            raise _fail(f"counters.{f.name}", "must be >= 0")


# --- loading from TOML / JSON -------------------------------------------------------------

T = TypeVar("T")


def _convert(value: Any, kind: Any, name: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        return _convert(value, next(o for o in options if o is not type(None)), name)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise _fail(name, f"expected a list, got {type(value).__name__}")
        item = typing.get_args(kind)[0]
        return tuple(_convert(v, item, f"{name}[{i}]") for i, v in enumerate(value))
    if is_dataclass(kind) and isinstance(kind, type):
        if not isinstance(value, dict):
            raise _fail(name, f"expected a table, got {type(value).__name__}")
        return _build(kind, value, name + ".")
    if kind is bool:
        if not isinstance(value, bool):
            raise _fail(name, f"expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(name, f"expected an integer, got {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(name, f"expected a number, got {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise _fail(name, f"expected a string, got {value!r}")
        return value
    raise _fail(name, f"unsupported field type {kind!r}")  # pragma: no cover


def _build(cls: type[T], data: dict[str, Any], prefix: str = "") -> T:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in known:
            raise _fail(f"{prefix}{key}", "unknown field")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _convert(data[f.name], hints[f.name], prefix + f.name)
        elif f.default is MISSING and f.default_factory is MISSING:
            raise _fail(prefix + f.name, "is required")
    return cls(**kwargs)


def site_from_dict(data: dict[str, Any]) -> SiteConfig:
    """Build a `SiteConfig` from plain data (as TOML or JSON give it), checking every field.

    A `preset = "name"` key starts from that preset and overrides the keys given.
    """
    data = dict(data)
    base = data.pop("preset", None)
    if base is not None:
        from .presets import PRESETS

        if base not in PRESETS:
            raise _fail("preset", f"unknown preset {base!r} (known: {', '.join(PRESETS)})")
        merged = _as_plain(PRESETS[base])
        for key, value in data.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        data = merged
    from .site import SiteConfig  # site.py imports this module: import at use

    return _build(SiteConfig, data)


def _as_plain(cfg: Any) -> Any:
    if is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: _as_plain(getattr(cfg, f.name)) for f in fields(cfg)}
    if isinstance(cfg, tuple):
        return [_as_plain(v) for v in cfg]
    return cfg


def load_site(path: str | Path) -> SiteConfig:
    """Read a site from a `.toml` or `.json` file; ValueError names any bad field."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a table of site fields at the top level")
    return site_from_dict(data)
