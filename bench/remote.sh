#!/usr/bin/env bash
# phrfs over a remote store against rclone mount + a crypt remote, over the same WebDAV server
# (a private Apache mod_dav), in the same run (issue 6): 100 MiB written until durable and read
# back cold, the first 4 KiB of it read cold (bytes on the wire), 1,000 small files (1-16 KiB)
# written until uploaded, read back cold, listed (ls -lR), renamed and deleted; each daemon's
# peak memory. Both talk to the server through a byte-counting proxy (scripts/testenv/
# faultproxy.py), which also gives HTTP requests and bytes per workload. Optionally the same
# phrfs run over S3 (a Ceph RGW). Rounds rotate the order; the table shows medians. Prints
# progress on stderr and a markdown table on stdout. Never fails on a timing.
#
# usage: sudo bench/remote.sh [--quick] [--rounds N] [--dir DIR] [--phrfs PATH] [--only LIST]
#                             [--size MIB] [--files N] [--s3] [--port-base N] [--out FILE] [--keep]
#   --quick        16 MiB, 200 files, 1 round: to try the script out (about 2 minutes)
#   --rounds N     default 3
#   --size MIB     the sequential file (default 100); --files N: small files (default 1,000)
#   --dir DIR      work directory (default /var/tmp/phrfs-remote-bench, or $PHRFS_BENCH_DIR); the
#                  servers' data, caches and mount points all live below it
#   --phrfs PATH   the phrfs binary (default build/fs/phrfs, or $PHRFS_BIN)
#   --only LIST    comma-separated subset of phrfs,rclone,phrfs-s3
#   --s3           also phrfs over S3: a Ceph RGW (scripts/testenv/rgw.sh), skipped when another
#                  cluster holds the mon port 6789. Its data lives in 1 GiB of RAM (memstore):
#                  with phrfs writing through (a growing file re-uploaded on every write, 1.3 GiB
#                  sent for 32 MiB) it stopped answering at --size 32; --size 16 worked
#   --port-base N  first local port to try for the servers (default 18600; busy ones are skipped)
#   --out FILE     also write the markdown report to FILE
#   --keep         keep the servers' data afterwards (default: removed)
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmdline="bench/remote.sh${*:+ $*}"

rounds=3 size_mib=100 nfiles=1000 ndirs=10 sizes=1-16
work=${PHRFS_BENCH_DIR:-/var/tmp/phrfs-remote-bench}
phrfs=${PHRFS_BIN:-$root/build/fs/phrfs}
only=phrfs,rclone,phrfs-s3
use_s3=0
port_base=18600
out=""
keep=0
rounds_set=0
while (( $# )); do
  case "$1" in
    --quick) size_mib=16 nfiles=200; (( rounds_set )) || rounds=1 ;;
    --rounds) rounds=$2; rounds_set=1; shift ;;
    --size) size_mib=$2; shift ;;
    --files) nfiles=$2; shift ;;
    --dir) work=$2; shift ;;
    --phrfs) phrfs=$2; shift ;;
    --only) only=$2; shift ;;
    --s3) use_s3=1 ;;
    --no-s3) use_s3=0 ;;
    --port-base) port_base=$2; shift ;;
    --out) out=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "bench: $*"; exit 1; }

# --- preconditions -----------------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || die "run as root (mounting, dropping the page cache and Apache's www-data workers need it)"
[[ -c /dev/fuse ]] || die "/dev/fuse is missing"
for tool in perl dd fusermount3 awk curl python3 ss; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh --bench"
done
[[ -n "$work" && "$work" != / ]] || die "bad work directory: '$work'"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "bad --rounds: $rounds"
[[ "$size_mib" =~ ^[1-9][0-9]*$ && "$nfiles" =~ ^[1-9][0-9]*$ ]] || die "bad --size or --files"

notes=()   # lines for the report: what was skipped and why
systems=()
IFS=, read -r -a wanted <<<"$only"
for fs in "${wanted[@]}"; do
  case "$fs" in
    phrfs)
      if [[ -x "$phrfs" ]]; then systems+=(phrfs)
      else log "phrfs binary $phrfs not found (scripts/build.sh builds it): phrfs skipped"; fi ;;
    rclone)
      if command -v rclone >/dev/null; then systems+=(rclone)
      else log "rclone not installed (scripts/install-deps.sh --bench): its column is skipped"
           notes+=("rclone was not installed: no rclone column."); fi ;;
    phrfs-s3)
      if (( ! use_s3 )); then notes+=("phrfs over S3 not measured (no --s3).")
      elif [[ ! -x "$phrfs" ]]; then :
      elif ss -ltnH 'sport = :6789' | grep -q .; then
        log "port 6789 is taken (another Ceph RGW runs on this machine): no phrfs-s3 column"
        notes+=("phrfs over S3 not measured: another Ceph cluster held the mon port 6789 at the time.")
      else systems+=(phrfs-s3); fi ;;
    *) die "unknown system in --only: $fs" ;;
  esac
done
(( ${#systems[@]} )) || die "nothing to measure"
all_fs=(phrfs rclone phrfs-s3)
has() { local x; for x in "${systems[@]}"; do [[ $x == "$1" ]] && return 0; done; return 1; }

# free_port VAR: sets VAR to a free local port, from --port-base up, not handed out before.
taken_ports=" "
free_port() {
  local p=$port_base
  while [[ "$taken_ports" == *" $p "* ]] || ss -ltnH "sport = :$p" | grep -q .; do p=$(( p + 1 )); done
  taken_ports+="$p "
  printf -v "$1" '%s' "$p"
}

# --- servers -----------------------------------------------------------------------------------
dav_dir=$work/dav proxy_dir=$work/proxy s3proxy_dir=$work/proxy-s3 rgw_dir=$work/rgw
started_dav=0 started_proxy=0 started_s3proxy=0 started_rgw=0
declare -A pport=() pprefix=()

start_servers() {
  free_port dav_port; free_port proxy_port; free_port rc_port
  log "starting Apache mod_dav on 127.0.0.1:$dav_port, the counting proxy on :$proxy_port"
  started_dav=1
  timeout 900 "$root/scripts/testenv/webdav.sh" start "$dav_dir" "$dav_port" >/dev/null ||
    die "the WebDAV server did not start"
  started_proxy=1
  timeout 60 "$root/scripts/testenv/faultproxy.sh" start "$proxy_dir" "$proxy_port" "$dav_port" >/dev/null ||
    die "the proxy did not start"
  curl -s --max-time 5 "http://127.0.0.1:$proxy_port/__stats" | grep -q '"total"' ||
    die "port $proxy_port does not answer as the counting proxy"
  pport[phrfs]=$proxy_port pprefix[phrfs]=/phrfs-store
  pport[rclone]=$proxy_port pprefix[rclone]=/rclone-store
  if has phrfs-s3; then
    free_port rgw_port; free_port s3proxy_port
    log "starting a Ceph RGW on 127.0.0.1:$rgw_port (mon 6789) and a proxy on :$s3proxy_port"
    started_rgw=1
    if ! timeout 900 "$root/scripts/testenv/rgw.sh" up "$rgw_dir" "$rgw_port" >"$work/rgw-up.log" 2>&1; then
      tail -n 5 "$work/rgw-up.log" >&2
      log "the RGW did not start: no phrfs-s3 column"
      notes+=("phrfs over S3 not measured: the Ceph RGW did not start (rgw-up.log).")
      timeout 120 "$root/scripts/testenv/rgw.sh" down "$rgw_dir" >/dev/null 2>&1 || true
      started_rgw=0
      local s=() x; for x in "${systems[@]}"; do [[ $x == phrfs-s3 ]] || s+=("$x"); done; systems=("${s[@]}")
    else
      started_s3proxy=1
      timeout 60 "$root/scripts/testenv/faultproxy.sh" start "$s3proxy_dir" "$s3proxy_port" "$rgw_port" >/dev/null ||
        die "the S3 proxy did not start"
      pport[phrfs-s3]=$s3proxy_port pprefix[phrfs-s3]=/phrfs/
    fi
  fi
}

stop_servers() {
  if (( started_s3proxy )); then "$root/scripts/testenv/faultproxy.sh" stop "$s3proxy_dir" || true; fi
  if (( started_rgw )); then timeout 120 "$root/scripts/testenv/rgw.sh" down "$rgw_dir" >/dev/null 2>&1 || true; fi
  if (( started_proxy )); then "$root/scripts/testenv/faultproxy.sh" stop "$proxy_dir" || true; fi
  if (( started_dav )); then timeout 60 "$root/scripts/testenv/webdav.sh" stop "$dav_dir" || true; fi
  started_s3proxy=0 started_rgw=0 started_proxy=0 started_dav=0
}

# Proxy counters of FS's traffic since the last reset: sets st_req, st_down (bytes sent to the
# client: heads and bodies) and st_up (request bodies forwarded to the server).
st_req=0 st_down=0 st_up=0
stats_reset() { curl -s -o /dev/null --max-time 10 -X DELETE "http://127.0.0.1:${pport[$1]}/__stats"; }
stats_get() {
  local json
  json=$(curl -s --max-time 10 "http://127.0.0.1:${pport[$1]}/__stats?prefix=${pprefix[$1]}")
  read -r st_req st_down st_up < <(printf '%s' "$json" | python3 -c '
import json, sys
t = json.load(sys.stdin)["total"]
print(t["requests"], t["bytes"], t["upload_bytes"])')
}
# Only the uploaded bytes, cheaply (polled): the first "upload_bytes" is the total's.
stats_up() {
  curl -s --max-time 10 "http://127.0.0.1:${pport[$1]}/__stats?prefix=${pprefix[$1]}" |
    awk '!found && match($0, /"upload_bytes": *[0-9]+/) { s = substr($0, RSTART, RLENGTH)
         sub(/.*: */, "", s); print s; found = 1 } END { if (!found) print 0 }'
}

# --- mounting ----------------------------------------------------------------------------------
declare -A pid=() peak_kib=() mounts=()
pass=$work/passphrase
fs_dir() { printf '%s/%s' "$work" "$1"; }

is_mounted() {  # exact mount point
  local src m rest
  while read -r src m rest; do
    [[ "$(printf '%b' "$m")" == "$1" ]] && return 0
  done < /proc/mounts
  return 1
}

store_url() {
  case "$1" in
    phrfs) printf 'webdav://127.0.0.1:%s%s' "$proxy_port" "${pprefix[phrfs]}" ;;
    phrfs-s3) printf 's3://phrfs/bench-%s' "$$" ;;
  esac
}
s3_env=()
phrfs_env() {  # the environment phrfs runs with for FS
  if [[ $1 == phrfs-s3 ]]; then
    s3_env=(AWS_ENDPOINT_URL="http://127.0.0.1:$s3proxy_port" AWS_ACCESS_KEY_ID=TESTACCESSKEY123
            AWS_SECRET_ACCESS_KEY=testsecretkey1234567890 AWS_REGION=us-east-1)
  else
    s3_env=(PHRFS_BENCH_UNUSED=1)
  fi
}

fs_init() {
  local fs=$1 d; d=$(fs_dir "$fs")
  rm -rf "$d"
  mkdir -p "$d/mnt"
  case "$fs" in
    phrfs|phrfs-s3)
      phrfs_env "$fs"
      env "${s3_env[@]}" timeout 120 "$phrfs" init "$(store_url "$fs")" --passfile "$pass" \
        --scrypt-logn 10 >"$d/init.out" 2>&1 ||
        { cat "$d/init.out" >&2; die "$fs: creating the store failed"; } ;;
    rclone)
      # A webdav remote and a crypt remote on top (names and directory names encrypted, the
      # defaults); the passwords only protect this benchmark's data.
      local p1 p2
      p1=$(rclone obscure bench-rclone-password-not-secret)
      p2=$(rclone obscure bench-rclone-salt-not-secret)
      umask 077
      cat >"$d/rclone.conf" <<EOF
[dav]
type = webdav
url = http://127.0.0.1:$proxy_port${pprefix[rclone]}
vendor = other

[crypt]
type = crypt
remote = dav:store
password = $p1
password2 = $p2
EOF
      umask 022
      curl -s -o /dev/null --max-time 10 -X MKCOL "http://127.0.0.1:$dav_port${pprefix[rclone]}/" ;;
  esac
}

# Starts the daemon in the foreground as our own child with an empty cache, so that its PID is
# known (for peak RSS and for a clean stop), and waits until the kernel shows the mount.
fs_mount() {
  local fs=$1 d i; d=$(fs_dir "$fs")
  rm -rf "$d/cache"; mkdir -p "$d/cache"
  case "$fs" in
    phrfs|phrfs-s3)
      phrfs_env "$fs"
      env "${s3_env[@]}" "$phrfs" mount "$(store_url "$fs")" "$d/mnt" --passfile "$pass" \
        --cache-dir "$d/cache" --foreground --log-file "$d/daemon.log" >>"$d/daemon.out" 2>&1 & ;;
    rclone)
      # --vfs-write-back 0s: uploads start as soon as a file is closed (the default waits 5 s,
      # which would only add idle time). --rc: vfs/stats tells when the uploads are done.
      rclone mount crypt: "$d/mnt" --config "$d/rclone.conf" --vfs-cache-mode writes \
        --vfs-write-back 0s --cache-dir "$d/cache" --rc --rc-addr "127.0.0.1:$rc_port" \
        --rc-no-auth --log-file "$d/daemon.log" >>"$d/daemon.out" 2>&1 & ;;
  esac
  pid[$fs]=$!
  mounts[$fs]=1
  for (( i = 0; i < 600; i++ )); do
    if is_mounted "$d/mnt"; then
      if [[ $fs != rclone ]] || curl -s -o /dev/null --max-time 2 -X POST "http://127.0.0.1:$rc_port/core/pid"; then
        return 0
      fi
    fi
    if ! kill -0 "${pid[$fs]}" 2>/dev/null; then
      tail -n 20 "$d/daemon.out" "$d/daemon.log" >&2 2>/dev/null || true
      die "$fs: the daemon exited before the mount was ready"
    fi
    sleep 0.1
  done
  die "$fs: not mounted after 60 s"
}

# True when FS's daemon has no upload pending or running. The phrfs mounts here all have a
# cache, whose daemon rewrites its status file once a second: a failed `phrfs status`, or one
# without a "pending uploads" line (read while the file was being replaced), says nothing about
# the queue and counts as not empty, so the caller asks again (never as "0 pending").
queue_empty() {
  local fs=$1 d out; d=$(fs_dir "$fs")
  case "$fs" in
    phrfs|phrfs-s3)
      out=$("$phrfs" status "$d/mnt" 2>/dev/null) || return 1
      awk -F': *' '$1 == "pending uploads" { seen = 1 }
                   $1 == "pending uploads" || $1 == "bytes queued" { if ($2 + 0 != 0) bad = 1 }
                   END { exit (bad || !seen) }' <<<"$out" ;;
    rclone)
      out=$(curl -s --max-time 5 -X POST "http://127.0.0.1:$rc_port/vfs/stats") || return 1
      [[ "$out" == *'"uploadsInProgress": 0'* && "$out" == *'"uploadsQueued": 0'* ]] ;;
  esac
}

# Until durable: the proxy has forwarded at least MIN bytes of uploads since the last reset (so
# a write the daemon has not queued yet cannot pass for done) and the daemon's upload queue is
# empty, twice in a row.
wait_durable() {
  local fs=$1 min=$2 i ok=0
  for (( i = 0; i < 18000; i++ )); do
    if (( $(stats_up "$fs") >= min )) && queue_empty "$fs"; then
      ok=$(( ok + 1 )); (( ok >= 2 )) && return 0
    else
      ok=0
    fi
    sleep 0.05
  done
  log "$fs: uploads still pending after 15 minutes"
  return 1
}

fs_umount() {
  local fs=$1 d p hwm i; d=$(fs_dir "$fs")
  p=${pid[$fs]:-}
  if [[ -n "$p" ]]; then
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
    if [[ -n "$hwm" ]] && (( hwm > ${peak_kib[$fs]:-0} )); then peak_kib[$fs]=$hwm; fi
  fi
  if is_mounted "$d/mnt"; then
    case "$fs" in
      phrfs|phrfs-s3)
        timeout 600 "$phrfs" umount "$d/mnt" >>"$d/daemon.out" 2>&1 || fusermount3 -u "$d/mnt" || true ;;
      rclone) fusermount3 -u "$d/mnt" 2>/dev/null || fusermount -u "$d/mnt" 2>/dev/null || true ;;
    esac
  fi
  if [[ -n "$p" ]]; then
    for (( i = 0; i < 600 && $(kill -0 "$p" 2>/dev/null && echo 1 || echo 0); i++ )); do sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      log "$fs: daemon $p still running 60 s after unmount: stopping it"
      kill -TERM "$p" 2>/dev/null || true
      sleep 1
    fi
    wait "$p" 2>/dev/null || true
    pid[$fs]=""
  fi
  if is_mounted "$d/mnt"; then fusermount3 -u -z "$d/mnt" 2>/dev/null || true; fi
  mounts[$fs]=""
}

drop_warned=0
drop_caches() {
  sync
  if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
    (( drop_warned )) || log "cannot drop the page cache here: cold reads only remount"
    drop_warned=1
  fi
}

# Cold: daemon restarted with an empty cache directory, the kernel's page and dentry caches dropped.
fs_cold() { fs_umount "$1"; drop_caches; fs_mount "$1"; }

cleanup() {
  local rc=$? fs
  trap - EXIT INT TERM
  for fs in "${all_fs[@]}"; do
    [[ -n "${mounts[$fs]:-}" || -n "${pid[$fs]:-}" ]] && { fs_umount "$fs" 2>/dev/null || true; }
  done
  stop_servers
  if (( ! keep )); then
    rm -rf "$dav_dir/data" "$rgw_dir" "$work/ceiling.bin"
    for fs in "${all_fs[@]}"; do rm -rf "$work/$fs/cache"; done
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --- measuring ---------------------------------------------------------------------------------
declare -A vals=()
add() { vals["$1|$2"]+="$3 "; }          # fs workload value
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'; }
per_sec() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3f", (s > 0 ? n / s : 0) }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
seq_bytes=$(( size_mib * 1048576 ))
small_bytes=$(awk -v n="$nfiles" -v s="$sizes" 'BEGIN { split(s, r, "-"); span = r[2] - r[1] + 1
  for (i = 0; i < n; i++) t += 1024 * (r[1] + (i * 7919) % span); print t }')

# Records the proxy's counters for the workload just done: requests, MiB down and up.
add_wire() {
  local fs=$1 key=$2
  stats_get "$fs"
  add "$fs" "${key}_req" "$st_req"
  add "$fs" "${key}_down" "$(mib "$st_down")"
  add "$fs" "${key}_up" "$(mib "$st_up")"
}

# The HTTP ceiling of this machine: curl PUT and GET of the sequential size, direct to Apache
# and through the proxy (the path phrfs and rclone take).
ceiling() {
  local t0 port name put get range msg=""
  [[ -f "$work/ceiling.bin" ]] || dd if=/dev/urandom of="$work/ceiling.bin" bs=1M count="$size_mib" status=none
  for name in direct proxy; do
    [[ $name == direct ]] && port=$dav_port || port=$proxy_port
    t0=$EPOCHREALTIME
    curl -s -f -o /dev/null -T "$work/ceiling.bin" "http://127.0.0.1:$port/ceiling.bin" || log "curl PUT failed"
    put=$(per_sec $(( seq_bytes / 1000000 )) "$(secs_since "$t0")"); add "curl-$name" seqw "$put"
    t0=$EPOCHREALTIME
    curl -s -f -o /dev/null "http://127.0.0.1:$port/ceiling.bin" || log "curl GET failed"
    get=$(per_sec $(( seq_bytes / 1000000 )) "$(secs_since "$t0")"); add "curl-$name" seqr "$get"
    if [[ $name == direct ]]; then   # what one 128 KiB range of that object costs the server
      range=$(curl -s -f -o /dev/null -w '%{time_total}' -r 0-131071 "http://127.0.0.1:$port/ceiling.bin") || range=""
      add curl-direct range "$range"
    fi
    curl -s -o /dev/null -X DELETE "http://127.0.0.1:$port/ceiling.bin"
    msg+=" $name PUT $put / GET $get MB/s;"
  done
  log "HTTP ceiling (curl, $size_mib MiB):${msg%;}"
}

run_round() {
  local fs=$1 d t0 s v; d=$(fs_dir "$fs")
  local m=$d/mnt tree=$d/mnt/tree
  drop_caches
  fs_mount "$fs"

  # 1. Sequential write, until durable.
  stats_reset "$fs"
  t0=$EPOCHREALTIME
  dd if=/dev/zero of="$m/seq.bin" bs=1M count="$size_mib" conv=fsync status=none
  wait_durable "$fs" "$seq_bytes"
  s=$(secs_since "$t0"); v=$(per_sec $(( seq_bytes / 1000000 )) "$s"); add "$fs" seqw "$v"
  add_wire "$fs" seqw
  log "$fs: sequential write ${size_mib} MiB until durable: $v MB/s ($(mib "$st_up") MiB uploaded, $st_req requests)"

  # 2. Sequential read, cold.
  fs_cold "$fs"
  stats_reset "$fs"
  t0=$EPOCHREALTIME
  dd if="$m/seq.bin" of=/dev/null bs=1M status=none
  s=$(secs_since "$t0"); v=$(per_sec $(( seq_bytes / 1000000 )) "$s"); add "$fs" seqr "$v"
  add_wire "$fs" seqr
  log "$fs: sequential read, cold: $v MB/s ($(mib "$st_down") MiB down, $st_req requests)"

  # 3. The first 4 KiB, cold: what moves over the wire (lookup of the name included).
  fs_cold "$fs"
  stats_reset "$fs"
  dd if="$m/seq.bin" of=/dev/null bs=4096 count=1 status=none
  sleep 0.5   # a read-ahead the daemon started may still be running: count it too
  stats_get "$fs"
  add "$fs" first4k "$(awk -v a="$st_down" -v b="$st_up" 'BEGIN { printf "%.1f", (a + b) / 1024 }')"
  add "$fs" first4k_req "$st_req"
  log "$fs: first 4 KiB, cold: $(( (st_down + st_up) / 1024 )) KiB over the wire, $st_req requests"

  rm -f "$m/seq.bin"
  wait_durable "$fs" 0

  # 4. Small files, until every one is uploaded.
  stats_reset "$fs"
  s=$(perl "$root/bench/files.pl" create "$tree" "$nfiles" "$ndirs" "$sizes")
  t0=$EPOCHREALTIME; wait_durable "$fs" "$small_bytes"
  s=$(awk -v a="$s" -v b="$(secs_since "$t0")" 'BEGIN { print a + b }')
  v=$(per_sec "$nfiles" "$s"); add "$fs" create "$v"
  add_wire "$fs" create
  log "$fs: create $nfiles files until uploaded: $v files/s ($st_req requests)"

  # 5. Read back, cold.
  fs_cold "$fs"
  stats_reset "$fs"
  s=$(perl "$root/bench/files.pl" read "$tree" "$nfiles" "$ndirs" "$sizes")
  v=$(per_sec "$nfiles" "$s"); add "$fs" readback "$v"
  add_wire "$fs" readback
  log "$fs: read back, cold: $v files/s ($st_req requests)"

  # 6. ls -lR, cold.
  fs_cold "$fs"
  stats_reset "$fs"
  t0=$EPOCHREALTIME
  ls -lR "$tree" >/dev/null
  s=$(secs_since "$t0"); add "$fs" lslr "$s"
  add_wire "$fs" lslr
  log "$fs: ls -lR, cold: $s s ($st_req requests)"

  # 7. Rename all, delete all: each until durable.
  stats_reset "$fs"
  s=$(perl "$root/bench/files.pl" rename "$tree" "$nfiles" "$ndirs" "$sizes")
  t0=$EPOCHREALTIME; wait_durable "$fs" 0
  s=$(awk -v a="$s" -v b="$(secs_since "$t0")" 'BEGIN { print a + b }')
  add "$fs" rename "$(per_sec "$nfiles" "$s")"
  add_wire "$fs" rename
  log "$fs: rename all: $(per_sec "$nfiles" "$s") files/s ($st_req requests)"
  stats_reset "$fs"
  s=$(perl "$root/bench/files.pl" delete "$tree" "$nfiles" "$ndirs" "$sizes")
  t0=$EPOCHREALTIME; wait_durable "$fs" 0
  s=$(awk -v a="$s" -v b="$(secs_since "$t0")" 'BEGIN { print a + b }')
  add "$fs" delete "$(per_sec "$nfiles" "$s")"
  add_wire "$fs" delete
  log "$fs: delete all: $(per_sec "$nfiles" "$s") files/s ($st_req requests)"

  fs_umount "$fs"
}

# --- run ---------------------------------------------------------------------------------------
mkdir -p "$work"
chmod 755 "$work"
for fs in "${all_fs[@]}"; do   # a previous run that was killed may have left mounts behind
  if is_mounted "$work/$fs/mnt"; then fusermount3 -u -z "$work/$fs/mnt" || true; fi
done
printf 'bench-passphrase-not-secret\n' >"$pass"
chmod 600 "$pass"

log "work directory $work ($(findmnt -n -o FSTYPE --target "$work"), $(df -P "$work" | awk 'NR == 2 { print $1 }'))"
start_servers
log "measuring ${systems[*]}: $rounds round(s), ${size_mib} MiB sequential, $nfiles files of $sizes KiB in $ndirs folders"
for fs in "${systems[@]}"; do fs_init "$fs"; done
started=$SECONDS
for (( r = 0; r < rounds; r++ )); do
  ceiling
  n=${#systems[@]}
  for (( k = 0; k < n; k++ )); do
    fs=${systems[$(( (k + r) % n ))]}
    log "round $(( r + 1 ))/$rounds: $fs"
    run_round "$fs"
  done
done
for fs in "${systems[@]}"; do
  add "$fs" rss "$(awk -v k="${peak_kib[$fs]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')"
done
elapsed=$(( SECONDS - started ))

# --- report ------------------------------------------------------------------------------------
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fmt() {  # value kind
  [[ -n "$1" ]] || { printf '–'; return; }
  case "$2" in
    s) awk -v v="$1" 'BEGIN { printf "%.2f", v }' ;;
    f1) awk -v v="$1" 'BEGIN { printf "%.1f", v }' ;;
    i) awk -v v="$1" 'BEGIN { printf "%.0f", v }' | sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta' ;;
    *) awk -v v="$1" 'BEGIN { printf (v < 10 ? "%.1f" : "%.0f"), v }' | sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta' ;;
  esac
}
med() { printf '%s' "${vals[$1|$2]:-}" | median; }

phrfs_version=$([[ -x "$phrfs" ]] && "$phrfs" --version 2>/dev/null | head -n 1 || echo "not built")
phrfs_version+=" (work tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
rclone_version=$(command -v rclone >/dev/null && rclone version 2>/dev/null | awk 'NR == 1 { print $2 }' || echo -)
apache_version=$(/usr/sbin/apache2 -v 2>/dev/null | awk -F'[/ ]' '/version/ { print $4; exit }' || echo -)
rgw_version=$(dpkg-query -W -f='${Version}' radosgw 2>/dev/null || echo -)
size_label="${size_mib} MiB"
files_label="$(fmt "$nfiles" n) files of $sizes KiB in $ndirs folders"

{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) vCPU ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)),"
  echo "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), work directory on $(findmnt -n -o FSTYPE --target "$work")"
  echo "($(df -P "$work" | awk 'NR == 2 { print $1 }')). phrfs: $phrfs_version; rclone $rclone_version; Apache $apache_version (mod_dav_fs)."
  if [[ -n "${pport[phrfs-s3]:-}" ]]; then echo "S3: Ceph RGW $rgw_version (memstore)."; fi
  echo "Servers, proxy and daemons all on 127.0.0.1 of this machine."
  echo "Command: \`$cmdline\` ($rounds round(s), median shown; took $(( elapsed / 60 )) min $(( elapsed % 60 )) s)."
  echo
  printf '| workload | phrfs, WebDAV | rclone crypt, WebDAV | phrfs / rclone | target | phrfs, S3 (RGW) |\n|---|---|---|---|---|---|\n'
  # key|label|better|kind|target (min ratio, or "max:VALUE" for an absolute phrfs limit)
  rows=(
    "seqw|sequential write $size_label, dd bs=1M conv=fsync, until durable (MB/s)|hi|n|1.5"
    "seqr|sequential read $size_label, cold (MB/s)|hi|n|1.5"
    "first4k|first 4 KiB of it, cold: bytes over the wire (KiB)|lo|f1|max:1024"
    "create|create $files_label, until uploaded (files/s)|hi|n|5"
    "readback|read them back, cold (files/s)|hi|n|5"
    "lslr|ls -lR of them, cold (s)|lo|s|5"
    "rename|rename all, until durable (files/s)|hi|n|5"
    "delete|delete all, until durable (files/s)|hi|n|5"
    "rss|daemon peak RSS, VmHWM (MiB)|lo|f1|"
  )
  for row in "${rows[@]}"; do
    IFS='|' read -r key label better kind target <<<"$row"
    p=$(med phrfs "$key") c=$(med rclone "$key") s3=$(med phrfs-s3 "$key")
    ratio="–"
    if [[ -n "$p" && -n "$c" ]]; then
      if [[ $better == hi ]]; then ratio=$(awk -v p="$p" -v b="$c" 'BEGIN { if (b > 0) printf "%.2f", p / b; else print "–" }')
      else ratio=$(awk -v p="$p" -v b="$c" 'BEGIN { if (p > 0) printf "%.2f", b / p; else print "–" }'); fi
    fi
    tcell="–"
    if [[ $target == max:* ]]; then
      lim=${target#max:}
      tcell="phrfs ≤ $(fmt "$lim" n)"
      [[ -n "$p" ]] && tcell+=$(awk -v p="$p" -v l="$lim" 'BEGIN { print (p <= l ? " (met)" : " (missed)") }')
    elif [[ -n "$target" ]]; then
      tcell="≥ $target"
      [[ $ratio != "–" ]] && tcell+=$(awk -v r="$ratio" -v t="$target" 'BEGIN { print (r >= t ? " (met)" : " (missed)") }')
    fi
    echo "| $label | $(fmt "$p" "$kind") | $(fmt "$c" "$kind") | $ratio | $tcell | $(fmt "$s3" "$kind") |"
  done
  echo
  echo "Reference, the HTTP path itself (curl, one $size_label object, median MB/s): PUT $(fmt "$(med curl-direct seqw)" n) / GET"
  echo "$(fmt "$(med curl-direct seqr)" n) straight to Apache, PUT $(fmt "$(med curl-proxy seqw)" n) / GET $(fmt "$(med curl-proxy seqr)" n) through the counting proxy. One 128 KiB"
  echo "range (\`curl -r 0-131071\`) of that object: $(fmt "$(med curl-direct range)" s) s (Apache is set to \`FileETag Digest\` by"
  echo "scripts/testenv/webdav.sh, so it hashes the whole file for every response, ranges included)."
  echo
  echo "What went over the wire (medians; requests, then MiB sent by the server, then MiB of request bodies):"
  echo
  printf '| workload | phrfs, WebDAV | rclone crypt, WebDAV | phrfs, S3 (RGW) |\n|---|---|---|---|\n'
  for row in "seqw|sequential write" "seqr|sequential read, cold" "first4k|first 4 KiB, cold" \
             "create|create" "readback|read back, cold" "lslr|ls -lR, cold" "rename|rename all" "delete|delete all"; do
    IFS='|' read -r key label <<<"$row"
    line="| $label"
    for fs in "${all_fs[@]}"; do
      rq=$(med "$fs" "${key}_req")
      if [[ -z "$rq" ]]; then line+=" | –"; continue; fi
      if [[ $key == first4k ]]; then line+=" | $(fmt "$rq" i) req, $(fmt "$(med "$fs" first4k)" f1) KiB in all"
      else line+=" | $(fmt "$rq" i) req, $(fmt "$(med "$fs" "${key}_down")" f1) ↓ $(fmt "$(med "$fs" "${key}_up")" f1) ↑"; fi
    done
    echo "$line |"
  done
  echo
  echo "phrfs / rclone is phrfs's figure divided by rclone's (≥ 1.00: phrfs at least as good); for the rows"
  echo "in seconds, KiB and MiB (lower is better) it is rclone's divided by phrfs's. Targets from issue 6."
  echo "Until durable = the write (or rename, delete) returned, the proxy has forwarded at least the payload"
  echo "in request bodies, and the daemon reports no upload queued or running (phrfs status: pending"
  echo "uploads and bytes queued 0; rclone rc vfs/stats: uploadsInProgress and uploadsQueued 0), polled"
  echo "every 50 ms. rclone: \`rclone mount crypt: --vfs-cache-mode writes --vfs-write-back 0s\` (uploads"
  echo "start at close instead of 5 s later), default crypt settings (names encrypted). phrfs: \`phrfs mount"
  echo "--cache-dir\` with its defaults, store made with \`--scrypt-logn 10\`. Cold = daemon unmounted and"
  echo "mounted again with an empty cache directory, kernel page cache dropped. Wire bytes: counted by"
  echo "scripts/testenv/faultproxy.py between the daemon and the server, from after the mount to the end of"
  echo "the workload (the first-4-KiB row waits 0.5 s more for read-ahead)."
  for n in "${notes[@]}"; do echo "$n"; done
  echo
  echo "All runs (one value per round, in round order):"
  echo
  echo '```'
  for key in seqw seqr range first4k create readback lslr rename delete rss; do
    for fs in "${all_fs[@]}" curl-direct curl-proxy; do
      [[ -n "${vals[$fs|$key]:-}" ]] && printf '%-9s %-12s %s\n' "$key" "$fs" "${vals[$fs|$key]}"
    done
  done
  echo '```'
} | tee "$work/results.md"
if [[ -n "$out" ]]; then cp "$work/results.md" "$out"; log "report written to $out"; fi
log "report also in $work/results.md"
