"""Small files readable by their owner only: tightened, set aside when damaged, written atomically.

The token store and the probe cache sit side by side and follow the same
rules, so they share this one home: a file readable by others is tightened
to 0600 (its folder to 0700) with a warning; a damaged file is moved aside
(``NAME.damaged-<time>``) with a warning naming both paths, never silently
overwritten (that would lose evidence) and never a traceback; a write goes
to a temporary file created 0600, then renamed over the old one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
import time
from pathlib import Path

__all__ = ["move_aside", "read_private", "write_private"]

_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def read_private(path: Path, what: str, logger: logging.Logger, exposed: str = "") -> str | None:
    """The text of `path`, its permissions tightened first; None when absent or unreadable.

    `what` names the file in warnings ("token store"); `exposed` is added to
    the warning when others could read it (what they may have learned).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        logger.warning("cannot read %s %s (%s): ignoring it", what, path, err)
        return None
    _tighten(path, what, logger, exposed)
    return text


def _tighten(path: Path, what: str, logger: logging.Logger, exposed: str) -> None:
    """A file readable by others gets 0600 (its folder is left alone)."""
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode
        if mode & _OTHERS:
            os.chmod(path, 0o600)
            logger.warning(
                "%s %s was accessible to other users (mode %o): tightened to 0600%s",
                what,
                path,
                stat.S_IMODE(mode),
                exposed,
            )
    # The folder is left as it is: the file is 0600 already, and a folder the user made
    # (a StateDirectory shared with the history, say) is theirs to set. Folders this
    # project creates are made 0700 (`write_private`).


def move_aside(path: Path, what: str, reason: str, logger: logging.Logger, lost: str) -> None:
    """Move a damaged file to ``NAME.damaged-<time>`` (never over an earlier one), and say so.

    `lost` ends the warning: what starting empty costs the user.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for number in range(1, 100):
        if not aside.exists():
            break  # never replace an earlier damaged copy
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    try:
        os.replace(path, aside)
    except OSError as err:
        logger.warning(
            "%s %s is damaged (%s) and could not be moved aside (%s): ignoring it",
            what,
            path,
            reason,
            err.strerror,
        )
        return
    logger.warning(
        "%s %s is damaged (%s): moved it to %s and starting empty; %s",
        what,
        path,
        reason,
        aside,
        lost,
    )


def write_private(path: Path, text: str, prefix: str) -> None:
    """Write `text` to `path` atomically, mode 0600, creating its folder 0700 when absent."""
    directory = path.parent
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        directory.chmod(0o700)  # mkdir's mode is filtered by the umask
    # mkstemp creates the file 0600, so its content is never readable by others
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
