#!/usr/bin/env bash
# What the access log costs (issue 7): bench/run.sh's small-file workloads on a local store -
# N files of 4 KiB created (until syncfs), read back cold, listed (ls -lR) cold, renamed and
# deleted - with phrfs mounted with the access log on (the default) and off (phrfs.yaml
# `mount: access_log: false`, given with --config). The two alternate within every round and
# the order flips from round to round (on, off; off, on; ...), so that neither always runs
# first. Each has a store of its own. Also the bytes each daemon wrote (/proc/PID/io wchar, all
# mounts of the round). Medians, and off/on ratios. Progress on stderr, a markdown report on
# stdout. Never fails on a timing.
#
# usage: sudo bench/accesslog.sh [--quick] [--rounds N] [--files N] [--dir DIR] [--phrfs PATH]
#                                [--out FILE] [--keep]
#   --quick       500 files, 1 round: to try the script out
#   --rounds N    default 5; --files N: default 5,000 (in 50 folders, as bench/run.sh)
#   --dir DIR     work directory (default /var/tmp/phrfs-accesslog-bench, or $PHRFS_BENCH_DIR)
#   --phrfs PATH  the phrfs binary (default build/fs/phrfs, or $PHRFS_BIN)
#   --out FILE    also write the markdown report to FILE
#   --keep        keep the stores afterwards (default: removed)
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmdline="bench/accesslog.sh${*:+ $*}"

rounds=5 nfiles=5000 ndirs=50
work=${PHRFS_BENCH_DIR:-/var/tmp/phrfs-accesslog-bench}
phrfs=${PHRFS_BIN:-$root/build/fs/phrfs}
out="" keep=0 rounds_set=0 port_base=0
while (( $# )); do
  case "$1" in
    --quick) nfiles=500; (( rounds_set )) || rounds=1 ;;
    --rounds) rounds=$2; rounds_set=1; shift ;;
    --files) nfiles=$2; shift ;;
    --dir) work=$2; shift ;;
    --phrfs) phrfs=$2; shift ;;
    --out) out=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

[[ $(id -u) -eq 0 ]] || die "run as root (mounting, and dropping the page cache need it)"
[[ -c /dev/fuse ]] || die "/dev/fuse is missing"
for tool in perl fusermount3 awk python3; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh --bench"
done
[[ -x "$phrfs" ]] || die "phrfs binary $phrfs not found (scripts/build.sh builds it)"
[[ -n "$work" && "$work" != / ]] || die "bad work directory: '$work'"
[[ "$rounds" =~ ^[1-9][0-9]*$ && "$nfiles" =~ ^[1-9][0-9]*$ ]] || die "bad --rounds or --files"

variants=(on off)
pass=$work/passphrase
declare -A pid=() wrote=()
vdir() { printf '%s/%s' "$work" "$1"; }

v_mount() {
  local v=$1 d i; d=$(vdir "$v")
  # run_io: the daemon's /proc/PID/io once it has exited (the python3 parent is our child).
  run_io "$d/io.$(date +%s%N)" "$phrfs" mount "$d/store" "$d/mnt" --passfile "$pass" \
    --config "$work/$v.yaml" --foreground --log-file "$d/daemon.log" >>"$d/daemon.out" 2>&1 &
  pid[$v]=$!
  for (( i = 0; i < 600; i++ )); do
    is_mounted "$d/mnt" && return 0
    kill -0 "${pid[$v]}" 2>/dev/null || { tail -n 20 "$d/daemon.out" >&2; die "$v: the mount exited before it was ready"; }
    sleep 0.1
  done
  die "$v: not mounted after 60 s"
}
v_umount() {
  local v=$1 d p i; d=$(vdir "$v"); p=${pid[$v]:-}
  if is_mounted "$d/mnt"; then
    timeout 120 "$phrfs" umount "$d/mnt" >>"$d/daemon.out" 2>&1 || fusermount3 -u "$d/mnt" || true
  fi
  if [[ -n "$p" ]]; then
    for (( i = 0; i < 300 && $(kill -0 "$p" 2>/dev/null && echo 1 || echo 0); i++ )); do sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then log "$v: daemon $p still running 30 s after unmount: stopping it"; kill -TERM "$p" 2>/dev/null || true; sleep 1; fi
    wait "$p" 2>/dev/null || true
    pid[$v]=""
  fi
  if is_mounted "$d/mnt"; then fusermount3 -u -z "$d/mnt" 2>/dev/null || true; fi
}
v_cold() { v_umount "$1"; drop_caches; v_mount "$1"; }

cleanup() {
  local rc=$? v
  trap - EXIT INT TERM
  for v in "${variants[@]}"; do
    [[ -d "$work/$v" ]] || continue
    v_umount "$v" 2>/dev/null || true
    (( keep )) || rm -rf "$work/$v/store"
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

declare -A vals=()
add() { vals["$1|$2"]+="$3 "; }

run_round() {
  local v=$1 d s t0 sr sd w; d=$(vdir "$v")
  local tree=$d/mnt/tree
  rm -f "$d"/io.*
  drop_caches
  v_mount "$v"
  s=$(perl "$root/bench/files.pl" create "$tree" "$nfiles" "$ndirs")
  t0=$EPOCHREALTIME; sync -f "$d/mnt"; s=$(awk -v a="$s" -v b="$(secs_since "$t0")" 'BEGIN { print a + b }')
  add "$v" create "$(per_sec "$nfiles" "$s")"
  v_cold "$v"
  add "$v" readback "$(per_sec "$nfiles" "$(perl "$root/bench/files.pl" read "$tree" "$nfiles" "$ndirs")")"
  v_cold "$v"
  t0=$EPOCHREALTIME; ls -lR "$tree" >/dev/null; add "$v" lslr "$(secs_since "$t0")"
  sr=$(perl "$root/bench/files.pl" rename "$tree" "$nfiles" "$ndirs")
  sd=$(perl "$root/bench/files.pl" delete "$tree" "$nfiles" "$ndirs")
  add "$v" rename "$(per_sec "$nfiles" "$sr")"
  add "$v" delete "$(per_sec "$nfiles" "$sd")"
  v_umount "$v"
  w=$(cat "$d"/io.* 2>/dev/null | awk '$1 == "wchar:" { t += $2 } END { print t + 0 }')
  add "$v" wchar "$w"
  log "access log $v: create $(echo "${vals[$v|create]}" | awk '{ print $NF }') files/s, read back $(echo "${vals[$v|readback]}" | awk '{ print $NF }'), ls -lR $(echo "${vals[$v|lslr]}" | awk '{ printf "%.2f", $NF }') s, rename $(per_sec "$nfiles" "$sr"), delete $(per_sec "$nfiles" "$sd") files/s; daemons wrote $(mib "$w") MiB"
}

mkdir -p "$work"
for v in "${variants[@]}"; do
  if is_mounted "$work/$v/mnt"; then fusermount3 -u -z "$work/$v/mnt" || true; fi
done
printf 'bench-passphrase-not-secret\n' >"$pass"; chmod 600 "$pass"
printf 'mount:\n  access_log: true\n' >"$work/on.yaml"
printf 'mount:\n  access_log: false\n' >"$work/off.yaml"
log "work directory $work ($(findmnt -n -o FSTYPE --target "$work"), $(df -P "$work" | awk 'NR == 2 { print $1 }'))"
for v in "${variants[@]}"; do
  d=$(vdir "$v"); rm -rf "$d"; mkdir -p "$d/mnt"
  "$phrfs" init "$d/store" --passfile "$pass" --scrypt-logn 10 >"$d/init.out" 2>&1 ||
    { cat "$d/init.out" >&2; die "$v: creating the store failed"; }
done
started=$SECONDS
for (( r = 0; r < rounds; r++ )); do
  for (( k = 0; k < 2; k++ )); do
    v=${variants[$(( (k + r) % 2 ))]}
    log "round $(( r + 1 ))/$rounds: access log $v"
    run_round "$v"
  done
done
elapsed=$(( SECONDS - started ))
count_objects() { if [[ -d "$1" ]]; then find "$1" -type f | wc -l; else echo 0; fi; }
log_objects=$(count_objects "$work/on/store/log")
log_objects_off=$(count_objects "$work/off/store/log")
log_bytes=0
[[ -d "$work/on/store/log" ]] && log_bytes=$(du -sb "$work/on/store/log" | awk '{ print $1 }')

med() { printf '%s' "${vals[$1|$2]:-}" | median; }
fmt() {
  [[ -n "$1" ]] || { printf '–'; return; }
  case "$2" in
    s) awk -v v="$1" 'BEGIN { printf "%.2f", v }' ;;
    mib) awk -v v="$1" 'BEGIN { printf "%.1f", v / 1048576 }' ;;
    *) awk -v v="$1" 'BEGIN { printf "%.0f", v }' | thousands ;;
  esac
}
{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) vCPU ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)),"
  echo "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), work directory on $(findmnt -n -o FSTYPE --target "$work")."
  echo "phrfs: $("$phrfs" --version | head -n 1) (work tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))."
  echo "Command: \`$cmdline\` ($rounds round(s), median shown; took $(( elapsed / 60 )) min $(( elapsed % 60 )) s)."
  echo
  printf '| workload | access log on | access log off | cost of the log |\n|---|---|---|---|\n'
  for row in "create|create $nfiles files of 4 KiB in $ndirs folders, until syncfs (files/s)|hi|n" \
             "readback|read them back, cold (files/s)|hi|n" \
             "lslr|ls -lR, cold (s)|lo|s" \
             "rename|rename all (files/s)|hi|n" \
             "delete|delete all (files/s)|hi|n" \
             "wchar|bytes the daemons wrote, all mounts of a round (MiB)|lo|mib"; do
    IFS='|' read -r key label better kind <<<"$row"
    on=$(med on "$key") off=$(med off "$key")
    # Cost: how much longer the work takes (or how much more is written) with the log on.
    cost=$(awk -v a="$on" -v b="$off" -v hi="$better" 'BEGIN {
      if (a == "" || b == "" || a <= 0 || b <= 0) { print "–"; exit }
      c = (hi == "hi") ? b / a - 1 : a / b - 1; printf "%+.1f %%", 100 * c }')
    echo "| $label | $(fmt "$on" "$kind") | $(fmt "$off" "$kind") | $cost |"
  done
  echo
  echo "Cost = (time with the log) / (time without) − 1, from the medians: for rates off/on − 1, for"
  echo "seconds and bytes on/off − 1; positive means the log makes it slower (target: ≤ 10 %)."
  echo "After the run the store with the log had $log_objects object(s), $(fmt "${log_bytes:-0}" mib) MiB, under log/ (the other: $log_objects_off)."
  echo "Cold = unmounted, page cache dropped, mounted again."
  echo
  echo "All runs (one value per round, in round order):"
  echo
  echo '```'
  for key in create readback lslr rename delete wchar; do
    for v in "${variants[@]}"; do printf '%-9s %-4s %s\n' "$key" "$v" "${vals[$v|$key]:-}"; done
  done
  echo '```'
} | tee "$work/results.md"
if [[ -n "$out" ]]; then cp "$work/results.md" "$out"; log "report written to $out"; fi
log "report also in $work/results.md"
