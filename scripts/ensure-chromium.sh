#!/usr/bin/env bash
# Chromium for the browser tests of the results pages (make test): Debian's `chromium`, installed
# when missing (as root; one `apt-get update` first when apt does not know the package yet).
# `$TWINNET_CHROMIUM` names another binary instead.
set -euo pipefail
if [ -n "${TWINNET_CHROMIUM:-}" ] && [ -x "$TWINNET_CHROMIUM" ]; then exit 0; fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "chromium: not installed, and this is not a root shell with apt-get: install Debian's" \
       "package chromium (or set TWINNET_CHROMIUM=/path/to/chromium) for the browser tests" >&2
  exit 1
fi
echo "chromium: installing Debian's package (once)"
if ! apt-get install -y -q chromium >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get install -y -q chromium >/dev/null
fi
command -v chromium >/dev/null
if ! command -v node >/dev/null 2>&1; then
  echo "node: not installed (the browser tests drive Chromium with a Node script)" >&2
  exit 1
fi
