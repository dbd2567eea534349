"""Tokens kept by gateway serial in one file readable by its owner only.

Getting a token costs a cloud round trip (and an Enlighten login), so the
CLI and long-running users keep them here. A token is a password: it never
appears in logs, errors or reprs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path

__all__ = ["TOKEN_STORE_ENV", "TokenStore"]

_LOGGER = logging.getLogger("enphase_local.tokens")

TOKEN_STORE_ENV = "ENPHASE_TOKEN_STORE"


def _default_store_path() -> Path:
    env = os.environ.get(TOKEN_STORE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".config" / "enphase-local" / "tokens.json"


class TokenStore:
    """Tokens by gateway serial in one JSON file readable by its owner only.

    The file is rewritten atomically (temporary file, then rename) with mode
    0600, in a directory created 0700 when absent. A damaged file is treated
    as empty with a warning naming it: losing cached tokens costs a cloud
    login, while crashing would lock the user out.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else _default_store_path()

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    def get(self, serial: str) -> str | None:
        """The token stored for `serial`, or None."""
        return self._load().get(serial)

    def put(self, serial: str, token: str) -> None:
        """Store (or replace) the token of `serial`."""
        tokens = self._load()
        tokens[serial] = token
        self._save(tokens)

    def delete(self, serial: str) -> bool:
        """Forget the token of `serial`; True when there was one."""
        tokens = self._load()
        if tokens.pop(serial, None) is None:
            return False
        self._save(tokens)
        return True

    def _load(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as err:
            _LOGGER.warning("cannot read token store %s (%s): ignoring it", self.path, err)
            return {}
        try:
            data = json.loads(text)
            tokens = data["tokens"]
            if not isinstance(tokens, dict):
                raise TypeError("tokens is not an object")
        except (ValueError, KeyError, TypeError) as err:
            _LOGGER.warning(
                "token store %s is damaged (%s): treating it as empty; it will be rewritten "
                "on the next save",
                self.path,
                type(err).__name__,
            )
            return {}
        return {str(k): v for k, v in tokens.items() if isinstance(v, str)}

    def _save(self, tokens: dict[str, str]) -> None:
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(parents=True, mode=0o700)
            directory.chmod(0o700)  # mkdir's mode is filtered by the umask
        text = json.dumps({"version": 1, "tokens": tokens}, indent=2, sort_keys=True)
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
