"""A site of several gateways (``[[site]]``) as a Home Assistant device: a sum, not a gateway.

Why a device description of its own: the site's snapshot (`site_sum`) has
the shape of a gateway's, but it names no gateway. Described as one, the
device showed firmware ``site``, a model "IQ Gateway" and a configuration URL
made of its members' serials (``https://1222...+1223.../``), a link to
nowhere. The site has no address of its own (the collector's dashboard is
not known to the MQTT sink, and on 127.0.0.1 it is no link for a browser
elsewhere either), so it gets none.

And why only its sums: the controls, batteries and microinverters are the
member gateways' own. Repeated under the site, every battery and
microinverter entity would show twice, and their devices (one identifier
each) would be moved under the site by whichever config came last.
"""

from __future__ import annotations

from typing import Any

from ..models.snapshot import Snapshot
from .site_sum import site_members

__all__ = ["site_device"]


def site_device(serial: str, snapshot: Snapshot) -> dict[str, Any] | None:
    """The Home Assistant device of a site's snapshot; None for a gateway's own snapshot."""
    members = site_members(snapshot)
    if members is None:
        return None
    return {
        "identifiers": [f"enphase_{serial}"],
        "name": f"Enphase site {serial.removeprefix('site-')}",
        "manufacturer": "enphase-local",
        "model": f"Sum of {len(members)} gateways ({', '.join(members)})",
    }
