"""What the probe learned, kept by gateway serial beside the token store, so a command skips it.

Why: the probe asks a dozen endpoints, seconds each on a real token-firmware
gateway, and a one-shot command (``enphase meters HOST``) paid for it on
every run. What it learns (which production source serves, which sources
answer or refuse, the capabilities, how often to ask each) changes with the
firmware or the hardware, not between two commands.

An entry is used only while it is true:

- the firmware in ``/info`` (read on every connection) is the one it was
  probed on, and the credentials have the same role (owner and installer
  see different sources);
- it is younger than `MAX_AGE_S`, 7 days: hardware added without a firmware
  change (a battery, CTs switched on) is found within a week, at the cost of
  one full probe a week;
- its format version is this module's (an older file is ignored, not
  crashed on);
- the client `forget`s it when a source it names proves gone (refused, or
  production unreadable) and probes again at once.

The file holds no secret (source names, statuses, periods, firmware and
serial) but follows the token store's rules (`net.private_file`): 0600,
tightened when others can read it, set aside with a warning when damaged.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..capabilities import Capability, SourceStatus
from ..sources.keys import SourceKey
from .private_file import move_aside, read_private, write_private

__all__ = ["MAX_AGE_S", "PROBE_CACHE_NAME", "ProbeCache", "ProbeRecord", "gone"]

_LOGGER = logging.getLogger("enphase_local.probe_cache")

FORMAT = 1
MAX_AGE_S = 7 * 86400.0
PROBE_CACHE_NAME = "probes.json"
FLUSH_S = 30.0  # a held cache writes at most this often while gateways connect
_LOST = "gateways will be probed again"


@dataclass(frozen=True, slots=True)
class ProbeRecord:
    """One gateway's probe: enough for the client to plan updates without asking again."""

    firmware: str
    role: str | None
    production_key: SourceKey
    preferred: SourceKey | None
    capabilities: frozenset[Capability]
    status: dict[SourceKey, SourceStatus]
    plan: dict[SourceKey, float]  # source -> seconds between reads
    deferred: dict[SourceKey, float]  # read after the first snapshot
    saved_at: float

    @classmethod
    def of(
        cls,
        firmware: str,
        role: str | None,
        production: tuple[SourceKey | None, SourceKey | None],
        found: tuple[
            frozenset[Capability],
            Mapping[SourceKey, SourceStatus],
            Mapping[SourceKey, float],
            Mapping[SourceKey, float],
        ],
        now: float,
    ) -> ProbeRecord | None:
        """What a probe found (capabilities, statuses, plan, deferred), if it is worth keeping.

        Not when a source failed (a timeout, a 5xx: it may answer next time, and a
        remembered probe would leave it out for days) or no production source answered.
        """
        key, preferred = production
        caps, status, plan, deferred = found
        if key is None or SourceStatus.FAILED in status.values():
            return None
        return cls(
            firmware, role, key, preferred, caps, dict(status), dict(plan), dict(deferred), now
        )

    @property
    def production(self) -> tuple[SourceKey, SourceKey | None]:
        """The production source in use, and the preferred one."""
        return self.production_key, self.preferred

    def found(
        self,
    ) -> tuple[
        frozenset[Capability],
        dict[SourceKey, SourceStatus],
        dict[SourceKey, float],
        dict[SourceKey, float],
    ]:
        """Capabilities, statuses, plan and deferred sources: fresh copies the client may change."""
        return self.capabilities, dict(self.status), dict(self.plan), dict(self.deferred)

    def to_json(self) -> dict[str, Any]:
        return {
            "firmware": self.firmware,
            "role": self.role,
            "production": str(self.production_key),
            "preferred": None if self.preferred is None else str(self.preferred),
            "capabilities": sorted(str(c) for c in self.capabilities),
            "status": {str(k): str(v) for k, v in sorted(self.status.items())},
            "plan": {str(k): v for k, v in sorted(self.plan.items())},
            "deferred": {str(k): v for k, v in sorted(self.deferred.items())},
            "saved_at": self.saved_at,
        }

    @classmethod
    def from_json(cls, data: Any) -> ProbeRecord:
        """The record in `data`; ValueError (or KeyError, TypeError) when it is not one."""
        preferred = data["preferred"]
        role = data["role"]
        if not isinstance(data["firmware"], str) or not (role is None or isinstance(role, str)):
            raise TypeError("firmware and role are text")
        return cls(
            firmware=data["firmware"],
            role=role,
            production_key=SourceKey(data["production"]),
            preferred=None if preferred is None else SourceKey(preferred),
            capabilities=frozenset(Capability(c) for c in data["capabilities"]),
            status={SourceKey(k): SourceStatus(v) for k, v in data["status"].items()},
            plan={SourceKey(k): float(v) for k, v in data["plan"].items()},
            deferred={SourceKey(k): float(v) for k, v in data["deferred"].items()},
            saved_at=float(data["saved_at"]),
        )


class ProbeCache:
    """Probe records by gateway serial, in one JSON file (mode 0600) beside the token store."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_age_s: float | None = MAX_AGE_S,
        held: bool = False,
    ) -> None:
        """`max_age_s`: how long a probe holds (0: never recalled, only kept, as ``--reprobe``).

        `held`: for a process with many gateways (the collector). The file is
        read once and kept in memory, and changes are written by `flush` (at
        most every `FLUSH_S`, and when a client closes) instead of on every
        `keep`: a thousand gateways connecting would otherwise read and rewrite
        the whole file a thousand times each (about 1.5 GB for 1,000 entries).
        One process owns a held file; another writer's entries may be lost.
        """
        self.path = Path(path).expanduser()
        self.max_age_s = MAX_AGE_S if max_age_s is None else max_age_s
        self.held = held
        self.writes = 0  # files written (the collector's test counts them)
        self._entries: dict[str, Any] | None = None  # held: the file's entries in memory
        self._dirty = False
        self._written_at = -FLUSH_S  # monotonic time of the last write (held)

    @classmethod
    def beside(
        cls,
        token_store_path: str | os.PathLike[str],
        *,
        max_age_s: float | None = MAX_AGE_S,
        held: bool = False,
    ) -> ProbeCache:
        """The probe cache in the token store's folder (``probes.json``)."""
        folder = Path(token_store_path).expanduser().parent
        return cls(folder / PROBE_CACHE_NAME, max_age_s=max_age_s, held=held)

    def __repr__(self) -> str:
        return f"ProbeCache({str(self.path)!r})"

    def recall(
        self, serial: str, firmware: str, role: str | None, now: float
    ) -> ProbeRecord | None:
        """The probe of `serial` if it still holds for this firmware, role and time, else None."""
        entry = self._load().get(serial)
        if entry is None:
            return None
        try:
            record = ProbeRecord.from_json(entry)
        except (KeyError, TypeError, ValueError, AttributeError):
            _LOGGER.info("probe cache: the entry of %s is not readable: probing", serial)
            return None
        if record.firmware != firmware:
            _LOGGER.info(
                "probe cache: %s was probed on %s, runs %s now", serial, record.firmware, firmware
            )
            return None
        if None not in (record.role, role) and record.role != role:
            return None  # owner and installer see different sources (unknown yet: a refusal tells)
        if not 0 <= now - record.saved_at < self.max_age_s:
            return None
        return record

    def keep(self, serial: str, record: ProbeRecord | None) -> None:
        """Keep `record` for `serial`, replacing any other (None: a probe not worth keeping)."""
        entries = self._load()
        if record is None and entries.pop(serial, None) is None:
            return
        if record is not None:
            entries[serial] = record.to_json()
        self._save(entries)

    def forget(self, serial: str) -> bool:
        """Drop the probe of `serial`; True when there was one."""
        entries = self._load()
        if entries.pop(serial, None) is None:
            return False
        self._save(entries)
        return True

    def flush(self) -> None:
        """Write what a held cache changed since its last write (nothing when not held)."""
        if self._dirty and self._entries is not None:
            self._dirty = False
            self._written_at = time.monotonic()
            self._write(self._entries)

    def _load(self) -> dict[str, Any]:
        if not self.held:
            return self._read()
        if self._entries is None:
            self._entries = self._read()
        return self._entries

    def _save(self, entries: dict[str, Any]) -> None:
        if not self.held:
            self._write(entries)
            return
        self._dirty = True
        if time.monotonic() - self._written_at >= FLUSH_S:
            self.flush()

    def _read(self) -> dict[str, Any]:
        text = read_private(self.path, "probe cache", _LOGGER)
        if text is None:
            return {}
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("gateways"), dict):
                raise TypeError("no gateways object")
        except (ValueError, TypeError) as err:
            move_aside(self.path, "probe cache", type(err).__name__, _LOGGER, _LOST)
            return {}
        if data.get("version") != FORMAT:
            return {}  # another format: ignored, replaced on the next save
        return dict(data["gateways"])

    def _write(self, entries: dict[str, Any]) -> None:
        self.writes += 1
        document = {"version": FORMAT, "gateways": entries}
        try:
            write_private(self.path, json.dumps(document, indent=2, sort_keys=True), ".probes-")
        except OSError as err:  # a cache: failing to keep it costs a probe, not the command
            _LOGGER.warning("cannot write probe cache %s: %s", self.path, err.strerror or err)


def gone(
    record: ProbeRecord, status: Mapping[SourceKey, SourceStatus], read: Mapping[SourceKey, float]
) -> bool:
    """A source the remembered probe found answering refuses, never having answered since.

    Then the record is wrong (the source is gone): probe again. Once a source
    has answered in this session, a later refusal is an ordinary failure,
    left to the client's recovery (`engine.recovery`).
    """
    refused = (SourceStatus.ABSENT, SourceStatus.FORBIDDEN)
    lost = [
        key
        for key, was in record.status.items()
        if was is SourceStatus.OK and status.get(key) in refused and key not in read
    ]
    if lost:
        _LOGGER.info("probe cache: %s no longer answer: probing again", ", ".join(lost))
    return bool(lost)
