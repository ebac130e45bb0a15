#!/usr/bin/env bash
# Starts and stops a private Apache mod_dav server for the WebDAV store tests, bound to 127.0.0.1.
#
# usage: scripts/testenv/webdav.sh start DIR PORT [--auth USER:PASS] [--tls] [--fresh]
#        scripts/testenv/webdav.sh stop DIR
#
# start: installs apache2 + apache2-utils with apt-get when missing (with a temporary
#   /usr/sbin/policy-rc.d so the package does not start the system apache on port 80), writes
#   DIR/run/httpd.conf (mpm_event, dav_fs, FileETag Digest, no body limit, keep-alive), serves
#   DIR/data at http://127.0.0.1:PORT/, waits until PROPFIND answers, records the PID in
#   DIR/run/apache.pid and prints the base URL. A server already recorded in DIR is stopped first.
#   --fresh empties DIR/data first (test fixtures: nothing left from an aborted run).
#   --tls serves https with a certificate for IP 127.0.0.1 from a CA made on the first start;
#   clients trust DIR/run/tls/ca.pem.
# stop: signals only the recorded PID, and only when its command line names DIR (a reused PID is
#   left alone); SIGTERM, then SIGKILL after 15 s. Removes nothing but the PID file.
# When run as root the workers run as www-data: DIR and its parents must be traversable by it.
set -euo pipefail

die() { echo "webdav.sh: $*" >&2; exit 1; }

pid_matches() {  # PID DIR: alive and an apache2 started for DIR?
  local pid=$1 dir=$2
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline | grep -qF -- "$dir/run/httpd.conf"
}

stop_server() {
  local dir=$1 pidfile=$1/run/apache.pid pid
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  if [[ $pid =~ ^[0-9]+$ ]] && pid_matches "$pid" "$dir"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do
      pid_matches "$pid" "$dir" || break
      sleep 0.1
    done
    if pid_matches "$pid" "$dir"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
}

install_apache() {
  if [[ -x /usr/sbin/apache2 ]] && command -v htpasswd >/dev/null 2>&1; then return 0; fi
  [[ $(id -u) -eq 0 ]] || die "apache2 is not installed and installing it needs root"
  local guard=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# phrfs webdav.sh: no daemon starts during this install\nexit 101\n' \
      >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    guard=/usr/sbin/policy-rc.d
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y --no-install-recommends \
    apache2 apache2-utils >&2 || rc=$?
  [[ -n $guard ]] && rm -f "$guard"
  [[ $rc -eq 0 ]] || die "apt-get install apache2 apache2-utils failed ($rc)"
}

make_certs() {  # TLS_DIR: a throwaway CA and a server certificate for 127.0.0.1 (30 days)
  local t=$1
  [[ -f $t/server.pem && -f $t/ca.pem ]] &&
    openssl x509 -checkend 86400 -noout -in "$t/server.pem" >/dev/null 2>&1 && return 0
  mkdir -p "$t"
  (
    cd "$t"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -subj "/CN=phrfs test CA" -keyout ca.key -out ca.pem \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
      -keyout server.key -out server.csr &&
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
      >server.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -extfile server.ext -out server.pem
  ) >"$t/openssl.log" 2>&1 || die "making test certificates failed: $(tail -3 "$t/openssl.log")"
  chmod 600 "$t/ca.key" "$t/server.key"
}

write_config() {  # DIR PORT AUTH TLS
  local dir=$1 port=$2 auth=$3 tls=$4 run=$1/run mods=/usr/lib/apache2/modules
  local access="  Require all granted"
  if [[ -n $auth ]]; then
    access="  AuthType Basic
  AuthName \"phrfs test\"
  AuthUserFile \"$run/htpasswd\"
  Require valid-user"
  fi
  local user=""
  if [[ $(id -u) -eq 0 ]]; then user=$'User www-data\nGroup www-data'; fi
  local ssl=""
  if [[ $tls == 1 ]]; then
    ssl="LoadModule ssl_module $mods/mod_ssl.so
SSLEngine on
SSLProtocol -all +TLSv1.2 +TLSv1.3
SSLCertificateFile \"$run/tls/server.pem\"
SSLCertificateKeyFile \"$run/tls/server.key\""
  fi
  cat >"$run/httpd.conf" <<EOF
# Written by scripts/testenv/webdav.sh; rewritten on every start.
ServerRoot "$run"
DefaultRuntimeDir "$run"
PidFile "$run/httpd.pid"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
ErrorLog "$run/error.log"
LogLevel warn
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule auth_basic_module $mods/mod_auth_basic.so
LoadModule authn_file_module $mods/mod_authn_file.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule dav_module $mods/mod_dav.so
LoadModule dav_fs_module $mods/mod_dav_fs.so
DavLockDB "$run/lock/davlock"
# Strong content ETags at once (the default MTime Size is weak for a second after a write).
FileETag Digest
LimitRequestBody 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
Timeout 60
DocumentRoot "$dir/data"
<Directory />
  Require all denied
</Directory>
<Directory "$dir/data">
  Dav On
  Options None
  AllowOverride None
$access
</Directory>
$user
$ssl
EOF
}

start_server() {  # DIR PORT AUTH FRESH TLS
  local dir=$1 port=$2 auth=$3 fresh=$4 tls=$5 run=$1/run
  install_apache
  local apache=/usr/sbin/apache2
  stop_server "$dir"
  if [[ $fresh == 1 ]]; then rm -rf -- "$dir/data"; fi
  mkdir -p "$dir/data" "$run/lock"
  if [[ $(id -u) -eq 0 ]]; then
    chown www-data:www-data "$dir/data" "$run/lock"
    runuser -u www-data -- test -x "$dir/data" ||
      die "$dir is not reachable by www-data (a parent is private); use a directory under /tmp"
  fi
  if [[ -n $auth ]]; then
    [[ $auth == *:* ]] || die "--auth wants USER:PASS"
    # -i reads the password from stdin, so it never shows in a process listing.
    printf '%s' "${auth#*:}" | htpasswd -ciB -C 4 "$run/htpasswd" "${auth%%:*}" 2>/dev/null ||
      die "htpasswd failed"
    chmod 644 "$run/htpasswd"
  else
    rm -f "$run/htpasswd"
  fi
  local scheme=http curl_tls=()
  if [[ $tls == 1 ]]; then
    make_certs "$run/tls"
    scheme=https curl_tls=(--cacert "$run/tls/ca.pem")
  fi
  write_config "$dir" "$port" "$auth" "$tls"
  "$apache" -t -f "$run/httpd.conf" >"$run/configtest.log" 2>&1 ||
    die "bad config: $(cat "$run/configtest.log")"
  : >"$run/error.log"
  "$apache" -f "$run/httpd.conf" -DFOREGROUND </dev/null >>"$run/stdout.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$run/apache.pid"
  local code=000
  for _ in $(seq 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$run/apache.pid"
      die "apache exited at start: $(tail -5 "$run/error.log" "$run/stdout.log" 2>/dev/null)"
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X PROPFIND -H 'Depth: 0' \
      "${curl_tls[@]}" "$scheme://127.0.0.1:$port/" || true)
    [[ $code == 207 || $code == 401 ]] && break
    sleep 0.1
  done
  if [[ $code != 207 && $code != 401 ]]; then
    stop_server "$dir"
    die "apache on port $port did not answer PROPFIND (last: $code)"
  fi
  echo "$scheme://127.0.0.1:$port/"
}

cmd=${1:-}
case "$cmd" in
  start)
    (( $# >= 3 )) || die "usage: $0 start DIR PORT [--auth USER:PASS] [--tls] [--fresh]"
    dir=$2 port=$3 auth="" fresh=0 tls=0
    shift 3
    while (( $# )); do
      case "$1" in
        --auth) (( $# >= 2 )) || die "--auth wants USER:PASS"; auth=$2; shift ;;
        --fresh) fresh=1 ;;
        --tls) tls=1 ;;
        *) die "unknown option $1" ;;
      esac
      shift
    done
    [[ $port =~ ^[0-9]+$ ]] || die "bad port $port"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    start_server "$dir" "$port" "$auth" "$fresh" "$tls"
    ;;
  stop)
    (( $# == 2 )) || die "usage: $0 stop DIR"
    [[ -d $2 ]] || exit 0
    stop_server "$(cd "$2" && pwd)"
    ;;
  *)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
