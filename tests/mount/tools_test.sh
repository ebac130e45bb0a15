#!/usr/bin/env bash
# Real tools inside a phrfs mount: cp -a, tar, rsync, sqlite3 and git, then a remount and the
# same checks again. Usage: tools_test.sh PATH/TO/phrfs
# Prints one PASS/FAIL line per check and "N passed, N failed"; exits non-zero on any failure.
# Everything lives in one temp dir; the mount is undone by the EXIT trap, also on failure.
set -u
PHRFS=${1:?usage: tools_test.sh PATH/TO/phrfs}
PHRFS=$(readlink -f "$PHRFS")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/phrfs-tools-XXXXXX")
STORE=$WORK/store
MNT=$WORK/mnt
SRC=$WORK/src
PASSFILE=$WORK/passfile
LOG=$WORK/phrfs.log
passed=0
failed=0

is_mounted() { grep -qs " $1 " /proc/self/mounts; }

cleanup() {
  if is_mounted "$MNT"; then
    timeout 60 "$PHRFS" umount "$MNT" >/dev/null 2>&1 || true
    is_mounted "$MNT" && timeout 20 fusermount3 -u -z "$MNT"
  fi
  if [ -n "${PHRFS_KEEP_TEMP:-}" ]; then
    echo "PHRFS_KEEP_TEMP: leaving $WORK"
  elif ! is_mounted "$MNT"; then
    rm -rf --one-file-system "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

do_mount() {
  timeout 60 "$PHRFS" mount "$STORE" "$MNT" --passfile "$PASSFILE" --log-file "$LOG"
}
do_umount() {
  timeout 60 "$PHRFS" umount "$MNT"
}

# check NAME FUNCTION: runs the function in a subshell with errexit and a timeout.
check() {
  local name=$1 fn=$2
  local out=$WORK/check.out
  if timeout 300 bash -c "set -euo pipefail; $(declare -f); $fn" >"$out" 2>&1; then
    passed=$((passed + 1))
    echo "PASS $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    sed 's/^/    /' "$out" | tail -25
  fi
}

# Listing of a tree for comparison: relative path, type, mode, size, mtime (files only), link
# count, link target. Directory sizes and times, and symlink times, are left out.
describe_tree() {
  (cd "$1" && find . -mindepth 1 \( -type d -printf '%P d %m\n' \) -o \
       \( -type l -printf '%P l %s %l\n' \) -o \
       \( -printf '%P %y %m %s %T@ %n\n' \) | LC_ALL=C sort)
}

make_source_tree() {
  mkdir -p "$SRC/records/2024/labs" "$SRC/imaging" "$SRC/sp ace dir" "$SRC/ünïcødé-日本"
  : >"$SRC/empty"
  printf 'x' >"$SRC/one-byte"
  head -c 4096 /dev/urandom >"$SRC/records/block"
  head -c 10000 /dev/urandom >"$SRC/records/2024/labs/cbc.csv"
  head -c $((1024 * 1024 + 3)) /dev/urandom >"$SRC/imaging/scan.dcm"
  printf 'allergies: penicillin\n' >"$SRC/sp ace dir/notes.txt"
  printf 'unicode\n' >"$SRC/ünïcødé-日本/ファイル.txt"
  printf '#!/bin/sh\necho hi\n' >"$SRC/run.sh"
  chmod 755 "$SRC/run.sh"
  chmod 600 "$SRC/records/block"
  ln -s records/2024/labs/cbc.csv "$SRC/latest-labs"
  ln -s does-not-exist "$SRC/dangling"
  ln "$SRC/one-byte" "$SRC/hard-link-to-one-byte"
  touch -d '2001-02-03 04:05:06.123456789' "$SRC/records/2024/labs/cbc.csv"
  printf 'l%.0s' $(seq 1 200) >"$WORK/longname"
  printf 'long name\n' >"$SRC/$(cat "$WORK/longname")"
}

t_cp_a() {
  cp -a "$SRC" "$MNT/cp"
  diff -r --no-dereference "$SRC" "$MNT/cp"
  diff <(describe_tree "$SRC") <(describe_tree "$MNT/cp")
  [ "$(stat -c %i "$MNT/cp/one-byte")" = "$(stat -c %i "$MNT/cp/hard-link-to-one-byte")" ]
  [ "$(stat -c %h "$MNT/cp/one-byte")" = 2 ]
}

t_tar_roundtrip() {
  mkdir "$MNT/tarx" "$WORK/tarback"
  tar --format=posix -C "$SRC" -cf - . | tar -C "$MNT/tarx" -xpf -
  diff -r --no-dereference "$SRC" "$MNT/tarx"
  diff <(describe_tree "$SRC") <(describe_tree "$MNT/tarx")
  tar --format=posix -C "$MNT/tarx" -cf "$MNT/archive.tar" .
  tar -C "$WORK/tarback" -xpf "$MNT/archive.tar"
  diff -r --no-dereference "$SRC" "$WORK/tarback"
  tar -tf "$MNT/archive.tar" | grep 'imaging/scan.dcm' >/dev/null  # not -q: SIGPIPE under pipefail
}

t_rsync_in_and_out() {
  rsync -aH "$SRC/" "$MNT/rs/"
  diff -r --no-dereference "$SRC" "$MNT/rs"
  diff <(describe_tree "$SRC") <(describe_tree "$MNT/rs")
  # A second run must find nothing to transfer (times and sizes kept exactly).
  local changes
  changes=$(rsync -aHni "$SRC/" "$MNT/rs/" | grep -E '^[.>c]f' || true)
  [ -z "$changes" ] || { echo "rsync sees changes after a full copy:"; echo "$changes"; false; }
  # An update goes through rsync's temp file + rename over the existing file.
  local src2=$WORK/src2
  cp -a "$SRC" "$src2"
  printf 'changed\n' >>"$src2/sp ace dir/notes.txt"
  rsync -aH "$src2/" "$MNT/rs/"
  diff -r --no-dereference "$src2" "$MNT/rs"
  head -c 5000 /dev/urandom | dd of="$src2/imaging/scan.dcm" bs=1 seek=70000 conv=notrunc status=none
  rsync -aHc --inplace --no-whole-file "$src2/imaging/" "$MNT/rs/imaging/"
  rsync -aH "$MNT/rs/" "$WORK/rsback/"
  diff -r --no-dereference "$src2" "$WORK/rsback"
  diff <(describe_tree "$src2") <(describe_tree "$WORK/rsback")
}

t_sqlite() {
  local db=$MNT/health.sqlite
  {
    echo "CREATE TABLE obs(id INTEGER PRIMARY KEY, patient TEXT, code TEXT, value REAL);"
    echo "BEGIN;"
    for i in $(seq 1 1000); do
      echo "INSERT INTO obs(patient, code, value) VALUES('p$((i % 17))', 'LOINC-$i', $i.5);"
    done
    echo "COMMIT;"
    echo "CREATE INDEX obs_patient ON obs(patient);"
  } | sqlite3 "$db"
  [ "$(sqlite3 "$db" 'SELECT count(*) FROM obs;')" = 1000 ]
  [ "$(sqlite3 "$db" 'SELECT sum(value) FROM obs;')" = 501000.0 ]
  [ "$(sqlite3 "$db" "SELECT count(*) FROM obs WHERE patient='p3';")" = 59 ]
  [ "$(sqlite3 "$db" 'PRAGMA integrity_check;')" = ok ]
  sqlite3 "$db" "UPDATE obs SET value = value + 1 WHERE id % 2 = 0; DELETE FROM obs WHERE id > 900; VACUUM;"
  [ "$(sqlite3 "$db" 'SELECT count(*) FROM obs;')" = 900 ]
  [ "$(sqlite3 "$db" 'PRAGMA integrity_check;')" = ok ]
  # WAL mode needs a shared writable mapping of the -shm file.
  local wal=$MNT/wal.sqlite
  [ "$(sqlite3 "$wal" 'PRAGMA journal_mode=WAL;')" = wal ]
  sqlite3 "$wal" "CREATE TABLE t(x); BEGIN; $(for i in $(seq 1 300); do printf 'INSERT INTO t VALUES(%d);' "$i"; done) COMMIT;"
  [ "$(sqlite3 "$wal" 'SELECT count(*), sum(x) FROM t;')" = "300|45150" ]
  [ "$(sqlite3 "$wal" 'PRAGMA integrity_check;')" = ok ]
}

t_sqlite_concurrent_writers() {
  # Four processes write one database at once: POSIX locks and a coherent page cache across
  # processes are what keep it consistent.
  local db=$MNT/shared.sqlite
  sqlite3 "$db" "CREATE TABLE t(writer INTEGER, n INTEGER);"
  local pids=()
  for w in 1 2 3 4; do
    (
      for batch in $(seq 1 10); do
        {
          echo ".timeout 20000"
          echo "BEGIN IMMEDIATE;"
          for n in $(seq 1 20); do echo "INSERT INTO t VALUES($w, $batch$n);"; done
          echo "COMMIT;"
        } | sqlite3 "$db"
      done
    ) &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  [ "$(sqlite3 "$db" 'SELECT count(*) FROM t;')" = 800 ]
  [ "$(sqlite3 "$db" 'SELECT count(DISTINCT writer) FROM t;')" = 4 ]
  [ "$(sqlite3 "$db" 'PRAGMA integrity_check;')" = ok ]
}

t_git() {
  cd "$MNT"
  mkdir repo && cd repo
  git init -q -b main
  git config user.email t@example.invalid
  git config user.name tester
  cp -a "$SRC/records" "$SRC/run.sh" .
  git add -A
  git commit -qm first
  git checkout -qb feature
  printf 'new finding\n' >records/finding.txt
  sed -i 's/hi/hello/' run.sh
  git add -A
  git commit -qm second
  git checkout -q main
  [ ! -e records/finding.txt ]
  grep -q 'echo hi' run.sh
  git checkout -q feature
  grep -q 'echo hello' run.sh
  [ "$(git log --oneline | wc -l)" = 2 ]
  [ -z "$(git status --porcelain)" ]
  git gc -q
  git fsck --strict 2>&1
}

t_after_remount() {
  diff -r --no-dereference "$SRC" "$MNT/cp"
  diff -r --no-dereference "$SRC" "$MNT/tarx"
  diff -r --no-dereference "$WORK/src2" "$MNT/rs"
  diff <(describe_tree "$WORK/src2") <(describe_tree "$MNT/rs")
  [ "$(sqlite3 "$MNT/health.sqlite" 'PRAGMA integrity_check;')" = ok ]
  [ "$(sqlite3 "$MNT/health.sqlite" 'SELECT count(*) FROM obs;')" = 900 ]
  [ "$(sqlite3 "$MNT/wal.sqlite" 'SELECT count(*), sum(x) FROM t;')" = "300|45150" ]
  [ "$(sqlite3 "$MNT/shared.sqlite" 'SELECT count(*) FROM t;')" = 800 ]
  cd "$MNT/repo"
  [ -z "$(git status --porcelain)" ]
  [ "$(git log --oneline | wc -l)" = 2 ]
  git fsck --strict 2>&1
}

# ---- run ----
mkdir -p "$MNT"
printf 'tools test passphrase\n' >"$PASSFILE"
umask 022
make_source_tree
export SRC MNT WORK
if ! timeout 60 "$PHRFS" init "$STORE" --passfile "$PASSFILE" --scrypt-logn 10 >/dev/null; then
  echo "FAIL init"; echo "0 passed, 1 failed"; exit 1
fi
if ! do_mount; then
  echo "FAIL mount"; echo "0 passed, 1 failed"; exit 1
fi

check "cp -a of a tree" t_cp_a
check "tar c/x round trip" t_tar_roundtrip
check "rsync -aH in and out" t_rsync_in_and_out
check "sqlite3 transactions, WAL and integrity_check" t_sqlite
check "sqlite3 with four concurrent writer processes" t_sqlite_concurrent_writers
check "git init/commit/branch/checkout/fsck" t_git

if do_umount && do_mount; then
  check "everything intact after remount" t_after_remount
else
  failed=$((failed + 1))
  echo "FAIL remount"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
