"""The gateway's daily restart: shortly after 23:00 local time it is unreachable for minutes.

Knowing the window lets the client be gentle (no retry storms, longer waits,
serve the last data as stale rather than hammering) and lets messages say
"this is the nightly restart" instead of a vague connection error.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..models.gateway import HomeInfo

__all__ = ["gateway_zone", "host_zone", "in_outage_window", "zone"]

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


def gateway_zone(home: HomeInfo | None, *, awaiting_home: bool) -> tuple[tzinfo | None, str | None]:
    """The zone to count local time in, and a warning when it is the host's stand-in.

    `awaiting_home`: ``/home`` is planned (firmware 7+); before 7 there is none
    and local time stays unknown, as it always was.
    """
    if home is not None or not awaiting_home:
        return zone(home.timezone if home else None), None
    return host_zone()


def host_zone() -> tuple[tzinfo | None, str]:
    """The host's local zone, standing in for the gateway's until ``/home`` answers.

    ``/home`` is read after the first snapshot (it can take a minute); until
    then the nightly window and the new local day are counted in the host's
    zone, which is the gateway's on almost every installation. The note says so.
    """
    local = datetime.now().astimezone().tzinfo
    name = local.tzname(None) if local is not None else None
    return local, (
        f"gateway time zone not known yet (/home not read): using the host's ({name or 'UTC'})"
    )


def in_outage_window(now: float, tz: tzinfo | None) -> bool:
    """True between 23:00 and 23:15 gateway local time (False when the zone is unknown)."""
    if tz is None:
        return False
    local = datetime.fromtimestamp(now, tz)
    minute = local.hour * 60 + local.minute
    return WINDOW_START_MINUTE <= minute < WINDOW_START_MINUTE + WINDOW_LENGTH_MINUTES
