#!/usr/bin/env bash
# Runs the pjdfstest POSIX conformance suite (https://github.com/pjd/pjdfstest) against a fresh
# phrfs mount and prints a summary: files failed, failed checks in all, and for each failing test
# file the numbers of its failing checks. pjdfstest itself is not part of phrfs: build it
# yourself (autoreconf -ifs && ./configure && make pjdfstest) and pass its directory.
#
# usage: sudo scripts/pjdfstest.sh PJDFSTEST_DIR [PHRFS_BINARY]
#        scripts/pjdfstest.sh --summary LOGFILE    (the summary of a saved run again)
#   PJDFSTEST_DIR  a built pjdfstest checkout (holds the pjdfstest binary and tests/)
#   PHRFS_BINARY   default build/fs/phrfs, or $PHRFS_BIN
# environment:
#   PJDFSTEST_TIMEOUT  seconds for the whole prove run (default 1800)
#   PJDFSTEST_LOG      where the full prove output goes (default /tmp/phrfs-pjdfstest-DATE.log)
#   PJDFSTEST_TESTS    what prove runs, relative to PJDFSTEST_DIR/tests (default: all of it),
#                      e.g. "chmod rename/00.t"
#   TMPDIR             where the temporary store and mount point are made (default /tmp)
# Root is needed: pjdfstest switches uids, and the mount uses allow_other for that.
# Exit status: 0 when every check passed, 1 when some failed, 2 on a setup error.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
# --- summary of a prove -v log ----------------------------------------------------------------
# From the verbose output: each test file's "not ok N" lines (a "# TODO" one is not a failure),
# and the files whose plan did not match what ran (a script that died or a timeout).
summarize_log() {  # LOGFILE: "files failed total" on the first line, then one line per failing file
  awk '
  function ranges(csv,   n, a, i, out, lo) {   # "1,2,3,5" -> "1-3,5"
    n = split(csv, a, ",")
    for (i = 1; i <= n; i++) {
      lo = a[i]
      while (i < n && a[i + 1] == a[i] + 1) i++
      out = out (out == "" ? "" : ",") (a[i] == lo ? lo : lo "-" a[i])
    }
    return out
  }
  function flush() {
    if (file == "") return
    nfiles++
    if (planned && ran < planned && bad[file] == "") bad[file] = "ran " ran " of " planned
    if (nfail[file] > 0 || bad[file] != "") {
      failed_files++
      line = file ": " (nfail[file] > 0 ? ranges(list[file]) " (" nfail[file] ")" : "-")
      if (bad[file] != "") line = line "  (" bad[file] ")"
      lines = lines line "\n"
    }
  }
  /^\/.*\.t \.\./ {                                  # "/path/tests/chmod/00.t .. "
    flush()
    file = $1; sub(/^.*\/tests\/(\.\/)?/, "", file); planned = 0; ran = 0
    next
  }
  file != "" && /^1\.\.[0-9]+/ { planned = substr($1, 4) + 0; next }
  file != "" && /^not ok [0-9]+/ && !/# TODO/ { nfail[file]++; total++; list[file] = list[file] (nfail[file] > 1 ? "," : "") $3; ran++; next }
  file != "" && /^(not )?ok [0-9]+/ { ran++; next }
  file != "" && /^Dubious|^Failed [0-9]+\/[0-9]+ subtests|^No subtests run/ {
    if (planned && ran < planned) bad[file] = "ran " ran " of " planned
    else if (!planned) bad[file] = "no plan"
    next
  }
  /^Test Summary Report/ { flush(); file = ""; done = 1 }
  END {
    if (!done) flush()
    printf "%d %d %d\n%s", nfiles, failed_files, total, lines
  }' "$1"
}
why_failed() {  # LOGFILE: a tally of the failed checks' calls and results
  grep -E '^not ok [0-9]+' "$1" | grep -v '# TODO' | perl -ne '
    if (/^not ok \d+ - tried \x27((?:-[ugUC] \S+ )*)(?:-- )?(\S+)[^\x27]*\x27, expected (.*?), got (.*)$/) {
      my ($as, $call, $want, $got) = ($1, $2, $3, $4);
      for ($want, $got) { $_ = "<value>" unless /^\(?(0|E[A-Z]+)(\|(0|E[A-Z]+))*\)?$/ }  # errnos and 0 stay
      print(($as ne "" ? "$call (as another user)" : $call), ": expected $want, got $got\n");
    } else { print "a check without a message (a test_check, mostly times)\n" }' |
    sort | uniq -c | sort -rn | awk 'NR <= 30 { print "  " $0 }'
}

print_summary() {  # LOGFILE
  local summary nfiles failed_files total_failed
  summary=$(summarize_log "$1")
  read -r nfiles failed_files total_failed <<<"$(head -n 1 <<<"$summary")"
  echo "test files run: $nfiles; files failed: $failed_files; failed checks in all: $total_failed"
  if (( failed_files )); then
    echo "failing checks (test file: check numbers (how many)):"
    tail -n +2 <<<"$summary" | sed '/^$/d; s/^/  /'
  fi
  if (( total_failed )); then
    echo "why checks failed (the call: what pjdfstest expected and got; most frequent first):"
    why_failed "$1"
  fi
  (( failed_files == 0 ))
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --summary) [[ -r "${2:-}" ]] || { echo "pjdfstest: cannot read log '${2:-}'" >&2; exit 2; }
             print_summary "$2"; exit $? ;;
  "") usage >&2; exit 2 ;;
esac
pjd=$(cd "$1" && pwd) || { echo "pjdfstest: no directory $1" >&2; exit 2; }
phrfs=${2:-${PHRFS_BIN:-$root/build/fs/phrfs}}
timeout_s=${PJDFSTEST_TIMEOUT:-1800}
logfile=${PJDFSTEST_LOG:-/tmp/phrfs-pjdfstest-$(date +%Y%m%d-%H%M%S).log}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "pjdfstest: $*"; exit 2; }

[[ $(id -u) -eq 0 ]] || die "run as root (pjdfstest switches uids)"
[[ -c /dev/fuse ]] || die "/dev/fuse is missing"
[[ -x "$pjd/pjdfstest" && -d "$pjd/tests" ]] ||
  die "$pjd has no built pjdfstest (there: autoreconf -ifs && ./configure && make pjdfstest)"
[[ -x "$phrfs" ]] || die "phrfs binary $phrfs not found (scripts/build.sh builds it)"
phrfs=$(cd "$(dirname "$phrfs")" && pwd)/$(basename "$phrfs")
for tool in prove perl fusermount3 timeout; do
  command -v "$tool" >/dev/null || die "$tool not found (prove: apt-get install perl)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/phrfs-pjdfstest.XXXXXX")
chmod 755 "$work"               # the uids pjdfstest switches to must reach the mount point
store=$work/store mnt=$work/mnt pass=$work/passphrase
mkdir -p "$mnt"
daemon_pid=""

is_mounted() {  # exact mount point
  local src m rest
  while read -r src m rest; do
    [[ "$(printf '%b' "$m")" == "$1" ]] && return 0
  done </proc/mounts
  return 1
}

unmount() {
  local i
  cd /
  if is_mounted "$mnt"; then
    timeout 120 "$phrfs" umount "$mnt" >>"$work/daemon.out" 2>&1 ||
      timeout 30 fusermount3 -u -z "$mnt" || true
  fi
  if [[ -n "$daemon_pid" ]]; then
    for (( i = 0; i < 300; i++ )); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$daemon_pid" 2>/dev/null; then
      log "phrfs daemon $daemon_pid still running 30 s after unmount: stopping it"
      kill -TERM "$daemon_pid" 2>/dev/null || true
      sleep 1
      kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=""
  fi
  if is_mounted "$mnt"; then timeout 30 fusermount3 -u -z "$mnt" 2>/dev/null || true; fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  unmount
  if is_mounted "$mnt"; then
    log "$mnt is still mounted: leaving $work in place"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

printf 'pjdfstest-passphrase-not-secret\n' >"$pass"
chmod 600 "$pass"
"$phrfs" init "$store" --passfile "$pass" --scrypt-logn 10 >"$work/init.out" 2>&1 ||
  { cat "$work/init.out" >&2; die "phrfs init failed"; }

# The daemon runs in the foreground as our child, so that a crash during the run is noticed.
"$phrfs" mount "$store" "$mnt" --passfile "$pass" -o allow_other --foreground \
  --log-file "$work/daemon.log" >>"$work/daemon.out" 2>&1 &
daemon_pid=$!
for (( i = 0; ; i++ )); do
  is_mounted "$mnt" && break
  kill -0 "$daemon_pid" 2>/dev/null || { tail -n 20 "$work/daemon.out" >&2; die "the daemon exited before the mount was ready"; }
  (( i < 600 )) || die "not mounted after 60 s"
  sleep 0.1
done
chmod 755 "$mnt"

read -r -a targets <<<"${PJDFSTEST_TESTS:-}"
prove_args=()
for t in "${targets[@]}"; do prove_args+=("$pjd/tests/$t"); done
(( ${#prove_args[@]} )) || prove_args=("$pjd/tests")
log "$("$phrfs" --version 2>/dev/null | head -n 1) mounted at $mnt (allow_other)"
log "running prove -rv ${prove_args[*]} (timeout ${timeout_s} s); full output: $logfile"
started=$SECONDS
rc=0
# The console formatter: into a file prove would otherwise hold each test file's output until
# that file ends, and a timeout would lose the one that hung.
(cd "$mnt" && timeout --kill-after=30 "$timeout_s" \
   prove -rv --nocolor --formatter TAP::Formatter::Console "${prove_args[@]}") >"$logfile" 2>&1 || rc=$?
elapsed=$(( SECONDS - started ))
(( rc == 124 || rc == 137 )) && log "prove TIMED OUT after ${timeout_s} s: the summary covers what ran"
daemon_alive=1
kill -0 "$daemon_pid" 2>/dev/null || daemon_alive=0
if (( ! daemon_alive )); then
  log "the phrfs daemon DIED during the run; its last lines:"
  tail -n 20 "$work/daemon.out" >&2
  { echo; echo "== phrfs daemon died; daemon.out:"; tail -n 50 "$work/daemon.out"; } >>"$logfile"
fi
{ echo; echo "== phrfs daemon log (last 200 lines)"; tail -n 200 "$work/daemon.log" 2>/dev/null; } >>"$logfile"
unmount

# --- summary -----------------------------------------------------------------------------------
result_line=$(grep -E '^Result: ' "$logfile" | tail -n 1 || true)
files_line=$(grep -E '^Files=[0-9]+, Tests=[0-9]+' "$logfile" | tail -n 1 || true)

echo "pjdfstest on $("$phrfs" --version 2>/dev/null | head -n 1) ($(cd "$pjd" && git rev-parse --short HEAD 2>/dev/null || echo "pjdfstest"))," \
  "took $(( elapsed / 60 )) min $(( elapsed % 60 )) s"
[[ -n "$files_line" ]] && echo "prove: $files_line"
[[ -n "$result_line" ]] && echo "prove: $result_line"
(( rc == 124 || rc == 137 )) && echo "TIMED OUT after ${timeout_s} s"
(( daemon_alive )) || echo "THE PHRFS DAEMON DIED during the run"
all_passed=1
print_summary "$logfile" || all_passed=0
echo "full output: $logfile"
(( rc == 0 && all_passed && daemon_alive )) && exit 0
exit 1
