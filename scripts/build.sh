#!/usr/bin/env bash
# Configures and builds phrfs with CMake: build/ by default, build-asan/ with --sanitize
# (AddressSanitizer + UndefinedBehaviorSanitizer). Uses ccache when installed (CMakeLists.txt).
# The binary ends up at <build dir>/fs/phrfs.
#
# usage: scripts/build.sh [--sanitize] [--build-dir DIR] [--jobs N] [--type RelWithDebInfo|Debug|Release]
#        (environment: PHRFS_BUILD_DIR overrides the build directory too)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sanitize=0
build_dir=${PHRFS_BUILD_DIR:-}
jobs=$(nproc)
build_type=RelWithDebInfo
while (( $# )); do
  case "$1" in
    --sanitize) sanitize=1 ;;
    --build-dir) build_dir=$2; shift ;;
    --jobs|-j) jobs=$2; shift ;;
    --type) build_type=$2; shift ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build: unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$build_dir" ]]; then
  if (( sanitize )); then build_dir=$root/build-asan; else build_dir=$root/build; fi
fi

cmake_args=(-S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type")
if (( sanitize )); then cmake_args+=(-DPHRFS_SANITIZE=ON); else cmake_args+=(-DPHRFS_SANITIZE=OFF); fi

echo "build: configuring $build_dir ($build_type$( (( sanitize )) && echo ', ASan+UBSan'))"
mkdir -p "$build_dir"
cmake "${cmake_args[@]}" >"$build_dir/configure.log" 2>&1 || {
  cat "$build_dir/configure.log" >&2
  echo "build: cmake configure FAILED (log above: $build_dir/configure.log)" >&2
  exit 1
}
echo "build: compiling with -j$jobs"
cmake --build "$build_dir" -j "$jobs"
echo "build: ok: $build_dir"
