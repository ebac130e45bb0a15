#!/usr/bin/env bash
# Makes the golden v2 store that tests/golden/golden_test.cc must always open and decrypt.
# (The v1 store beside it, store-v1/ with expected.txt, was made by this script's first version,
# at commit 0e04530, with a v1 build; it stays to test `phrfs upgrade`.)
#
#   tests/golden/make_golden.sh PATH/TO/phrfs [--force]
#
# Run it ONCE, when the format is first frozen, and commit the result:
#   tests/golden/store-v2/   a store made by `phrfs init --scrypt-logn 10` with the passphrase
#                            "golden-passphrase", holding the tree below
#   tests/golden/expected-v2.txt  the manifest: one line per entry, tab-separated
#                            PATH TYPE(f|d|l|p) SIZE SHA256-or-LINK-TARGET MODE MTIME
#                            (dirs and FIFOs: "-  -"; MODE octal, MTIME seconds.nanoseconds)
# Never regenerate it to make a failing golden test pass: a failure means a change broke reading
# stores that users already have. The manifest is made from the plain source tree, not by
# reading the store back, so it does not depend on phrfs reading correctly.
# Not part of the test run; needs root and /dev/fuse.
set -euo pipefail
PHRFS=$(readlink -f "${1:?usage: make_golden.sh PATH/TO/phrfs [--force]}")
FORCE=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT_STORE=$HERE/store-v2
OUT_MANIFEST=$HERE/expected-v2.txt
if [ -e "$OUT_STORE" ] && [ "$FORCE" != --force ]; then
  echo "make_golden.sh: $OUT_STORE exists; the golden store is made once (use --force only" \
       "before it was ever committed)" >&2
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/phrfs-golden-XXXXXX")
MNT=$WORK/mnt
cleanup() {
  if grep -qs " $MNT " /proc/self/mounts; then
    timeout 60 "$PHRFS" umount "$MNT" || timeout 20 fusermount3 -u -z "$MNT"
  fi
  grep -qs " $MNT " /proc/self/mounts || rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

# ---- the known content (no empty directories: git would not keep their store folders) ----
SRC=$WORK/src
mkdir -p "$SRC/nested/deeper" "$SRC/records"
: >"$SRC/empty"
printf 'A' >"$SRC/one-byte"
yes 'block-pattern-' | head -c 4096 >"$SRC/block-4096" || true
yes 'golden-0123456789abcdefghijklmnopqrstuvwxyz' | head -c 10000 >"$SRC/pattern-10000" || true
printf 'deep content\n' >"$SRC/nested/deeper/deep.txt"
printf 'glucose 5.4 mmol/l\n' >"$SRC/records/labs.txt"
ln -s pattern-10000 "$SRC/link-to-pattern"
ln -s ../records/labs.txt "$SRC/nested/link-up"
LONG=$(printf 'L%.0s' $(seq 1 200))
printf 'a 200-byte name\n' >"$SRC/$LONG"
printf 'unicode name\n' >"$SRC/Befund-Ärztin-日本-🩺.txt"
mkfifo "$SRC/records/fifo"
# Modes and times that the store must keep (format v2 stores them, encrypted).
chmod 0640 "$SRC/records/labs.txt"
chmod 0751 "$SRC/nested"
chmod 0600 "$SRC/one-byte"
chmod 0620 "$SRC/records/fifo"
i=0
find "$SRC" -mindepth 1 -depth -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' p; do
  i=$((i + 1))
  touch -h -d "@$((1700000000 + i * 86400)).$(printf '%09d' $((i * 123456789 % 1000000000)))" "$p"
done

# ---- the manifest ----
(
  cd "$SRC"
  find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | while IFS= read -r p; do
    meta=$(stat -c '%a' "$p")$'\t'$(stat -c '%.9Y' "$p")
    if [ -L "$p" ]; then
      printf '%s\tl\t%s\t%s\t%s\n' "$p" "$(readlink "$p" | tr -d '\n' | wc -c)" "$(readlink "$p")" "$meta"
    elif [ -d "$p" ]; then
      printf '%s\td\t-\t-\t%s\n' "$p" "$meta"
    elif [ -p "$p" ]; then
      printf '%s\tp\t-\t-\t%s\n' "$p" "$meta"
    else
      printf '%s\tf\t%s\t%s\t%s\n' "$p" "$(stat -c %s "$p")" "$(sha256sum <"$p" | cut -d' ' -f1)" "$meta"
    fi
  done
) >"$WORK/expected.txt"

# ---- the store ----
printf 'golden-passphrase\n' >"$WORK/passfile"
mkdir "$MNT"
"$PHRFS" init "$WORK/store" --passfile "$WORK/passfile" --scrypt-logn 10 >/dev/null
"$PHRFS" mount "$WORK/store" "$MNT" --passfile "$WORK/passfile"
cp -a "$SRC/." "$MNT/"
diff -r --no-dereference -x fifo "$SRC" "$MNT"  # diff cannot compare FIFOs; the manifest does
# cp -a set each directory's times before the entries inside it were made: set them again.
find "$SRC" -mindepth 1 -type d -printf '%P\n' | while IFS= read -r d; do touch -h -r "$SRC/$d" "$MNT/$d"; done
"$PHRFS" umount "$MNT"

rm -rf "$OUT_STORE"
cp -a "$WORK/store" "$OUT_STORE"
cp "$WORK/expected.txt" "$OUT_MANIFEST"
echo "wrote $OUT_STORE and $OUT_MANIFEST ($(wc -l <"$OUT_MANIFEST") entries)"
