#!/usr/bin/env bash
# Debian's chromium for the report's browser test (tests/test_report.py), installed when missing.
# Playwright drives it; its own browser download cannot run here (no network beyond registries).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing Debian's chromium for the browser test"
$SUDO apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || {
    $SUDO apt-get update -qq
    $SUDO apt-get install -y --no-install-recommends chromium >/dev/null
}
command -v chromium
