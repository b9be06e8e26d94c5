#!/usr/bin/env python3
"""The HTTP macro suite: dusty-hello beside nginx, h2o and an io_uring ceiling.

Started by perf/macro/run.sh (which builds the binaries and passes their paths); see that
script for the command line. Python standard library only.

Method
  * Every server gets one worker (dusty: --shards 1; nginx: one worker process; h2o: one
    thread; the ceiling is single-threaded) pinned with `taskset -c SERVER_CPU`. The load
    generator runs with one thread pinned to CLIENT_CPU.
  * Each round runs every workload once per contender, the contenders one after the
    other, their order rotated every round (A B C, B C A, ...). Each run starts its server
    fresh, checks the answer to the workload's request byte for byte, warms up, measures
    and stops the server, so a burst of noise on a shared machine hits one run.
  * Ratios are computed pair by pair (dusty's run / the peer's run of the same round and
    workload); the table shows the median of those ratios with min-max.
  * Each run records the CPU time the server used and how much of SERVER_CPU other
    processes took ("others"); a run where others took more than --max-others is run
    again (up to --retries times), keeping the quietest attempt.
  * A run fails the suite (exit 1) on any socket error, any answer with status >= 400,
    no answers at all, or an average answer size unlike the checked answer.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# what is asked and what must come back


@dataclass(frozen=True)
class Route:
    path: str
    body: bytes  # the answer's body
    content_type: str
    method: str = "GET"
    request_body: bytes = b""


UPLOAD_SIZE = 64 * 1024
ROUTES = {
    "plaintext": Route("/plaintext", b"Hello, World!", "text/plain"),
    "json": Route("/json", b'{"message":"Hello, World!"}', "application/json"),
    "bytes-1m": Route("/bytes/1m", b"x" * MIB, "application/octet-stream"),
    "upload": Route("/upload", str(UPLOAD_SIZE).encode(), "text/plain", "POST", b"u" * UPLOAD_SIZE),
}


@dataclass(frozen=True)
class Workload:
    name: str  # what --only matches
    label: str  # what the table shows
    route: str
    connections: int
    depth: int = 1
    close: bool = False  # Connection: close on every request (a connection per request)
    rate: float = 0.0  # requests/s over all connections (open loop); 0 = closed loop
    kind: str = "throughput"  # or "latency" (fixed rate) or "memory" (idle connections)
    ceiling: bool = False  # the ceiling answers it (GET /plaintext, keep-alive)


def workloads(rate: float, idle: int) -> list[Workload]:
    w = []
    for c in (16, 256, 1024):
        w.append(Workload(f"plaintext-{c}", f"plaintext, {c} conn", "plaintext", c, ceiling=True))
    for c in (16, 256, 1024):
        w.append(Workload(f"json-{c}", f"JSON, {c} conn", "json", c))
    w.append(Workload("pipelined-16", "plaintext pipelined 16, 256 conn", "plaintext", 256, depth=16, ceiling=True))
    w.append(Workload("close", "connection per request, 16 conn", "plaintext", 16, close=True))
    w.append(Workload("bytes-1m", "1 MiB answer, 16 conn", "bytes-1m", 16))
    w.append(Workload("upload-64k", "64 KiB request body, 16 conn", "upload", 16))
    w.append(Workload("rate", f"fixed rate {rate / 1e3:g}k req/s, 64 conn: latency", "plaintext", 64, rate=rate,
                      kind="latency"))
    w.append(Workload("idle-10k", f"{idle:,} idle keep-alive conn: memory", "plaintext", idle, kind="memory"))
    return w


def request_bytes(route: Route, port: int, close: bool = False) -> bytes:
    head = f"{route.method} {route.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if close:
        head += "Connection: close\r\n"
    if route.request_body:
        head += f"Content-Type: application/octet-stream\r\nContent-Length: {len(route.request_body)}\r\n"
    return head.encode() + b"\r\n" + route.request_body


def read_answer(s: socket.socket, data: bytes) -> tuple[bytes, bytes]:
    """Reads one answer with a Content-Length; returns (answer, what followed it)."""
    while True:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            m = re.search(rb"\r\ncontent-length:\s*(\d+)", data[:head_end], re.I)
            if not m:
                raise BenchError(f"answer without Content-Length: {data[:head_end]!r}")
            end = head_end + 4 + int(m.group(1))
            if len(data) >= end:
                return data[:end], data[end:]
        chunk = s.recv(1 << 20)
        if not chunk:
            raise BenchError(f"connection closed after {len(data)} bytes of an answer")
        data += chunk


def fetch_raw(port: int, route: Route, close: bool = False, timeout: float = 3.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request_bytes(route, port, close))
        return read_answer(s, b"")[0]


def check_answer(name: str, route: Route, raw: bytes) -> None:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    what = f"{name}: {route.method} {route.path}"
    if not lines[0].startswith(b"HTTP/1.1 200 "):
        raise BenchError(f"{what} answered {lines[0]!r}, expected 200")
    if body != route.body:
        raise BenchError(f"{what}: body {body[:60]!r}... ({len(body)} bytes), expected {route.body[:60]!r}")
    ctype = [l for l in lines[1:] if l.lower().startswith(b"content-type:")]
    if not ctype or ctype[0].split(b":", 1)[1].strip().decode() != route.content_type:
        raise BenchError(f"{what}: Content-Type {ctype!r}, expected {route.content_type}")


def check_keeps_reading(name: str, port: int) -> None:
    """A 64 KiB POST and a GET on one connection: the GET must be answered, which shows the
    server read (or discarded) every byte of the body rather than taking it for a request."""
    up, plain = ROUTES["upload"], ROUTES["plaintext"]
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(request_bytes(up, port) + request_bytes(plain, port))
        first, rest = read_answer(s, b"")
        check_answer(name, up, first)
        check_answer(name, plain, read_answer(s, rest)[0])


# ---------------------------------------------------------------------------------------
# /proc


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_busy_seconds(cpu: int) -> float:
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                v = [int(x) for x in line.split()[1:]]
                idle = v[3] + (v[4] if len(v) > 4 else 0)
                return (sum(v[:8]) - idle) / CLK_TCK
    raise BenchError(f"cpu{cpu} not found in /proc/stat")


def children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except FileNotFoundError:
        pass
    return out


NICE = 0  # --nice: the priority of servers and load generators (0 = as this process)


def pinned(cpu: int) -> list[str]:
    """The prefix that runs a server or load generator on `cpu` (and at --nice)."""
    return (["nice", "-n", str(NICE)] if NICE else []) + ["taskset", "-c", str(cpu)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------
# servers


class Server:
    name = ""
    label = ""
    version = ""

    def __init__(self, tmp: str, cpu: int):
        self.tmp, self.cpu = tmp, cpu
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.files: list = []

    def serves(self, wl: Workload) -> bool:
        return True

    def start(self) -> None:
        raise NotImplementedError

    def pids(self) -> list[int]:
        assert self.proc
        return [self.proc.pid] + children(self.proc.pid)

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.pids():
            try:
                total += proc_cpu_seconds(pid)
            except FileNotFoundError:
                pass
        return total

    def rss_kib(self) -> int:
        total = 0
        for pid in self.pids():
            try:
                total += proc_rss_kib(pid)
            except FileNotFoundError:
                pass
        return total

    def stop(self) -> None:
        p, self.proc = self.proc, None
        try:
            if p and p.poll() is None:
                kids = children(p.pid)
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                for kid in kids:  # nginx's worker, should the master have gone without it
                    try:
                        os.kill(kid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        finally:
            for f in self.files:
                f.close()
            self.files = []

    def _start_announcing(self, argv: list[str], pattern: str) -> re.Match:
        """Starts a program that prints its address (port 0) and returns the match."""
        log = open(os.path.join(self.tmp, f"{self.name}.log"), "w+")
        self.files.append(log)
        self.proc = subprocess.Popen(pinned(self.cpu) + argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            log.seek(0)
            text = log.read()
            m = re.search(pattern, text)
            if m:
                self.port = int(m.group(1))
                return m
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode}:\n{text}")
            time.sleep(0.02)
        raise BenchError(f"{self.name} did not print its address within 10 s")

    def _start_configured(self, argv_for: callable, write_conf: callable) -> None:
        """Starts a program configured with a port we pick; waits until it accepts."""
        for _ in range(5):  # the free port may be taken between picking and binding
            self.port = free_port()
            write_conf()
            out = open(os.path.join(self.tmp, f"{self.name}.out"), "w")
            self.files.append(out)
            self.proc = subprocess.Popen(pinned(self.cpu) + argv_for(), stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return
                except OSError:
                    time.sleep(0.02)
            self.stop()
        with open(os.path.join(self.tmp, f"{self.name}.out")) as f:
            raise BenchError(f"{self.name} did not start:\n{f.read()}")


class Dusty(Server):
    def __init__(self, tmp: str, cpu: int, binary: str, backend: str):
        super().__init__(tmp, cpu)
        self.binary, self.backend = binary, backend
        self.name = f"dusty-{backend}"
        self.label = f"dusty ({backend})"

    def start(self) -> None:
        m = self._start_announcing(
            [self.binary, "--port", "0", "--address", "127.0.0.1", "--shards", "1", "--backend", self.backend,
             "--max-connections", "16384"],  # as nginx.conf.in's worker_connections
            r"serving http://[^ ]*:(\d+)/ \((\d+) shards?, (\w+)\)")
        if m.group(3) != self.backend:
            raise BenchError(f"{self.name}: runs on {m.group(3)}, asked for {self.backend}")


class Ceiling(Server):
    name = "ceiling"
    label = "ceiling"
    version = "perf/macro/ceiling.cpp"

    def __init__(self, tmp: str, cpu: int, binary: str):
        super().__init__(tmp, cpu)
        self.binary = binary

    def serves(self, wl: Workload) -> bool:
        return wl.ceiling

    def start(self) -> None:
        self._start_announcing([self.binary, "--port", "0", "--address", "127.0.0.1"],
                               r"dusty-ceiling serving http://[^ ]*:(\d+)/")


def fill_template(template: str, dest: str, values: dict[str, str]) -> None:
    with open(template) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace(f"@{k}@", v)
    with open(dest, "w") as f:
        f.write(text)


class Nginx(Server):
    name = "nginx"

    def __init__(self, tmp: str, cpu: int, template: str, www: str):
        super().__init__(tmp, cpu)
        self.template, self.www = template, www
        self.prefix = os.path.join(tmp, "nginx")
        os.makedirs(self.prefix, exist_ok=True)
        v = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr
        self.version = v.strip().replace("nginx version: ", "")
        self.label = self.version.replace("/", " ")

    def start(self) -> None:
        conf = os.path.join(self.prefix, "nginx.conf")
        self._start_configured(
            lambda: ["nginx", "-p", self.prefix, "-c", conf, "-e", os.path.join(self.prefix, "error.log")],
            lambda: fill_template(self.template, conf, {"PREFIX": self.prefix, "PORT": str(self.port), "WWW": self.www}))


class H2o(Server):
    name = "h2o"

    def __init__(self, tmp: str, cpu: int, template: str, www: str):
        super().__init__(tmp, cpu)
        self.template, self.www = template, www
        self.prefix = os.path.join(tmp, "h2o")
        os.makedirs(self.prefix, exist_ok=True)
        v = subprocess.run(["h2o", "-v"], capture_output=True, text=True).stdout
        self.version = v.splitlines()[0].replace("h2o version ", "h2o/") if v else "h2o"
        self.label = self.version.replace("/", " ")

    def start(self) -> None:
        conf = os.path.join(self.prefix, "h2o.conf")
        self._start_configured(
            lambda: ["h2o", "-c", conf],
            lambda: fill_template(self.template, conf, {"PREFIX": self.prefix, "PORT": str(self.port), "WWW": self.www}))


# ---------------------------------------------------------------------------------------
# load generators


@dataclass
class LoadResult:
    requests: int
    seconds: float
    bytes: int
    errors: dict  # kind -> count, only non-zero
    bad_status: int  # answers with status >= 400
    latency_ms: dict  # p50 p90 p99 p99.9 max; empty when the tool has none
    cpu: float = 0.0  # fraction of one CPU the load generator used
    output: str = ""


class LoadGen:
    name = ""
    version = ""

    def __init__(self, cpu: int, tmp: str):
        self.cpu, self.tmp = cpu, tmp

    def supports(self, wl: Workload) -> bool:
        return True

    def body_file(self, route: Route) -> str:
        path = os.path.join(self.tmp, f"body-{len(route.request_body)}")
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(route.request_body)
        return path

    def run(self, port: int, wl: Workload, seconds: float) -> LoadResult:
        cmd = pinned(self.cpu) + self.command(port, wl, seconds)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        try:
            out, _ = p.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            raise BenchError(f"{self.name} did not finish within {seconds + 30:.0f} s: {' '.join(cmd)}\n{out}")
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / wall
        if p.returncode != 0:
            raise BenchError(f"{self.name} failed ({p.returncode}): {' '.join(cmd)}\n{out}")
        r = self.parse(out, wl)
        r.cpu, r.output = cpu, f"$ {' '.join(cmd)}\n{out}"
        return r

    def command(self, port: int, wl: Workload, seconds: float) -> list[str]:
        raise NotImplementedError

    def parse(self, out: str, wl: Workload) -> LoadResult:
        raise NotImplementedError


class Wrk(LoadGen):
    name = "wrk"

    def __init__(self, cpu: int, tmp: str, lua: str):
        super().__init__(cpu, tmp)
        self.lua = lua
        v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        self.version = " ".join(v.split()[:3]) if v else "wrk"

    def supports(self, wl: Workload) -> bool:
        return wl.rate == 0  # wrk has no fixed-rate mode

    def command(self, port: int, wl: Workload, seconds: float) -> list[str]:
        route = ROUTES[wl.route]
        cmd = ["wrk", "-t1", f"-c{wl.connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", self.lua]
        if wl.close:
            cmd += ["-H", "Connection: close"]
        cmd += [f"http://127.0.0.1:{port}{route.path}", "--", str(wl.depth), route.method,
                self.body_file(route) if route.request_body else ""]
        return cmd

    def parse(self, out: str, wl: Workload) -> LoadResult:
        m = re.search(r"^WRK_RESULT (.*)$", out, re.M)
        if not m:
            raise BenchError(f"wrk printed no WRK_RESULT line\n{out}")
        r = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
        errors = {k: r[k] for k in ("connect", "read", "write", "timeout") if r[k]}
        lat = {"p50": r["p50_us"] / 1e3, "p90": r["p90_us"] / 1e3, "p99": r["p99_us"] / 1e3,
               "p99.9": r["p999_us"] / 1e3, "max": r["max_us"] / 1e3}
        if lat["p99"] < lat["p50"]:  # wrk sometimes reports 0 for a percentile
            lat = {}
        return LoadResult(r["requests"], r["duration_us"] / 1e6, r["bytes"], errors, r["status"], lat)


class H2load(LoadGen):
    name = "h2load"

    def __init__(self, cpu: int, tmp: str):
        super().__init__(cpu, tmp)
        v = subprocess.run(["h2load", "--version"], capture_output=True, text=True).stdout
        self.version = v.strip() or "h2load"
        self.log = ""

    def supports(self, wl: Workload) -> bool:
        # h2load does not reconnect when the server closes (it waits until killed), and
        # with -d it allows one request in flight per connection.
        return not wl.close and not (wl.depth > 1 and ROUTES[wl.route].request_body)

    def command(self, port: int, wl: Workload, seconds: float) -> list[str]:
        route = ROUTES[wl.route]
        cmd = ["h2load", "--h1", "-t1", f"-c{wl.connections}", f"-D{max(1, round(seconds))}"]
        if wl.depth > 1:
            cmd.append(f"-m{wl.depth}")
        if wl.close:
            cmd += ["-H", "Connection: close"]
        if route.request_body:
            cmd += ["-d", self.body_file(route), "-H", "Content-Type: application/octet-stream"]
        self.log = ""
        if wl.rate:
            cmd.append(f"--rps={wl.rate / wl.connections:g}")
            self.log = os.path.join(self.tmp, "h2load.log")
            cmd += ["--log-file", self.log]
        cmd.append(f"http://127.0.0.1:{port}{route.path}")
        return cmd

    def parse(self, out: str, wl: Workload) -> LoadResult:
        m = re.search(r"finished in ([\d.]+)(m?s)", out)
        req = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                        r"(\d+) errored, (\d+) timeout", out)
        st = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
        tr = re.search(r"traffic: .*?\((\d+)\) total", out)
        if not (m and req and st and tr):
            raise BenchError(f"h2load output not understood\n{out}")
        secs = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
        errors = {k: int(req.group(i)) for k, i in (("failed", 5), ("errored", 6), ("timeout", 7)) if int(req.group(i))}
        lat = {}
        if self.log and os.path.exists(self.log):
            with open(self.log) as f:
                xs = sorted(int(line.split("\t")[2]) for line in f if line.count("\t") >= 2)
            os.unlink(self.log)
            if xs:
                lat = {k: xs[min(len(xs) - 1, int(len(xs) * q))] / 1e3
                       for k, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999))}
                lat["max"] = xs[-1] / 1e3
        return LoadResult(int(req.group(3)), secs, int(tr.group(1)), errors, int(st.group(3)) + int(st.group(4)), lat)


class DustyLoad(LoadGen):
    name = "dusty-load"

    def __init__(self, cpu: int, tmp: str, binary: str):
        super().__init__(cpu, tmp)
        self.binary = binary
        self.version = "dusty-load (apps/load)"

    def command(self, port: int, wl: Workload, seconds: float) -> list[str]:
        route = ROUTES[wl.route]
        cmd = [self.binary, "-c", str(wl.connections), "-d", f"{max(1, round(seconds))}s", "-t", "1", "--json"]
        if wl.depth > 1:
            cmd += ["--pipeline", str(wl.depth)]
        if wl.rate:
            cmd += ["--rate", f"{wl.rate:g}"]
        if wl.close:
            cmd += ["-H", "Connection: close"]
        if route.request_body:
            cmd += ["-m", route.method, "--body", self.body_file(route), "-H", "Content-Type: application/octet-stream"]
        cmd.append(f"http://127.0.0.1:{port}{route.path}")
        return cmd

    def parse(self, out: str, wl: Workload) -> LoadResult:
        start = out.find("{")
        try:
            r = json.loads(out[start:out.rindex("}") + 1])
        except (ValueError, json.JSONDecodeError):
            raise BenchError(f"dusty-load printed no JSON object\n{out}")
        errors = {k: v for k, v in r.get("errors", {}).items() if v}
        bad = sum(v for k, v in r.get("status", {}).items() if not k.isdigit() or int(k) >= 400)
        lu = r.get("latency_us", {})
        lat = {k: lu[k] / 1e3 for k in ("p50", "p90", "p99", "p99.9", "max") if k in lu}
        return LoadResult(int(r["requests"]), float(r["duration_s"]), int(r["bytes_read"]), errors, bad, lat)


# ---------------------------------------------------------------------------------------
# runs


@dataclass
class Run:
    round: int
    workload: str
    server: str
    load: str
    value: float  # req/s (throughput), p99 ms (latency), KiB per connection (memory)
    rps: float = 0.0
    requests: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    others: float = 0.0
    load_cpu: float = 0.0
    answer_bytes: int = 0
    latency_ms: dict = field(default_factory=dict)
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    attempts: int = 1


@dataclass
class Options:
    duration: float
    warmup: float
    server_cpu: int
    client_cpu: int
    logs: str
    idle_timeout: float = 60.0


def slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def throughput_run(opt: Options, server: Server, gen: LoadGen, wl: Workload, rnd: int) -> Run:
    route = ROUTES[wl.route]
    server.start()
    try:
        raw = fetch_raw(server.port, route, close=wl.close)
        check_answer(server.name, route, raw)
        if wl.route == "upload":
            check_keeps_reading(server.name, server.port)
        if opt.warmup > 0:
            gen.run(server.port, wl, opt.warmup)
        c0, b0, t0 = server.cpu_seconds(), cpu_busy_seconds(opt.server_cpu), time.monotonic()
        res = gen.run(server.port, wl, opt.duration)
        c1, b1, t1 = server.cpu_seconds(), cpu_busy_seconds(opt.server_cpu), time.monotonic()
        if server.proc.poll() is not None:
            raise BenchError(f"{server.name} died during the run (status {server.proc.returncode})")
    finally:
        server.stop()
    with open(os.path.join(opt.logs, f"r{rnd}-{wl.name}-{server.name}-{gen.name}.txt"), "w") as f:
        f.write(res.output)
    where = f"round {rnd}, {wl.name}, {server.name}, {gen.name}"
    if res.errors:
        raise BenchError(f"{where}: socket errors {res.errors}\n{res.output}")
    if res.bad_status:
        raise BenchError(f"{where}: {res.bad_status} answers with status >= 400\n{res.output}")
    if res.requests <= 0:
        raise BenchError(f"{where}: no requests completed\n{res.output}")
    per_answer = res.bytes / res.requests
    # Answers still in flight when the tool stops may be counted in bytes; allow for those.
    slack = wl.connections * wl.depth * len(raw) / res.requests + 0.5
    if abs(per_answer - len(raw)) > slack:
        raise BenchError(f"{where}: {per_answer:.1f} bytes per answer on average, but the checked 200 answer is "
                         f"{len(raw)} bytes: some answers were something else\n{res.output}")
    rps = res.requests / res.seconds
    others = max(0.0, ((b1 - b0) - (c1 - c0)) / (t1 - t0))
    value = res.latency_ms.get("p99", float("nan")) if wl.kind == "latency" else rps
    return Run(rnd, wl.name, server.name, gen.name, value, rps, res.requests, res.seconds, c1 - c0, others, res.cpu,
               len(raw), res.latency_ms)


def open_idle(port: int, n: int, limit: float) -> list[socket.socket]:
    """Opens n connections, sends one GET /plaintext on each and reads its answer; returns
    the sockets, open and idle. At most 256 connects in flight; bounded by `limit` s."""
    route = ROUTES["plaintext"]
    req = request_bytes(route, port)
    sel = selectors.DefaultSelector()
    done: list[socket.socket] = []
    pending: dict[socket.socket, bytes] = {}
    deadline = time.monotonic() + limit
    started = 0
    try:
        while len(done) < n:
            if time.monotonic() > deadline:
                raise BenchError(f"opening {n} idle connections took more than {limit:.0f} s ({len(done)} done)")
            while started < n and len(pending) < 256:
                s = socket.socket()
                s.setblocking(False)
                try:
                    s.connect(("127.0.0.1", port))
                except BlockingIOError:
                    pass
                sel.register(s, selectors.EVENT_WRITE)
                pending[s] = b""
                started += 1
            for key, ev in sel.select(timeout=1.0):
                s = key.fileobj
                if ev & selectors.EVENT_WRITE:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise BenchError(f"idle connection {len(done) + len(pending)}: connect failed: {os.strerror(err)}")
                    s.send(req)
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                try:
                    chunk = s.recv(4096)
                except BlockingIOError:
                    continue
                if not chunk:
                    raise BenchError(f"the server closed idle connection {len(done) + 1} (after "
                                     f"{len(done)} were open): {pending[s][:80]!r}")
                pending[s] += chunk
                data = pending[s]
                if b"\r\n\r\n" in data and data.endswith(route.body):
                    if not data.startswith(b"HTTP/1.1 200 "):
                        raise BenchError(f"idle connection {len(done) + 1}: {data[:40]!r}")
                    sel.unregister(s)
                    del pending[s]
                    done.append(s)
    except BaseException:
        for s in done + list(pending):
            s.close()
        raise
    finally:
        sel.close()
    return done


def memory_run(opt: Options, server: Server, wl: Workload, rnd: int) -> Run:
    server.start()
    try:
        route = ROUTES["plaintext"]
        raw = fetch_raw(server.port, route)
        check_answer(server.name, route, raw)
        for _ in range(32):  # touch the code paths once before the baseline
            fetch_raw(server.port, route)
        time.sleep(0.3)
        before = server.rss_kib()
        socks = open_idle(server.port, wl.connections, opt.idle_timeout)
        try:
            time.sleep(1.0)  # let the server settle (deferred frees, lazy buffers)
            after = server.rss_kib()
            if server.proc.poll() is not None:
                raise BenchError(f"{server.name} died holding {wl.connections} connections")
        finally:
            for s in socks:
                s.close()
    finally:
        server.stop()
    per = (after - before) / wl.connections
    with open(os.path.join(opt.logs, f"r{rnd}-{wl.name}-{server.name}.txt"), "w") as f:
        f.write(f"VmRSS before {before} KiB, after {wl.connections} connections {after} KiB: {per:.2f} KiB each\n")
    return Run(rnd, wl.name, server.name, "python", per, answer_bytes=len(raw), rss_before_kib=before,
               rss_after_kib=after)


# ---------------------------------------------------------------------------------------
# reporting


def fmt_rps(x: float) -> str:
    if x != x:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e4:
        return f"{x / 1e3:.0f}k"
    if x >= 1e3:
        return f"{x / 1e3:.1f}k"
    return f"{x:.0f}"


def fmt_value(kind: str, x: float) -> str:
    if x != x:
        return "–"
    if kind == "latency":
        return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms"
    if kind == "memory":
        return f"{x:.1f} KiB"
    return fmt_rps(x)


def med(xs: list[float]) -> float:
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def spread(xs: list[float], f) -> str:
    xs = [x for x in xs if x == x]
    if not xs:
        return "–"
    if len(xs) == 1 or f(min(xs)) == f(max(xs)):
        return f(statistics.median(xs))
    return f"{f(statistics.median(xs))} ({f(min(xs))}–{f(max(xs))})"


def ratio(x: float) -> str:
    return f"{x:.2f}x"


def summarize(runs: list[Run], wls: list[Workload], servers: list[Server]) -> dict:
    """Per workload: each server's values by round, and dusty / peer ratios by round."""
    out = {}
    for wl in wls:
        by = {}
        for r in runs:
            if r.workload == wl.name and r.load != "loadgen":
                by.setdefault(r.server, {})[r.round] = r
        if not by:
            continue
        entry = {"label": wl.label, "kind": wl.kind, "servers": {}, "ratios": {}}
        for s in servers:
            if s.name in by:
                vals = [by[s.name][i].value for i in sorted(by[s.name])]
                entry["servers"][s.name] = {"median": med(vals), "min": min(vals), "max": max(vals), "rounds": vals,
                                            "load": sorted({by[s.name][i].load for i in by[s.name]})}
        for d in servers:
            if not isinstance(d, Dusty) or d.name not in by:
                continue
            for p in servers:
                if p is d or isinstance(p, Dusty) or p.name not in by:
                    continue
                rounds = sorted(set(by[d.name]) & set(by[p.name]))
                rs = [by[d.name][i].value / by[p.name][i].value for i in rounds
                      if by[p.name][i].value and by[p.name][i].value == by[p.name][i].value]
                if rs:
                    entry["ratios"][f"{d.name}/{p.name}"] = {"median": med(rs), "min": min(rs), "max": max(rs),
                                                             "rounds": rs}
        out[wl.name] = entry
    return out


def results_table(summary: dict, servers: list[Server], full: bool) -> str:
    """The table: one row per workload; `full` adds min–max to every figure."""
    dusty = [s for s in servers if isinstance(s, Dusty)]
    peers = [s for s in servers if not isinstance(s, Dusty)]
    main = dusty[0] if dusty else None
    cols = [s.label for s in servers] + [f"{main.label.split(' ')[0]}/{p.name}" for p in peers] if main else []
    rows = ["| workload | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for name, e in summary.items():
        kind = e["kind"]
        cells = []
        for s in servers:
            v = e["servers"].get(s.name)
            if not v:
                cells.append("")
            elif full:
                cells.append(spread(v["rounds"], lambda x: fmt_value(kind, x)))
            else:
                cells.append(fmt_value(kind, v["median"]))
        for p in peers:
            rr = e["ratios"].get(f"{main.name}/{p.name}")
            cells.append(spread(rr["rounds"], ratio) if rr else "")
        rows.append(f"| {e['label']} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def extra_ratio_table(summary: dict, servers: list[Server]) -> str:
    """Ratios of the other dusty backends, when more than one ran."""
    dusty = [s for s in servers if isinstance(s, Dusty)]
    if len(dusty) < 2:
        return ""
    peers = [s for s in servers if not isinstance(s, Dusty)]
    rows = ["| workload | " + " | ".join(f"{d.label} / {p.name}" for d in dusty[1:] for p in peers) + " |",
            "|---|" + "---:|" * (len(dusty[1:]) * len(peers))]
    for e in summary.values():
        cells = []
        for d in dusty[1:]:
            for p in peers:
                rr = e["ratios"].get(f"{d.name}/{p.name}")
                cells.append(spread(rr["rounds"], ratio) if rr else "")
        rows.append(f"| {e['label']} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def loadgen_table(runs: list[Run], wls: list[Workload], gens: list[str]) -> tuple[str, dict]:
    lg = [r for r in runs if r.load == "loadgen"]
    if not lg:
        return "", {}
    out = {}
    rows = ["| workload (against nginx) | " + " | ".join(gens) + " | " +
            " | ".join(f"{g} / wrk" for g in gens if g != "wrk") + " |",
            "|---|" + "---:|" * (len(gens) + len([g for g in gens if g != "wrk"]))]
    for wl in wls:
        by = {}
        for r in lg:
            if r.workload == wl.name:
                by.setdefault(r.server, {})[r.round] = r  # r.server holds the generator here
        if not by:
            continue
        entry = {}
        cells = []
        for g in gens:
            vals = [by[g][i].rps for i in sorted(by.get(g, {}))]
            cpu = [by[g][i].load_cpu for i in sorted(by.get(g, {}))]
            entry[g] = {"rps": vals, "cpu": cpu}
            cells.append(f"{spread(vals, fmt_rps)}, CPU {med(cpu):.0%}" if vals else "not run")
        for g in gens:
            if g == "wrk":
                continue
            rounds = sorted(set(by.get(g, {})) & set(by.get("wrk", {})))
            rs = [by[g][i].rps / by["wrk"][i].rps for i in rounds]
            entry[f"{g}/wrk"] = rs
            cells.append(spread(rs, ratio) if rs else "")
        out[wl.name] = entry
        rows.append(f"| {wl.label} | " + " | ".join(cells) + " |")
    return "\n".join(rows), out


def details(runs: list[Run]) -> str:
    rows = ["| round | workload | server | load | req/s | p50 / p99 ms | server CPU | others | load CPU | answer B | "
            "attempts |", "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        if r.load == "python":
            rows.append(f"| {r.round} | {r.workload} | {r.server} | – | RSS {r.rss_before_kib:,} → "
                        f"{r.rss_after_kib:,} KiB | {r.value:.2f} KiB/conn | | | | {r.answer_bytes} | 1 |")
            continue
        lat = r.latency_ms
        lat_s = f"{lat['p50']:.2f} / {lat['p99']:.2f}" if "p50" in lat and "p99" in lat else "–"
        rows.append(f"| {r.round} | {r.workload} | {r.server} | {r.load} | {r.rps:,.0f} | {lat_s} | "
                    f"{r.server_cpu / r.seconds:.0%} | {r.others:.0%} | {r.load_cpu:.0%} | {r.answer_bytes} | "
                    f"{r.attempts} |")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------


def pick_gen(gens: dict[str, LoadGen], preferred: str, wl: Workload) -> LoadGen | None:
    """The preferred generator if it can run the workload, else the first that can."""
    order = [preferred] + [g for g in ("dusty-load", "wrk", "h2load") if g != preferred]
    for name in order:
        g = gens.get(name)
        if g and g.supports(wl):
            return g
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hello", default="", help="path of dusty-hello (required unless --from-json)")
    ap.add_argument("--from-json", default="", help="run nothing: redo the tables of an earlier results.json")
    ap.add_argument("--ceiling", default="", help="path of dusty-ceiling (empty: no ceiling)")
    ap.add_argument("--dusty-load", default="", help="path of dusty-load (empty: not available)")
    ap.add_argument("--confdir", default=os.path.dirname(os.path.abspath(__file__)),
                    help="perf/macro (nginx.conf.in, h2o.conf.in, wrk.lua)")
    ap.add_argument("--servers", default="dusty,nginx,h2o,ceiling")
    ap.add_argument("--backends", default="io_uring,epoll", help="dusty backends, comma-separated")
    ap.add_argument("--only", default="", help="workloads (names or prefixes, comma-separated; 'loadgen' for the "
                                               "load generator comparison)")
    ap.add_argument("--load", default="auto", choices=["auto", "wrk", "h2load", "dusty-load"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--rate", type=float, default=20000, help="requests/s of the fixed-rate workload")
    ap.add_argument("--idle", type=int, default=10000, help="connections of the idle-memory workload")
    ap.add_argument("--nice", type=int, default=0,
                    help="run servers and load generators at this nice value (e.g. -10 on a machine shared "
                         "with builds; the same for every contender)")
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--max-others", type=float, default=0.10)
    ap.add_argument("--retries", type=int, default=1)
    ap.add_argument("--retry-pause", type=float, default=3.0)
    ap.add_argument("--min-ratio", type=float, default=0.0,
                    help="exit 2 if a median dusty/nginx req/s ratio of a throughput workload is below this")
    ap.add_argument("--out", required=True, help="directory for results.md, results.json and the tools' output")
    ap.add_argument("--meta", default="{}", help="JSON object describing machine, commit, command")
    args = ap.parse_args()

    global NICE
    NICE = args.nice
    if args.from_json:
        return redo(args)
    if not args.hello:
        ap.error("--hello is required")
    meta = json.loads(args.meta)
    os.makedirs(args.out, exist_ok=True)
    logs = os.path.join(args.out, "logs")
    shutil.rmtree(logs, ignore_errors=True)
    os.makedirs(logs)
    tmp = tempfile.mkdtemp(prefix="dusty-macro.")
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    os.chmod(tmp, 0o755)  # h2o started as root serves files as the user "nobody"
    for name, data in (("plaintext.txt", ROUTES["plaintext"].body), ("message.json", ROUTES["json"].body),
                       ("1m", ROUTES["bytes-1m"].body)):
        with open(os.path.join(www, name), "wb") as f:
            f.write(data)

    # The idle workload holds thousands of sockets in this process.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, args.idle + 1000):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.idle + 1000), hard))
    idle = min(args.idle, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 500)

    all_wls = workloads(args.rate, idle)
    wanted = [w for w in args.only.split(",") if w]
    unknown = [w for w in wanted if w != "loadgen" and not any(x.name == w or x.name.startswith(w) for x in all_wls)]
    if unknown:
        print(f"unknown workload(s) {unknown}; known: {', '.join(w.name for w in all_wls)}, loadgen", file=sys.stderr)
        return 64
    wls = [w for w in all_wls if not wanted or any(w.name == x or w.name.startswith(x) for x in wanted)]
    loadgen_on = not wanted or "loadgen" in wanted

    opt = Options(args.duration, args.warmup, args.server_cpu, args.client_cpu, logs)
    kinds = args.servers.split(",")
    servers: list[Server] = []
    if "dusty" in kinds:
        servers += [Dusty(tmp, args.server_cpu, args.hello, b) for b in args.backends.split(",") if b]
    if "nginx" in kinds:
        servers.append(Nginx(tmp, args.server_cpu, os.path.join(args.confdir, "nginx.conf.in"), www))
    if "h2o" in kinds and shutil.which("h2o"):
        servers.append(H2o(tmp, args.server_cpu, os.path.join(args.confdir, "h2o.conf.in"), www))
    elif "h2o" in kinds:
        print("h2o is not installed: running without it", file=sys.stderr)
    if "ceiling" in kinds and args.ceiling:
        servers.append(Ceiling(tmp, args.server_cpu, args.ceiling))

    gens: dict[str, LoadGen] = {}
    if shutil.which("wrk"):
        gens["wrk"] = Wrk(args.client_cpu, tmp, os.path.join(args.confdir, "wrk.lua"))
    if shutil.which("h2load"):
        gens["h2load"] = H2load(args.client_cpu, tmp)
    if args.dusty_load:
        gens["dusty-load"] = DustyLoad(args.client_cpu, tmp, args.dusty_load)
    preferred = args.load
    if preferred == "auto":
        preferred = "dusty-load" if "dusty-load" in gens else "wrk"
    if preferred not in gens:
        print(f"{preferred} is not available", file=sys.stderr)
        return 1

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    runs: list[Run] = []
    loadgen_wls = [w for w in all_wls if w.name in ("plaintext-256", "pipelined-16")]
    nginx = next((s for s in servers if s.name == "nginx"), None)
    try:
        # io_uring may be unavailable (disabled, seccomp): then that contender is skipped.
        for s in list(servers):
            try:
                s.start()
                check_answer(s.name, ROUTES["plaintext"], fetch_raw(s.port, ROUTES["plaintext"]))
            except BenchError as e:
                if isinstance(s, (Dusty, Ceiling)) and (s.name == "ceiling" or s.backend == "io_uring"):
                    print(f"skipping {s.name}: {e}", file=sys.stderr)
                    i = servers.index(s)
                    servers.remove(s)
                    if isinstance(s, Dusty) and not any(isinstance(x, Dusty) for x in servers):
                        print("running dusty on epoll instead", file=sys.stderr)
                        servers.insert(i, Dusty(tmp, args.server_cpu, args.hello, "epoll"))
                else:
                    raise
            finally:
                s.stop()
        if not any(isinstance(s, Dusty) for s in servers):
            raise BenchError("no dusty contender could start")

        plan = [(wl, s) for wl in wls for s in servers if s.serves(wl)]
        n_lg = len(loadgen_wls) * len(gens) if (loadgen_on and nginx) else 0
        print(f"{args.rounds} rounds of {len(plan)} runs ({args.warmup:g}+{args.duration:g} s each) and {n_lg} load "
              f"generator runs; servers on CPU {args.server_cpu}, load generator on CPU {args.client_cpu}; "
              f"preferred load generator {preferred}", file=sys.stderr, flush=True)
        for rnd in range(1, args.rounds + 1):
            for wl in wls:
                here = [s for s in servers if s.serves(wl)]
                k = (rnd - 1) % len(here)
                for s in here[k:] + here[:k]:  # rotate who goes first
                    if wl.kind == "memory":
                        r = memory_run(opt, s, wl, rnd)
                        print(f"round {rnd}/{args.rounds}  {wl.name:<14} {s.name:<15} {r.value:8.2f} KiB per "
                              f"connection (VmRSS {r.rss_before_kib:,} -> {r.rss_after_kib:,} KiB)",
                              file=sys.stderr, flush=True)
                        runs.append(r)
                        continue
                    gen = pick_gen(gens, preferred, wl)
                    if not gen:
                        print(f"no load generator can run {wl.name}: skipped", file=sys.stderr)
                        break
                    r = None
                    for attempt in range(args.retries + 1):
                        if attempt:
                            time.sleep(args.retry_pause)
                        a = throughput_run(opt, s, gen, wl, rnd)
                        lat = a.latency_ms
                        print(f"round {rnd}/{args.rounds}  {wl.name:<14} {s.name:<15} {gen.name:<10} "
                              f"{a.rps:>11,.0f} req/s  server CPU {a.server_cpu / a.seconds:4.0%}  others "
                              f"{a.others:4.0%}  load CPU {a.load_cpu:4.0%}"
                              + (f"  p50 {lat['p50']:.2f} p99 {lat['p99']:.2f} ms" if "p99" in lat else "")
                              + (f"  (attempt {attempt + 1})" if attempt else ""), file=sys.stderr, flush=True)
                        if r is None or a.others < r.others:
                            r = a
                        if r.others <= args.max_others:
                            break
                    r.attempts = attempt + 1
                    runs.append(r)
            if loadgen_on and nginx:
                for wl in loadgen_wls:
                    names = list(gens)
                    k = (rnd - 1) % len(names)
                    for g in names[k:] + names[:k]:
                        if not gens[g].supports(wl):
                            continue
                        a = throughput_run(opt, nginx, gens[g], wl, rnd)
                        a.server, a.load = g, "loadgen"
                        print(f"round {rnd}/{args.rounds}  loadgen {wl.name:<14} nginx  {g:<10} {a.rps:>11,.0f} "
                              f"req/s  load CPU {a.load_cpu:4.0%}  server CPU {a.server_cpu / a.seconds:4.0%}",
                              file=sys.stderr, flush=True)
                        runs.append(a)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    return report(args, meta, runs, wls, servers, {g.name: g.version for g in gens.values()}, loadgen_wls)


def redo(args) -> int:
    """--from-json: the tables of an earlier run, from its results.json, into args.out."""
    with open(args.from_json) as f:
        res = json.load(f)
    opts = argparse.Namespace(**{**res["options"], "out": args.out, "min_ratio": args.min_ratio})
    os.makedirs(opts.out, exist_ok=True)
    runs = [Run(**r) for r in res["runs"]]
    idle = res["workloads"].get("idle-10k", {}).get("connections", opts.idle)
    all_wls = workloads(opts.rate, idle)
    wls = [w for w in all_wls if w.name in res["workloads"]]
    tmp = tempfile.mkdtemp(prefix="dusty-macro.")
    try:
        servers: list[Server] = []
        for name, version in res["servers"].items():
            if name.startswith("dusty-"):
                servers.append(Dusty(tmp, 0, "", name.removeprefix("dusty-")))
                continue
            s = Ceiling(tmp, 0, "") if name == "ceiling" else Server(tmp, 0)
            s.name, s.version = name, version
            s.label = "ceiling" if name == "ceiling" else version.replace("/", " ")
            servers.append(s)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    loadgen_wls = [w for w in all_wls if w.name in ("plaintext-256", "pipelined-16")]
    return report(opts, res["meta"], runs, wls, servers, res["load_generators"], loadgen_wls)


def report(args, meta: dict, runs: list[Run], wls: list[Workload], servers: list[Server], gen_versions: dict,
           loadgen_wls: list[Workload]) -> int:
    """Writes results.md, readme-table.md and results.json to args.out, prints the table,
    applies --min-ratio. Also used by --from-json to redo the tables of an earlier run."""
    summary = summarize(runs, wls, servers)
    table_full = results_table(summary, servers, full=True)
    table_short = results_table(summary, servers, full=False)
    extra = extra_ratio_table(summary, servers)
    lg_table, lg = loadgen_table(runs, loadgen_wls, ["wrk", "h2load", "dusty-load"])  # "not run" if missing
    answers = {}
    for r in runs:
        if r.load != "loadgen":
            answers.setdefault(r.workload, {})[r.server] = r.answer_bytes
    used = sorted({r.load for r in runs if r.load not in ("loadgen", "python")})

    m = meta.get("machine", {})
    machine_line = (f"{m.get('cpu', '?')}, {m.get('cpus', '?')} CPUs, kernel {m.get('kernel', '?')}; "
                    f"{meta.get('date', '?')}; dusty {meta.get('commit', '?')} ({meta.get('build', '?')})")
    method = (f"{args.rounds} rounds × {args.duration:g} s per run (after {args.warmup:g} s warm-up), contenders "
              f"interleaved; one worker per server on CPU {args.server_cpu}, the load generator "
              f"({', '.join(used)}; one thread) on CPU {args.client_cpu}"
              + (f", all at nice {args.nice}" if args.nice else "") + ". Cells: median of rounds (min–max); ratios "
              "are dusty / peer computed round by round. Throughput rows are req/s (higher is better); the "
              "fixed-rate row is p99 latency and the idle row resident memory per connection (lower is better).")
    groups, seen = [], set()
    for wl in wls:
        key = (wl.route, wl.close)
        if key in seen or wl.name not in answers:
            continue
        seen.add(key)
        route = ROUTES[wl.route]
        sizes = answers[wl.name]
        what = f"{route.method} {route.path}" + (" with Connection: close" if wl.close else "")
        if len(set(sizes.values())) == 1:
            groups.append(f"{what}: {next(iter(sizes.values())):,} for every server")
        else:
            groups.append(f"{what}: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    wire = ("Answer bytes on the wire (head + body): " + "; ".join(groups) + ". nginx and h2o always add "
            "`Connection: keep-alive` (24 bytes)" + ("; nginx's static 1 MiB file adds Last-Modified and "
                                                     "Accept-Ranges" if "bytes-1m" in answers else "")
            + " (perf/macro/nginx.conf.in, h2o.conf.in).") if groups else ""
    noisy = [r for r in runs if r.others > args.max_others]
    notes = []
    if noisy:
        notes.append(f"Noise: in {len(noisy)} of {len(runs)} runs other processes took more than "
                     f"{args.max_others:.0%} of CPU {args.server_cpu} (up to {max(r.others for r in noisy):.0%})"
                     + (f" even after up to {args.retries} retries" if args.retries else "")
                     + "; req/s of those runs is understated, the ratios less so.")
    busy = sorted({f"{r.workload}/{r.server}" for r in runs if r.load not in ("python",) and r.load_cpu > 0.9})
    if busy:
        notes.append(f"The load generator used more than 90% of its CPU in {len(busy)} workload/server pairs "
                     f"({', '.join(busy[:12])}{'…' if len(busy) > 12 else ''}): there the load generator may be the "
                     "limit, so those req/s are floors.")
    lat_wl = next((w for w in wls if w.kind == "latency"), None)
    if lat_wl:
        lat_rows = ["| server | p50 | p90 | p99 | p99.9 | max |", "|---|---:|---:|---:|---:|---:|"]
        for s in servers:
            rs = [r for r in runs if r.workload == lat_wl.name and r.server == s.name and r.load != "loadgen"]
            if rs:
                lat_rows.append(f"| {s.label} | " + " | ".join(
                    f"{med([r.latency_ms.get(k, float('nan')) for r in rs]):.2f}" for k in
                    ("p50", "p90", "p99", "p99.9", "max")) + " |")
        lat_table = "\n".join(lat_rows)
    else:
        lat_table = ""

    header = f"Machine: {machine_line}. Command: `{meta.get('command', '')}`."
    md_parts = [header, method, table_full,
                ("Other dusty backends:\n\n" + extra) if extra else "",
                (f"Fixed rate ({lat_wl.rate:g} req/s over {lat_wl.connections} connections), latency in ms, "
                 f"medians of rounds:\n\n" + lat_table) if lat_table and len(lat_table.splitlines()) > 2 else "",
                ("Load generators against the same nginx (one thread each on CPU "
                 f"{args.client_cpu}; req/s median (min–max), the generator's CPU use):\n\n" + lg_table) if lg_table else "",
                wire, "\n\n".join(notes),
                "<details><summary>every run</summary>\n\n" + details(runs) + "\n\n</details>"]
    md = "\n\n".join(p for p in md_parts if p) + "\n"
    short_md = "\n\n".join(p for p in [
        f"Machine: {machine_line}. {args.rounds} rounds, median req/s (ratios: median of per-round dusty/peer, "
        f"min–max); one worker per server on one CPU, {', '.join(used)} on the other. Command: "
        f"`{meta.get('command', '')}`.",
        table_short,
        (f"The machine was busy: in {len(noisy)} of {len(runs)} runs other processes took more than "
         f"{args.max_others:.0%} of the server's CPU, so req/s are understated; the ratios, taken run against "
         "run, much less so." if len(noisy) * 4 > len(runs) else "")] if p) + "\n"
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out, "readme-table.md"), "w") as f:
        f.write(short_md)
    result = {
        "meta": meta,
        "options": {k: v for k, v in vars(args).items() if k not in ("meta",)},
        "servers": {s.name: s.version or s.label for s in servers},
        "load_generators": gen_versions,
        "workloads": {w.name: {"label": w.label, "route": ROUTES[w.route].method + " " + ROUTES[w.route].path,
                               "connections": w.connections, "depth": w.depth, "close": w.close, "rate": w.rate,
                               "kind": w.kind} for w in wls},
        "answer_bytes": answers,
        "summary": summary,
        "loadgen": lg,
        "runs": [vars(r) for r in runs],
    }
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(result, f, indent=1, default=str)
    print("\n" + header + "\n\n" + table_full + ("\n\nOther dusty backends:\n\n" + extra if extra else "")
          + ("\n\n" + lat_table if lat_table else "") + ("\n\n" + lg_table if lg_table else "") + "\n\n"
          + wire + ("\n\n" + "\n\n".join(notes) if notes else "") + "\n")
    print(f"results: {args.out}/results.md, results.json, logs/", file=sys.stderr)

    if args.min_ratio > 0:
        failed = []
        for name, e in summary.items():
            if e["kind"] != "throughput":
                continue
            for key, rr in e["ratios"].items():
                if key.endswith("/nginx") and rr["median"] < args.min_ratio:
                    failed.append(f"{name}: {key} = {rr['median']:.2f}x (rounds: "
                                  f"{', '.join(f'{x:.2f}' for x in rr['rounds'])})")
        if failed:
            print(f"FAIL: dusty fell below {args.min_ratio:g}x nginx's req/s (measured in the same run, "
                  "round by round):\n  " + "\n  ".join(failed), file=sys.stderr)
            return 2
        print(f"floor check passed: every dusty/nginx req/s ratio is at least {args.min_ratio:g}x", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"\nFAILED: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt as e:
        print(f"\ninterrupted ({e}); servers stopped", file=sys.stderr)
        sys.exit(130)
