#!/usr/bin/env bash
# A benchmark longer than one device call (10 minutes): start it detached on the GPU machine,
# then follow it over calls made while the machine is still warm.
#   bash scripts/device_background.sh start DIR CMD...   # runs CMD in its own session, output in DIR
#   bash scripts/device_background.sh follow DIR SECONDS # waits up to SECONDS for it to end
# Both copy DIR's files to $OUT/NAME (NAME: DIR's last part; what the call brings back), and print the
# end of the log; `follow` exits 0 once CMD has ended (its status in DIR/rc), 3 while it runs, 4 when
# DIR is not there (the machine was handed back, and the run with it).
set -uo pipefail
verb=$1 dir=$2
shift 2
bring_back() {
  local back="${OUT:-/tmp}/$(basename "$dir")"
  mkdir -p "$back" && cp -f "$dir"/* "$back/" 2>/dev/null
  tail -n 25 "$dir/log"
}
case $verb in
  start)
    mkdir -p "$dir"
    setsid nohup bash -c "$(printf '%q ' "$@") > '$dir/log' 2>&1; echo \$? > '$dir/rc'" \
      </dev/null >/dev/null 2>&1 &
    sleep 5
    bring_back ;;
  follow)
    # a fresh machine (the last one was handed back) has no DIR: say so rather than wait
    [ -d "$dir" ] || { echo "no run in $dir on this machine (was it handed back?)"; exit 4; }
    deadline=$((SECONDS + $1))
    while [ ! -f "$dir/rc" ] && [ $SECONDS -lt $deadline ]; do sleep 5; done
    bring_back
    [ -f "$dir/rc" ] && { echo "ended: rc $(cat "$dir/rc")"; exit 0; }
    echo "still running"; exit 3 ;;
  *) echo "usage: $0 start DIR CMD... | follow DIR SECONDS" >&2; exit 2 ;;
esac
