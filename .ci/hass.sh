#!/usr/bin/env bash
# The Home Assistant test environment: .venv-hass on Python 3.13 with Home Assistant 2025.4.4,
# the matching pytest-homeassistant-custom-component and this library (editable).
#
#   bash .ci/hass.sh          build it (once: reused while its stamp matches), print its python
#   bash .ci/hass.sh test ... build it, then run tests/hass in it (extra args go to pytest)
#
# tests/hass/test_real_hass_mqtt.py runs the real `enphase collect` (this library with its
# mqtt extra) against a real Home Assistant whose MQTT integration needs paho-mqtt.
#
# Why a separate environment: Home Assistant pins hundreds of packages (its constraints file,
# shipped inside its wheel) and needs Python 3.13; the main .venv stays on the project's own
# pins. Why aiohttp is lifted above Home Assistant 2025.4's pin (3.11.16): the library sends
# writes through aiohttp client middlewares (aiohttp >= 3.12, see net/writes.py) and the
# simulator uses web.RequestKey (3.14); 2025.4.4 is the newest Home Assistant the package
# registry offers here. aiohttp (and the yarl it needs) are the only packages lifted above
# the constraints file; Home Assistant's own tests of 2025.4 still pass with them here.
set -euo pipefail
cd "$(dirname "$0")/.."
HA_VERSION=2025.4.4
PHCC_VERSION=0.13.236      # pytest-homeassistant-custom-component pinning homeassistant==2025.4.4
MYPY_VERSION=2.4.1       # types of custom_components against Home Assistant's own
AIOHTTP_VERSION=3.14.5   # the simulator needs web.RequestKey (aiohttp 3.14)
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
# two stamps: Home Assistant's environment (slow, rebuilt when a pin or this script changes)
# and this library in it (fast, reinstalled when pyproject.toml changes)
want_env="$HA_VERSION $PHCC_VERSION $AIOHTTP_VERSION $(sha256sum < "$0" | cut -c1-16)"
want_lib="$(sha256sum < pyproject.toml | cut -c1-16)"
log="$VENV.log"
quiet() {  # pip's output goes to a log, shown only when it fails
    if ! "$@" >>"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "hass.sh: failed: $*" >&2
        exit 1
    fi
}
if [ "$(cat "$VENV/.hass-stamp" 2>/dev/null)" != "$want_env" ] || [ ! -x "$VENV/bin/python" ]; then
    start=$(date +%s)
    echo "hass.sh: building $VENV (Home Assistant $HA_VERSION) ..." >&2
    rm -rf "$VENV"
    : >"$log"
    quiet "$PY" -m venv "$VENV"
    pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
    quiet "${pip[@]}" install --upgrade pip
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    quiet "${pip[@]}" download --no-deps "homeassistant==$HA_VERSION" -d "$work"
    quiet "$VENV/bin/python" -c '
import json, sys, zipfile, pathlib
work = pathlib.Path(sys.argv[1])
wheel = next(work.glob("homeassistant-*.whl"))
zipped = zipfile.ZipFile(wheel)
text = zipped.read("homeassistant/package_constraints.txt").decode()
(work / "constraints.txt").write_text(text)
manifest = json.loads(zipped.read("homeassistant/components/mqtt/manifest.json"))
(work / "mqtt.txt").write_text("\n".join(manifest["requirements"]) + "\n")
' "$work"
    # the frontend too: a real `hass -c DIR` (tests/hass/test_real_hass.py) will not start
    # without it (it falls back to recovery mode)
    # the MQTT integration's requirements (paho-mqtt) as its manifest pins them: `hass
    # --skip-pip` (tests/hass/test_real_hass_mqtt.py) would not install them when the MQTT
    # entry is added
    quiet "${pip[@]}" install -c "$work/constraints.txt" "homeassistant==$HA_VERSION" \
        "pytest-homeassistant-custom-component==$PHCC_VERSION" home-assistant-frontend \
        "mypy==$MYPY_VERSION" -r "$work/mqtt.txt"
    quiet "${pip[@]}" install "aiohttp==$AIOHTTP_VERSION"
    echo "$want_env" > "$VENV/.hass-stamp"
    rm -f "$VENV/.lib-stamp"
    echo "hass.sh: built $VENV in $(( $(date +%s) - start )) s" >&2
fi
if [ "$(cat "$VENV/.lib-stamp" 2>/dev/null)" != "$want_lib" ]; then
    # the MQTT extra: the real `enphase collect` that test_real_hass_mqtt.py runs
    quiet "$VENV/bin/python" -m pip --disable-pip-version-check install -e ".[mqtt,simulator]"
    echo "$want_lib" > "$VENV/.lib-stamp"
fi
if [ "${1:-}" = "test" ]; then
    shift
    "$VENV/bin/python" -m mypy --strict --python-version 3.13 --follow-imports=silent \
        --ignore-missing-imports --no-error-summary custom_components/enphase_local
    # Home Assistant's quality scale (Silver) asks for more than 95 % test coverage: checked
    # when the whole of tests/hass runs (a chosen part covers less)
    floor=95
    if [ "$#" -gt 0 ]; then floor=0; fi
    exec "$VENV/bin/python" -m pytest -c tests/hass/pytest.ini tests/hass \
        --cov=custom_components/enphase_local --cov-report=term:skip-covered \
        --cov-fail-under="$floor" "$@"
fi
echo "$VENV/bin/python"
