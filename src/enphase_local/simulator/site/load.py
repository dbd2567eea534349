"""Loading simulated sites from TOML / JSON: `site_from_dict`, `load_site`.

Apart from the site description (`config`) because turning untrusted TOML or
JSON into a `SiteConfig` is a job of its own: every field is converted by
its declared type and checked, and the error names the bad field
(``site.battery.count: expected an integer``), so a typo in a demo config
fails at start-up instead of as a strange body an hour later. The checks of
values (`validate_site`) run in `SiteConfig.__post_init__`.
"""

from __future__ import annotations

import json
import tomllib
import types
import typing
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from .config import SiteConfig, site_error
from .presets import PRESETS

__all__ = ["load_site", "site_from_dict"]

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
            raise site_error(name, f"expected a list, got {type(value).__name__}")
        item = typing.get_args(kind)[0]
        return tuple(_convert(v, item, f"{name}[{i}]") for i, v in enumerate(value))
    if is_dataclass(kind) and isinstance(kind, type):
        if not isinstance(value, dict):
            raise site_error(name, f"expected a table, got {type(value).__name__}")
        return _build(kind, value, name + ".")
    if kind is bool:
        if not isinstance(value, bool):
            raise site_error(name, f"expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise site_error(name, f"expected an integer, got {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise site_error(name, f"expected a number, got {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise site_error(name, f"expected a string, got {value!r}")
        return value
    raise site_error(name, f"unsupported field type {kind!r}")  # pragma: no cover


def _build(cls: type[T], data: dict[str, Any], prefix: str = "") -> T:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in known:
            raise site_error(f"{prefix}{key}", "unknown field")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _convert(data[f.name], hints[f.name], prefix + f.name)
        elif f.default is MISSING and f.default_factory is MISSING:
            raise site_error(prefix + f.name, "is required")
    return cls(**kwargs)


def site_from_dict(data: dict[str, Any]) -> SiteConfig:
    """Build a `SiteConfig` from plain data (as TOML or JSON give it), checking every field.

    A `preset = "name"` key starts from that preset and overrides the keys given.
    """
    data = dict(data)
    base = data.pop("preset", None)
    if base is not None:
        if base not in PRESETS:
            raise site_error("preset", f"unknown preset {base!r} (known: {', '.join(PRESETS)})")
        merged = _as_plain(PRESETS[base])
        for key, value in data.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        data = merged
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
