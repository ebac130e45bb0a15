#!/usr/bin/env bash
# What `phrfs share apply` costs on a big folder (issue 7): a store with N files (default 10,000)
# of 1-16 KiB in 100 subfolders of /labs (and a few outside it); then, timed, three applies:
#   grant     the first apply: /labs shared with two people (its contents move into the share)
#   revoke    one person removed: key rotation, every name in /labs re-encrypted
#   reencrypt the same file again with --reencrypt: every file of /labs rewritten
# on a local store, and on a WebDAV store (a private Apache mod_dav) through the project's
# byte-counting proxy. Store traffic per apply: local, the objects written and deleted (the store
# directory listed before and after: path, inode, size, mtime) and the bytes the phrfs process
# read and wrote (its /proc/PID/io, read when it has exited, before it is reaped); WebDAV,
# requests, bytes down and up as the proxy counted them, and the objects written and deleted in
# the server's directory. Every round starts from a fresh copy of the same store. Medians of
# the rounds. Progress on stderr, a markdown report on stdout. Never fails on a timing.
#
# usage: sudo bench/share.sh [--quick] [--files N] [--rounds N] [--dir DIR] [--phrfs PATH]
#                            [--no-webdav | --no-local] [--port-base N] [--out FILE] [--keep]
#   --quick        500 files, 1 round: to try the script out (under a minute)
#   --files N      files in /labs (default 10,000); --rounds N (default 3)
#   --dir DIR      work directory (default /var/tmp/phrfs-share-bench, or $PHRFS_BENCH_DIR)
#   --phrfs PATH   the phrfs binary (default build/fs/phrfs, or $PHRFS_BIN)
#   --no-webdav    the local store only (no Apache, no proxy)
#   --no-local     the WebDAV store only
#   --port-base N  first local port to try for Apache and the proxy (default 18700)
#   --out FILE     also write the markdown report to FILE
#   --keep         keep the stores afterwards (default: removed)
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmdline="bench/share.sh${*:+ $*}"

rounds=3 nfiles=10000 ndirs=100 sizes=1-16
work=${PHRFS_BENCH_DIR:-/var/tmp/phrfs-share-bench}
phrfs=${PHRFS_BIN:-$root/build/fs/phrfs}
use_dav=1 use_local=1 port_base=18700 out="" keep=0 rounds_set=0
while (( $# )); do
  case "$1" in
    --quick) nfiles=500; (( rounds_set )) || rounds=1 ;;
    --files) nfiles=$2; shift ;;
    --rounds) rounds=$2; rounds_set=1; shift ;;
    --dir) work=$2; shift ;;
    --phrfs) phrfs=$2; shift ;;
    --no-webdav) use_dav=0 ;;
    --no-local) use_local=0 ;;
    --port-base) port_base=$2; shift ;;
    --out) out=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

# --- preconditions -----------------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || die "run as root (mounting, and Apache's www-data workers, need it)"
[[ -c /dev/fuse ]] || die "/dev/fuse is missing"
for tool in perl fusermount3 awk curl python3 ss find; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh --bench"
done
[[ -x "$phrfs" ]] || die "phrfs binary $phrfs not found (scripts/build.sh builds it)"
[[ -n "$work" && "$work" != / ]] || die "bad work directory: '$work'"
[[ "$rounds" =~ ^[1-9][0-9]*$ && "$nfiles" =~ ^[1-9][0-9]*$ ]] || die "bad --rounds or --files"
[[ "$port_base" =~ ^[0-9]+$ ]] || die "bad --port-base"

backends=()
(( use_local )) && backends+=(local)
(( use_dav )) && backends+=(webdav)
(( ${#backends[@]} )) || die "nothing to measure (--no-webdav and --no-local)"

# --- servers and mounts ------------------------------------------------------------------------
dav_dir=$work/dav proxy_dir=$work/proxy
started_dav=0 started_proxy=0 mount_pid="" mount_point=""
pass=$work/passphrase idpass=$work/identity-passphrase

start_servers() {
  free_port dav_port; free_port proxy_port
  log "starting Apache mod_dav on 127.0.0.1:$dav_port, the counting proxy on :$proxy_port"
  started_dav=1
  timeout 900 "$root/scripts/testenv/webdav.sh" start "$dav_dir" "$dav_port" --fresh >/dev/null ||
    die "the WebDAV server did not start"
  started_proxy=1
  timeout 60 "$root/scripts/testenv/faultproxy.sh" start "$proxy_dir" "$proxy_port" "$dav_port" >/dev/null ||
    die "the proxy did not start"
  curl -s --max-time 5 "http://127.0.0.1:$proxy_port/__stats" | grep -q '"total"' ||
    die "port $proxy_port does not answer as the counting proxy"
}

stop_servers() {
  if (( started_proxy )); then "$root/scripts/testenv/faultproxy.sh" stop "$proxy_dir" || true; fi
  if (( started_dav )); then timeout 60 "$root/scripts/testenv/webdav.sh" stop "$dav_dir" || true; fi
  started_proxy=0 started_dav=0
}

# Proxy counters since the last reset, for paths below PREFIX: st_req, st_down, st_up.
st_req=0 st_down=0 st_up=0
stats_reset() { curl -s -o /dev/null --max-time 10 -X DELETE "http://127.0.0.1:$proxy_port/__stats"; }
stats_get() {
  read -r st_req st_down st_up < <(curl -s --max-time 30 "http://127.0.0.1:$proxy_port/__stats?prefix=$1" |
    python3 -c 'import json, sys; t = json.load(sys.stdin)["total"]; print(t["requests"], t["bytes"], t["upload_bytes"])')
}

# A local mount in the foreground, as our child (so its PID is known).
mount_local() {  # STORE MNT [extra args]
  local store=$1 mnt=$2 i; shift 2
  mkdir -p "$mnt"
  "$phrfs" mount "$store" "$mnt" --passfile "$pass" --foreground "$@" \
    --log-file "$work/daemon.log" >>"$work/daemon.out" 2>&1 &
  mount_pid=$! mount_point=$mnt
  for (( i = 0; i < 600; i++ )); do
    is_mounted "$mnt" && return 0
    kill -0 "$mount_pid" 2>/dev/null || { tail -n 20 "$work/daemon.out" >&2; die "the mount exited before it was ready"; }
    sleep 0.1
  done
  die "not mounted after 60 s"
}
umount_local() {
  local i p=$mount_pid
  [[ -n "$mount_point" ]] || return 0
  if is_mounted "$mount_point"; then
    timeout 600 "$phrfs" umount "$mount_point" >>"$work/daemon.out" 2>&1 || fusermount3 -u "$mount_point" || true
  fi
  if [[ -n "$p" ]]; then
    for (( i = 0; i < 600 && $(kill -0 "$p" 2>/dev/null && echo 1 || echo 0); i++ )); do sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then log "daemon $p still running 60 s after unmount: stopping it"; kill -TERM "$p" 2>/dev/null || true; sleep 1; fi
    wait "$p" 2>/dev/null || true
  fi
  if is_mounted "$mount_point"; then fusermount3 -u -z "$mount_point" 2>/dev/null || true; fi
  mount_pid="" mount_point=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  umount_local 2>/dev/null || true
  stop_servers
  if (( ! keep )); then rm -rf "$work/golden" "$work/local" "$dav_dir/data"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --- the store and the people ------------------------------------------------------------------
mkdir -p "$work"
chmod 755 "$work"   # Apache's www-data workers must reach $work/dav
if is_mounted "$work/mnt"; then fusermount3 -u -z "$work/mnt" || true; fi   # a killed run's leftover
printf 'bench-passphrase-not-secret\n' >"$pass"
printf 'bench-identity-passphrase-not-secret\n' >"$idpass"
chmod 600 "$pass" "$idpass"
: >"$work/daemon.out"

log "work directory $work ($(findmnt -n -o FSTYPE --target "$work"), $(df -P "$work" | awk 'NR == 2 { print $1 }'))"
log "making the store: $nfiles files of $sizes KiB in $ndirs folders of /labs, and 20 outside"
rm -rf "$work/golden" "$work/local" "$work/ids"
"$phrfs" init "$work/golden" --passfile "$pass" --scrypt-logn 10 >"$work/init.out" 2>&1 ||
  { cat "$work/init.out" >&2; die "creating the store failed"; }
mount_local "$work/golden" "$work/mnt"
t0=$EPOCHREALTIME
perl "$root/bench/files.pl" create "$work/mnt/labs" "$nfiles" "$ndirs" "$sizes" >/dev/null
perl "$root/bench/files.pl" create "$work/mnt/other" 20 2 "$sizes" >/dev/null
sync -f "$work/mnt"
log "created in $(secs_since "$t0") s"
umount_local
store_objects=$(find "$work/golden" -type f | wc -l)
store_bytes=$(du -sb "$work/golden" | awk '{ print $1 }')
log "the store: $store_objects objects, $(mib "$store_bytes") MiB"

mkdir -p "$work/ids"
for who in owner alice bob; do
  timeout 120 "$phrfs" identity new "$work/ids/$who.id" --scrypt-logn 10 --passfile "$idpass" \
    >"$work/ids/$who.pub" 2>"$work/ids/$who.err" || { cat "$work/ids/$who.err" >&2; die "identity new $who failed"; }
done
pub() { head -n 1 "$work/ids/$1.pub"; }
cat >"$work/grant.yaml" <<EOF
owner: owner
people:
  alice: $(pub alice)
  bob: $(pub bob)
shares:
  /labs:
    write: [alice]
    read: [bob]
EOF
cat >"$work/revoke.yaml" <<EOF
owner: owner
people:
  alice: $(pub alice)
shares:
  /labs:
    write: [alice]
EOF

(( use_dav )) && start_servers

# --- measuring ---------------------------------------------------------------------------------
declare -A vals=()
add() { vals["$1|$2"]+="$3 "; }   # backend|step|metric value

store_url() {  # BACKEND ROUND
  case "$1" in
    local) printf '%s/local/r%s' "$work" "$2" ;;
    webdav) printf 'webdav://127.0.0.1:%s/share-r%s' "$proxy_port" "$2" ;;
  esac
}
store_path() {  # the directory that holds the store's objects
  case "$1" in
    local) printf '%s/local/r%s' "$work" "$2" ;;
    webdav) printf '%s/data/share-r%s' "$dav_dir" "$2" ;;
  esac
}

# A fresh copy of the golden store. Over WebDAV the objects are the same files at the same
# paths below the server's directory (what `phrfs init webdav://` makes has one more, empty
# folder: .phrfs-locks), so copying them in is the same as uploading them, only faster.
seed() {
  local be=$1 r=$2 dst; dst=$(store_path "$be" "$r")
  rm -rf "$dst"; mkdir -p "$(dirname "$dst")"
  cp -a "$work/golden" "$dst"
  if [[ $be == webdav ]]; then mkdir -p "$dst/.phrfs-locks"; chown -R www-data: "$dst"; fi
}

# apply BACKEND ROUND STEP YAML [--reencrypt]
apply() {
  local be=$1 r=$2 step=$3 yaml=$4 t0 s rc=0 w mv d b; shift 4
  local dir; dir=$(store_path "$be" "$r")
  local o=$work/out-$be-r$r-$step
  snapshot "$dir" "$o.before"
  [[ $be == webdav ]] && stats_reset
  sync
  t0=$EPOCHREALTIME
  run_io "$o.io" timeout 3600 "$phrfs" share apply "$(store_url "$be" "$r")" "$yaml" \
    --identity "$work/ids/owner.id" --identity-passfile "$idpass" --passfile "$pass" "$@" \
    >"$o.out" 2>"$o.err" || rc=$?
  s=$(secs_since "$t0")
  if (( rc != 0 )); then
    cat "$o.out" "$o.err" >&2
    die "$be: share apply ($step) exited with status $rc"
  fi
  add "$be" "$step|secs" "$s"
  read -r w mv d b < <(snapshot "$dir" "$o.after"; snapshot_diff "$o.before" "$o.after")
  add "$be" "$step|objw" "$w"; add "$be" "$step|objmv" "$mv"; add "$be" "$step|objd" "$d"
  add "$be" "$step|objbytes" "$b"
  add "$be" "$step|rchar" "$(awk '$1 == "rchar:" { print $2 }' "$o.io" 2>/dev/null || echo)"
  add "$be" "$step|wchar" "$(awk '$1 == "wchar:" { print $2 }' "$o.io" 2>/dev/null || echo)"
  add "$be" "$step|syscr" "$(awk '$1 == "syscr:" { print $2 }' "$o.io" 2>/dev/null || echo)"
  add "$be" "$step|syscw" "$(awk '$1 == "syscw:" { print $2 }' "$o.io" 2>/dev/null || echo)"
  local msg="$be round $r: $step: $s s, $w objects written ($(mib "$b") MiB), $mv renamed, $d deleted"
  if [[ $be == webdav ]]; then
    stats_get "/share-r$r"
    add "$be" "$step|req" "$st_req"; add "$be" "$step|down" "$st_down"; add "$be" "$step|up" "$st_up"
    msg+="; $st_req requests, $(mib "$st_down") MiB down, $(mib "$st_up") MiB up"
  fi
  log "$msg"
  applied[$be|$r|$step]=$(grep -m 1 '^Applied:' "$o.out" || true)
  log "  $(grep -m 1 '^Applied:' "$o.out" || echo 'no "Applied:" line')"
}
declare -A applied=()

# After the three applies the owner must still see every file (a local mount of the local copy).
check_local() {
  local r=$1 n
  mount_local "$(store_path local "$r")" "$work/mnt"
  n=$(find "$work/mnt/labs" -type f | wc -l)
  umount_local
  if (( n != nfiles )); then
    log "CHECK FAILED: round $r: the owner sees $n files in /labs after the applies, not $nfiles"
    notes+=("Round $r: after the three applies the owner saw $n files in /labs instead of $nfiles.")
  fi
}
notes=()

started=$SECONDS
for (( r = 1; r <= rounds; r++ )); do
  for be in "${backends[@]}"; do
    seed "$be" "$r"
    drop_caches
    apply "$be" "$r" grant "$work/grant.yaml"
    apply "$be" "$r" revoke "$work/revoke.yaml"
    apply "$be" "$r" reencrypt "$work/revoke.yaml" --reencrypt
    [[ $be == local ]] && check_local "$r"
    (( keep )) || rm -rf "$(store_path "$be" "$r")"
  done
done
elapsed=$(( SECONDS - started ))

# --- report ------------------------------------------------------------------------------------
med() { printf '%s' "${vals[$1|$2|$3]:-}" | median; }
n0() { [[ -n "$1" ]] && awk -v v="$1" 'BEGIN { printf "%.0f", v }' | thousands || printf '–'; }
f2() { [[ -n "$1" ]] && awk -v v="$1" 'BEGIN { printf "%.2f", v }' || printf '–'; }
m1() { [[ -n "$1" ]] && awk -v v="$1" 'BEGIN { printf "%.1f", v / 1048576 }' || printf '–'; }

phrfs_version="$("$phrfs" --version 2>/dev/null | head -n 1) (work tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
apache_version=$(/usr/sbin/apache2 -v 2>/dev/null | awk -F'[/ ]' '/version/ { print $4; exit }' || echo -)
steps=("grant|grant: first apply, 2 people (moves the folder into its share)"
       "revoke|revoke: 1 person removed (key rotation, names re-encrypted)"
       "reencrypt|revoke again with --reencrypt (every file rewritten)")
{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) vCPU ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)),"
  echo "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), work directory on $(findmnt -n -o FSTYPE --target "$work")."
  echo "phrfs: $phrfs_version$( (( use_dav )) && echo "; Apache $apache_version (mod_dav_fs) on 127.0.0.1")."
  echo "Command: \`$cmdline\` ($rounds round(s), median shown; took $(( elapsed / 60 )) min $(( elapsed % 60 )) s)."
  echo "The store: $(n0 "$nfiles") files of $sizes KiB in $ndirs folders of /labs, 20 files outside it;"
  echo "$(n0 "$store_objects") objects, $(m1 "$store_bytes") MiB before the first apply."
  echo
  if (( use_local )); then
  echo "Local store. Objects: the files below the store directory, listed before and after (path, inode,"
  echo "size, mtime): written = new contents, renamed = same inode at a new path, deleted = path and inode"
  echo "gone. MiB read / written: what the phrfs process passed to read(2)/write(2)-like calls"
  echo "(/proc/PID/io rchar and wchar, read after it exited)."
  echo
  printf '| apply | time (s) | objects written (MiB) | renamed | deleted | MiB read | MiB written |\n|---|---|---|---|---|---|---|\n'
  for row in "${steps[@]}"; do
    IFS='|' read -r k label <<<"$row"
    echo "| $label | $(f2 "$(med local "$k" secs)") | $(n0 "$(med local "$k" objw)") ($(m1 "$(med local "$k" objbytes)")) | $(n0 "$(med local "$k" objmv)") | $(n0 "$(med local "$k" objd)") | $(m1 "$(med local "$k" rchar)") | $(m1 "$(med local "$k" wchar)") |"
  done
  fi
  if (( use_dav )); then
    echo
    echo "WebDAV store, through the counting proxy (requests; MiB the server sent, heads and bodies; MiB of"
    echo "request bodies; objects in the server's directory, counted as above):"
    echo
    printf '| apply | time (s) | requests | MiB down | MiB up | objects written (MiB) | renamed | deleted |\n|---|---|---|---|---|---|---|---|\n'
    for row in "${steps[@]}"; do
      IFS='|' read -r k label <<<"$row"
      echo "| $label | $(f2 "$(med webdav "$k" secs)") | $(n0 "$(med webdav "$k" req)") | $(m1 "$(med webdav "$k" down)") | $(m1 "$(med webdav "$k" up)") | $(n0 "$(med webdav "$k" objw)") ($(m1 "$(med webdav "$k" objbytes)")) | $(n0 "$(med webdav "$k" objmv)") | $(n0 "$(med webdav "$k" objd)") |"
    done
  fi
  echo
  echo "What phrfs said it did (round 1):"
  echo
  echo '```'
  for be in "${backends[@]}"; do
    for k in grant revoke reencrypt; do printf '%-7s %-10s %s\n' "$be" "$k" "${applied[$be|1|$k]:-?}"; done
  done
  echo '```'
  for n in "${notes[@]}"; do echo "$n"; done
  echo
  echo "All runs (one value per round, in round order):"
  echo
  echo '```'
  for be in "${backends[@]}"; do
    for k in grant revoke reencrypt; do
      for m in secs objw objmv objd objbytes rchar wchar syscr syscw req down up; do
        [[ -n "${vals[$be|$k|$m]:-}" ]] && printf '%-7s %-10s %-9s %s\n' "$be" "$k" "$m" "${vals[$be|$k|$m]}"
      done
    done
  done
  echo '```'
} | tee "$work/results.md"
if [[ -n "$out" ]]; then cp "$work/results.md" "$out"; log "report written to $out"; fi
log "report also in $work/results.md"
