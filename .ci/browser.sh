#!/usr/bin/env bash
# What the dashboard's browser test needs: Debian's chromium and its driver.
# Idempotent: installs only what is missing (apt-get, as root in CI); selenium
# itself comes with the dev extra. Never downloads a browser of its own.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -eq 0 ]; then
    echo "browser.sh: chromium and chromium-driver present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "browser.sh: need root to install ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
echo "browser.sh: installed ${missing[*]}"
