#!/usr/bin/env bash
# phrfs against gocryptfs and securefs, on the same disk, in the same run: sequential write and
# cold read, 4 KiB random read/write IOPS (fio, O_DIRECT), 5,000 small files created, read back
# cold, listed (ls -lR), renamed and deleted; plus each daemon's peak memory. Every workload runs
# once per round for each file system (the order rotates each round); the table shows medians.
# Prints progress on stderr and a markdown table on stdout. Never fails on a timing.
#
# usage: sudo bench/run.sh [--quick] [--rounds N] [--dir DIR] [--phrfs PATH] [--only LIST]
#                          [--out FILE] [--keep]
#   --quick       64 MiB, 500 files, 1 round, short fio runs: to try the script out
#   --dir DIR     work directory, on the disk to measure (default /var/tmp/phrfs-bench,
#                 or $PHRFS_BENCH_DIR); everything is created and mounted below it
#   --phrfs PATH  the phrfs binary (default build/fs/phrfs, or $PHRFS_BIN)
#   --only LIST   comma-separated subset of phrfs,gocryptfs,securefs
#   --out FILE    also write the markdown report to FILE
#   --keep        keep the ciphertext stores afterwards (default: removed)
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmdline="bench/run.sh${*:+ $*}"

rounds=3 size_mib=512 nfiles=5000 ndirs=50 fio_runtime=15 fio_ramp=2
work=${PHRFS_BENCH_DIR:-/var/tmp/phrfs-bench}
phrfs=${PHRFS_BIN:-$root/build/fs/phrfs}
only=phrfs,gocryptfs,securefs
out=""
keep=0
rounds_set=0
while (( $# )); do
  case "$1" in
    --quick) size_mib=64 nfiles=500 fio_runtime=3 fio_ramp=1; (( rounds_set )) || rounds=1 ;;
    --rounds) rounds=$2; rounds_set=1; shift ;;
    --dir) work=$2; shift ;;
    --phrfs) phrfs=$2; shift ;;
    --only) only=$2; shift ;;
    --out) out=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "bench: $*"; exit 1; }

# --- preconditions -----------------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || die "run as root (mounting, and dropping the page cache need it)"
[[ -c /dev/fuse ]] || die "/dev/fuse is missing"
for tool in fio perl dd fusermount3 awk; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh --bench"
done
[[ -n "$work" && "$work" != / ]] || die "bad work directory: '$work'"

filesystems=()
IFS=, read -r -a wanted <<<"$only"
for fs in "${wanted[@]}"; do
  case "$fs" in
    phrfs)
      if [[ -x "$phrfs" ]]; then filesystems+=(phrfs)
      else log "phrfs binary $phrfs not found (scripts/build.sh builds it): phrfs column skipped"; fi ;;
    gocryptfs|securefs)
      if command -v "$fs" >/dev/null; then filesystems+=("$fs")
      else log "$fs not installed (scripts/install-deps.sh --bench): its column is skipped"; fi ;;
    *) die "unknown file system in --only: $fs" ;;
  esac
done
(( ${#filesystems[@]} )) || die "nothing to measure"
all_fs=(phrfs gocryptfs securefs)

# --- mounting ----------------------------------------------------------------------------------
declare -A pid=() peak_kib=()
pass=$work/passphrase

fs_dir() { printf '%s/%s' "$work" "$1"; }

is_mounted() {  # exact mount point
  local src m rest
  while read -r src m rest; do
    [[ "$(printf '%b' "$m")" == "$1" ]] && return 0
  done < /proc/mounts
  return 1
}

fs_init() {
  local fs=$1 d; d=$(fs_dir "$fs")
  rm -rf "$d"
  mkdir -p "$d/cipher" "$d/mnt"
  case "$fs" in
    phrfs) "$phrfs" init "$d/cipher" --passfile "$pass" --scrypt-logn 10 >"$d/init.out" 2>&1 ;;
    gocryptfs) gocryptfs -init -q -scryptn 10 -passfile "$pass" "$d/cipher" >"$d/init.out" 2>&1 ;;
    securefs) securefs create --pass "$(head -n 1 "$pass")" "$d/cipher" >"$d/init.out" 2>&1 ;;
  esac || { cat "$d/init.out" >&2; die "$fs: creating the store failed"; }
}

# Starts the daemon in the foreground as our own child, so that its PID is known (for peak RSS
# and for a clean stop), and waits until the kernel shows the mount.
fs_mount() {
  local fs=$1 d i; d=$(fs_dir "$fs")
  case "$fs" in
    phrfs) "$phrfs" mount "$d/cipher" "$d/mnt" --passfile "$pass" --foreground \
             --log-file "$d/daemon.log" >>"$d/daemon.out" 2>&1 & ;;
    gocryptfs) gocryptfs -fg -q -passfile "$pass" "$d/cipher" "$d/mnt" >>"$d/daemon.out" 2>&1 & ;;
    securefs) securefs mount --pass "$(head -n 1 "$pass")" "$d/cipher" "$d/mnt" \
                >>"$d/daemon.out" 2>&1 & ;;
  esac
  pid[$fs]=$!
  for (( i = 0; i < 600; i++ )); do
    is_mounted "$d/mnt" && return 0
    if ! kill -0 "${pid[$fs]}" 2>/dev/null; then
      tail -n 20 "$d/daemon.out" >&2
      die "$fs: the daemon exited before the mount was ready"
    fi
    sleep 0.1
  done
  die "$fs: not mounted after 60 s"
}

fs_umount() {
  local fs=$1 d p hwm i; d=$(fs_dir "$fs")
  p=${pid[$fs]:-}
  if [[ -n "$p" ]]; then
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
    if [[ -n "$hwm" ]] && (( hwm > ${peak_kib[$fs]:-0} )); then peak_kib[$fs]=$hwm; fi
  fi
  if is_mounted "$d/mnt"; then
    if [[ "$fs" == phrfs ]]; then
      timeout 120 "$phrfs" umount "$d/mnt" >>"$d/daemon.out" 2>&1 || fusermount3 -u "$d/mnt" || true
    else
      fusermount3 -u "$d/mnt" || true
    fi
  fi
  if [[ -n "$p" ]]; then
    for (( i = 0; i < 300 && $(kill -0 "$p" 2>/dev/null && echo 1 || echo 0); i++ )); do sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      log "$fs: daemon $p still running 30 s after unmount: stopping it"
      kill -TERM "$p" 2>/dev/null || true
      sleep 1
    fi
    wait "$p" 2>/dev/null || true
    pid[$fs]=""
  fi
  if is_mounted "$d/mnt"; then fusermount3 -u -z "$d/mnt" 2>/dev/null || true; fi
}

drop_warned=0
drop_caches() {
  sync
  if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
    (( drop_warned )) || log "cannot drop the page cache here: cold reads only remount"
    drop_warned=1
  fi
}

# Cold: daemon restarted (its own caches gone) and the kernel's page and dentry caches dropped.
fs_cold() { fs_umount "$1"; drop_caches; fs_mount "$1"; }

cleanup() {
  local rc=$? fs
  trap - EXIT INT TERM
  for fs in "${all_fs[@]}"; do
    [[ -d "$work/$fs" ]] || continue
    fs_umount "$fs" 2>/dev/null || true
    if (( ! keep )); then rm -rf "$work/$fs/cipher"; fi
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --- measuring ---------------------------------------------------------------------------------
declare -A vals=() buffered=()
add() { vals["$1|$2"]+="$3 "; }          # fs workload value
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'; }
per_sec() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3f", (s > 0 ? n / s : 0) }'; }

# fio_iops FS randread|randwrite: sets fio_result to the IOPS with O_DIRECT, or buffered (and
# flagged) when the file system refuses O_DIRECT; empty when fio failed. (Not in $(...): the
# flag must reach this shell.)
fio_result=""
fio_iops() {
  local fs=$1 rw=$2 d direct rc field iops; d=$(fs_dir "$fs")
  fio_result=""
  [[ "$rw" == randread ]] && field=8 || field=49   # terse v3: read iops, write iops
  for direct in 1 0; do
    rc=0
    timeout $(( fio_runtime + fio_ramp + 120 )) fio --name="$rw" --filename="$d/mnt/seq.bin" \
      --size="${size_mib}M" --rw="$rw" --bs=4k --ioengine=psync --iodepth=1 --numjobs=1 \
      --direct="$direct" --time_based --runtime="$fio_runtime" --ramp_time="$fio_ramp" \
      --invalidate=1 --output-format=terse --terse-version=3 \
      >"$d/fio-$rw.out" 2>"$d/fio-$rw.err" || rc=$?
    iops=$(awk -F';' -v f="$field" 'NF > 100 && $5 == 0 { printf "%.0f", $f }' "$d/fio-$rw.out")
    if (( rc == 0 )) && [[ -n "$iops" ]]; then
      (( direct )) || buffered["$fs|$rw"]=1
      fio_result=$iops
      return 0
    fi
    if (( direct )); then
      log "$fs: $rw with O_DIRECT refused ($(head -n 1 "$d/fio-$rw.err")); buffered instead"
    fi
  done
  log "$fs: fio $rw failed: $(head -n 3 "$d/fio-$rw.err")"
}

run_round() {
  local fs=$1 d t0 s bytes v; d=$(fs_dir "$fs")
  local m=$d/mnt tree=$d/mnt/tree
  bytes=$(( size_mib * 1048576 ))
  drop_caches
  fs_mount "$fs"

  t0=$EPOCHREALTIME
  dd if=/dev/zero of="$m/seq.bin" bs=1M count="$size_mib" conv=fsync status=none
  s=$(secs_since "$t0"); v=$(per_sec $(( bytes / 1000000 )) "$s"); add "$fs" seqw "$v"
  log "$fs: sequential write ${size_mib} MiB: $v MB/s"

  fs_cold "$fs"
  t0=$EPOCHREALTIME
  dd if="$m/seq.bin" of=/dev/null bs=1M status=none
  s=$(secs_since "$t0"); v=$(per_sec $(( bytes / 1000000 )) "$s"); add "$fs" seqr "$v"
  log "$fs: sequential read, cold: $v MB/s"

  fio_iops "$fs" randread; v=$fio_result; add "$fs" rr "$v"
  log "$fs: 4 KiB random read: $v IOPS${buffered[$fs|randread]:+ (buffered)}"
  fio_iops "$fs" randwrite; v=$fio_result; add "$fs" rw "$v"
  log "$fs: 4 KiB random write: $v IOPS${buffered[$fs|randwrite]:+ (buffered)}"
  rm -f "$m/seq.bin"
  sync

  s=$(perl "$root/bench/files.pl" create "$tree" "$nfiles" "$ndirs")
  t0=$EPOCHREALTIME; sync -f "$m"; s=$(awk -v a="$s" -v b="$(secs_since "$t0")" 'BEGIN { print a + b }')
  v=$(per_sec "$nfiles" "$s"); add "$fs" create "$v"
  log "$fs: create $nfiles files: $v files/s"

  fs_cold "$fs"
  s=$(perl "$root/bench/files.pl" read "$tree" "$nfiles" "$ndirs")
  v=$(per_sec "$nfiles" "$s"); add "$fs" readback "$v"
  log "$fs: read back, cold: $v files/s"

  fs_cold "$fs"
  t0=$EPOCHREALTIME
  ls -lR "$tree" >/dev/null
  s=$(secs_since "$t0"); add "$fs" lslr "$s"
  log "$fs: ls -lR, cold: $s s"

  local sr sd
  sr=$(perl "$root/bench/files.pl" rename "$tree" "$nfiles" "$ndirs")
  add "$fs" rename "$(per_sec "$nfiles" "$sr")"
  sd=$(perl "$root/bench/files.pl" delete "$tree" "$nfiles" "$ndirs")
  add "$fs" delete "$(per_sec "$nfiles" "$sd")"
  v=$(per_sec "$nfiles" "$(awk -v a="$sr" -v b="$sd" 'BEGIN { print a + b }')"); add "$fs" rendel "$v"
  log "$fs: rename all: $(per_sec "$nfiles" "$sr") files/s, delete all: $(per_sec "$nfiles" "$sd") files/s"

  fs_umount "$fs"
}

# --- run ---------------------------------------------------------------------------------------
mkdir -p "$work"
for fs in "${all_fs[@]}"; do   # a previous run that was killed may have left mounts behind
  if is_mounted "$work/$fs/mnt"; then fusermount3 -u -z "$work/$fs/mnt" || true; fi
done
printf 'bench-passphrase-not-secret\n' >"$pass"
chmod 600 "$pass"

log "work directory $work ($(findmnt -n -o FSTYPE --target "$work"), $(df -P "$work" | awk 'NR == 2 { print $1 }'))"
log "measuring ${filesystems[*]}: $rounds round(s), ${size_mib} MiB sequential, $nfiles files in $ndirs folders"
for fs in "${filesystems[@]}"; do fs_init "$fs"; done
started=$SECONDS
for (( r = 0; r < rounds; r++ )); do
  n=${#filesystems[@]}
  for (( k = 0; k < n; k++ )); do
    fs=${filesystems[$(( (k + r) % n ))]}
    log "round $(( r + 1 ))/$rounds: $fs"
    run_round "$fs"
  done
done
for fs in "${filesystems[@]}"; do
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
    mib) awk -v v="$1" 'BEGIN { printf "%.0f", v }' ;;
    *) awk -v v="$1" 'BEGIN { printf "%.0f", v }' | sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta' ;;
  esac
}

phrfs_version=$([[ -x "$phrfs" ]] && "$phrfs" --version 2>/dev/null | head -n 1 || echo "not built")
gocryptfs_version=$(command -v gocryptfs >/dev/null && gocryptfs -version 2>/dev/null | awk '{ print $2 }' | tr -d ';' || echo -)
securefs_version=$(dpkg-query -W -f='${Version}' securefs 2>/dev/null || echo -)

{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) vCPU ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)),"
  echo "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), work directory on $(findmnt -n -o FSTYPE --target "$work")"
  echo "($(df -P "$work" | awk 'NR == 2 { print $1 }')). phrfs: $phrfs_version; gocryptfs $gocryptfs_version; securefs $securefs_version; $(fio --version)."
  echo "Command: \`$cmdline\` ($rounds round(s), median shown; took $(( elapsed / 60 )) min $(( elapsed % 60 )) s)."
  echo
  printf '| workload | phrfs | gocryptfs | securefs | phrfs / best peer |\n|---|---|---|---|---|\n'
  wl_rows=(
    "seqw|sequential write ${size_mib} MiB, dd bs=1M conv=fsync (MB/s)|hi|n"
    "seqr|sequential read ${size_mib} MiB, cold (MB/s)|hi|n"
    "rr|4 KiB random read, fio O_DIRECT (IOPS)|hi|n"
    "rw|4 KiB random write, fio O_DIRECT (IOPS)|hi|n"
    "create|create $nfiles files of 4 KiB in $ndirs folders (files/s)|hi|n"
    "readback|read them back, cold (files/s)|hi|n"
    "lslr|ls -lR of $nfiles files, cold (s)|lo|s"
    "rename|rename all (files/s)|hi|n"
    "delete|delete all (files/s)|hi|n"
    "rendel|rename + delete (files/s)|hi|n"
    "rss|daemon peak RSS, VmHWM (MiB)|lo|mib"
  )
  for row in "${wl_rows[@]}"; do
    IFS='|' read -r key label better kind <<<"$row"
    line="| $label"
    declare -A med=()
    for fs in "${all_fs[@]}"; do
      med[$fs]=$(printf '%s' "${vals[$fs|$key]:-}" | median)
      cell=$(fmt "${med[$fs]}" "$kind")
      fio_key=""; [[ "$key" == rr ]] && fio_key=randread; [[ "$key" == rw ]] && fio_key=randwrite
      [[ -n "$fio_key" && -n "${buffered[$fs|$fio_key]:-}" ]] && cell="$cell (buffered¹)"
      line="$line | $cell"
    done
    # Best peer: for random I/O only the O_DIRECT figures count, when there are any.
    best=""
    for fs in gocryptfs securefs; do
      [[ -n "${med[$fs]}" ]] || continue
      if [[ -n "${fio_key:-}" && -n "${buffered[$fs|$fio_key]:-}" ]]; then
        other=gocryptfs; [[ $fs == gocryptfs ]] && other=securefs
        if [[ -n "${med[$other]}" && -z "${buffered[$other|$fio_key]:-}" ]]; then continue; fi
      fi
      if [[ -z "$best" ]]; then best=${med[$fs]}
      elif [[ $better == hi ]]; then best=$(awk -v a="$best" -v b="${med[$fs]}" 'BEGIN { print (b > a ? b : a) }')
      else best=$(awk -v a="$best" -v b="${med[$fs]}" 'BEGIN { print (b < a ? b : a) }'); fi
    done
    ratio="–"
    if [[ -n "${med[phrfs]}" && -n "$best" ]]; then
      if [[ $better == hi ]]; then ratio=$(awk -v p="${med[phrfs]}" -v b="$best" 'BEGIN { if (b > 0) printf "%.2f", p / b; else print "–" }')
      else ratio=$(awk -v p="${med[phrfs]}" -v b="$best" 'BEGIN { if (p > 0) printf "%.2f", b / p; else print "–" }'); fi
    fi
    echo "$line | $ratio |"
    unset med
  done
  echo
  echo "The last column is phrfs's figure divided by the best peer's, so ≥ 1.00 means phrfs is at least as"
  echo "good; for the rows in seconds and MiB (lower is better) it is the best peer's divided by phrfs's."
  if (( ${#buffered[@]} )); then
    echo "¹ The file system refused O_DIRECT (fio: EINVAL), so that figure is buffered I/O and is not"
    echo "comparable; it is left out when picking the best peer."
  fi
  echo "Cold = the FUSE daemon unmounted and mounted again and the kernel's page cache dropped."
  echo "Peak RSS is the highest VmHWM of the daemon over every mount of the run."
  echo
  echo "All runs (one value per round, in round order):"
  echo
  echo '```'
  for row in "${wl_rows[@]}"; do
    IFS='|' read -r key label better kind <<<"$row"
    for fs in "${all_fs[@]}"; do
      [[ -n "${vals[$fs|$key]:-}" ]] && printf '%-9s %-9s %s\n' "$key" "$fs" "${vals[$fs|$key]}"
    done
  done
  echo '```'
} | tee "$work/results.md"
if [[ -n "$out" ]]; then cp "$work/results.md" "$out"; log "report written to $out"; fi
log "report also in $work/results.md"
