"""Tokens and trusted certificates kept by gateway serial, in one file readable by its owner only.

Getting a token costs a cloud round trip (and an Enlighten login), so the
CLI and long-running users keep them here; beside each gateway's token sits
the fingerprint of the certificate it presented first (`net.trust`), so a
later connection can tell the gateway from an impostor. A token is a
password: it never appears in logs, errors or reprs.

The file is guarded on every load (`net.private_file`, shared with the probe
cache beside it): readable by others, it is tightened to 0600 (its folder
to 0700) with a warning; damaged, it is moved aside with a warning rather
than silently overwritten on the next save.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from .private_file import move_aside, read_private, write_private

__all__ = ["TOKEN_STORE_ENV", "TokenStore"]

_LOGGER = logging.getLogger("enphase_local.tokens")

TOKEN_STORE_ENV = "ENPHASE_TOKEN_STORE"
# installer tokens (12 h, from the Entrez portal) live apart from the owner's: a command that
# needs one asks for it by name, and every other command keeps using the owner token
_SECTIONS = ("tokens", "certificates", "enlighten", "installer_tokens")
_ALWAYS = ("tokens", "certificates")  # written even when empty (older readers want "tokens")
_EXPOSED = "; anyone who read it has your gateway tokens: consider getting new ones"
_LOST = "stored tokens and trusted certificates will be fetched or learned again"


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

    # -- installer tokens -------------------------------------------------------

    def installer(self, serial: str) -> str | None:
        """The installer token stored for `serial` (`net.installer`), or None."""
        return self._load()["installer_tokens"].get(serial)

    def put_installer(self, serial: str, token: str) -> None:
        """Store (or replace) the installer token of `serial`, apart from its owner token."""
        self._update("installer_tokens", serial, token)

    def delete_installer(self, serial: str) -> bool:
        """Forget the installer token of `serial`; True when there was one."""
        return self._update("installer_tokens", serial, None)

    # -- certificates -----------------------------------------------------------

    def certificate(self, serial: str) -> str | None:
        """The SHA-256 fingerprint (``AB:CD:...``) trusted for `serial`, or None."""
        return self._load()["certificates"].get(serial)

    def put_certificate(self, serial: str, fingerprint: str) -> None:
        """Trust `fingerprint` for `serial` (replacing any other)."""
        self._update("certificates", serial, fingerprint)

    # -- Enlighten sessions (the cloud battery route) -----------------------------

    def enlighten_session(self, account: str) -> dict[str, Any] | None:
        """The Enlighten session stored for `account` (an e-mail), or None.

        Kept so that an account with multi-factor login is asked for a
        one-time code once, not on every cloud write.
        """
        text = self._load()["enlighten"].get(account.lower())
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None

    def put_enlighten_session(self, account: str, session: dict[str, Any] | None) -> None:
        """Store (or, with None, forget) the Enlighten session of `account`."""
        text = None if session is None else json.dumps(session, sort_keys=True)
        self._update("enlighten", account.lower(), text)

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
        text = read_private(self.path, "token store", _LOGGER, _EXPOSED)
        if text is None:
            return empty
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("tokens"), dict):
                raise TypeError("no tokens object")
        except (ValueError, TypeError) as err:
            move_aside(self.path, "token store", type(err).__name__, _LOGGER, _LOST)
            return empty
        for name in _SECTIONS:
            section: Any = data.get(name, {})
            if isinstance(section, dict):
                empty[name] = {str(k): v for k, v in section.items() if isinstance(v, str)}
        return empty

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        kept = {name: data[name] for name in _SECTIONS if data[name] or name in _ALWAYS}
        document = {"version": 1, **kept}
        write_private(self.path, json.dumps(document, indent=2, sort_keys=True), ".tokens-")
