"""Suite-wide set-up: the hypothesis profile (see tests/hypothesis_profile.py)."""

from __future__ import annotations

from tests import hypothesis_profile

PROFILE = hypothesis_profile.PROFILE
