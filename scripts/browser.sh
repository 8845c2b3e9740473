#!/usr/bin/env bash
# The lab page's tests drive Debian's Chromium headless (tests/web). Install it where it is
# missing and this machine lets us (Debian/Ubuntu as root, or with sudo); else say so: those
# tests then skip, except under AUTODOCKET_REQUIRE_BROWSER=1 (CI), where they fail.
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
if command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo -n"
  if $sudo apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 ||
     { $sudo apt-get update -q >/dev/null 2>&1 &&
       $sudo apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; }; then
    exit 0
  fi
fi
echo "chromium and chromium-driver are not installed and could not be installed here: the" \
     "lab page's browser tests will skip" >&2
