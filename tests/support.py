"""Shared test plumbing: where the real captures and the seed live, and how to read them.

Third-party captures are read from ``../shared`` and never copied into the
repository; tests that need them skip cleanly when the folder is absent.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ENPHASE_SHARED", ROOT.parent / "shared"))
REAL = SHARED / "fixtures" / "real"
SEED = SHARED / "seed" / "endpoint_json.txt"

needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/fixtures/real is absent")
needs_seed = pytest.mark.skipif(not SEED.is_file(), reason="../shared/seed is absent")


def real_folders() -> list[str]:
    """Names of the capture folders, or [] when ../shared is absent."""
    if not REAL.is_dir():
        return []
    return sorted(p.name for p in REAL.iterdir() if p.is_dir())


def real_status(folder: str, name: str) -> int | None:
    """HTTP status recorded for capture `name`, or None when no log was kept."""
    log = REAL / folder / f"{name}_log.json"
    if not log.is_file():
        return None
    return int(json.loads(log.read_text())["code"])


def real_body(folder: str, name: str) -> bytes | None:
    """The body of capture `name` in `folder` (None if absent or recorded as an auth refusal).

    Follows the README's rule: a folder with `production.json` but no
    `production.json_details_1` saved the details=1 answer as `production.json`.
    """
    path = REAL / folder / name
    if name == "production.json_details_1" and not path.is_file():
        path = REAL / folder / "production.json"
    if not path.is_file() or real_status(folder, path.name) == 401:
        return None
    return path.read_bytes()


def real_cases(name: str) -> list[str]:
    """Folders that hold a data body (not a 401/404 refusal) for capture `name`."""
    out = []
    for folder in real_folders():
        body = real_body(folder, name)
        if body is not None and real_status(folder, name) in (None, 200):
            out.append(folder)
    return out


@cache
def _seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def seed_example(endpoint: str) -> bytes:
    """The example body the seed gives for `endpoint` (e.g. "/ivp/meters"), as bytes.

    The seed lists each endpoint as a line holding just its path, a
    description, then the example (JSON, or XML for /info).
    """
    text = _seed_text()
    lines = text.splitlines(keepends=True)
    offset = 0
    start = None
    for line in lines:
        if line.strip() == endpoint:
            start = offset + len(line)
        offset += len(line)
    if start is None:
        raise LookupError(f"{endpoint} not in the seed")
    rest = text[start:]
    if endpoint == "/info":
        begin = rest.index("<?xml")
        end = rest.index("</envoy_info>") + len("</envoy_info>")
        return rest[begin:end].encode()
    begin = min(i for i in (rest.find("\n{"), rest.find("\n[")) if i >= 0) + 1
    _, length = json.JSONDecoder().raw_decode(rest[begin:])
    return rest[begin : begin + length].encode()
