"""How the `enphase` command fails: error kinds, exit codes, one readable line.

Why one place: scripts branch on exit codes and on ``error.kind`` in JSON
mode, so every command must turn the same failure into the same code and
the same kind. Messages come from the library's errors, which already say
what to do next and never contain secrets; this module only adds a hint
where the command line offers a better fix (a flag, `enphase token`).

    kind            exit  when
    usage             2   bad arguments or options, missing host
    connection        3   the gateway (or the cloud) cannot be reached
    timeout           3   it was reached but did not answer in time
    auth              4   credentials missing or refused
    bad_credentials   4   username, password or token wrong
    token_expired     4   the token is past its expiry
    mfa               4   the Enlighten account needs multi-factor login
    http              5   the gateway answered an unexpected HTTP status
    parse             5   the gateway answered something we cannot read
    unavailable       6   the gateway, firmware or hardware lacks the feature
    interrupted     130   Ctrl-C
    internal          1   a bug: run again with --debug and report it

This module imports no aiohttp or rich: `enphase --help` loads it.
"""

from __future__ import annotations

import json
import re
import sys
import time
import traceback
from typing import NamedTuple

import click

from ..errors import (
    EnvoyAuthError,
    EnvoyBadCredentialsError,
    EnvoyConnectionError,
    EnvoyError,
    EnvoyFeatureUnavailable,
    EnvoyHTTPError,
    EnvoyMFARequiredError,
    EnvoyParseError,
    EnvoyTimeoutError,
    EnvoyTokenExpiredError,
)

__all__ = [
    "EXIT_CODES",
    "CliError",
    "Failure",
    "classify",
    "in_cli_words",
    "is_debug",
    "is_json",
    "near_nightly_restart",
    "report",
    "set_output",
]

EXIT_CODES: dict[str, int] = {
    "usage": 2,
    "connection": 3,
    "timeout": 3,
    "auth": 4,
    "bad_credentials": 4,
    "token_expired": 4,
    "mfa": 4,
    "http": 5,
    "parse": 5,
    "unavailable": 6,
    "interrupted": 130,
    "internal": 1,
}

# most specific first: isinstance picks the first match
_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (EnvoyTimeoutError, "timeout"),
    (EnvoyConnectionError, "connection"),
    (EnvoyTokenExpiredError, "token_expired"),
    (EnvoyMFARequiredError, "mfa"),
    (EnvoyBadCredentialsError, "bad_credentials"),
    (EnvoyAuthError, "auth"),
    (EnvoyHTTPError, "http"),
    (EnvoyParseError, "parse"),
    (EnvoyFeatureUnavailable, "unavailable"),
)

_HINTS = {
    "timeout": "the gateway is slow or busy: try again, or raise --timeout",
    "http": "the gateway may be restarting: try again in a minute",
    "parse": "run `enphase dump` and report the capture if this persists",
    "internal": "this is a bug: run again with --debug and report the traceback",
}


# the library speaks Python (keyword arguments, methods); the command speaks flags
_CLI_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\(token=\.\.\. or --token\)"), "(--token, or $ENPHASE_TOKEN)"),
    (re.compile(r"\btoken=\.\.\."), "--token"),
    (
        re.compile(r"check again with verify_later\(result\) after about 2 minutes"),
        "add --verify-after 120 to check that it held",
    ),
    (re.compile(r"with verify_later\(result\)"), "with `enphase battery`"),
    (re.compile(r"\bverify_later\(result\)"), "--verify-after"),
    (re.compile(r"\bmin_soc\b"), "--min"),
    (re.compile(r"\bmax_soc\b"), "--max"),
    (re.compile(r"\btimeout_s\b"), "--wait"),
)


def in_cli_words(message: str) -> str:
    """A library message with its Python names replaced by the command's flags."""
    for pattern, words in _CLI_WORDS:
        message = pattern.sub(words, message)
    return message


class CliError(Exception):
    """A failure the command itself detects (missing host, bad file): kind and message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Failure(NamedTuple):
    kind: str
    message: str

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.kind]


def classify(err: BaseException) -> Failure:
    """The kind and the one-line message of any exception."""
    if isinstance(err, CliError):
        return Failure(err.kind, str(err))
    if isinstance(err, KeyboardInterrupt):
        return Failure("interrupted", "interrupted")
    if isinstance(err, click.UsageError):
        return Failure("usage", err.format_message())
    if isinstance(err, ImportError):
        from .extras import missing_extra

        advice = missing_extra(err)
        if advice is not None:
            return Failure("unavailable", advice)
    for cls, kind in _KINDS:
        if isinstance(err, cls):
            message = in_cli_words(str(err)) or (cls.__doc__ or kind).strip().splitlines()[0]
            reworded = _reworded(kind, message)
            if reworded is not None:
                return reworded
            hint = _HINTS.get(kind)
            if hint and hint.split(":")[0] not in message:
                message = f"{message} ({hint})"
            return Failure(kind, message)
    if isinstance(err, EnvoyError):
        return Failure("internal", str(err) or type(err).__name__)
    return Failure("internal", f"{type(err).__name__}: {err} ({_HINTS['internal']})")


_NEITHER = re.compile(
    r"the gateway at (?P<where>\S+) answered neither HTTPS nor HTTP "
    r"\(https: (?P<https>\w+), http: (?P<http>\w+)\)"
)
_NOT_A_GATEWAY = "is this an Enphase gateway? check the address"


def near_nightly_restart(now: float | None = None) -> bool:
    """Whether it is around 23:00 local time, when gateways restart their services."""
    moment = time.localtime(time.time() if now is None else now)
    minutes = moment.tm_hour * 60 + moment.tm_min
    return 22 * 60 + 50 <= minutes <= 23 * 60 + 45


def _reworded(kind: str, message: str) -> Failure | None:
    """A clearer line for the failures people meet first: nothing there, silence, not Enphase."""
    neither = _NEITHER.search(message)
    if neither is not None:
        where = neither["where"]
        if "Timeout" in neither["https"] and "Timeout" in neither["http"]:
            return Failure(
                "timeout",
                f"{where} accepted the connection but did not answer in time: "
                "raise --timeout, or check that it is an Enphase gateway",
            )
        line = (
            f"nothing answers at {where}: check the address and that the gateway is powered "
            "and on the network"
        )
        if near_nightly_restart():
            line += " (gateways restart their services shortly after 23:00: try again soon)"
        return Failure("connection", line)
    about_info = kind in ("http", "parse") and re.search(r"(for|parse) /info\b", message)
    foreign = kind == "http" or "not <envoy_info>" in message or "envoy_info" not in message
    if about_info and foreign:
        core = message.split(": is this an Enphase gateway?", maxsplit=1)[0]
        return Failure(kind, f"{core}: {_NOT_A_GATEWAY}")
    return None


def _meta() -> dict[str, object]:
    ctx = click.get_current_context(silent=True)
    return ctx.meta if ctx is not None else {}


def set_output(*, as_json: bool | None = None, debug: bool | None = None) -> None:
    """Remember for error reporting whether this run prints JSON and wants tracebacks."""
    meta = _meta()
    if as_json is not None:
        meta["enphase.json"] = as_json
    if debug:
        meta["enphase.debug"] = True


def is_json() -> bool:
    return bool(_meta().get("enphase.json"))


def is_debug() -> bool:
    return bool(_meta().get("enphase.debug"))


def report(err: BaseException, *, as_json: bool, debug: bool) -> int:
    """Print the failure (JSON envelope on stdout, or one line on stderr); its exit code."""
    failure = classify(err)
    if debug and failure.kind not in ("interrupted", "usage"):
        traceback.print_exception(err, file=sys.stderr)
    if as_json:
        envelope = {"error": {"kind": failure.kind, "message": failure.message}}
        click.echo(json.dumps(envelope))
    else:
        click.echo(f"enphase: {failure.message}", err=True)
    return failure.exit_code
