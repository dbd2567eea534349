"""Which optional extra provides a missing module, said the way a user can act on it.

Why: `pip install enphase-local` is the library alone; the command, the
simulator and discovery are extras. A missing one must be a one-line answer
naming the extra to install, not an ImportError. Standard library only:
this runs before click is known to be there.
"""

from __future__ import annotations

__all__ = ["EXTRAS", "missing_extra"]

# top-level module -> the extra that installs it
EXTRAS: dict[str, str] = {
    "click": "cli",
    "rich": "cli",
    "cryptography": "simulator",
    "jwt": "simulator",
    "zeroconf": "discovery",
}


def missing_extra(err: ImportError) -> str | None:
    """ "`enphase-local[extra]`" advice for a module an extra provides, else None."""
    name = (getattr(err, "name", None) or "").partition(".")[0]
    extra = EXTRAS.get(name)
    if extra is None:
        return None
    return (
        f"this needs the `{extra}` extra ({name} is not installed): "
        f"pip install 'enphase-local[{extra}]'"
    )
