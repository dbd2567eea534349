"""The gateway's daily restart: shortly after 23:00 local time it is unreachable for minutes.

Knowing the window lets the client be gentle (no retry storms, longer waits,
serve the last data as stale rather than hammering) and lets messages say
"this is the nightly restart" instead of a vague connection error.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["in_outage_window", "zone"]

WINDOW_START_MINUTE = 23 * 60  # 23:00 local
WINDOW_LENGTH_MINUTES = 15  # observed 1 to 5 minutes; margin for slow restarts


def zone(name: str | None) -> ZoneInfo | None:
    """The time zone for an IANA name from /home, or None when unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def in_outage_window(now: float, tz: ZoneInfo | None) -> bool:
    """True between 23:00 and 23:15 gateway local time (False when the zone is unknown)."""
    if tz is None:
        return False
    local = datetime.fromtimestamp(now, tz)
    minute = local.hour * 60 + local.minute
    return WINDOW_START_MINUTE <= minute < WINDOW_START_MINUTE + WINDOW_LENGTH_MINUTES
