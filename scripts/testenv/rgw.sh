#!/bin/bash
# A throw-away Ceph RADOS Gateway on 127.0.0.1 for the S3 store tests (a strict SigV4 server).
#
#   scripts/testenv/rgw.sh up DIR PORT   fresh single-node cluster in DIR: 1 mon (127.0.0.1:6789,
#                                        messenger v1), 1 memstore OSD, no mgr, radosgw (beast) on
#                                        127.0.0.1:PORT, S3 user TESTACCESSKEY123 /
#                                        testsecretkey1234567890, bucket "phrfs"
#   scripts/testenv/rgw.sh down DIR      stops the daemons of DIR by their pid files
#
# Installs ceph-mon ceph-osd radosgw with apt-get when missing (daemons kept from starting by a
# temporary /usr/sbin/policy-rc.d when none exists). The mon port is fixed: one cluster at a time.
# Recipe and its quirks: shared/notes/rgw.md. Data lives in RAM (memstore, 1 GiB cap).
set -euo pipefail

readonly ACCESS_KEY=TESTACCESSKEY123
readonly SECRET_KEY=testsecretkey1234567890
readonly BUCKET=phrfs
readonly MON_ADDR=127.0.0.1:6789

die() { echo "rgw.sh: $*" >&2; exit 1; }
log() { echo "rgw.sh: t+${SECONDS}s $*"; }

install_packages() {
  local missing=()
  for bin in ceph-mon ceph-osd radosgw radosgw-admin monmaptool; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
  done
  (( ${#missing[@]} == 0 )) && return 0
  log "installing ceph-mon ceph-osd radosgw (missing: ${missing[*]})"
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local rc=0
  { timeout 300 apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends \
      ceph-mon ceph-osd radosgw; } >&2 || rc=$?
  (( made_policy )) && rm -f /usr/sbin/policy-rc.d
  (( rc == 0 )) || die "apt-get install failed ($rc)"
}

port_open() {  # port_open HOST PORT: something listens there
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

stop_daemons() {
  local dir=$1
  # radosgw first, the mon last: the others talk to it while they shut down.
  for name in client.rgw.a osd.0 mon.a; do
    local f="$dir/run/$name.pid"
    [[ -f $f ]] || continue
    local pid
    pid=$(cat "$f")
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

write_conf() {
  local dir=$1 port=$2 fsid=$3
  cat > "$dir/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = $MON_ADDR
public network = 127.0.0.1/32
auth cluster required = none
auth service required = none
auth client required = none
ms bind ipv4 = true
ms bind ipv6 = false
ms bind msgr1 = true
ms bind msgr2 = false
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
mon data = $dir/mon.\$id
osd data = $dir/osd.\$id
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon_osd_reporter_subtree_level = osd
# rgw creates its pools one paxos round each; the default interval makes start take 16 s.
paxos propose interval = 0.05
paxos min wait = 0.01
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $dir/rgw.a
rgw zone = default
CONF
}

up() {
  local dir=$1 port=$2
  [[ $port =~ ^[0-9]+$ ]] || die "bad port: $port"
  install_packages
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  stop_daemons "$dir"  # leftovers of an earlier run in this directory
  port_open 127.0.0.1 6789 && die "127.0.0.1:6789 is taken (another Ceph cluster is running)"
  port_open 127.0.0.1 "$port" && die "127.0.0.1:$port is taken"
  rm -rf "$dir/mon.a" "$dir/osd.0" "$dir/rgw.a" "$dir/run" "$dir/log" "$dir/ceph.conf" "$dir/monmap"
  mkdir -p "$dir"/{mon.a,osd.0,rgw.a,run,log}
  local fsid conf
  fsid=$(uuidgen)
  write_conf "$dir" "$port" "$fsid"
  conf=(-c "$dir/ceph.conf")
  local ceph=(timeout 20 ceph "${conf[@]}" --connect-timeout 5)

  monmaptool --create --add a "$MON_ADDR" --fsid "$fsid" "$dir/monmap" >/dev/null
  ceph-mon "${conf[@]}" --mkfs -i a --monmap "$dir/monmap"
  ceph-mon "${conf[@]}" -i a
  local ok=0
  for _ in $(seq 1 80); do
    "${ceph[@]}" mon stat >/dev/null 2>&1 && { ok=1; break; }
    sleep 0.25
  done
  (( ok )) || die "mon did not answer; see $dir/log/mon.a.log"
  log "mon up"

  local osd_uuid osd_id
  osd_uuid=$(uuidgen)
  osd_id=$("${ceph[@]}" osd new "$osd_uuid")
  [[ $osd_id == 0 ]] || die "unexpected osd id '$osd_id'"
  ceph-osd "${conf[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1 ||
    die "osd mkfs failed; see $dir/log/osd.0.log"
  # Now and then ceph-osd dies at init ("wrong fsid": its first mon command races the monmap)
  # and its launcher exits non-zero (250); start it again rather than give up or wait for an
  # OSD that is gone.
  ok=0
  for attempt in 1 2 3 4 5; do
    if ! ceph-osd "${conf[@]}" -i 0 2>>"$dir/log/osd-start.err"; then
      echo "rgw.sh: osd.0 failed at init (attempt $attempt), starting it again" >&2
      stop_daemons_osd_only "$dir"
      sleep 0.5
      continue
    fi
    for i in $(seq 1 80); do
      if "${ceph[@]}" osd stat 2>/dev/null | grep -q '1 up'; then ok=1; break; fi
      if (( i > 4 )) && ! kill -0 "$(cat "$dir/run/osd.0.pid" 2>/dev/null || echo 0)" 2>/dev/null; then
        break
      fi
      sleep 0.25
    done
    (( ok )) && break
    echo "rgw.sh: osd.0 did not come up (attempt $attempt)" >&2
    stop_daemons_osd_only "$dir"
  done
  (( ok )) || die "osd failed to start; see $dir/log/osd.0.log"
  log "osd up"

  radosgw "${conf[@]}" -n client.rgw.a
  ok=0
  for _ in $(seq 1 240); do
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/" && { ok=1; break; }
    sleep 0.25
  done
  (( ok )) || die "radosgw did not answer; see $dir/log/client.rgw.a.log"
  log "radosgw up on 127.0.0.1:$port"

  timeout 60 radosgw-admin "${conf[@]}" user create --uid=phrfs-test --display-name="phrfs test" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null ||
    die "radosgw-admin user create failed"
  # curl's SigV4 is good enough for this one request (sorted query and payload header given).
  local code
  code=$(curl -s -o "$dir/log/bucket-create.out" -w '%{http_code}' --max-time 30 -X PUT \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "http://127.0.0.1:$port/$BUCKET")
  [[ $code == 200 ]] || die "bucket create answered HTTP $code; see $dir/log/bucket-create.out"
  log "ready: http://127.0.0.1:$port bucket $BUCKET"
}

stop_daemons_osd_only() {
  local f="$1/run/osd.0.pid"
  [[ -f $f ]] || return 0
  local pid
  pid=$(cat "$f")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$f"
}

down() {
  local dir=$1
  [[ -d $dir ]] || return 0
  stop_daemons "$dir"
  log "stopped"
}

case "${1:-}" in
  up) (( $# == 3 )) || die "usage: rgw.sh up DIR PORT"; up "$2" "$3" ;;
  down) (( $# == 2 )) || die "usage: rgw.sh down DIR"; down "$2" ;;
  *) die "usage: rgw.sh up DIR PORT | down DIR" ;;
esac
