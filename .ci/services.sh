#!/usr/bin/env bash
# Installs what the sink tests need when it is missing: the Mosquitto broker, PostgreSQL and
# InfluxDB server binaries (the tests start their own instances on free ports), the jq
# program (the evcc recipe's test) and promtool (the metrics tests' lint). Idempotent: a machine that already has them is left alone. Under CI=true the tests fail, not skip, without them.
set -euo pipefail

missing=()
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    missing+=(mosquitto)
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    missing+=(postgresql)
fi
if ! command -v influxd >/dev/null 2>&1 && [ ! -x /usr/bin/influxd ]; then
    missing+=(influxdb)
fi
if ! command -v jq >/dev/null 2>&1; then
    missing+=(jq)
fi
if ! command -v promtool >/dev/null 2>&1; then
    missing+=(prometheus)  # for promtool: the metrics tests lint /metrics with it
fi
if [ "${#missing[@]}" -eq 0 ]; then
    echo "services.sh: mosquitto, postgresql, influxdb, jq and promtool are installed"
    exit 0
fi
echo "services.sh: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
