#!/usr/bin/env bash
# Makes the golden v1 store that tests/golden/golden_test.cc must always open and decrypt.
#
#   tests/golden/make_golden.sh PATH/TO/phrfs [--force]
#
# Run it ONCE, when the format is first frozen, and commit the result:
#   tests/golden/store-v1/   a store made by `phrfs init --scrypt-logn 10` with the passphrase
#                            "golden-passphrase", holding the tree below
#   tests/golden/expected.txt  the manifest: one line per entry, tab-separated
#                            PATH  TYPE(f|d|l)  SIZE  SHA256-or-LINK-TARGET   (dirs: "-  -")
# Never regenerate it to make a failing golden test pass: a failure means a change broke reading
# stores that users already have. The manifest is made from the plain source tree, not by
# reading the store back, so it does not depend on phrfs reading correctly.
# Not part of the test run; needs root and /dev/fuse.
set -euo pipefail
PHRFS=$(readlink -f "${1:?usage: make_golden.sh PATH/TO/phrfs [--force]}")
FORCE=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT_STORE=$HERE/store-v1
OUT_MANIFEST=$HERE/expected.txt
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

# ---- the manifest ----
(
  cd "$SRC"
  find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | while IFS= read -r p; do
    if [ -L "$p" ]; then
      printf '%s\tl\t%s\t%s\n' "$p" "$(readlink "$p" | tr -d '\n' | wc -c)" "$(readlink "$p")"
    elif [ -d "$p" ]; then
      printf '%s\td\t-\t-\n' "$p"
    else
      printf '%s\tf\t%s\t%s\n' "$p" "$(stat -c %s "$p")" "$(sha256sum <"$p" | cut -d' ' -f1)"
    fi
  done
) >"$WORK/expected.txt"

# ---- the store ----
printf 'golden-passphrase\n' >"$WORK/passfile"
mkdir "$MNT"
"$PHRFS" init "$WORK/store" --passfile "$WORK/passfile" --scrypt-logn 10 >/dev/null
"$PHRFS" mount "$WORK/store" "$MNT" --passfile "$WORK/passfile"
cp -a "$SRC/." "$MNT/"
diff -r --no-dereference "$SRC" "$MNT"
"$PHRFS" umount "$MNT"

rm -rf "$OUT_STORE"
cp -a "$WORK/store" "$OUT_STORE"
cp "$WORK/expected.txt" "$OUT_MANIFEST"
echo "wrote $OUT_STORE and $OUT_MANIFEST ($(wc -l <"$OUT_MANIFEST") entries)"
