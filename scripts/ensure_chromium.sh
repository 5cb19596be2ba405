#!/usr/bin/env bash
# The browser test drives Debian's chromium (browser builds that download themselves do
# not work offline). Install it when missing and we may; otherwise say what to install.
set -euo pipefail
for name in chromium chromium-browser; do
  command -v "$name" >/dev/null && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser test..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
  exit 0
fi
echo "The browser test needs Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium)." >&2
echo "Without it that test is reported as failed." >&2
