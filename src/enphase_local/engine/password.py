"""A digest password the gateway refused: judged once, after the probe.

Apart from `probe` because it is a judgement of its own: a legacy Envoy-R
serves production without login and refuses the password on the pages
behind it, so a refusal is fatal only when nothing at all answered; else it
is one message on the section that lost its data. `probe` re-exports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..capabilities import SourceStatus
from ..sources.keys import SourceKey
from ..sources.table import SOURCES

__all__ = ["PASSWORD_HELP", "PasswordRefusal", "judge_password"]

# The section a refusal is reported under, first match wins: the inverters are
# what a legacy site loses without the password.
_PASSWORD_SECTIONS = (SourceKey.INVERTERS_V1, SourceKey.DEVICE_DATA, SourceKey.METERS_READINGS)

PASSWORD_HELP = (
    "give the owner password (before firmware 7: the serial's last 6 digits) with --password "
    "or ENPHASE_PASSWORD, or Envoy(host, password=...)"
)


@dataclass(frozen=True, slots=True)
class PasswordRefusal:
    """Digest login refused: where to report it, what to say, and whether it is fatal."""

    key: SourceKey  # the source whose section carries the message
    message: str
    fatal: bool  # nothing at all could be read: the password is the whole problem


def judge_password(
    status: Mapping[SourceKey, SourceStatus], username: str
) -> PasswordRefusal | None:
    """Judge the probe's refusals once the digest password was never accepted.

    A legacy Envoy-R serves production (``/production``, ``production.json``,
    ``/api/v1/production``) without login and refuses the password on the
    pages behind it: what can be read is kept, and the refusal is one
    message on one section (the inverters when they are among the refused).
    Only when nothing at all answered is it fatal (`EnvoyBadCredentialsError`).
    None: nothing was refused.
    """
    refused = [key for key, st in status.items() if st is SourceStatus.FORBIDDEN]
    if not refused:
        return None
    fatal = not any(st is SourceStatus.OK for st in status.values())
    key = next((k for k in _PASSWORD_SECTIONS if k in refused), refused[0])
    if fatal:
        return PasswordRefusal(
            key, f"the gateway refused the password for user {username!r}: {PASSWORD_HELP}", True
        )
    others = len(refused) - 1
    where = SOURCES[key].path + (f" and {others} other page{'s' * (others > 1)}" if others else "")
    needs = "the inverters need it" if key is SourceKey.INVERTERS_V1 else "it is needed there"
    message = (
        f"the gateway refused the password for user {username!r} on {where} ({needs}; "
        f"production is read without it): {PASSWORD_HELP}"
    )
    return PasswordRefusal(key, message, False)
