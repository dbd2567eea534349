"""How hard the property tests try: a small `dev` profile for the inner loop, `ci` as written.

Tests say how many examples they want on CI with ``max_examples=examples(N)``.
The profile comes from ``$HYPOTHESIS_PROFILE`` (``dev`` or ``ci``); it is
``ci`` when ``CI=true`` (so `.ci/run` tries as hard as ever) and ``dev``
otherwise, where every count is divided by five (at least ten examples).
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
)
if PROFILE not in ("ci", "dev"):
    raise ValueError(f"HYPOTHESIS_PROFILE={PROFILE!r}: use dev or ci")

settings.register_profile("ci", deadline=None)
settings.register_profile("dev", deadline=None, max_examples=20)
settings.load_profile(PROFILE)


def examples(ci_count: int) -> int:
    """The examples a property test runs under the active profile (its CI count on CI)."""
    return ci_count if PROFILE == "ci" else max(10, ci_count // 5)
