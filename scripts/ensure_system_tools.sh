#!/usr/bin/env bash
# Debian packages the tests need beside the venv: chromium for the browser test (browser
# builds that download themselves do not work offline) and bubblewrap for the grader's
# sandbox. Installs what is missing when we may; otherwise says what to install. Without
# chromium the browser test fails; without bubblewrap the grader falls back to weaker
# isolation and warns at every run. PostgreSQL (initdb, pg_ctl) serves the tests of a
# shared gradebook; each test starts its own throwaway server.
set -euo pipefail
missing=()
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
command -v bwrap >/dev/null || missing+=(bubblewrap)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's ${missing[*]} for the tests..."
  install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
  install || { apt-get update -q >/dev/null && install; }
  exit 0
fi
echo "The tests need ${missing[*]}: install (Debian/Ubuntu) sudo apt-get install ${missing[*]}" >&2
