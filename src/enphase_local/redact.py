"""One redaction table for debug logs and capture dumps.

Why stable fakes instead of ``***``: a capture is many files (inventory,
device data, meters) that refer to each other by serial number. Mapping the
same input to the same fake within one `Redactor` keeps those references
consistent, so a redacted capture still replays and still tells a story.
Fakes keep the shape of what they replace where shape matters to a reader
(a 12-digit serial becomes 12 digits, an address stays an address in a
documentation range); secrets become labelled placeholders.

Fakes are remembered, so redacting twice changes nothing more.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["RedactingFilter", "Redactor"]

# JSON keys whose string values are secrets whatever they look like
_SECRET_KEYS = re.compile(
    r"(?i)^(password|passwd|pass|token|access_token|manager_token|session_?id|secret|"
    r"cookie|set-cookie|authorization|api_?key|jwt)$"
)
# JSON keys whose numeric values are serial numbers
_SERIAL_KEYS = re.compile(r"(?i)^(sn|serial|serial_?num(ber)?|\w*_sn|\w*serial\w*)$")
_KEEP_IPV4 = ("0.", "127.", "255.")
_KEEP_IPV6 = {ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1")}

_PATTERNS = [
    # order matters: at one position the first alternative wins
    ("jwt", r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
    ("bearer", r"(?<=\b(?i:bearer)\s)[A-Za-z0-9._~+/=-]+"),
    ("session", r"(?<=\b(?i:sessionid)=)[^;,\s\"'&]+"),
    ("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
    (
        "mac",
        r"(?<![\w:-])[0-9A-Fa-f]{2}(?P<sep>[:-])(?:[0-9A-Fa-f]{2}(?P=sep)){4}[0-9A-Fa-f]{2}(?![\w:-])",
    ),
    # the same MAC dotted (001d.c07f.b63b) or bare (001DC07FB63B): a bare one needs a
    # letter, since 12 digits alone are taken for a serial (and redacted as one)
    ("mac_dotted", r"(?<![\w.])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w.])"),
    ("mac_bare", r"(?<![0-9A-Za-z])(?=[0-9]*[A-Fa-f])[0-9A-Fa-f]{12}(?![0-9A-Za-z])"),
    (
        "ipv6",
        r"(?<![\w:.])(?=[0-9A-Fa-f:.]*::|(?:[0-9A-Fa-f]{1,4}:){7})[0-9A-Fa-f:.]{1,44}[0-9A-Fa-f:](?![\w:])",
    ),
    ("ipv4", r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]|\.\d)"),
    # a 12-digit serial alone or glued to a suffix (`122503008808EIM1`, a meter of that gateway)
    ("serial", r"(?<![\w.])\d{12}(?=[A-Za-z]|(?![\w.]))"),
]
# a serial with a suffix: the digits are the serial, the suffix names a part of the device
_SUFFIXED = re.compile(r"^(\d{6,})([A-Za-z][\w-]*)$")
# serials learnt from keys are searched for in all later text from this length on
_MIN_LEARNT = 8


class Redactor:
    """Maps serials, MACs (in any notation), IP addresses, JWTs, session cookies, bearer tokens,
    e-mail addresses and given secrets to stable fake values.

    `serials` are redacted wherever they appear (whatever their length);
    any other run of exactly 12 digits is taken for a serial too. `secrets`
    (passwords, usernames) are redacted wherever they appear.
    """

    def __init__(self, *, serials: Iterable[str] = (), secrets: Iterable[str] = ()) -> None:
        self._fakes: dict[tuple[str, str], str] = {}
        self._issued: set[str] = set()
        self._counts: dict[str, int] = {}
        self._known: dict[str, str] = {}  # literal -> kind
        self._known_re: re.Pattern[str] | None = None
        self._patterns = re.compile("|".join(f"(?P<{k}>{p})" for k, p in _PATTERNS))
        for serial in serials:
            self.add_serial(serial)
        for secret in secrets:
            self.add_secret(secret)

    def add_serial(self, serial: str) -> None:
        """Redact this serial number everywhere from now on."""
        self._add_known(str(serial).strip(), "serial")

    def add_secret(self, secret: str) -> None:
        """Redact this password, username or other secret everywhere from now on."""
        self._add_known(secret, "secret")

    def _add_known(self, literal: str, kind: str) -> None:
        if len(literal) < 3 or literal in self._issued:
            return  # too short to search for without mangling ordinary text
        self._known[literal] = kind
        longest_first = sorted(self._known, key=len, reverse=True)
        self._known_re = re.compile("|".join(re.escape(k) for k in longest_first))

    def fake(self, kind: str, value: str) -> str:
        """The stable fake standing for `value` of the given kind."""
        if value in self._issued:
            return value
        key = (kind, value)
        fake = self._fakes.get(key)
        if fake is None:
            n = self._counts[kind] = self._counts.get(kind, 0) + 1
            fake = self._make(kind, value, n)
            self._fakes[key] = fake
            self._issued.add(fake)
        return fake

    @staticmethod
    def _make(kind: str, value: str, n: int) -> str:
        if kind == "serial":
            if value.isdigit() and len(value) >= 6:  # same length, leading 9: 900000000001
                return "9" + f"{n:0{len(value) - 1}d}"[-(len(value) - 1) :]
            return f"SERIAL{n:06d}"
        if kind == "mac":  # `value` is canonical (12 lower-case hex digits): see `_mac`
            return f"02005e00{n // 256 % 256:02x}{n % 256:02x}"
        if kind == "ipv4":
            return f"192.0.2.{n % 254 + 1}" if n < 255 else f"198.51.100.{n % 254 + 1}"
        if kind == "ipv6":
            return f"2001:db8::{n:x}"
        if kind == "email":
            return f"user{n}@example.com"
        if kind == "jwt":
            return f"REDACTED_JWT_{n}"
        return f"REDACTED_{kind.upper()}_{n}"

    def _serial_value(self, value: Any) -> Any:
        """A value under a serial-like key: replaced whatever its length or shape.

        Numbers stay numbers of the same length; ``<digits><suffix>`` keeps its
        suffix (``...EIM1``) so the parts of one device still pair up; lists
        are lists of serials. Serials learnt here are redacted in later text too.
        """
        if isinstance(value, list | tuple):
            return [self._serial_value(v) for v in value]
        if _is_int(value):
            text = str(value)
            if _learnable(text):
                self.add_serial(text)
            fake = self.fake("serial", text)
            return int(fake) if fake.isdigit() else fake
        if not isinstance(value, str) or not value.strip() or value in self._issued:
            return self.redact_json(value)
        suffixed = _SUFFIXED.match(value)
        if suffixed:
            digits, suffix = suffixed.groups()
            if _learnable(digits):
                self.add_serial(digits)
            return self.fake("serial", digits) + suffix
        if _learnable(value):
            self.add_serial(value)
        return self.fake("serial", value)

    def redact_text(self, text: str) -> str:
        """Replace everything sensitive in `text` by its stable fake."""
        if self._known_re is not None:
            text = self._known_re.sub(lambda m: self.fake(self._known[m[0]], m[0]), text)
        return self._patterns.sub(self._replace, text)

    def _mac(self, value: str) -> str:
        """One fake per MAC whatever its notation, written in the notation it came in."""
        digits = re.sub(r"[^0-9A-Fa-f]", "", value).lower()
        fake = self.fake("mac", digits)
        if "." in value:
            return ".".join(fake[i : i + 4] for i in range(0, 12, 4))
        if len(value) == 12:
            return fake
        return value[2].join(fake[i : i + 2] for i in range(0, 12, 2))

    def _replace(self, match: re.Match[str]) -> str:
        kind = match.lastgroup or ""
        value = match[0]
        if value in self._issued:
            return value
        if kind.startswith("mac"):
            return self._mac(value)
        if kind == "ipv4":
            if value.startswith(_KEEP_IPV4) or not _valid_ipv4(value):
                return value
        elif kind == "ipv6":
            try:
                if ipaddress.IPv6Address(value) in _KEEP_IPV6:
                    return value
            except ValueError:
                return value
        elif kind == "serial":
            serial_fake = self._fakes.get(("serial", value))
            if serial_fake is not None:
                return serial_fake
        return self.fake(kind, value)

    def redact_json(self, obj: Any) -> Any:
        """A redacted copy of a decoded JSON document (keys included).

        Strings are redacted like text; values under secret-looking keys
        (``password``, ``token``, ``session_id``...) are replaced whatever
        they look like, and so are values under serial-like keys (``sn``,
        ``serial_num``...), whatever their length. Other numbers are replaced
        only when they are known serials: a 12-digit number may be a lifetime
        energy in joules.
        """
        if isinstance(obj, dict):
            out: dict[Any, Any] = {}
            for key, value in obj.items():
                new_key = self.redact_text(key) if isinstance(key, str) else key
                if isinstance(key, str) and _SECRET_KEYS.match(key) and isinstance(value, str):
                    out[new_key] = self.fake("secret", value) if value else value
                elif isinstance(key, str) and _SERIAL_KEYS.match(key):
                    out[new_key] = self._serial_value(value)
                else:
                    out[new_key] = self.redact_json(value)
            return out
        if isinstance(obj, list | tuple):
            return [self.redact_json(v) for v in obj]
        if isinstance(obj, str):
            return self.redact_text(obj)
        if _is_int(obj) and (str(obj) in self._known or ("serial", str(obj)) in self._fakes):
            fake = self.fake(self._known.get(str(obj), "serial"), str(obj))
            return int(fake) if fake.isdigit() else fake
        return obj


def _learnable(value: str) -> bool:
    return len(value) >= _MIN_LEARNT and len(set(value)) > 1


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _valid_ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message (arguments merged in).

    Attach it to a handler (``handler.addFilter(RedactingFilter(redactor))``)
    so every record that handler writes is redacted, whichever logger made it.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.redact_text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.redact_text(record.exc_text)
        return True
