#!/usr/bin/env bash
# The grader sandboxes each submission with bubblewrap (Debian's package). Install it when
# missing and we may; otherwise say what to install. Without it the grader still runs, on
# unshare or rlimits alone, and says so loudly at every run.
set -euo pipefail
command -v bwrap >/dev/null && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's bubblewrap for the grader's sandbox..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null; }
  exit 0
fi
echo "The grader's sandbox needs bubblewrap: install it (Debian/Ubuntu: sudo apt-get install bubblewrap)." >&2
echo "Without it the grader falls back to weaker isolation and warns at every run." >&2
