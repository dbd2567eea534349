#!/usr/bin/env bash
# The Home Assistant test environment: .venv-hass on Python 3.13 with Home Assistant 2025.4.4,
# the matching pytest-homeassistant-custom-component and this library (editable).
#
#   bash .ci/hass.sh          build it (once: reused while its stamp matches), print its python
#   bash .ci/hass.sh test ... build it, then run tests/hass in it (extra args go to pytest)
#
# Why a separate environment: Home Assistant pins hundreds of packages (its constraints file,
# shipped inside its wheel) and needs Python 3.13; the main .venv stays on the project's own
# pins. Why aiohttp is lifted above Home Assistant 2025.4's pin (3.11.16): the library sends
# writes through aiohttp client middlewares (aiohttp >= 3.12, see net/writes.py), which
# Home Assistant itself requires from 2025.6 on; 2025.4.4 is the newest release the package
# registry offers for this Python. The lift is the only deviation from the constraints file.
set -euo pipefail
cd "$(dirname "$0")/.."
HA_VERSION=2025.4.4
PHCC_VERSION=0.13.236      # pytest-homeassistant-custom-component pinning homeassistant==2025.4.4
AIOHTTP_VERSION=3.12.15
VENV=.venv-hass
PY=${HASS_PYTHON:-}
if [ -z "$PY" ]; then
    for candidate in "$HOME/.pyenv/versions/3.13.0/bin/python3" python3.13; do
        if command -v "$candidate" >/dev/null 2>&1; then PY=$candidate; break; fi
    done
fi
if [ -z "$PY" ]; then
    echo "hass.sh: no Python 3.13 (set HASS_PYTHON, or install pyenv's 3.13.0)" >&2
    exit 1
fi
want="$HA_VERSION $PHCC_VERSION $AIOHTTP_VERSION $(cat pyproject.toml "$0" | sha256sum | cut -c1-16)"
if [ "$(cat "$VENV/.hass-stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$VENV/bin/python" ]; then
    start=$(date +%s)
    echo "hass.sh: building $VENV (Home Assistant $HA_VERSION) ..." >&2
    "$PY" -m venv --clear "$VENV"
    pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
    "${pip[@]}" --upgrade pip
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$VENV/bin/python" -m pip download -q --no-deps --disable-pip-version-check \
        "homeassistant==$HA_VERSION" -d "$work"
    "$VENV/bin/python" - "$work" <<'PY'
import sys, zipfile, pathlib
work = pathlib.Path(sys.argv[1])
wheel = next(work.glob("homeassistant-*.whl"))
text = zipfile.ZipFile(wheel).read("homeassistant/package_constraints.txt").decode()
(work / "constraints.txt").write_text(text)
PY
    "${pip[@]}" -c "$work/constraints.txt" "homeassistant==$HA_VERSION" \
        "pytest-homeassistant-custom-component==$PHCC_VERSION"
    "${pip[@]}" "aiohttp==$AIOHTTP_VERSION"
    "${pip[@]}" -e ".[simulator]"
    echo "$want" > "$VENV/.hass-stamp"
    echo "hass.sh: built $VENV in $(( $(date +%s) - start )) s" >&2
fi
if [ "${1:-}" = "test" ]; then
    shift
    exec "$VENV/bin/python" -m pytest -c tests/hass/pytest.ini tests/hass "$@"
fi
echo "$VENV/bin/python"
