"""Tokens and trusted certificates kept by gateway serial, in one file readable by its owner only.

Getting a token costs a cloud round trip (and an Enlighten login), so the
CLI and long-running users keep them here; beside each gateway's token sits
the fingerprint of the certificate it presented first (`net.trust`), so a
later connection can tell the gateway from an impostor. A token is a
password: it never appears in logs, errors or reprs.

The file is guarded on every load: readable by others, it is tightened to
0600 (its folder to 0700) with a warning; damaged, it is moved aside with a
warning rather than silently overwritten on the next save.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["TOKEN_STORE_ENV", "TokenStore"]

_LOGGER = logging.getLogger("enphase_local.tokens")

TOKEN_STORE_ENV = "ENPHASE_TOKEN_STORE"
_SECTIONS = ("tokens", "certificates")
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def _default_store_path() -> Path:
    env = os.environ.get(TOKEN_STORE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".config" / "enphase-local" / "tokens.json"


class TokenStore:
    """Tokens and certificate fingerprints by gateway serial, in one JSON file (mode 0600).

    The file is rewritten atomically (temporary file, then rename) with mode
    0600, in a directory created 0700 when absent. A damaged file is moved
    aside (``tokens.json.damaged-<time>``) with a warning naming both paths
    and the store starts empty: losing cached tokens costs a cloud login,
    crashing would lock the user out, and overwriting would lose evidence.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else _default_store_path()

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    # -- tokens ---------------------------------------------------------------

    def get(self, serial: str) -> str | None:
        """The token stored for `serial`, or None."""
        return self._load()["tokens"].get(serial)

    def put(self, serial: str, token: str) -> None:
        """Store (or replace) the token of `serial`."""
        self._update("tokens", serial, token)

    def delete(self, serial: str) -> bool:
        """Forget the token of `serial`; True when there was one."""
        return self._update("tokens", serial, None)

    # -- certificates -----------------------------------------------------------

    def certificate(self, serial: str) -> str | None:
        """The SHA-256 fingerprint (``AB:CD:...``) trusted for `serial`, or None."""
        return self._load()["certificates"].get(serial)

    def put_certificate(self, serial: str, fingerprint: str) -> None:
        """Trust `fingerprint` for `serial` (replacing any other)."""
        self._update("certificates", serial, fingerprint)

    # -- file -------------------------------------------------------------------

    def _update(self, section: str, serial: str, value: str | None) -> bool:
        data = self._load()
        entries = data[section]
        existed = entries.pop(serial, None) is not None
        if value is not None:
            entries[serial] = value
        elif not existed:
            return False
        self._save(data)
        return existed

    def _load(self) -> dict[str, dict[str, str]]:
        empty: dict[str, dict[str, str]] = {name: {} for name in _SECTIONS}
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty
        except (OSError, UnicodeDecodeError) as err:
            _LOGGER.warning("cannot read token store %s (%s): ignoring it", self.path, err)
            return empty
        self._tighten()
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("tokens"), dict):
                raise TypeError("no tokens object")
        except (ValueError, TypeError) as err:
            self._move_aside(type(err).__name__)
            return empty
        for name in _SECTIONS:
            section: Any = data.get(name, {})
            if isinstance(section, dict):
                empty[name] = {str(k): v for k, v in section.items() if isinstance(v, str)}
        return empty

    def _tighten(self) -> None:
        """A store readable by others gets 0600, its folder 0700 (when that is safe)."""
        with contextlib.suppress(OSError):
            mode = self.path.stat().st_mode
            if mode & _OTHERS:
                os.chmod(self.path, 0o600)
                _LOGGER.warning(
                    "token store %s was accessible to other users (mode %o): tightened to 0600; "
                    "anyone who read it has your gateway tokens: consider getting new ones",
                    self.path,
                    stat.S_IMODE(mode),
                )
        folder = self.path.parent
        with contextlib.suppress(OSError):
            info = folder.stat()
            if not info.st_mode & _OTHERS:
                return
            shared = info.st_mode & stat.S_ISVTX or info.st_uid != os.getuid()
            if shared or folder.resolve() == Path.home().resolve():
                return  # /tmp, a home directory: not ours to lock down
            os.chmod(folder, 0o700)
            _LOGGER.warning(
                "token store folder %s was accessible to other users (mode %o): tightened to 0700",
                folder,
                stat.S_IMODE(info.st_mode),
            )

    def _move_aside(self, reason: str) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for number in range(1, 100):
            if not aside.exists():
                break  # never replace an earlier damaged copy
            aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{number}")
        try:
            os.replace(self.path, aside)
        except OSError as err:
            _LOGGER.warning(
                "token store %s is damaged (%s) and could not be moved aside (%s): ignoring it",
                self.path,
                reason,
                err.strerror,
            )
            return
        _LOGGER.warning(
            "token store %s is damaged (%s): moved it to %s and starting empty; stored tokens "
            "and trusted certificates will be fetched or learned again",
            self.path,
            reason,
            aside,
        )

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(parents=True, mode=0o700)
            directory.chmod(0o700)  # mkdir's mode is filtered by the umask
        document = {"version": 1, **{name: data[name] for name in _SECTIONS}}
        text = json.dumps(document, indent=2, sort_keys=True)
        # mkstemp creates the file 0600, so the token is never readable by others
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
