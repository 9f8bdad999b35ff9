#!/usr/bin/env bash
# Install (if needed) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# the web page's browser tests (tests/test_web_page.py) drive Debian's chromium; they skip without it
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium fonts-noto-cjk; } >/dev/null 2>&1 \
    || echo "scripts/test.sh: could not install chromium with apt; the browser tests will be skipped" >&2
fi
.venv/bin/python -m pytest "$@"
