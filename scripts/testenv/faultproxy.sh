#!/usr/bin/env bash
# Starts and stops scripts/testenv/faultproxy.py, the fault-injecting HTTP proxy of the remote
# tests, on 127.0.0.1. start returns once the proxy answers (10 s at most) and prints its URL;
# the PID goes to DIR/faultproxy.pid and the log to DIR/faultproxy.log. stop signals only that
# PID, and only when its command line still names this DIR (a reused PID is left alone).
#
# usage: scripts/testenv/faultproxy.sh start DIR LISTEN_PORT TARGET_PORT [--rule JSON]...
#        scripts/testenv/faultproxy.sh stop DIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '7,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# True when PID is alive and is the proxy started for DIR.
is_ours() {
  local pid=$1 dir=$2 cmdline
  [[ -r /proc/$pid/cmdline ]] || return 1
  cmdline=$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null) || return 1
  [[ "$cmdline" == *faultproxy.py* && "$cmdline" == *"--dir $dir "* ]]
}

start() {
  (( $# >= 3 )) || usage
  local dir=$1 listen=$2 target=$3
  shift 3
  [[ "$listen" =~ ^[0-9]+$ && "$target" =~ ^[0-9]+$ ]] || usage
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f "$dir/faultproxy.pid" ]] && is_ours "$(cat "$dir/faultproxy.pid")" "$dir"; then
    echo "faultproxy: already running for $dir (PID $(cat "$dir/faultproxy.pid"))" >&2
    exit 1
  fi
  python3 "$here/faultproxy.py" --listen "$listen" --target "$target" "$@" --dir "$dir" \
    </dev/null >>"$dir/faultproxy.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/faultproxy.pid"
  local i
  for (( i = 0; i < 100; i++ )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "faultproxy: exited at start; log:" >&2
      tail -n 20 "$dir/faultproxy.log" >&2
      rm -f "$dir/faultproxy.pid"
      exit 1
    fi
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$listen/__fault"; then
      echo "http://127.0.0.1:$listen"
      return 0
    fi
    sleep 0.1
  done
  echo "faultproxy: no answer on 127.0.0.1:$listen after 10 s; stopping it" >&2
  stop "$dir"
  exit 1
}

stop() {
  (( $# == 1 )) || usage
  local dir pidfile pid i
  dir=$(cd "$1" 2>/dev/null && pwd) || { echo "faultproxy: no such directory: $1" >&2; return 0; }
  pidfile=$dir/faultproxy.pid
  [[ -f "$pidfile" ]] || return 0
  pid=$(cat "$pidfile")
  if [[ "$pid" =~ ^[0-9]+$ ]] && is_ours "$pid" "$dir"; then
    kill -TERM "$pid" 2>/dev/null || true
    for (( i = 0; i < 50; i++ )); do
      is_ours "$pid" "$dir" || break
      sleep 0.1
    done
    if is_ours "$pid" "$dir"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) usage ;;
esac
