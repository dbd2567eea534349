"""The probe cache's file: the token store's rules (0600, tightened, set aside when damaged).

A cache must never cost a command: a damaged file is moved aside with a
warning and the gateway probed again; a file of another format version, or
an entry that does not parse, is ignored.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from enphase_local.capabilities import Capability, SourceStatus
from enphase_local.net.probe_cache import MAX_AGE_S, ProbeCache, ProbeRecord
from enphase_local.sources.keys import SourceKey

LOGGER = "enphase_local.probe_cache"


def _record(
    firmware: str = "D8.2.4345", role: str | None = "owner", at: float = 1000.0
) -> ProbeRecord:
    record = ProbeRecord.of(
        firmware,
        role,
        (SourceKey.PRODUCTION_JSON, SourceKey.PRODUCTION_JSON),
        (
            frozenset({Capability.PRODUCTION, Capability.METERS}),
            {SourceKey.PRODUCTION_JSON: SourceStatus.OK, SourceKey.HOME: SourceStatus.ABSENT},
            {SourceKey.PRODUCTION_JSON: 300.0, SourceKey.METERS_READINGS: 0.0},
            {},
        ),
        at,
    )
    assert record is not None
    return record


def test_kept_and_recalled_by_serial_firmware_role_and_age(tmp_path: Path) -> None:
    cache = ProbeCache(tmp_path / "cfg" / "probes.json")
    cache.keep("122301000001", _record())
    assert cache.recall("122301000001", "D8.2.4345", "owner", 2000.0) == _record()
    assert cache.recall("122301000001", "D8.2.4345", None, 2000.0) == _record()  # role unknown yet
    assert cache.recall("122301000002", "D8.2.4345", "owner", 2000.0) is None
    assert cache.recall("122301000001", "D8.3.5167", "owner", 2000.0) is None
    assert cache.recall("122301000001", "D8.2.4345", "installer", 2000.0) is None
    assert cache.recall("122301000001", "D8.2.4345", "owner", 1000.0 + MAX_AGE_S) is None
    assert cache.recall("122301000001", "D8.2.4345", "owner", 999.0) is None  # clock went back
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.path.parent.stat().st_mode) == 0o700


def test_a_probe_not_worth_keeping_forgets_the_old_one(tmp_path: Path) -> None:
    cache = ProbeCache(tmp_path / "probes.json")
    cache.keep("122301000001", _record())
    cache.keep("122301000001", None)
    assert cache.recall("122301000001", "D8.2.4345", "owner", 2000.0) is None
    failed = ProbeRecord.of(
        "D8.2.4345",
        "owner",
        (SourceKey.PRODUCTION_JSON, None),
        (frozenset(), {SourceKey.ENSEMBLE_INVENTORY: SourceStatus.FAILED}, {}, {}),
        1.0,
    )
    assert failed is None


@pytest.mark.parametrize("content", ["{not json", "[]", '{"version": 1, "gateways": []}'])
def test_damaged_cache_is_moved_aside_with_a_warning(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "probes.json"
    path.write_text(content)
    cache = ProbeCache(path)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert cache.recall("122301000001", "D8.2.4345", "owner", 2000.0) is None
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("probes.json.damaged-")]
    assert len(aside) == 1 and aside[0].read_text() == content
    assert str(path) in caplog.text and str(aside[0]) in caplog.text
    cache.keep("122301000001", _record())  # and it works again
    assert cache.recall("122301000001", "D8.2.4345", "owner", 2000.0) == _record()


def test_other_format_version_or_bad_entry_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "probes.json"
    entry = _record().to_json()
    path.write_text(json.dumps({"version": 0, "gateways": {"122301000001": entry}}))
    cache = ProbeCache(path)
    assert cache.recall("122301000001", "D8.2.4345", "owner", 2000.0) is None
    assert path.exists()  # not damaged: left for its own version, replaced on the next save
    broken = {**entry, "production": "no_such_source"}
    path.write_text(json.dumps({"version": 1, "gateways": {"122301000001": broken}}))
    assert cache.recall("122301000001", "D8.2.4345", "owner", 2000.0) is None


def test_cache_readable_by_others_is_tightened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "cfg"
    cache = ProbeCache(folder / "probes.json")
    cache.keep("122301000001", _record())
    os.chmod(cache.path, 0o644)
    os.chmod(folder, 0o755)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert cache.recall("122301000001", "D8.2.4345", "owner", 2000.0) is not None
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # the user's folder: left alone
    assert "tightened to 0600" in caplog.text


def test_beside_the_token_store(tmp_path: Path) -> None:
    assert ProbeCache.beside(tmp_path / "x" / "tokens.json").path == tmp_path / "x" / "probes.json"
