"""Capture-derived gateways: a real capture folder copied to a temporary place and changed.

Issue 12's regression tests each start from a real capture and change only
what the case describes (an ``<imeter>`` element removed, a flag flipped, a
counter set), then drive the real client against it over sockets. The copy
lives in pytest's temporary directory, never in the repository: the
captures are third-party data.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from enphase_local.client import Envoy
from enphase_local.models.snapshot import Snapshot
from tests.simkit import envoy_for, gateway
from tests.support import REAL

__all__ = ["derive_folder", "edit_json", "edit_text", "read_snapshot"]


def derive_folder(folder: str, into: Path) -> Path:
    """A private copy of capture `folder` under `into` (a pytest tmp_path)."""
    target = into / folder
    shutil.copytree(REAL / folder, target)
    return target


def edit_json(folder: Path, name: str, change: Callable[[Any], Any]) -> None:
    """Rewrite capture `name` as `change(parsed body)` (or the body changed in place)."""
    path = folder / name
    data = json.loads(path.read_text())
    result = change(data)
    path.write_text(json.dumps(data if result is None else result))


def edit_text(folder: Path, name: str, old: str, new: str) -> None:
    """Replace `old` (which must be there) by `new` in capture `name`."""
    path = folder / name
    text = path.read_text()
    assert old in text, f"{name} has no {old!r}"
    path.write_text(text.replace(old, new))


@asynccontextmanager
async def connected(folder: Path, **kwargs: Any) -> AsyncIterator[Envoy]:
    """The real client connected to `folder` replayed over sockets."""
    async with gateway(folder=folder) as (gw, clock):
        async with envoy_for(gw, clock, **kwargs) as envoy:
            yield envoy


async def read_snapshot(folder: Path, **kwargs: Any) -> tuple[Envoy, Snapshot]:
    """One update of the real client against `folder` replayed over sockets."""
    async with connected(folder, **kwargs) as envoy:
        return envoy, await envoy.update()


async def read_settled(folder: Path, **kwargs: Any) -> tuple[Envoy, Snapshot]:
    """The second update: the first has "today" null until ``/home`` (read after it) says
    the site's zone, or is found absent (firmware 7+; issue 23)."""
    async with connected(folder, **kwargs) as envoy:
        await envoy.update()
        return envoy, await envoy.update()
