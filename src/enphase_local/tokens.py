"""Gateway tokens: their claims, getting one from the Enphase cloud, and keeping them.

Firmware 7 and later wants a JWT issued by Enphase's cloud (gateway.md
section 2). The client cannot verify its signature and does not need to: it
only reads the expiry and the role to know when to renew. Getting a token
needs internet and an Enlighten account without multi-factor login; users
with multi-factor login paste a token instead, so every path here treats a
pasted token as first class.

A token is a password: it never appears in logs, errors or reprs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiohttp

from .errors import (
    EnvoyBadCredentialsError,
    EnvoyConnectionError,
    EnvoyHTTPError,
    EnvoyMFARequiredError,
    EnvoyParseError,
    EnvoyTimeoutError,
)

__all__ = [
    "DEFAULT_ENLIGHTEN_URL",
    "DEFAULT_ENTREZ_URL",
    "TokenClaims",
    "TokenStore",
    "fetch_cloud_token",
]

_LOGGER = logging.getLogger("enphase_local.tokens")

DEFAULT_ENLIGHTEN_URL = "https://enlighten.enphaseenergy.com"
DEFAULT_ENTREZ_URL = "https://entrez.enphaseenergy.com"
TOKEN_STORE_ENV = "ENPHASE_TOKEN_STORE"
CLOUD_TIMEOUT_S = 30.0

Role = Literal["owner", "installer", "unknown"]

_GET_A_TOKEN = (
    "run `enphase token` with your Enlighten username and password, "
    "or paste a token copied from the Enphase website"
)


def _int_claim(claims: dict[str, Any], key: str) -> int | None:
    value = claims.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _str_claim(claims: dict[str, Any], key: str) -> str | None:
    value = claims.get(key)
    if isinstance(value, list) and len(value) == 1:  # "aud" may be a one-item list
        value = value[0]
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a gateway token says about itself (never the token itself).

    `expires_at` and `issued_at` are epoch seconds; `serial` is the gateway
    the token was issued for (the ``aud`` claim).
    """

    expires_at: int | None
    issued_at: int | None
    role: Role
    username: str | None
    serial: str | None

    @classmethod
    def decode(cls, token: str) -> TokenClaims:
        """Read the claims without verifying the signature.

        Raises `EnvoyBadCredentialsError` when the text is not a JWT (a
        truncated paste, quotes, or a session id given instead of a token).
        """
        # Imported here: PyJWT loads its crypto algorithms on import (~80 ms), and
        # most programs decode a token once, if ever.
        import jwt

        try:
            claims = jwt.decode(
                token.strip(),
                options={
                    "verify_signature": False,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
                algorithms=["ES256", "RS256", "HS256"],
            )
        except jwt.PyJWTError as err:
            raise EnvoyBadCredentialsError(
                "this is not a valid gateway token (it should be three dot-separated parts "
                f"starting with 'eyJ'): check that the whole token was pasted, or {_GET_A_TOKEN}"
            ) from err
        user = claims.get("enphaseUser")
        role: Role = user if user in ("owner", "installer") else "unknown"
        return cls(
            expires_at=_int_claim(claims, "exp"),
            issued_at=_int_claim(claims, "iat"),
            role=role,
            username=_str_claim(claims, "username"),
            serial=_str_claim(claims, "aud"),
        )

    def seconds_left(self, now: float) -> float | None:
        """Seconds until expiry (negative once expired), None when the token has no expiry."""
        return None if self.expires_at is None else self.expires_at - now

    def expired(self, now: float) -> bool:
        """True once the expiry has passed; a token without expiry never expires."""
        left = self.seconds_left(now)
        return left is not None and left <= 0


async def fetch_cloud_token(
    session: aiohttp.ClientSession,
    *,
    username: str,
    password: str,
    serial: str,
    enlighten_url: str = DEFAULT_ENLIGHTEN_URL,
    entrez_url: str = DEFAULT_ENTREZ_URL,
) -> str:
    """Log in to Enlighten and ask Entrez for a token for gateway `serial`.

    Raises `EnvoyMFARequiredError` when the account uses multi-factor login,
    `EnvoyBadCredentialsError` when the cloud refuses the login or the
    serial, `EnvoyConnectionError` when the cloud cannot be reached.
    """
    login_url = f"{enlighten_url.rstrip('/')}/login/login.json?"
    form = {"user[email]": username, "user[password]": password}
    status, body = await _cloud_post(session, login_url, data=form)
    if status in (401, 403):
        raise EnvoyBadCredentialsError(
            "Enlighten refused the username or password: check them (they are those of "
            "the Enphase app), or paste a token copied from the Enphase website"
        )
    if status >= 400:
        raise EnvoyHTTPError(
            status, "/login/login.json", f"Enlighten login answered HTTP {status}: try again later"
        )
    try:
        answer = json.loads(body)
    except ValueError as err:
        raise EnvoyParseError(
            "/login/login.json", "", "Enlighten login did not answer JSON: try again later"
        ) from err
    session_id = answer.get("session_id") if isinstance(answer, dict) else None
    if not isinstance(session_id, str) or not session_id:
        raise EnvoyMFARequiredError(
            "Enlighten did not open a session: the account probably uses multi-factor login, "
            "which cannot be automated. Copy a token from the Enphase website "
            "(entrez.enphaseenergy.com) and paste it instead"
        )
    tokens_url = f"{entrez_url.rstrip('/')}/tokens"
    payload = {"session_id": session_id, "serial_num": serial, "username": username}
    status, body = await _cloud_post(session, tokens_url, json_body=payload)
    if status in (401, 403):
        raise EnvoyBadCredentialsError(
            f"Entrez refused to issue a token for gateway {serial}: check that the serial is "
            "right and that the gateway belongs to this Enlighten account"
        )
    if status >= 400:
        raise EnvoyHTTPError(
            status, "/tokens", f"Entrez answered HTTP {status} when asked for a token: try later"
        )
    token = body.decode("utf-8", errors="replace").strip()
    try:
        TokenClaims.decode(token)
    except EnvoyBadCredentialsError as err:
        raise EnvoyParseError("/tokens", "", "Entrez answered something that is not a token") from (
            err
        )
    return token


async def _cloud_post(
    session: aiohttp.ClientSession,
    url: str,
    *,
    data: dict[str, str] | None = None,
    json_body: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """POST to the cloud, translating network failures (messages name the host, not the form)."""
    host = url.split("/")[2] if "//" in url else url
    try:
        async with session.post(
            url, data=data, json=json_body, timeout=aiohttp.ClientTimeout(total=CLOUD_TIMEOUT_S)
        ) as response:
            return response.status, await response.read()
    except TimeoutError as err:
        raise EnvoyTimeoutError(
            f"the Enphase cloud ({host}) did not answer in {CLOUD_TIMEOUT_S:.0f} s: "
            "try again later, or paste a token copied from the Enphase website"
        ) from err
    except aiohttp.ClientError as err:
        raise EnvoyConnectionError(
            f"could not reach the Enphase cloud ({host}, {type(err).__name__}): getting a token "
            "needs internet access; check it, or paste a token copied from the Enphase website"
        ) from err


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
