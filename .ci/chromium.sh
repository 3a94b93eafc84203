#!/usr/bin/env bash
# Debian's chromium at /usr/bin/chromium, for the tests that render /docs in a browser (test/docs/): installs it
# when missing. Under CI those tests fail rather than skip without it.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
printf '[chromium] installing chromium from Debian'"'"'s packages\n' >&2
as_root apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
[ -x /usr/bin/chromium ] || { printf '[chromium] /usr/bin/chromium is still missing\n' >&2; exit 1; }
