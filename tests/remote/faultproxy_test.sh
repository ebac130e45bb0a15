#!/usr/bin/env bash
# Checks scripts/testenv/faultproxy.py with curl against a small HTTP/1.1 target written in
# Python: forwarding (keep-alive, Host unchanged, chunked both ways), every action (status with
# Retry-After, delay, reset, stall, truncate, cut_upload), skip/times/probability, the down
# switch, the control API and the byte counters. Everything listens on 127.0.0.1.
# Prints "N passed, M failed"; exits 1 when anything failed.
#
# usage: tests/remote/faultproxy_test.sh
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
proxy_sh=$root/scripts/testenv/faultproxy.sh
work=$(mktemp -d /tmp/phrfs-faultproxy-test.XXXXXX)
target_pid=

cleanup() {
  "$proxy_sh" stop "$work/p1" >/dev/null 2>&1 || true
  "$proxy_sh" stop "$work/p2" >/dev/null 2>&1 || true
  if [[ -n "$target_pid" ]]; then kill "$target_pid" 2>/dev/null; wait "$target_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    passed=$((passed + 1))
    echo "ok: $1"
  else
    failed=$((failed + 1))
    echo "FAILED: $1: expected '$2', got '$3'"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The target: GET /files/NAME serves files from $work/files; GET /chunked answers chunked;
# PUT /upload/NAME stores the body (Content-Length or chunked) and logs how much arrived.
cat >"$work/target.py" <<'PY'
import http.server, os, sys
root, log = sys.argv[2], sys.argv[3]
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def send(self, status, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Seen-Host", self.headers.get("Host", ""))
        for k, v in extra: self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"alpha-", b"beta-", b"gamma"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        path = os.path.join(root, os.path.basename(self.path))
        if not self.path.startswith("/files/") or not os.path.isfile(path):
            return self.send(404, b"not found\n")
        with open(path, "rb") as f: self.send(200, f.read())
    do_HEAD = do_GET
    def do_PUT(self):
        name = os.path.basename(self.path)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body, complete = b"", False
            while True:
                line = self.rfile.readline()
                if not line: break
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline(); complete = True; break
                body += self.rfile.read(size); self.rfile.readline()
            want = "chunked"
        else:
            want = int(self.headers["Content-Length"])
            body = self.rfile.read(want)
            complete = len(body) == want
        with open(log, "a") as f:
            f.write("%s %d %s\n" % (name, len(body), "complete" if complete else "short"))
        if complete:
            with open(os.path.join(root, name), "wb") as f: f.write(body)
            self.send(201, b"created\n")
        else:
            self.close_connection = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY

mkdir -p "$work/files"
python3 -c 'import sys; sys.stdout.buffer.write(bytes(i * 7 % 251 for i in range(100000)))' \
  >"$work/files/big"
printf 'small file\n' >"$work/files/a"
head -c 20000 "$work/files/big" >"$work/upload20k"

target_port=$(free_port)
python3 "$work/target.py" "$target_port" "$work/files" "$work/uploads.log" &
target_pid=$!
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$target_port/files/a" && break
  sleep 0.1
done

port=$(free_port)
url=$("$proxy_sh" start "$work/p1" "$port" "$target_port") || { echo "FAILED: proxy start"; exit 1; }
check "start prints the URL" "http://127.0.0.1:$port" "$url"

fault() { curl -s -X "$1" ${2:+--data-binary "$2"} "$url/__fault"; }
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
exit_of() { curl -s -o /dev/null "$@"; echo $?; }

# Forwarding.
curl -s -o "$work/got" "$url/files/big"
check "GET forwards the body unchanged" "0" "$(cmp -s "$work/got" "$work/files/big"; echo $?)"
check "keep-alive: two requests, one connection" "1 0 " \
  "$(curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "$url/files/a" "$url/files/a")"
check "Host header passes through unchanged" "example.test:1234" \
  "$(curl -s -D - -o /dev/null -H 'Host: example.test:1234' "$url/files/a" |
     tr -d '\r' | sed -n 's/^X-Seen-Host: //p')"
check "chunked response passes through" "alpha-beta-gamma" "$(curl -s "$url/chunked")"
check "Content-Length upload" "201" "$(code -T "$work/upload20k" "$url/upload/cl")"
check "chunked upload" "201" "$(code -T - "$url/upload/ch" <"$work/upload20k")"
check "uploads arrive whole" "cl 20000 complete|ch 20000 complete" \
  "$(paste -sd'|' "$work/uploads.log")"
check "missing target path is the target's 404" "404" "$(code "$url/files/none")"
check "HEAD (no body) keeps the connection for the next request" "200 200 1 0 " \
  "$(curl -s -o /dev/null -w '%{http_code} ' -I "$url/files/big" -o /dev/null "$url/files/a")$(
     curl -s -o /dev/null -w '%{num_connects} ' -I "$url/files/big" -o /dev/null "$url/files/a")"

# status, with Retry-After, once.
fault POST '{"method": "GET", "path": "^/files/a$", "action": "status", "status": 503,
             "retry_after": 2, "times": 1}' >/dev/null
check "status: 503 without reaching the target" "503 2" \
  "$(curl -s -D - -o /dev/null "$url/files/a" | tr -d '\r' |
     awk '/^HTTP/ {c = $2} /^Retry-After:/ {r = $2} END {print c, r}')"
check "status fires only 'times' times" "200" "$(code "$url/files/a")"
check "other methods and paths do not match" "200" "$(code "$url/files/big")"
check "seen and fired are counted" "2 1" \
  "$(fault GET | json 'd["rules"][0]["seen"], d["rules"][0]["fired"]')"
check "status on a PUT drains its body and keeps the connection" "503 201 " \
  "$(fault POST '{"method": "PUT", "action": "status", "status": 503, "times": 1}' >/dev/null
     curl -s -o /dev/null -o /dev/null -w '%{http_code} ' -T "$work/upload20k" \
       "$url/upload/s1" -T "$work/upload20k" "$url/upload/s2")"
fault DELETE >/dev/null

# skip, times, probability.
fault POST '{"path": "^/files/a$", "action": "status", "status": 500, "skip": 1, "times": 1}' >/dev/null
check "skip lets the first through, then fires once" "200 500 200" \
  "$(echo $(code "$url/files/a") $(code "$url/files/a") $(code "$url/files/a"))"
fault DELETE >/dev/null
fault POST '{"action": "status", "probability": 0}' >/dev/null
code "$url/files/a" >/dev/null; code "$url/files/a" >/dev/null
check "probability 0 never fires but counts seen" "2 0" \
  "$(fault GET | json 'd["rules"][0]["seen"], d["rules"][0]["fired"]')"
fault DELETE >/dev/null

# delay.
fault POST '{"path": "^/files/a$", "action": "delay", "ms": 700}' >/dev/null
check "delay holds the request back" "200 yes" \
  "$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$url/files/a" |
     awk '{print $1, ($2 >= 0.7 ? "yes" : "no: " $2)}')"
fault DELETE >/dev/null

# reset, stall, truncate.
fault POST '{"path": "^/files/a$", "action": "reset"}' >/dev/null
check "reset: empty reply (curl 52)" "52" "$(exit_of "$url/files/a")"
fault DELETE >/dev/null
fault POST '{"path": "^/files/a$", "action": "reset", "rst": true}' >/dev/null
check "reset with rst: connection reset (curl 56)" "56" "$(exit_of "$url/files/a")"
fault DELETE >/dev/null
fault POST '{"path": "^/files/a$", "action": "stall"}' >/dev/null
check "stall: the client times out (curl 28)" "28" "$(exit_of -m 2 "$url/files/a")"
fault DELETE >/dev/null
curl -s -X DELETE "$url/__stats" >/dev/null
fault POST '{"path": "^/files/big$", "action": "truncate", "bytes": 1000}' >/dev/null
check "truncate: partial file (curl 18) after 1000 bytes" "1000 18" \
  "$(curl -s -o /dev/null -w '%{size_download}' "$url/files/big"; echo " $?")"
check "truncate: the counters saw 1000 body bytes" "1000" \
  "$(curl -s "$url/__stats?prefix=/files/big" | json 'd["total"]["body_bytes"]')"
fault DELETE >/dev/null

# cut_upload: the target sees a short body, the client an empty reply.
fault POST '{"method": "PUT", "action": "cut_upload", "bytes": 5000}' >/dev/null
check "cut_upload: empty reply (curl 52)" "52" "$(exit_of -T "$work/upload20k" "$url/upload/cut")"
sleep 0.3
check "cut_upload: the target got exactly 5000 bytes" "cut 5000 short" \
  "$(grep '^cut ' "$work/uploads.log")"
check "cut_upload: nothing was stored" "no" "$([[ -e $work/files/cut ]] && echo yes || echo no)"
fault DELETE >/dev/null

# down.
check "down is set" "True" "$(fault POST '{"down": true}' | json 'd["down"]')"
check "down: every request is reset (curl 56)" "56 56" \
  "$(echo $(exit_of "$url/files/a") $(exit_of -T "$work/upload20k" "$url/upload/down"))"
check "down: the control API still answers" "True" "$(fault GET | json 'd["down"]')"
fault DELETE >/dev/null
check "DELETE /__fault clears down" "200" "$(code "$url/files/a")"

# Counters per path prefix.
curl -s -X DELETE "$url/__stats" >/dev/null
curl -s -o /dev/null "$url/files/big"
curl -s -o /dev/null "$url/files/a"
check "stats: body bytes of one path" "100000" \
  "$(curl -s "$url/__stats?prefix=/files/big" | json 'd["total"]["body_bytes"]')"
check "stats: a prefix sums its paths" "100011 2" \
  "$(curl -s "$url/__stats?prefix=/files/" | json 'd["total"]["body_bytes"], d["total"]["requests"]')"
check "stats: bytes include the response heads" "yes" \
  "$(curl -s "$url/__stats?prefix=/files/big" | json '"yes" if d["total"]["bytes"] > 100000 else "no"')"
curl -s -o /dev/null -T "$work/upload20k" "$url/upload/counted"
check "stats: upload bytes" "20000" \
  "$(curl -s "$url/__stats?prefix=/upload/counted" | json 'd["total"]["upload_bytes"]')"

# The control API refuses bad rules and removes one rule by id.
check "bad action is a 400" "400" \
  "$(code -X POST --data-binary '{"action": "explode"}' "$url/__fault")"
check "bad regex is a 400" "400" \
  "$(code -X POST --data-binary '{"action": "reset", "path": "("}' "$url/__fault")"
check "truncate without bytes is a 400" "400" \
  "$(code -X POST --data-binary '{"action": "truncate"}' "$url/__fault")"
check "a rejected list adds nothing" "0" \
  "$(code -X POST --data-binary '[{"action": "reset"}, {"action": "nope"}]' "$url/__fault" >/dev/null
     fault GET | json 'len(d["rules"])')"
id=$(fault POST '{"path": "^/files/a$", "action": "reset"}' | json 'd["added"][0]["id"]')
check "DELETE ?id= removes that rule" "200 200" \
  "$(echo $(code -X DELETE "$url/__fault?id=$id") $(code "$url/files/a"))"

# Rules given at start, and stop.
port2=$(free_port)
"$proxy_sh" start "$work/p2" "$port2" "$target_port" \
  --rule '{"path": "^/files/a$", "action": "status", "status": 429}' >/dev/null
check "--rule at start" "429" "$(code "http://127.0.0.1:$port2/files/a")"
pid2=$(cat "$work/p2/faultproxy.pid")
"$proxy_sh" stop "$work/p2"
# An exited process may stay a zombie until PID 1 reaps it; its cmdline is empty then.
check "stop ends that process and removes its PID file" "gone gone" \
  "$([[ -s /proc/$pid2/cmdline ]] && echo alive || echo gone) $([[ -e $work/p2/faultproxy.pid ]] && echo left || echo gone)"
check "the other proxy still runs" "200" "$(code "$url/files/a")"
check "a bad --rule stops the start" "1" \
  "$("$proxy_sh" start "$work/p3" "$(free_port)" "$target_port" --rule '{"action": 1}' >/dev/null 2>&1; echo $?)"
check "the proxy logs no Authorization header" "0" \
  "$(curl -s -o /dev/null -u ann:Sup3rSecret "$url/files/a"; grep -c 'Sup3rSecret\|Authorization' "$work/p1/faultproxy.log")"

echo "$passed passed, $failed failed"
(( failed == 0 ))
