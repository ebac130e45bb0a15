#!/usr/bin/env python3
"""faultproxy: an HTTP/1.1 proxy for phrfs's remote tests that breaks requests on purpose.

Listens on 127.0.0.1:LISTEN and forwards every request to 127.0.0.1:TARGET, byte for byte
(the Host header and any signature stay valid), with keep-alive towards the client and
Content-Length or chunked bodies both ways. Rules make chosen requests fail:

  {"method": "PUT", "path": "^/bucket/", "skip": 2, "times": 1, "probability": 1.0,
   "action": "status", "status": 503, "retry_after": 1}

  method       match only this method (default: any)
  path         a Python regex searched in the request path, query excluded (default: any)
  skip         let this many matching requests through before firing (default 0)
  times        fire at most this many times (default: no limit)
  probability  fire with this probability, 0..1 (default 1)
  action       status      answer with `status` (default 503), an optional Retry-After
                           (`retry_after`) and `body`, without reaching the target
               delay       wait `ms` milliseconds, then forward as usual
               reset       close the connection without a response (FIN; "rst": true
                           sends a TCP reset instead)
               stall       send nothing and wait until the client gives up
               truncate    forward, send the response head and `bytes` body bytes (as framed
                           by the target), then close; a shorter body is sent whole, then close
               cut_upload  forward the head and `bytes` request-body bytes, then close both
                           connections (the target sees a short upload, the client no
                           response); a body of at most `bytes` bytes goes through as usual

Rules are tried in the order they were added and the first that fires decides; each counts
`seen` (requests that reached it and matched method and path) and `fired`.
The `down` switch answers every proxied request with a TCP reset until it is cleared.

Control (answered by the proxy itself, also while down; JSON in and out):
  GET    /__fault            {"down": false, "rules": [{...rule, "id", "seen", "fired"}]}
  POST   /__fault            a rule, a list of rules, or {"down": true|false}
  DELETE /__fault            remove every rule and clear `down`; /__fault?id=N removes one
  GET    /__stats            bytes sent to the client per request path, and the total
  GET    /__stats?prefix=/p  the same summed over paths that begin with /p
  DELETE /__stats            zero the counters

Counters per path: requests, bytes (everything sent to the client for it), body_bytes
(response body bytes only, as framed by the target), upload_bytes (request body bytes
forwarded to the target).

Each proxied request gets its own connection to the target, so a fault never leaves a
half-used target connection behind. Python 3 standard library only.

usage: faultproxy.py --listen PORT --target PORT [--rule JSON]... [--seed N] [--dir DIR]
"""

import argparse
import asyncio
import http
import json
import random
import re
import signal
import socket
import struct
import sys
import urllib.parse

ACTIONS = ("status", "delay", "reset", "stall", "truncate", "cut_upload")
CONTROL_PATHS = ("/__fault", "/__stats")
MAX_HEAD = 64 * 1024
COPY_CHUNK = 64 * 1024
STALL_LIMIT_S = 3600  # a stalled connection is dropped after this, client or not
DRAIN_LIMIT_S = 30    # how long to read and discard after closing our side


class BadRequest(Exception):
    pass


class LimitReached(Exception):
    """A truncate or cut_upload rule has sent its bytes."""


class Rule:
    def __init__(self, spec, rule_id):
        if not isinstance(spec, dict):
            raise ValueError("a rule is a JSON object")
        known = {"method", "path", "skip", "times", "probability", "action", "status",
                 "retry_after", "body", "ms", "bytes", "rst"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError("unknown rule field(s): " + ", ".join(sorted(unknown)))
        self.id = rule_id
        self.method = spec.get("method")
        if self.method is not None:
            self.method = str(self.method).upper()
        self.path = spec.get("path")
        try:
            self.regex = re.compile(self.path) if self.path is not None else None
        except re.error as e:
            raise ValueError("bad path regex: %s" % e)
        self.skip = _whole(spec, "skip", 0)
        self.times = spec.get("times")
        if self.times is not None:
            self.times = _whole(spec, "times", 0)
        self.probability = spec.get("probability", 1.0)
        if not isinstance(self.probability, (int, float)) or not 0 <= self.probability <= 1:
            raise ValueError("probability must be a number from 0 to 1")
        self.action = spec.get("action")
        if self.action not in ACTIONS:
            raise ValueError("action must be one of " + ", ".join(ACTIONS))
        self.status = _whole(spec, "status", 503)
        if not 200 <= self.status <= 599:
            raise ValueError("status must be from 200 to 599")
        self.retry_after = spec.get("retry_after")
        self.body = str(spec.get("body", ""))
        self.ms = _whole(spec, "ms", 0)
        self.bytes = _whole(spec, "bytes", 0)
        self.rst = bool(spec.get("rst", False))
        if self.action == "delay" and "ms" not in spec:
            raise ValueError("a delay rule needs ms")
        if self.action in ("truncate", "cut_upload") and "bytes" not in spec:
            raise ValueError("a %s rule needs bytes" % self.action)
        self.seen = 0
        self.fired = 0
        self.spec = spec

    def matches(self, method, path):
        if self.method is not None and self.method != method:
            return False
        return self.regex is None or self.regex.search(path) is not None

    def to_json(self):
        out = dict(self.spec)
        out.update({"id": self.id, "seen": self.seen, "fired": self.fired})
        return out


def _whole(spec, key, default):
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("%s must be a whole number >= 0" % key)
    return value


class State:
    def __init__(self, seed):
        self.rules = []
        self.next_id = 1
        self.down = False
        self.stats = {}
        self.random = random.Random(seed)

    def add(self, spec):
        rule = Rule(spec, self.next_id)
        self.next_id += 1
        self.rules.append(rule)
        return rule

    def pick(self, method, path):
        """The rule that fires for this request, or None; updates the counters."""
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            rule.seen += 1
            if rule.seen <= rule.skip:
                continue
            if rule.times is not None and rule.fired >= rule.times:
                continue
            if rule.probability < 1 and self.random.random() >= rule.probability:
                continue
            rule.fired += 1
            return rule
        return None

    def counter(self, path):
        entry = self.stats.get(path)
        if entry is None:
            entry = {"requests": 0, "bytes": 0, "body_bytes": 0, "upload_bytes": 0}
            self.stats[path] = entry
        return entry


class Request:
    def __init__(self, head):
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            raise BadRequest("bad request line")
        self.method = parts[0].decode("latin-1")
        self.target = parts[1].decode("latin-1")
        self.version = parts[2]
        self.path = urllib.parse.urlsplit(self.target).path or "/"
        self.query = urllib.parse.urlsplit(self.target).query
        self.headers = _headers(lines[1:])

    def head_bytes(self, drop=()):
        out = [b"%s %s %s" % (self.method.encode("latin-1"), self.target.encode("latin-1"),
                               self.version)]
        for name, value in self.headers:
            if name.lower() not in drop:
                out.append(name + b": " + value)
        return b"\r\n".join(out) + b"\r\n\r\n"


def _headers(lines):
    headers = []
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise BadRequest("bad header line")
        headers.append((name, value.strip()))
    return headers


def header(headers, name):
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def framing(headers):
    """('chunked',) | ('length', n) | None when the headers give no length."""
    te = header(headers, b"transfer-encoding")
    if te is not None and te.lower().strip().endswith("chunked"):
        return ("chunked",)
    length = header(headers, b"content-length")
    if length is not None:
        if not length.isdigit():
            raise BadRequest("bad Content-Length")
        return ("length", int(length))
    return None


def wants_close(version, headers):
    connection = (header(headers, b"connection") or "").lower()
    if "close" in connection:
        return True
    return version == b"HTTP/1.0" and "keep-alive" not in connection


async def read_head(reader):
    """One message head including its blank line, or None at a clean end of stream."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial.strip():
            return None
        raise BadRequest("connection closed inside a message head")
    except asyncio.LimitOverrunError:
        raise BadRequest("message head too large")


class Sink:
    """Writes to a stream, counting, and raises LimitReached after `limit` bytes."""

    def __init__(self, writer, limit=None, count=None):
        self.writer = writer
        self.limit = limit
        self.count = count
        self.sent = 0

    async def write(self, data):
        stop = False
        if self.limit is not None and self.sent + len(data) >= self.limit:
            data = data[:self.limit - self.sent]
            stop = True
        if data:
            self.writer.write(data)
            self.sent += len(data)
            if self.count is not None:
                self.count(len(data))
            await self.writer.drain()
        if stop:
            raise LimitReached()


async def copy_body(reader, sink, frame):
    """Copies one body as framed (chunked framing is passed through unchanged)."""
    if frame is None:
        return
    if frame[0] == "length":
        left = frame[1]
        while left > 0:
            data = await reader.read(min(left, COPY_CHUNK))
            if not data:
                raise ConnectionError("body ended early")
            left -= len(data)
            await sink.write(data)
    elif frame[0] == "chunked":
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadRequest("bad chunk size")
            await sink.write(line)
            if size == 0:
                while True:  # trailers, up to the blank line
                    trailer = await reader.readuntil(b"\r\n")
                    await sink.write(trailer)
                    if trailer == b"\r\n":
                        return
            left = size + 2  # the chunk and its CRLF
            while left > 0:
                data = await reader.read(min(left, COPY_CHUNK))
                if not data:
                    raise ConnectionError("chunked body ended early")
                left -= len(data)
                await sink.write(data)
    elif frame[0] == "close":
        while True:
            data = await reader.read(COPY_CHUNK)
            if not data:
                return
            await sink.write(data)


class Discard:
    async def write(self, data):
        pass


class Proxy:
    def __init__(self, state, target_port, log):
        self.state = state
        self.target_port = target_port
        self.log = log

    async def serve(self, reader, writer):
        try:
            while True:
                head = await read_head(reader)
                if head is None:
                    break
                request = Request(head)
                if request.path in CONTROL_PATHS:
                    body = await self.read_body(reader, request)
                    keep = await self.control(request, body, writer)
                elif self.state.down:
                    self.log("down: reset %s %s" % (request.method, request.path))
                    self.reset(writer)
                    return
                else:
                    keep = await self.proxy(request, reader, writer)
                if not keep:
                    break
        except BadRequest as e:
            self.log("bad request: %s" % e)
            await self.respond(writer, 400, {"error": str(e)}, close=True)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def read_body(self, reader, request):
        frame = framing(request.headers)
        chunks = []

        class Collect:
            async def write(self, data):
                chunks.append(data)

        await copy_body(reader, Collect(), frame)
        raw = b"".join(chunks)
        if frame is not None and frame[0] == "chunked":
            raw = dechunk(raw)
        return raw

    async def respond(self, writer, status, payload, close=False, extra=(), count=None):
        body = payload if isinstance(payload, bytes) else (json.dumps(payload, indent=1) + "\n").encode()
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Status"
        head = ["HTTP/1.1 %d %s" % (status, reason), "Content-Length: %d" % len(body)]
        if not isinstance(payload, bytes):
            head.append("Content-Type: application/json")
        head.extend(extra)
        if close:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        writer.write(data)
        if count is not None:
            count(len(data))
        await writer.drain()

    async def control(self, request, body, writer):
        close = wants_close(request.version, request.headers)
        query = urllib.parse.parse_qs(request.query)
        state = self.state
        status, payload = 200, None
        if request.path == "/__fault":
            if request.method == "GET":
                payload = {"down": state.down, "rules": [r.to_json() for r in state.rules]}
            elif request.method == "POST":
                try:
                    spec = json.loads(body.decode() or "null")
                    if isinstance(spec, dict) and set(spec) == {"down"}:
                        state.down = bool(spec["down"])
                        payload = {"down": state.down}
                    else:
                        specs = spec if isinstance(spec, list) else [spec]
                        rules = [Rule(s, 0) for s in specs]  # check them all first
                        payload = {"added": [state.add(r.spec).to_json() for r in rules]}
                    self.log("control: POST /__fault %s" % json.dumps(spec))
                except (ValueError, UnicodeDecodeError) as e:
                    status, payload = 400, {"error": str(e)}
            elif request.method == "DELETE":
                if "id" in query:
                    ids = {int(i) for i in query["id"] if i.isdigit()}
                    before = len(state.rules)
                    state.rules = [r for r in state.rules if r.id not in ids]
                    payload = {"removed": before - len(state.rules)}
                    if payload["removed"] == 0:
                        status = 404
                else:
                    payload = {"removed": len(state.rules), "down": False}
                    state.rules = []
                    state.down = False
            else:
                status, payload = 405, {"error": "use GET, POST or DELETE"}
        else:  # /__stats
            if request.method == "GET":
                prefix = query.get("prefix", [None])[0]
                paths = {p: c for p, c in state.stats.items()
                         if prefix is None or p.startswith(prefix)}
                total = {"requests": 0, "bytes": 0, "body_bytes": 0, "upload_bytes": 0}
                for counters in paths.values():
                    for key in total:
                        total[key] += counters[key]
                payload = {"prefix": prefix, "total": total, "paths": paths}
            elif request.method == "DELETE":
                state.stats = {}
                payload = {"cleared": True}
            else:
                status, payload = 405, {"error": "use GET or DELETE"}
        await self.respond(writer, status, payload, close=close)
        return not close

    async def proxy(self, request, reader, writer):
        rule = self.state.pick(request.method, request.path)
        counter = self.state.counter(request.path)
        counter["requests"] += 1

        def to_client(n):
            counter["bytes"] += n

        action = rule.action if rule else None
        self.log("%s %s -> %s" % (request.method, request.path,
                                  "rule %d %s" % (rule.id, action) if rule else "forward"))
        if action == "reset":
            if rule.rst:
                self.reset(writer)
            else:
                await self.close_after(reader, writer)
            return False
        if action == "stall":
            try:
                await asyncio.wait_for(self.discard_until_eof(reader), STALL_LIMIT_S)
            except asyncio.TimeoutError:
                pass
            return False

        expect = (header(request.headers, b"expect") or "").lower() == "100-continue"
        if expect:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        close = wants_close(request.version, request.headers)

        if action == "status":
            await copy_body(reader, Discard(), framing(request.headers))
            extra = []
            if rule.retry_after is not None:
                extra.append("Retry-After: %s" % rule.retry_after)
            await self.respond(writer, rule.status, rule.body.encode(), close=close, extra=extra,
                               count=to_client)
            return not close
        if action == "delay":
            await asyncio.sleep(rule.ms / 1000.0)

        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port,
                                                                 limit=MAX_HEAD)
        except OSError as e:
            await copy_body(reader, Discard(), framing(request.headers))
            await self.respond(writer, 502, {"error": "target: %s" % e}, close=close,
                               count=to_client)
            return not close
        try:
            return await self.forward(request, reader, writer, up_reader, up_writer, rule,
                                      counter, to_client)
        finally:
            up_writer.transport.abort()

    async def forward(self, request, reader, writer, up_reader, up_writer, rule, counter,
                      to_client):
        action = rule.action if rule else None
        up_writer.write(request.head_bytes(drop=(b"expect",)))

        def uploaded(n):
            counter["upload_bytes"] += n

        upload = Sink(up_writer, rule.bytes if action == "cut_upload" else None, uploaded)
        try:
            await copy_body(reader, upload, framing(request.headers))
        except LimitReached:
            up_writer.transport.abort()
            await self.close_after(reader, writer)
            return False
        await up_writer.drain()

        while True:
            head = await read_head(up_reader)
            if head is None:
                raise ConnectionError("target closed without a response")
            lines = head[:-4].split(b"\r\n")
            parts = lines[0].split(b" ", 2)
            status = int(parts[1])
            if 100 <= status < 200 and status != 101:
                continue  # interim responses were answered by us already
            break
        headers = _headers(lines[1:])
        if request.method == "HEAD" or status in (204, 304):
            frame = None
        else:
            frame = framing(headers) or ("close",)
        close = (wants_close(request.version, request.headers) or
                 wants_close(parts[0], headers) or frame == ("close",))

        writer.write(head)
        to_client(len(head))
        await writer.drain()

        def body_sent(n):
            to_client(n)
            counter["body_bytes"] += n

        download = Sink(writer, rule.bytes if action == "truncate" else None, body_sent)
        try:
            await copy_body(up_reader, download, frame)
        except LimitReached:
            await self.close_after(reader, writer)
            return False
        if action == "truncate":  # the body was shorter than `bytes`: close all the same
            await self.close_after(reader, writer)
            return False
        return not close

    @staticmethod
    def reset(writer):
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def close_after(self, reader, writer):
        """Sends FIN at once, then reads and drops what the client still sends, so that the
        kernel does not turn the close into a reset."""
        try:
            await writer.drain()
            writer.write_eof()
            await asyncio.wait_for(self.discard_until_eof(reader), DRAIN_LIMIT_S)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass
        writer.close()

    @staticmethod
    async def discard_until_eof(reader):
        while await reader.read(COPY_CHUNK):
            pass


def dechunk(raw):
    out = []
    pos = 0
    while True:
        end = raw.index(b"\r\n", pos)
        size = int(raw[pos:end].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(raw[end + 2:end + 2 + size])
        pos = end + 2 + size + 2


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--target", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--rule", action="append", default=[], help="a rule as JSON")
    parser.add_argument("--seed", type=int, default=None, help="seed for probability")
    parser.add_argument("--dir", default=None, help="state directory (names the process)")
    args = parser.parse_args()

    state = State(args.seed)
    for text in args.rule:
        try:
            state.add(json.loads(text))
        except ValueError as e:
            print("faultproxy: bad --rule %s: %s" % (text, e), file=sys.stderr)
            sys.exit(2)

    def log(message):
        print("faultproxy: " + message, file=sys.stderr, flush=True)

    proxy = Proxy(state, args.target, log)
    server = await asyncio.start_server(proxy.serve, "127.0.0.1", args.listen, limit=MAX_HEAD,
                                        reuse_address=True)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    log("listening on 127.0.0.1:%d, forwarding to 127.0.0.1:%d" % (args.listen, args.target))
    async with server:
        await stop
    log("stopped")


if __name__ == "__main__":
    asyncio.run(main())
