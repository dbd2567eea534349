"""Finding the gateway when nothing names one."""

from __future__ import annotations

from .errors import CliError

__all__ = ["only_gateway"]

NO_HOST = (
    "no gateway address: give HOST, or --host, or set ENPHASE_HOST, or `host` in the config file"
)


def only_gateway() -> str:
    """The address of the only gateway on the network; a usage error otherwise."""
    raise CliError("usage", NO_HOST)
