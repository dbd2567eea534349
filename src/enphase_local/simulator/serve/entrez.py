"""A local stand-in for the Entrez portal that still gives installer tokens (since 8.3.5289).

Why a portal of its own: since about April 2026 the Enlighten login plus
``/tokens`` gives installer and DIY accounts *owner* tokens (VW #265); the
Entrez web portal still issues installer tokens, as an HTML page. The real
flow, as field code drives it (cloud.md section 2):

    POST {entrez}/login           form username, password   -> a page, and a session cookie
    POST {entrez}/entrez_tokens   form serialNum (cookie)   -> a page whose first <textarea>
                                                              holds the JWT, or "Error ..."

It is mounted beside the cloud emulation (`cloud.CloudEmulation`, whose
accounts it shares) on the same server and under the same Entrez base URL,
so ``--entrez-url`` serves both routes. `DEFAULT_INSTALLERS` adds an
installer account of its own so ``enphase simulate`` can demonstrate the
flow. Tokens are signed like the gateway's own and last 12 hours.
"""

from __future__ import annotations

import html
import secrets
import weakref
from dataclasses import dataclass

from aiohttp import web

from .auth import INSTALLER_TOKEN_S, OWNER_TOKEN_S, Role, issue_token
from .cloud import PREFIX, CloudAccount, CloudEmulation

__all__ = ["DEFAULT_INSTALLERS", "SESSION_COOKIE", "EntrezPortal", "entrez_portal"]

SESSION_COOKIE = "_entrez_session"
DEFAULT_INSTALLERS = (CloudAccount("installer@example.com", "installer-password", installer=True),)
_LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Entrez</title></head><body>"
    '<form action="/login" method="post"><input name="username"><input name="password" '
    'type="password"></form></body></html>'
)


def _page(body: str, status: int = 200) -> web.Response:
    return web.Response(status=status, text=body, content_type="text/html")


def _token_page(text: str) -> web.Response:
    """The page Entrez answers: the token (or its error) in the first text area."""
    return _page(
        "<!DOCTYPE html><html><head><title>Entrez tokens</title></head><body>"
        "<h2>Token</h2><textarea readonly rows='10' cols='80'>"
        f"{html.escape(text)}</textarea><textarea>unused</textarea></body></html>"
    )


@dataclass(slots=True)
class PortalCounters:
    logins: int = 0
    tokens: int = 0
    refused: int = 0


class EntrezPortal:
    """The Entrez portal's login and token page, sharing the cloud emulation's accounts."""

    def __init__(self, cloud: CloudEmulation) -> None:
        self.cloud = cloud
        self.accounts = {a.email.lower(): a for a in DEFAULT_INSTALLERS}
        self._sessions: dict[str, CloudAccount] = {}
        self.counters = PortalCounters()

    def add_account(self, account: CloudAccount) -> None:
        self.accounts[account.email.lower()] = account

    def _account(self, email: str) -> CloudAccount | None:
        return self.accounts.get(email) or self.cloud.accounts.get(email)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(f"{PREFIX}/entrez/login", self._login)
        app.router.add_post(f"{PREFIX}/entrez/entrez_tokens", self._tokens)

    async def _login(self, request: web.Request) -> web.Response:
        form = await request.post()
        email = str(form.get("username", "")).lower()
        password = str(form.get("password", ""))
        account = self._account(email)
        if account is None or not secrets.compare_digest(account.password, password):
            self.counters.refused += 1
            return _page(_LOGIN_PAGE, status=401)
        if account.mfa:  # the portal asks for a code in a form of its own: no session here
            self.counters.refused += 1
            return _page(_LOGIN_PAGE.replace("<form", "<p>Enter the code we sent</p><form"))
        session = secrets.token_hex(16)
        self._sessions[session] = account
        self.counters.logins += 1
        response = _page("<!DOCTYPE html><html><body><h2>Welcome</h2></body></html>")
        response.set_cookie(SESSION_COOKIE, session, httponly=True, path="/")
        return response

    async def _tokens(self, request: web.Request) -> web.Response:
        account = self._sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if account is None:
            self.counters.refused += 1
            return _page(_LOGIN_PAGE)  # not logged in: the login page, no text area
        form = await request.post()
        serial = str(form.get("serialNum", "")).strip()
        if not (serial.isdigit() and len(serial) == 12):
            return _token_page("Error: invalid serial number")
        if account.serials is not None and serial not in account.serials:
            self.counters.refused += 1
            return _token_page(f"Error: the system {serial} is not linked to this account")
        role: Role = "installer" if account.installer else "owner"
        token = issue_token(
            serial,
            role,
            now=self.cloud.clock.now(),
            username=account.email,
            valid_for_s=INSTALLER_TOKEN_S if account.installer else OWNER_TOKEN_S,
        )
        self.counters.tokens += 1
        return _token_page(token)


_PORTALS: weakref.WeakKeyDictionary[CloudEmulation, EntrezPortal] = weakref.WeakKeyDictionary()


def entrez_portal(cloud: CloudEmulation) -> EntrezPortal:
    """The Entrez portal beside `cloud` (one per cloud emulation, made on first use)."""
    portal = _PORTALS.get(cloud)
    if portal is None:
        portal = _PORTALS[cloud] = EntrezPortal(cloud)
    return portal
