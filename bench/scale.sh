#!/usr/bin/env bash
# phrfs against gocryptfs with many files: N empty files created in N/1000 folders, then
# `find MNT | wc -l`, `ls -l` of a folder of 10,000 entries, `du -s MNT`, the same find after a
# remount (cold), and each daemon's peak memory (VmHWM) and peak number of open descriptors.
# Every round makes a fresh store per file system; the order rotates each round; the table shows
# medians. Progress on stderr, a markdown table on stdout. Never fails on a timing.
#
# usage: sudo bench/scale.sh [--files N] [--rounds N] [--rlimit-nofile N] [--dir DIR]
#                            [--phrfs PATH] [--only LIST] [--timeout S] [--out FILE] [--keep]
#   --files N          files to create (default 1000000), 1,000 per folder
#   --rounds N         rounds (default 3)
#   --rlimit-nofile N  start the phrfs daemon under `ulimit -n N` (soft and hard limit)
#   --dir DIR          work directory, on the disk to measure (default /var/tmp/phrfs-scale, or
#                      $PHRFS_BENCH_DIR); each run works in a temporary folder below it
#   --phrfs PATH       the phrfs binary (default build/fs/phrfs, or $PHRFS_BIN)
#   --only LIST        comma-separated subset of phrfs,gocryptfs
#   --timeout S        give up on one workload after S seconds (default 7200)
#   --out FILE         also write the markdown report to FILE
#   --keep             keep the temporary folder (stores, daemon logs) afterwards
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmdline="bench/scale.sh${*:+ $*}"

rounds=3 nfiles=1000000 perdir=1000 big=10000 step_timeout=7200 rlimit=""
base=${PHRFS_BENCH_DIR:-/var/tmp/phrfs-scale}
phrfs=${PHRFS_BIN:-$root/build/fs/phrfs}
only=phrfs,gocryptfs
out=""
keep=0
while (( $# )); do
  case "$1" in
    --files) nfiles=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --rlimit-nofile) rlimit=$2; shift ;;
    --dir) base=$2; shift ;;
    --phrfs) phrfs=$2; shift ;;
    --only) only=$2; shift ;;
    --timeout) step_timeout=$2; shift ;;
    --out) out=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale: unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "scale: $*"; exit 1; }

# --- preconditions -----------------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || die "run as root (mounting, and dropping the page cache need it)"
[[ -c /dev/fuse ]] || die "/dev/fuse is missing"
for tool in perl find du ls fusermount3 awk timeout; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh --bench"
done
[[ "$nfiles" =~ ^[1-9][0-9]*$ ]] || die "--files wants a positive number"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive number"
[[ -z "$rlimit" || "$rlimit" =~ ^[1-9][0-9]*$ ]] || die "--rlimit-nofile wants a positive number"
[[ -n "$base" && "$base" != / ]] || die "bad work directory: '$base'"
if [[ -n "$rlimit" ]] && ! (ulimit -n "$rlimit") 2>/dev/null; then
  die "cannot set ulimit -n $rlimit here (hard limit $(ulimit -Hn); raising it needs CAP_SYS_RESOURCE)"
fi

filesystems=()
IFS=, read -r -a wanted <<<"$only"
for fs in "${wanted[@]}"; do
  case "$fs" in
    phrfs)
      if [[ -x "$phrfs" ]]; then filesystems+=(phrfs)
      else log "phrfs binary $phrfs not found (scripts/build.sh builds it): phrfs column skipped"; fi ;;
    gocryptfs)
      if command -v gocryptfs >/dev/null; then filesystems+=(gocryptfs)
      else log "gocryptfs not installed (scripts/install-deps.sh --bench): its column is skipped"; fi ;;
    *) die "unknown file system in --only: $fs" ;;
  esac
done
(( ${#filesystems[@]} )) || die "nothing to measure"
all_fs=(phrfs gocryptfs)

# The folder `ls -l` lists: a separate one of $big entries when there are files enough that it
# is a small addition, else the largest folder of the tree.
ndirs=$(( (nfiles + perdir - 1) / perdir ))
if (( nfiles >= 2 * big )); then make_big=1; ls_entries=$big
else make_big=0; ls_entries=$(( nfiles < perdir ? nfiles : perdir )); fi

# --- mounting ----------------------------------------------------------------------------------
mkdir -p "$base"
work=$(mktemp -d "$base/run.XXXXXX")
pass=$work/passphrase
declare -A pid=() sampler=() peak_kib=() peak_fds=() nofile=()

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
  esac || { cat "$d/init.out" >&2; die "$fs: creating the store failed"; }
}

# Samples the daemon every 0.25 s, in one process (no fork per sample): the number of entries in
# /proc/PID/fd and VmHWM; writes the highest of each to FILE whenever one grows.
start_sampler() {
  local fs=$1 d; d=$(fs_dir "$fs")
  perl -e '
    use strict; use warnings;
    my ($pid, $file) = @ARGV;
    my ($fds_max, $hwm_max) = (0, 0);
    $SIG{TERM} = sub { exit 0 };
    while (kill 0, $pid) {
      my $fds = 0;
      if (opendir(my $dh, "/proc/$pid/fd")) { while (defined(my $e = readdir $dh)) { $fds++ unless $e =~ /^\./ } closedir $dh }
      my $hwm = 0;
      if (open(my $sh, "<", "/proc/$pid/status")) { while (<$sh>) { $hwm = $1 if /^VmHWM:\s+(\d+)/ } close $sh }
      if ($fds > $fds_max || $hwm > $hwm_max) {
        $fds_max = $fds if $fds > $fds_max; $hwm_max = $hwm if $hwm > $hwm_max;
        open(my $oh, ">", "$file.tmp") or die; print $oh "$fds_max $hwm_max\n"; close $oh;
        rename "$file.tmp", $file;
      }
      select(undef, undef, undef, 0.25);
    }' "${pid[$fs]}" "$d/peak" &
  sampler[$fs]=$!
}

# One more sample, now (the sampler's 0.25 s can miss a short peak): after every workload.
sample_now() {
  local fs=$1 p f; p=${pid[$fs]:-}
  [[ -n "$p" ]] || return 0
  f=$(ls -U1 "/proc/$p/fd" 2>/dev/null | wc -l) || return 0
  (( f > ${peak_fds[$fs]:-0} )) && peak_fds[$fs]=$f
  return 0
}

stop_sampler() {
  local fs=$1 d s f h; d=$(fs_dir "$fs")
  s=${sampler[$fs]:-}
  [[ -n "$s" ]] || return 0
  kill -TERM "$s" 2>/dev/null || true
  wait "$s" 2>/dev/null || true
  sampler[$fs]=""
  if [[ -s "$d/peak" ]]; then
    read -r f h <"$d/peak"
    (( f > ${peak_fds[$fs]:-0} )) && peak_fds[$fs]=$f
    (( h > ${peak_kib[$fs]:-0} )) && peak_kib[$fs]=$h
  fi
  rm -f "$d/peak"
}

# Starts the daemon in the foreground as our own child, so that its PID is known (for its peaks
# and for a clean stop), and waits until the kernel shows the mount.
fs_mount() {
  local fs=$1 d i; d=$(fs_dir "$fs")
  case "$fs" in
    phrfs)
      if [[ -n "$rlimit" ]]; then
        bash -c 'ulimit -n "$1" && shift && exec "$@"' _ "$rlimit" \
          "$phrfs" mount "$d/cipher" "$d/mnt" --passfile "$pass" --foreground \
          --log-file "$d/daemon.log" >>"$d/daemon.out" 2>&1 &
      else
        "$phrfs" mount "$d/cipher" "$d/mnt" --passfile "$pass" --foreground \
          --log-file "$d/daemon.log" >>"$d/daemon.out" 2>&1 &
      fi ;;
    gocryptfs) gocryptfs -fg -q -passfile "$pass" "$d/cipher" "$d/mnt" >>"$d/daemon.out" 2>&1 & ;;
  esac
  pid[$fs]=$!
  for (( i = 0; i < 600; i++ )); do
    if is_mounted "$d/mnt"; then
      nofile[$fs]=$(awk '/^Max open files/ { print $4 "/" $5 }' "/proc/${pid[$fs]}/limits" 2>/dev/null || true)
      start_sampler "$fs"
      return 0
    fi
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
  sample_now "$fs"
  stop_sampler "$fs"
  if is_mounted "$d/mnt"; then
    if [[ "$fs" == phrfs ]]; then
      timeout 300 "$phrfs" umount "$d/mnt" >>"$d/daemon.out" 2>&1 ||
        timeout 60 fusermount3 -u "$d/mnt" || true
    else
      timeout 60 fusermount3 -u "$d/mnt" || true
    fi
  fi
  if [[ -n "$p" ]]; then
    for (( i = 0; i < 300; i++ )); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      log "$fs: daemon $p still running 30 s after unmount: stopping it"
      kill -TERM "$p" 2>/dev/null || true
      sleep 1
      kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
    pid[$fs]=""
  fi
  if is_mounted "$d/mnt"; then timeout 60 fusermount3 -u -z "$d/mnt" 2>/dev/null || true; fi
}

drop_warned=0
drop_caches() {
  sync
  if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
    (( drop_warned )) || log "cannot drop the page cache here: cold runs only remount"
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
  done
  for fs in "${all_fs[@]}"; do
    if is_mounted "$work/$fs/mnt"; then keep=1; log "$work/$fs/mnt is still mounted: $work kept"; fi
  done
  if (( keep )); then log "kept $work"; else log "removing $work"; rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --- measuring ---------------------------------------------------------------------------------
declare -A vals=() fails=() counts=()
add() { vals["$1|$2"]+="$3 "; }          # fs workload value
fail() { fails["$1|$2"]+="round $3: $4; "; log "$1: $2 FAILED: $4"; }
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'; }
per_sec() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3f", (s > 0 ? n / s : 0) }'; }
why() {  # exit status, stderr file -> a short reason
  local rc=$1 err=$2
  if (( rc == 124 )); then printf 'timed out after %s s' "$step_timeout"
  else printf 'exit %s: %s' "$rc" "$(grep -v '^$' "$err" 2>/dev/null | head -n 1 | cut -c1-160)"; fi
}
# --foreground: Ctrl-C reaches the measured command (none of them forks).
tm() { timeout --foreground "$step_timeout" "$@"; }

# mk FS KEY ROUND DIR NFILES PERDIR: creates a tree with tree.pl (+ syncfs); files/s into KEY.
mk() {
  local fs=$1 key=$2 r=$3 dir=$4 n=$5 per=$6 d s t0 rc=0; d=$(fs_dir "$fs")
  s=$(tm perl "$root/bench/tree.pl" "$dir" "$n" "$per" 2>"$d/step.err") || rc=$?
  sample_now "$fs"
  if (( rc )); then fail "$fs" "$key" "$r" "$(why "$rc" "$d/step.err")"; return 1; fi
  t0=$EPOCHREALTIME; tm sync -f "$dir" || true
  s=$(awk -v a="$s" -v b="$(secs_since "$t0")" 'BEGIN { print a + b }')
  add "$fs" "$key" "$(per_sec "$n" "$s")"
  log "$fs: created $n files in $(( (n + per - 1) / per )) folder(s): $(per_sec "$n" "$s") files/s"
}

# timed FS KEY ROUND CMD...: runs CMD (stdout to $d/step.out), seconds into KEY.
timed() {
  local fs=$1 key=$2 r=$3 d t0 s rc=0; d=$(fs_dir "$fs")
  shift 3
  t0=$EPOCHREALTIME
  "$@" >"$d/step.out" 2>"$d/step.err" || rc=$?
  s=$(secs_since "$t0")
  sample_now "$fs"
  if (( rc )); then fail "$fs" "$key" "$r" "$(why "$rc" "$d/step.err")"; return 1; fi
  add "$fs" "$key" "$s"
  log "$fs: $key: $s s$( [[ "$key" == find* ]] && printf ' (%s entries)' "$(tr -d ' ' <"$d/step.out")")"
}

find_count() { set -o pipefail; tm find "$1" | wc -l; }

run_round() {
  local fs=$1 r=$2 d m ls_dir; d=$(fs_dir "$fs"); m=$d/mnt
  fs_init "$fs"
  drop_caches
  fs_mount "$fs"

  mk "$fs" create "$r" "$m/tree" "$nfiles" "$perdir" || true
  if (( make_big )); then
    mk "$fs" createbig "$r" "$m/big" "$big" "$big" || true
    ls_dir=$m/big/d0000
  else
    ls_dir=$m/tree/d0000
  fi
  if timed "$fs" find "$r" find_count "$m"; then counts[$fs|warm]=$(tr -d ' ' <"$d/step.out"); fi
  timed "$fs" ls "$r" tm ls -l "$ls_dir" || true
  timed "$fs" du "$r" tm du -s "$m" || true
  fs_cold "$fs"
  if timed "$fs" findcold "$r" find_count "$m"; then counts[$fs|cold]=$(tr -d ' ' <"$d/step.out"); fi
  fs_umount "$fs"
  log "$fs: removing the store"
  if (( ! keep )); then rm -rf "$d/cipher"; fi
}

# --- run ---------------------------------------------------------------------------------------
printf 'bench-passphrase-not-secret\n' >"$pass"
chmod 600 "$pass"

log "work directory $work ($(findmnt -n -o FSTYPE --target "$work"), $(df -P "$work" | awk 'NR == 2 { print $1 }'))"
log "measuring ${filesystems[*]}: $rounds round(s), $nfiles files in $ndirs folder(s)$( (( make_big )) && echo " + one folder of $big")${rlimit:+, phrfs under ulimit -n $rlimit}"
started=$SECONDS
for (( r = 0; r < rounds; r++ )); do
  n=${#filesystems[@]}
  for (( k = 0; k < n; k++ )); do
    fs=${filesystems[$(( (k + r) % n ))]}
    log "round $(( r + 1 ))/$rounds: $fs"
    run_round "$fs" $(( r + 1 ))
  done
done
for fs in "${filesystems[@]}"; do
  add "$fs" rss "$(awk -v k="${peak_kib[$fs]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')"
  add "$fs" fds "${peak_fds[$fs]:-0}"
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
commas() { printf '%s' "$1" | sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta'; }

phrfs_version=$([[ -x "$phrfs" ]] && "$phrfs" --version 2>/dev/null | head -n 1 || echo "not built")
gocryptfs_version=$(command -v gocryptfs >/dev/null && gocryptfs -version 2>/dev/null | awk '{ print $2 }' | tr -d ';' || echo -)
expected=$(( 1 + 1 + ndirs + nfiles + (make_big ? 2 + big : 0) ))   # MNT, tree, folders, files, big/…

declare -A incomplete=([phrfs]=0 [gocryptfs]=0)
for fs in "${filesystems[@]}"; do
  for k in warm cold; do
    [[ "${counts[$fs|$k]:-}" == "$expected" ]] || incomplete[$fs]=1
  done
done

{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) vCPU ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)),"
  echo "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), work directory on $(findmnt -n -o FSTYPE --target "$work")"
  echo "($(df -P "$work" | awk 'NR == 2 { print $1 }')). phrfs: $phrfs_version; gocryptfs $gocryptfs_version."
  echo "Command: \`$cmdline\` ($rounds round(s), median shown; took $(( elapsed / 60 )) min $(( elapsed % 60 )) s)."
  lim=""
  for fs in "${filesystems[@]}"; do lim="$lim${lim:+, }$fs ${nofile[$fs]:-?}"; done
  echo "Daemons' RLIMIT_NOFILE (soft/hard) as mounted: $lim."
  echo
  printf '| workload | phrfs | gocryptfs | ratio |\n|---|---|---|---|\n'
  wl_rows=("create|create $(commas "$nfiles") empty files in $(commas "$ndirs") folders (files/s)|hi|n")
  (( make_big )) && wl_rows+=("createbig|create $(commas "$big") empty files in one folder (files/s)|hi|n")
  wl_rows+=(
    "find|find MNT \\| wc -l, warm (s)|lo|s"
    "ls|ls -l of a folder of $(commas "$ls_entries") entries (s)|lo|s"
    "du|du -s MNT (s)|lo|s"
    "findcold|find MNT \\| wc -l after a remount, cold (s)|lo|s"
    "rss|daemon peak RSS, VmHWM (MiB)|lo|mib"
    "fds|daemon peak open descriptors (/proc/PID/fd, sampled)|lo|n"
  )
  for row in "${wl_rows[@]}"; do
    IFS='|' read -r key label better kind <<<"${row//\\|/$'\x01'}"
    label=${label//$'\x01'/\\|}
    line="| $label"
    declare -A med=()
    for fs in "${all_fs[@]}"; do
      med[$fs]=$(printf '%s' "${vals[$fs|$key]:-}" | median)
      cell=$(fmt "${med[$fs]}" "$kind")
      [[ -n "${fails[$fs|$key]:-}" ]] && cell="$cell (failed²)"
      line="$line | $cell"
    done
    ratio="–"
    p=${med[phrfs]} g=${med[gocryptfs]}
    if [[ "$key" == find* || "$key" == ls || "$key" == du ]] && (( incomplete[phrfs] || incomplete[gocryptfs] )); then
      line=$(awk -F' [|] ' -v OFS=' | ' -v p="${incomplete[phrfs]}" -v g="${incomplete[gocryptfs]}" \
        '{ if (p && $2 !~ /^–/) $2 = $2 "³"; if (g && $3 !~ /^–/) $3 = $3 "³"; print }' <<<"$line")
      p=""   # not comparable: no ratio
    fi
    if [[ -n "$p" && -n "$g" ]]; then
      [[ $better == hi ]] || { t=$p; p=$g; g=$t; }
      ratio=$(awk -v p="$p" -v g="$g" 'BEGIN { if (g <= 0) print "–"; else if (p / g >= 0.1) printf "%.2f", p / g;
                                                else printf "%.2g", p / g }')
    fi
    echo "$line | $ratio |"
    unset med
  done
  echo
  echo "Ratio: phrfs's figure divided by gocryptfs's, so ≥ 1.00 means phrfs is at least as good; for"
  echo "the rows in seconds, MiB and descriptors (lower is better) it is gocryptfs's divided by phrfs's."
  echo "Cold = the FUSE daemon unmounted and mounted again and the kernel's page cache dropped."
  echo "Peak RSS and descriptors are the highest of the daemon over every mount of the run (descriptors:"
  echo "counted every 0.25 s and after each workload)."
  seen=""
  for fs in "${filesystems[@]}"; do
    seen="$seen${seen:+; }$fs $(commas "${counts[$fs|warm]:-?}") warm, $(commas "${counts[$fs|cold]:-?}") cold"
  done
  echo "Entries find printed (expected $(commas "$expected")): $seen."
  if (( incomplete[phrfs] || incomplete[gocryptfs] )); then
    echo "³ Its tree was not complete (see the entries above), so its find, ls and du figures measure"
    echo "less work and get no ratio."
  fi
  if (( ${#fails[@]} )); then
    echo
    echo "² Failed (that round's figure is left out of the median):"
    for row in "${wl_rows[@]}"; do
      key=${row%%|*}
      for fs in "${all_fs[@]}"; do
        [[ -n "${fails[$fs|$key]:-}" ]] && echo "- $fs, $key: ${fails[$fs|$key]%; }"
      done
    done
  fi
  echo
  echo "All runs (one value per round, in round order):"
  echo
  echo '```'
  for row in "${wl_rows[@]}"; do
    IFS='|' read -r key _ <<<"${row//\\|/$'\x01'}"
    for fs in "${all_fs[@]}"; do
      [[ -n "${vals[$fs|$key]:-}" ]] && printf '%-9s %-9s %s\n' "$key" "$fs" "${vals[$fs|$key]}"
    done
  done
  echo '```'
} | tee "$base/results.md"
if [[ -n "$out" ]]; then cp "$base/results.md" "$out"; log "report written to $out"; fi
log "report also in $base/results.md"
