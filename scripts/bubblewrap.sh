#!/usr/bin/env bash
# Agent-written code runs only under bubblewrap (tools/sandbox.py). Install it where it is
# missing and this machine lets us (Debian/Ubuntu as root, or with sudo); else say how.
if command -v bwrap >/dev/null; then
  exit 0
fi
if command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo -n"
  if $sudo apt-get install -y -q bubblewrap >/dev/null 2>&1 ||
     { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q bubblewrap >/dev/null 2>&1; }; then
    exit 0
  fi
fi
echo "bubblewrap (bwrap) is not installed and could not be installed here: autodocket will" \
     "refuse to run agent-written code (install it, or pass --unsandboxed)" >&2
