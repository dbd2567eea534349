#!/usr/bin/env bash
# The library's test suite on the other Pythons Home Assistant runs on: 3.12 and 3.13
# (pyenv's 3.12.1 and 3.13.0), each in its own .venv-py312 / .venv-py313.
#
#   bash .ci/pythons.sh          build both (once: reused while the stamp matches)
#   bash .ci/pythons.sh test ... build both, then run the library's tests in each
#                                (extra args go to pytest)
#
# Why not the whole suite three times: it takes about 200 s on two workers, and the
# service, sink, CLI and simulator-process tests exercise processes and servers whose
# Python-version-sensitive parts are the library's own. LIBRARY_TESTS below is the
# library (src/enphase_local outside service/ and the simulator): its parsers, client,
# engine, live readers, writes, trust and cloud route, against real captures and the
# simulator over loopback. Left out: tests/client's two simulated-day tests (ct_reversal,
# energy_day) and the startup budget test (simulator-heavy, ~400 s of CPU between them).
# docs/CONTRIBUTING.md ("CI") states the choice and its run time.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSIONS=${ENPHASE_PYTHONS:-"3.12.1 3.13.0"}
LIBRARY_TESTS=(
    tests/client tests/sources tests/engine tests/live tests/net tests/control
    tests/features tests/conformance tests/hostile tests/cloud
    tests/test_public_api.py tests/test_redact.py
    --deselect tests/client/test_ct_reversal.py
    --deselect tests/client/test_energy_day.py
    --deselect tests/client/test_envoy_startup.py
)
want="$(cat pyproject.toml "$0" | sha256sum | cut -c1-16)"
quiet() {  # pip's output goes to a log, shown only when it fails
    local log=$1
    shift
    if ! "$@" >>"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "pythons.sh: failed: $*" >&2
        exit 1
    fi
}
build() {  # build <version>: .venv-pyXY with the library and its test tools
    local version=$1 short venv py
    short=$(echo "$version" | cut -d. -f1,2 | tr -d .)
    venv=.venv-py$short
    py="$HOME/.pyenv/versions/$version/bin/python3"
    if [ ! -x "$py" ]; then
        echo "pythons.sh: no Python $version at $py (install it: pyenv install $version)" >&2
        exit 1
    fi
    if [ "$(cat "$venv/.py-stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$venv/bin/python" ]; then
        local start log=$venv.log
        start=$(date +%s)
        echo "pythons.sh: building $venv (Python $version) ..." >&2
        rm -rf "$venv"
        : >"$log"
        quiet "$log" "$py" -m venv "$venv"
        quiet "$log" "$venv/bin/python" -m pip --disable-pip-version-check install --upgrade pip
        quiet "$log" "$venv/bin/python" -m pip --disable-pip-version-check install -e ".[dev]"
        echo "$want" >"$venv/.py-stamp"
        echo "pythons.sh: built $venv in $(( $(date +%s) - start )) s" >&2
    fi
    echo "$venv"
}
venvs=()
for version in $VERSIONS; do
    venvs+=("$(build "$version")")
done
if [ "${1:-}" = "test" ]; then
    shift
    rc=0
    for venv in "${venvs[@]}"; do
        echo "pythons.sh: the library's tests on $("$venv/bin/python" --version)" >&2
        "$venv/bin/python" -m pytest -n 2 --dist loadfile "${LIBRARY_TESTS[@]}" "$@" || rc=$?
    done
    exit "$rc"
fi
printf '%s\n' "${venvs[@]}"
