#!/usr/bin/env bash
# Installs the dependencies, builds phrfs twice (normal, and ASan+UBSan), and runs every test
# tier: unit tests in both builds; mounted tests (real FUSE mounts) over the direct tree, over
# the object tree, with a daemon without DAC capabilities, and in the sanitizer build; the scale
# tier (100,000 files under RLIMIT_NOFILE 1,024); the remote tiers (the WebDAV and S3 stores
# against Apache mod_dav and Ceph RGW started on 127.0.0.1 by scripts/testenv/, and the mounted
# tests over each); and a check that every man page renders without a warning. Prints a summary; exits non-zero when anything failed. This is what .ci/run
# runs.
#
# usage: scripts/test-all.sh [--no-deps] [--no-sanitize]
# environment: PHRFS_BUILD_DIR (default build/), PHRFS_ASAN_BUILD_DIR (default build-asan/),
#   PHRFS_TEST_TIMEOUT_UNIT / _ASAN / _MOUNT (seconds for each ctest run; 480 / 780 / 1140),
#   PHRFS_TEST_TIMEOUT_EACH (seconds for one test without its own TIMEOUT; 300)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

deps=1
sanitize=1
for arg in "$@"; do
  case "$arg" in
    --no-deps) deps=0 ;;
    --no-sanitize) sanitize=0 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test-all: unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

build=${PHRFS_BUILD_DIR:-$root/build}
asan=${PHRFS_ASAN_BUILD_DIR:-$root/build-asan}
t_unit=${PHRFS_TEST_TIMEOUT_UNIT:-480}
t_asan=${PHRFS_TEST_TIMEOUT_ASAN:-780}
t_mount=${PHRFS_TEST_TIMEOUT_MOUNT:-1140}
t_each=${PHRFS_TEST_TIMEOUT_EACH:-300}
logs=$build/test-logs

# --- leftover mounts ---------------------------------------------------------------------------
# Lazily unmounts every FUSE mount whose mount point lies inside one of our build directories
# (the mounted tests make their temporary directories there: TMPDIR points into the build dir).
unmount_leftovers() {
  local src mnt fstype rest path dir
  while read -r src mnt fstype rest; do
    [[ "$fstype" == fuse* ]] || continue
    path=$(printf '%b' "$mnt")   # /proc/mounts writes space as \040, backslash as \134
    for dir in "$build" "$asan"; do
      if [[ "$path" == "$dir"/* ]]; then
        echo "test-all: unmounting leftover mount $path" >&2
        fusermount3 -u -z "$path" 2>/dev/null || umount -l "$path" 2>/dev/null || true
      fi
    done
  done < /proc/mounts
  return 0
}
trap 'unmount_leftovers' EXIT
trap 'echo "test-all: interrupted" >&2; exit 130' INT TERM

# --- steps -------------------------------------------------------------------------------------
declare -a step_names=() step_results=() step_secs=()
tests_passed=0
tests_failed=0

record() {  # name result seconds
  step_names+=("$1"); step_results+=("$2"); step_secs+=("$3")
}

# run_step NAME COMMAND...: runs it, output to the terminal and to $logs/NAME.log.
run_step() {
  local name=$1; shift
  local start=$SECONDS rc
  mkdir -p "$logs"
  echo
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$logs/$name.log"
  rc=${PIPESTATUS[0]}
  if (( rc == 0 )); then
    record "$name" ok $((SECONDS - start))
  elif (( rc == 124 )); then
    record "$name" "FAILED (timed out)" $((SECONDS - start))
  else
    record "$name" "FAILED (exit $rc)" $((SECONDS - start))
  fi
  return "$rc"
}

skip_step() { record "$1" "not run ($2)" 0; tests_failed=$((tests_failed + 1)); }

# Adds the counts of ctest's closing line ("NN% tests passed, F tests failed out of T") to the
# totals; a run that died before that line counts as one failure.
count_ctest() {
  local log=$logs/$1.log line failed total
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [[ -z "$line" ]]; then
    tests_failed=$((tests_failed + 1))
    return
  fi
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  tests_passed=$((tests_passed + total - failed))
  tests_failed=$((tests_failed + failed))
}

ctest_step() {  # name build_dir label jobs timeout
  local name=$1 dir=$2 label=$3 jobs=$4 limit=$5
  mkdir -p "$dir/tmp"
  # -L takes a regex: anchor it so "unit" does not also pick "unit-slow".
  TMPDIR=$dir/tmp run_step "$name" timeout --kill-after=30 "$limit" \
    ctest --test-dir "$dir" -L "^${label}\$" -j "$jobs" --output-on-failure \
          --no-tests=error --timeout "$t_each"
  count_ctest "$name"
  unmount_leftovers
}

# The mounted tier once more with the sanitizer build. Its daemons run detached with stderr on
# /dev/null, so every sanitizer report goes to a file (log_path); any report fails the step.
asan_mount_step() {
  local reports=$asan/sanitizer-reports saved_asan=$ASAN_OPTIONS saved_ubsan=$UBSAN_OPTIONS
  rm -rf "$reports" && mkdir -p "$reports"
  export ASAN_OPTIONS="$saved_asan:log_path=$reports/asan"
  export UBSAN_OPTIONS="$saved_ubsan:log_path=$reports/ubsan"
  ctest_step mount-asan "$asan" mount 1 "$t_mount"
  export ASAN_OPTIONS=$saved_asan UBSAN_OPTIONS=$saved_ubsan
  if compgen -G "$reports/*" >/dev/null; then
    echo "mount-asan: sanitizer reports from the daemon or the tests:"
    head -n 60 "$reports"/*
    record sanitizer-reports FAILED 0
    tests_failed=$((tests_failed + 1))
  else
    record sanitizer-reports ok 0
  fi
}

# The mounted tests that only use the mount (the differential tests, tests/mount/remote_test.cc,
# the sharing tests share_test.cc and owner_records_test.cc) over a remote store on a server of the project's own on 127.0.0.1: remote_mount_step NAME KIND
# with KIND webdav (Apache mod_dav) or s3 (Ceph RGW). Each fixture's store is a fresh folder or
# prefix there (PHRFS_TEST_STORE_BASE), its cache in its temp dir.
remote_mount_step() {
  # Under /tmp: Apache's workers (www-data) cannot enter a build directory in a private folder.
  local name=$1 kind=$2 base rc=0
  local dir=/tmp/phrfs-testenv-$(printf '%s' "$build" | md5sum | cut -c1-10)/$1
  # Sharing end to end (issue 7) on both: a record's folder and a share's prefix are
  # collections on WebDAV and key prefixes on S3.
  local tests='DifferentialTest|RemoteStoreTest|RemoteFaultTest|ShareTest|OwnerRecordsMountTest'
  mkdir -p "$build/tmp"
  if [[ $kind == webdav ]]; then
    if ! timeout 300 scripts/testenv/webdav.sh start "$dir" 18095 >/dev/null; then
      record "$name" "FAILED (server)" 0; tests_failed=$((tests_failed + 1)); return
    fi
    base=webdav://127.0.0.1:18095
    TMPDIR=$build/tmp PHRFS_TEST_STORE_BASE=$base PHRFS_DIFF_OPS=${PHRFS_DIFF_OPS_REMOTE:-2500} \
      run_step "$name" timeout --kill-after=30 "$t_mount" \
      ctest --test-dir "$build" -L '^(mount|remote-mount)$' -R "$tests" -j 1 --output-on-failure \
            --no-tests=error --timeout "$t_each" || rc=$?
    scripts/testenv/webdav.sh stop "$dir" >/dev/null 2>&1
  else
    if ! timeout 600 scripts/testenv/rgw.sh up "$dir" 7490 >/dev/null; then
      record "$name" "FAILED (server)" 0; tests_failed=$((tests_failed + 1)); return
    fi
    base=s3://phrfs
    TMPDIR=$build/tmp PHRFS_TEST_STORE_BASE=$base PHRFS_DIFF_OPS=${PHRFS_DIFF_OPS_REMOTE:-2500} \
      AWS_ENDPOINT_URL=http://127.0.0.1:7490 AWS_ACCESS_KEY_ID=TESTACCESSKEY123 \
      AWS_SECRET_ACCESS_KEY=testsecretkey1234567890 AWS_REGION=us-east-1 \
      run_step "$name" timeout --kill-after=30 "$t_mount" \
      ctest --test-dir "$build" -L '^(mount|remote-mount)$' -R "$tests" -j 1 --output-on-failure \
            --no-tests=error --timeout "$t_each" || rc=$?
    timeout 120 scripts/testenv/rgw.sh down "$dir" >/dev/null 2>&1
  fi
  count_ctest "$name"
  unmount_leftovers
  return "$rc"
}

man_check() {
  local page err rc=0 n=0
  shopt -s nullglob
  local pages=(man/*.[0-9])
  shopt -u nullglob
  if (( ${#pages[@]} == 0 )); then
    echo "man: no man pages under man/" >&2
    tests_failed=$((tests_failed + 1))
    return 1
  fi
  for page in "${pages[@]}"; do
    n=$((n + 1))
    # The check Debian's lintian runs: groff warnings and man's own complaints go to stderr.
    err=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
          man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
    if [[ -n "$err" ]]; then
      echo "man: $page: FAILED"
      printf '%s\n' "$err" | sed 's/^/    /'
      tests_failed=$((tests_failed + 1))
      rc=1
    elif ! LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q .; then
      echo "man: $page: FAILED (renders empty)"
      tests_failed=$((tests_failed + 1))
      rc=1
    else
      echo "man: $page: ok"
      tests_passed=$((tests_passed + 1))
    fi
  done
  return "$rc"
}

# --- run ---------------------------------------------------------------------------------------
started=$SECONDS
if (( deps )); then
  run_step deps scripts/install-deps.sh || { echo "test-all: cannot install dependencies" >&2; }
fi

built=0
if run_step build scripts/build.sh --build-dir "$build"; then built=1; else tests_failed=$((tests_failed + 1)); fi
asan_built=0
if (( sanitize )); then
  if run_step build-asan scripts/build.sh --sanitize --build-dir "$asan"; then asan_built=1
  else tests_failed=$((tests_failed + 1)); fi
fi

# Sanitizers: stop at the first report, with a stack, so the log shows where.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if (( built )); then ctest_step unit "$build" unit 2 "$t_unit"; else skip_step unit "build failed"; fi
if (( sanitize )); then
  if (( asan_built )); then ctest_step unit-asan "$asan" unit 2 "$t_asan"
  else skip_step unit-asan "sanitizer build failed"; fi
fi
# The mounted tier over each kind of tree (the vault must not care), and once more with a daemon
# that lacks the capabilities that let root ignore permission bits.
if (( built )); then
  PHRFS_TEST_TREE=direct ctest_step mount "$build" mount 1 "$t_mount"
  PHRFS_TEST_TREE=objects ctest_step mount-objects "$build" mount 1 "$t_mount"
  PHRFS_TEST_TREE=direct PHRFS_TEST_DAEMON_CAPS=drop ctest_step mount-nocaps "$build" mount 1 "$t_mount"
  PHRFS_TEST_TREE=direct ctest_step scale "$build" scale 1 "$t_mount"
  # Remote stores: the contract suites against Apache mod_dav and Ceph RGW (ctest fixtures start
  # and stop the servers), then the mounted tests over each.
  ctest_step remote "$build" remote 1 "$t_mount"
  remote_mount_step mount-webdav webdav
  remote_mount_step mount-s3 s3
else
  skip_step mount "build failed"
fi
if (( sanitize )); then
  if (( asan_built )); then asan_mount_step; else skip_step mount-asan "sanitizer build failed"; fi
fi
mkdir -p "$logs"
echo
echo "=== man: man --warnings -l man/*.[0-9]"
man_start=$SECONDS
man_check >"$logs/man.log" 2>&1
man_rc=$?
cat "$logs/man.log"
if (( man_rc == 0 )); then record man ok $((SECONDS - man_start))
else record man FAILED $((SECONDS - man_start)); fi

# --- summary -----------------------------------------------------------------------------------
echo
echo "=== summary ($(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s; logs in $logs)"
status=0
for i in "${!step_names[@]}"; do
  printf '  %-12s %-22s %5ss\n' "${step_names[$i]}" "${step_results[$i]}" "${step_secs[$i]}"
  [[ "${step_results[$i]}" == ok ]] || status=1
done
(( tests_failed == 0 )) || status=1
echo "test-all: $tests_passed passed, $tests_failed failed"
exit "$status"
