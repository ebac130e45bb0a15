#!/usr/bin/env bash
# Installs, from Debian 12's own packages, everything phrfs needs to build and run its tests
# (and with --bench, the peers and tools of bench/run.sh). Idempotent: when every package is
# already there it does nothing and asks no server. Runs apt-get as root, or through sudo.
# Package scripts may not start services while it runs (a temporary policy-rc.d), so installing
# apache2 or ceph never leaves a system daemon listening on *:80 or elsewhere.
#
# usage: scripts/install-deps.sh [--bench] [--quiet]
set -euo pipefail

want_bench=0
quiet=0
for arg in "$@"; do
  case "$arg" in
    --bench) want_bench=1 ;;
    --quiet|-q) quiet=1 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps: unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

# Build: compiler, CMake, and the libraries the code links against.
build_pkgs=(build-essential cmake pkg-config ccache
            libfuse3-dev fuse3 libssl-dev libcurl4-openssl-dev
            libyaml-cpp-dev libcli11-dev libgtest-dev libgmock-dev googletest
            libxml2-dev libsqlite3-dev)
# Tests and the demo: real tools the mounted tests run inside a mount, the man page check,
# hexdump (bsdextrautils) for the demo, ps/pgrep (procps), capsh (libcap2-bin) for the tier
# whose daemon lacks DAC capabilities; prlimit and setpriv come with util-linux.
# The remote tiers: Apache with mod_dav (WebDAV) and htpasswd, a one-node Ceph cluster with its
# RADOS Gateway (S3, strict SigV4; uuidgen from uuid-runtime for its ids), python3 for
# scripts/testenv/faultproxy.py, curl for probes, openssl for the WebDAV TLS test's CA, ss.
test_pkgs=(sqlite3 git rsync tar diffutils util-linux bsdextrautils procps coreutils findutils
           man-db groff-base libcap2-bin
           apache2 apache2-utils ceph-mon ceph-osd radosgw python3 curl
           uuid-runtime openssl iproute2)
# Benchmark only: the two peers, fio, and tools to look closer (perf, hyperfine, GNU time);
# rclone for bench/remote.sh (rclone mount + crypt over WebDAV, the peer of phrfs's remote stores).
bench_pkgs=(gocryptfs securefs fio hyperfine linux-perf time rclone)

pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}")
if (( want_bench )); then pkgs+=("${bench_pkgs[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$p")
done

if (( ${#missing[@]} == 0 )); then
  (( quiet )) || echo "install-deps: all ${#pkgs[@]} packages already installed"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo -n)
else
  echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/phrfs-install-deps.XXXXXX)

# Debian's postinst scripts start their service through invoke-rc.d / deb-systemd-invoke,
# which first ask /usr/sbin/policy-rc.d; 101 means "action forbidden". apache2 would otherwise
# start a system server on *:80, ceph its daemons. A policy-rc.d that is already there (a
# container's, an administrator's) is left exactly as it is; ours goes away on every exit.
policy=/usr/sbin/policy-rc.d
own_policy=0
cleanup() {
  if (( own_policy )); then "${sudo[@]}" rm -f "$policy" || true; fi
  rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
if [[ ! -e "$policy" && ! -L "$policy" ]]; then
  own_policy=1
  printf '#!/bin/sh\n# Temporary, from phrfs scripts/install-deps.sh: no service starts.\nexit 101\n' |
    "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
fi
run() {
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "$@" >"$log" 2>&1; then
    echo "install-deps: FAILED: $*" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}
run apt-get update -q
run apt-get install -y -q --no-install-recommends "${missing[@]}"

# Check that what we asked for is really there now (a silent partial install must fail here).
still=()
for p in "${missing[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || still+=("$p")
done
if (( ${#still[@]} )); then
  echo "install-deps: still missing after apt-get: ${still[*]}" >&2
  exit 1
fi
echo "install-deps: done"
