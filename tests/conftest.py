"""Shared test helpers: where the real captures live, and how to skip without them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ENPHASE_SHARED", ROOT.parent / "shared"))
REAL = SHARED / "fixtures" / "real"
SEED = SHARED / "seed" / "endpoint_json.txt"


def real_folders() -> list[str]:
    """Names of the capture folders, or [] when ../shared is absent."""
    if not REAL.is_dir():
        return []
    return sorted(p.name for p in REAL.iterdir() if p.is_dir())


def needs_real() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not REAL.is_dir(), reason="../shared/fixtures/real is absent")


def real_body(folder: str, name: str) -> bytes | None:
    """The body of capture file `name` in `folder`, or None when it was not captured."""
    path = REAL / folder / name
    return path.read_bytes() if path.is_file() else None
