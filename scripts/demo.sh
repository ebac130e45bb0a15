#!/usr/bin/env bash
# A first look at phrfs: installs what it needs, builds it, creates a demo record store on the
# local disk (demo/store), mounts it at demo/mnt, writes a few sample health records through the
# mount, and then shows both sides: plain files in the mount, only ciphertext in the store.
# Leaves the record mounted so you can look around; `phrfs umount demo/mnt` ends it.
# Safe to run again: it unmounts a previous demo mount first and reuses the store.
#
# usage: scripts/demo.sh [--no-deps] [--no-build]
# environment: PHRFS_DEMO_DIR (default: demo/ in the repository), PHRFS_BUILD_DIR (default build/)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
deps=1
build=1
for arg in "$@"; do
  case "$arg" in
    --no-deps) deps=0 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

demo=${PHRFS_DEMO_DIR:-$root/demo}
build_dir=${PHRFS_BUILD_DIR:-$root/build}
phrfs=$build_dir/fs/phrfs
store=$demo/store
mnt=$demo/mnt
pass=$demo/passphrase

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
shown() {   # prints a command (paths relative to the repository), then runs it
  local a; printf '$'; for a in "$@"; do printf ' %q' "${a#"$root"/}"; done; printf '\n'; "$@"
}
rel() { local p=$1; printf '%s' "${p#"$root"/}"; }

is_mounted() {  # path -> 0 when something is mounted exactly there
  local want src mnt rest
  want=$(cd "$1" 2>/dev/null && pwd -P) || return 1
  while read -r src mnt rest; do
    [[ "$(printf '%b' "$mnt")" == "$want" ]] && return 0
  done < /proc/mounts
  return 1
}

if (( deps )); then say "Installing dependencies (Debian packages)"; scripts/install-deps.sh; fi
if (( build )); then say "Building phrfs"; PHRFS_BUILD_DIR=$build_dir scripts/build.sh; fi
[[ -x "$phrfs" ]] || { echo "demo: $phrfs not found; run scripts/build.sh first" >&2; exit 1; }
[[ -c /dev/fuse ]] || { echo "demo: /dev/fuse is missing: FUSE is not available here" >&2; exit 1; }

mkdir -p "$demo" "$mnt"
# Keep everything the demo makes out of git.
[[ -e "$demo/.gitignore" ]] || printf '*\n' >"$demo/.gitignore"

if is_mounted "$mnt"; then
  say "Unmounting the previous demo mount"
  shown "$phrfs" umount "$mnt" || fusermount3 -u "$mnt"
fi

if [[ ! -s "$pass" ]]; then
  # A random passphrase, kept in a file only because this is a demo; for real records let
  # phrfs ask for it on the terminal.
  umask 077
  printf 'demo-%s\n' "$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')" >"$pass"
  umask 022
fi

if [[ -e "$store/phrfs.conf" ]]; then
  say "Reusing the demo store $(rel "$store")"
  echo "(Its passphrase is in $(rel "$pass"): a DEMO passphrase, kept in a file only for this demo.)"
else
  say "Creating the demo record store $(rel "$store")"
  echo "(The passphrase is in $(rel "$pass"): a DEMO passphrase, kept in a file only for this demo;"
  echo " for real records let phrfs ask for the passphrase on the terminal.)"
  "$phrfs" init "$store" --passfile "$pass" | tee "$demo/recovery-key.txt"
  echo "(The recovery key above is saved in $(rel "$demo")/recovery-key.txt for this demo only;"
  echo " for a real record, print it and keep it somewhere safe, away from the computer.)"
fi

say "Mounting it at $(rel "$mnt")"
shown "$phrfs" mount "$store" "$mnt" --passfile "$pass" --log-file "$demo/phrfs.log"

say "Writing sample health records through the mount"
mkdir -p "$mnt/lab-results" "$mnt/notes" "$mnt/imaging/2024-02-chest-xray"
cat >"$mnt/lab-results/2024-03-12 blood panel.txt" <<'EOF'
Patient: Jane Example            DOB: 1980-04-02
Lab: City Clinic Laboratory       Collected: 2024-03-12 08:10
Test                 Result   Units     Reference
Hemoglobin           13.8     g/dL      12.0-15.5
HbA1c                5.4      %         4.0-5.6
LDL cholesterol      3.1      mmol/L    < 3.0   (H)
TSH                  2.1      mIU/L     0.4-4.0
EOF
cat >"$mnt/notes/2024-03-15 follow-up.md" <<'EOF'
# Follow-up with Dr. Rivera, 2024-03-15
- LDL slightly high: diet first, recheck in 6 months.
- Allergy: penicillin (rash, 2009).
- Next appointment: 2024-09-20.
EOF
printf 'Chest X-ray, PA and lateral. No acute findings.\n' >"$mnt/imaging/2024-02-chest-xray/report.txt"
head -c 200000 /dev/urandom >"$mnt/imaging/2024-02-chest-xray/image-001.dcm"   # stands in for a DICOM image
echo "wrote 4 files in 4 folders"

say "What you see in the mount (ordinary files)"
shown ls -lR "$mnt"
echo
shown cat "$mnt/lab-results/2024-03-12 blood panel.txt"

say "What the store holds (what a backup, a cloud or a thief would see)"
echo "\$ find $(rel "$store") | head -n 30"
find "$store" | sed "s|^$root/||" | head -n 30
# The object of the lab result: the largest object smaller than the fake image, i.e. not the image.
obj=$(find "$store/d" -type f -size -100k -printf '%s %p\n' 2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)
if [[ -n "$obj" ]]; then
  echo
  echo "\$ hexdump -C $(rel "$obj") | head -n 12"
  hexdump -C "$obj" | head -n 12
fi
echo
echo "\$ grep -r -l -e Hemoglobin -e penicillin -e 'blood panel' $(rel "$store")"
if grep -r -l -e Hemoglobin -e penicillin -e 'blood panel' "$store"; then
  echo "demo: PLAINTEXT FOUND IN THE STORE: this is a bug" >&2
  exit 1
fi
echo "(no match: neither the contents nor the names are readable in the store)"

say "The record stays mounted at $(rel "$mnt")"
cat <<EOF
Look around:     ls -l $(rel "$mnt")     (any program can open these files)
Unmount it:      $(rel "$phrfs") umount $(rel "$mnt")
Mount it again:  $(rel "$phrfs") mount $(rel "$store") $(rel "$mnt") --passfile $(rel "$pass")
Start over:      $(rel "$phrfs") umount $(rel "$mnt"); rm -rf $(rel "$demo")
EOF
