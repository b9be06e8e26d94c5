#!/usr/bin/env python3
"""Side-by-side HTTP benchmark: dusty-hello against nginx, same CPU, same bytes.

Started by perf/http/run-vs-nginx.sh (which builds dusty-hello and passes the paths);
see that script for the command line. Python standard library only.

Method
  * Every server gets one worker (dusty: --shards 1) pinned with `taskset -c SERVER_CPU`;
    wrk runs with one thread pinned to CLIENT_CPU.
  * For each round and workload, the contenders run one after the other (A B C), the order
    rotated every round; each run starts its server fresh, checks one answer byte by byte,
    warms up, measures, and stops the server. So a burst of noise on the shared machine
    hits one run, not one contender.
  * Ratios are computed pair by pair (dusty's run / nginx's run of the same round and
    workload), then the median of those ratios is reported, with min-max.
  * Besides req/s, each run records the CPU time the server used (from /proc), giving
    requests per server CPU-second, and how much of SERVER_CPU other processes took
    while it ran ("others" in the log). A run where others took more than --max-others
    (10%) is run again after a pause, up to --retries (2) times, keeping the quietest
    attempt; what stayed noisy is said under the table.
  * A run fails loudly (exit 1) on any socket error (connect/read/write/timeout), any
    answer of 400 or more, no requests at all, or an average answer size that differs
    from the checked answer (every answer must be the 200 "Hello, World!").
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

CLK_TCK = os.sysconf("SC_CLK_TCK")
EXPECTED_BODY = b"Hello, World!"
PATH = "/plaintext"


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# /proc helpers


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_busy_seconds(cpu: int) -> float:
    """Non-idle time of one CPU since boot, in seconds."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                v = [int(x) for x in line.split()[1:]]
                idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
                total = sum(v[:8])  # user nice system idle iowait irq softirq steal
                return (total - idle) / CLK_TCK
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch_raw(port: int, path: str = PATH, timeout: float = 2.0) -> bytes:
    """One GET over a fresh connection; returns the complete raw answer (head + body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        data = b""
        while True:
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                m = re.search(rb"\r\ncontent-length:\s*(\d+)", data[:head_end], re.I)
                if m and len(data) >= head_end + 4 + int(m.group(1)):
                    return data[: head_end + 4 + int(m.group(1))]
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


def check_answer(name: str, raw: bytes) -> None:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 200 "):
        raise BenchError(f"{name}: GET {PATH} answered {lines[0]!r}, expected 200")
    if body != EXPECTED_BODY:
        raise BenchError(f"{name}: GET {PATH} body {body!r}, expected {EXPECTED_BODY!r}")
    ctype = [l for l in lines[1:] if l.lower().startswith(b"content-type:")]
    if not ctype or ctype[0].split(b":", 1)[1].strip() != b"text/plain":
        raise BenchError(f"{name}: Content-Type {ctype!r}, expected text/plain")


# ---------------------------------------------------------------------------------------
# contenders


class Server:
    name: str
    label: str  # what the table shows, e.g. "dusty (io_uring)"

    def __init__(self, tmp: str, cpu: int):
        self.tmp, self.cpu = tmp, cpu
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.files: list = []  # log files to close when the server stops

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

    def stop(self) -> None:
        p, self.proc = self.proc, None
        try:
            self._stop(p)
        finally:
            for f in self.files:
                f.close()
            self.files = []

    def _stop(self, p: subprocess.Popen | None) -> None:
        if not p or p.poll() is not None:
            return
        kids = children(p.pid)
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        for kid in kids:  # nginx's worker, should the master have died without it
            try:
                os.kill(kid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Dusty(Server):
    def __init__(self, tmp: str, cpu: int, binary: str, backend: str):
        super().__init__(tmp, cpu)
        self.binary, self.backend = binary, backend
        self.name = f"dusty-{backend}"
        self.label = f"dusty ({backend})"

    def start(self) -> None:
        log = open(os.path.join(self.tmp, f"{self.name}.log"), "w+")
        self.files.append(log)
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(self.cpu), self.binary, "--port", "0", "--address", "127.0.0.1",
             "--shards", "1", "--backend", self.backend],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            log.seek(0)
            text = log.read()
            m = re.search(r"serving http://[^ ]*:(\d+)/ \((\d+) shards?, (\w+)\)", text)
            if m:
                self.port = int(m.group(1))
                if m.group(3) != self.backend:
                    raise BenchError(f"{self.name}: runs on {m.group(3)}, asked for {self.backend}")
                return
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode}:\n{text}")
            time.sleep(0.02)
        raise BenchError(f"{self.name} did not print its address within 10 s")


class Nginx(Server):
    name = "nginx"
    label = "nginx"

    def __init__(self, tmp: str, cpu: int, template: str):
        super().__init__(tmp, cpu)
        self.template = template
        self.prefix = os.path.join(tmp, "nginx")
        os.makedirs(self.prefix, exist_ok=True)

    def start(self) -> None:
        for _ in range(5):  # the free port may be taken between picking and binding
            self.port = free_port()
            conf = os.path.join(self.prefix, "nginx.conf")
            with open(self.template) as f:
                text = f.read().replace("@PREFIX@", self.prefix).replace("@PORT@", str(self.port))
            with open(conf, "w") as f:
                f.write(text)
            errlog = os.path.join(self.prefix, "error.log")
            out = open(os.path.join(self.tmp, "nginx.out"), "w")
            self.files.append(out)
            self.proc = subprocess.Popen(
                ["taskset", "-c", str(self.cpu), "nginx", "-p", self.prefix, "-c", conf, "-e", errlog],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if children(self.proc.pid):
                    try:
                        socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                        return
                    except OSError:
                        pass
                time.sleep(0.02)
            self.stop()
        with open(os.path.join(self.tmp, "nginx.out")) as f:
            raise BenchError(f"nginx did not start:\n{f.read()}")


# ---------------------------------------------------------------------------------------
# runs


@dataclass
class Workload:
    name: str
    depth: int


@dataclass
class Run:
    round: int
    workload: str
    server: str
    rps: float
    requests: int
    seconds: float
    server_cpu: float  # server CPU seconds during the measured run
    others: float  # fraction of SERVER_CPU used by other processes during the run
    wrk_cpu: float  # fraction of one CPU that wrk used
    bytes_per_answer: float
    p50_ms: float
    p99_ms: float
    attempts: int = 1

    @property
    def per_cpu_s(self) -> float:
        return self.requests / self.server_cpu if self.server_cpu > 0 else float("nan")


@dataclass
class Options:
    duration: int
    warmup: int
    connections: int
    server_cpu: int
    client_cpu: int
    lua: str
    verbose: bool = False
    logs: str = ""  # directory for the wrk output of every run


def run_wrk(opt: Options, port: int, depth: int, seconds: int) -> tuple[dict, str, float]:
    cmd = ["taskset", "-c", str(opt.client_cpu), "wrk", "-t1", f"-c{opt.connections}", f"-d{seconds}s",
           "--timeout", "10s", "-s", opt.lua, f"http://127.0.0.1:{port}{PATH}", "--", str(depth)]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)  # wait4: wrk's own CPU time comes with it
    except BaseException:
        p.kill()
        p.wait()
        raise
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise BenchError(f"wrk failed ({p.returncode}): {' '.join(cmd)}\n{out}")
    m = re.search(r"^WRK_RESULT (.*)$", out, re.M)
    if not m:
        raise BenchError(f"wrk printed no WRK_RESULT line: {' '.join(cmd)}\n{out}")
    res = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    return res, out, (ru.ru_utime + ru.ru_stime) / wall


def one_run(opt: Options, server: Server, wl: Workload, rnd: int) -> Run:
    server.start()
    try:
        raw = fetch_raw(server.port)
        check_answer(server.name, raw)
        if opt.warmup > 0:
            run_wrk(opt, server.port, wl.depth, opt.warmup)
        c0, b0, t0 = server.cpu_seconds(), cpu_busy_seconds(opt.server_cpu), time.monotonic()
        res, out, wrk_cpu = run_wrk(opt, server.port, wl.depth, opt.duration)
        c1, b1, t1 = server.cpu_seconds(), cpu_busy_seconds(opt.server_cpu), time.monotonic()
        if server.proc.poll() is not None:
            raise BenchError(f"{server.name} died during the run (status {server.proc.returncode})")
    finally:
        server.stop()
    with open(os.path.join(opt.logs, f"wrk-r{rnd}-{re.sub(r'[^a-z0-9]+', '-', wl.name)}-{server.name}.txt"), "w") as f:
        f.write(out)
    where = f"round {rnd}, {wl.name}, {server.name}"
    errs = {k: res[k] for k in ("connect", "read", "write", "timeout", "status") if res[k]}
    if errs:
        raise BenchError(f"{where}: wrk reported errors {errs} (status = answers >= 400)\n{out}")
    if res["requests"] <= 0:
        raise BenchError(f"{where}: no requests completed\n{out}")
    per_answer = res["bytes"] / res["requests"]
    # wrk counts bytes of answers still in flight when it stops; allow for those only.
    slack = opt.connections * wl.depth * len(raw) / res["requests"] + 0.5
    if abs(per_answer - len(raw)) > slack:
        raise BenchError(f"{where}: {per_answer:.1f} bytes per answer on average, but the checked "
                         f"200 answer is {len(raw)} bytes: some answers were something else\n{out}")
    secs = res["duration_us"] / 1e6
    others = max(0.0, ((b1 - b0) - (c1 - c0)) / (t1 - t0))
    return Run(rnd, wl.name, server.name, res["requests"] / secs, res["requests"], secs, c1 - c0, others,
               wrk_cpu, len(raw), res["p50_us"] / 1e3, res["p99_us"] / 1e3)


# ---------------------------------------------------------------------------------------
# reporting


def fmt_rps(x: float) -> str:
    return f"{x / 1e3:,.1f}k" if x < 1e6 else f"{x / 1e6:,.2f}M"


def spread(xs: list[float], f=fmt_rps) -> str:
    return f"{f(statistics.median(xs))} ({f(min(xs))}–{f(max(xs))})"


def ratio_fmt(x: float) -> str:
    return f"{x:.2f}x"


def summarize(runs: list[Run], workloads: list[Workload], servers: list[Server], base: str) -> str:
    by = {}
    for r in runs:
        by.setdefault((r.workload, r.server), {})[r.round] = r
    labels = {s.name: s.label for s in servers}
    rows = []
    head = ("| workload | server | req/s median (min–max) | nginx req/s median (min–max) | "
            "dusty/nginx req/s, median of rounds (min–max) | dusty/nginx req per server CPU-s | "
            "p99 latency ms, dusty / nginx (medians) |")
    rows.append(head)
    rows.append("|---|---|---:|---:|---:|---:|---:|")

    def p99(rs: list[Run]) -> str:
        xs = [r.p99_ms for r in rs if r.p99_ms >= r.p50_ms]  # wrk sometimes reports p99 = 0
        return f"{statistics.median(xs):.1f}" if xs else "–"
    for wl in workloads:
        b = by.get((wl.name, base), {})
        for s in servers:
            if s.name == base:
                continue
            d = by.get((wl.name, s.name), {})
            rounds = sorted(set(d) & set(b))
            if not rounds:
                continue
            ratios = [d[i].rps / b[i].rps for i in rounds]
            eff = [d[i].per_cpu_s / b[i].per_cpu_s for i in rounds]
            rows.append(f"| {wl.name} | {labels[s.name]} | {spread([d[i].rps for i in rounds])} | "
                        f"{spread([b[i].rps for i in rounds])} | {spread(ratios, ratio_fmt)} | "
                        f"{spread(eff, ratio_fmt)} | {p99([d[i] for i in rounds])} / {p99([b[i] for i in rounds])} |")
    return "\n".join(rows)


def details(runs: list[Run]) -> str:
    rows = ["| round | workload | server | req/s | req per server CPU-s | server CPU | others on server CPU "
            "| wrk CPU | bytes/answer | p50 ms | p99 ms | attempts |",
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        rows.append(f"| {r.round} | {r.workload} | {r.server} | {r.rps:,.0f} | {r.per_cpu_s:,.0f} | "
                    f"{r.server_cpu / r.seconds:.0%} | {r.others:.0%} | {r.wrk_cpu:.0%} | {r.bytes_per_answer:.0f} | "
                    f"{r.p50_ms:.2f} | {f'{r.p99_ms:.2f}' if r.p99_ms >= r.p50_ms else '–'} | {r.attempts} |")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dusty", required=True, help="path of dusty-hello")
    ap.add_argument("--nginx-conf", required=True, help="nginx.conf template (@PREFIX@, @PORT@)")
    ap.add_argument("--lua", required=True, help="wrk script (wrk-bench.lua)")
    ap.add_argument("--backends", default="io_uring,epoll", help="dusty backends to run, comma-separated")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds measured per run")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each run")
    ap.add_argument("--connections", type=int, default=256)
    ap.add_argument("--depth", type=int, default=16, help="pipelining depth of the pipelined workload")
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--max-others", type=float, default=0.10,
                    help="a run during which other processes took more than this fraction of the server "
                         "CPU is run again (up to --retries times; the quietest attempt is kept)")
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--retry-pause", type=float, default=5.0, help="seconds to wait before running again")
    ap.add_argument("--min-ratio", type=float, default=0.0,
                    help="exit 2 if a median dusty/nginx ratio is below this (a CI floor; 0 = off)")
    ap.add_argument("--out", required=True, help="directory for results.md, runs.tsv and wrk logs")
    ap.add_argument("--machine", default="", help="text describing the machine, copied into results.md")
    ap.add_argument("--command", default="", help="the command line to record in results.md")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="dusty-vs-nginx.")
    opt = Options(args.duration, args.warmup, args.connections, args.server_cpu, args.client_cpu,
                  os.path.abspath(args.lua), logs=args.out)
    workloads = [Workload("plaintext", 1), Workload(f"plaintext pipelined {args.depth}", args.depth)]
    servers: list[Server] = [Dusty(tmp, args.server_cpu, args.dusty, b) for b in args.backends.split(",") if b]
    servers.append(Nginx(tmp, args.server_cpu, os.path.abspath(args.nginx_conf)))

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    runs: list[Run] = []
    try:
        # io_uring may be unavailable (disabled, seccomp): then skip that contender, say so.
        for s in list(servers):
            try:
                s.start()
                check_answer(s.name, fetch_raw(s.port))
            except BenchError as e:
                if isinstance(s, Dusty) and s.backend == "io_uring":
                    print(f"skipping {s.name}: {e}", file=sys.stderr)
                    servers.remove(s)
                else:
                    raise
            finally:
                s.stop()

        total = args.rounds * len(workloads) * len(servers)
        print(f"{total} runs of {args.warmup}+{args.duration} s, {args.connections} connections, "
              f"servers on CPU {args.server_cpu}, wrk on CPU {args.client_cpu}", file=sys.stderr)
        for rnd in range(1, args.rounds + 1):
            for wl in workloads:
                k = (rnd - 1) % len(servers)
                for s in servers[k:] + servers[:k]:  # rotate who goes first
                    r = None
                    for attempt in range(args.retries + 1):
                        if attempt:
                            time.sleep(args.retry_pause)
                        a = one_run(opt, s, wl, rnd)
                        print(f"round {rnd}/{args.rounds}  {wl.name:<24} {s.name:<15} {a.rps:>12,.0f} req/s"
                              f"  {a.per_cpu_s:>10,.0f} req/CPU-s  server CPU {a.server_cpu / a.seconds:4.0%}"
                              f"  others {a.others:4.0%}  wrk CPU {a.wrk_cpu:4.0%}  p50 {a.p50_ms:.2f} ms"
                              + (f"  (attempt {attempt + 1})" if attempt else ""),
                              file=sys.stderr, flush=True)
                        if r is None or a.others < r.others:
                            r = a
                        if r.others <= args.max_others:
                            break
                        if attempt < args.retries:
                            print(f"  other processes took {a.others:.0%} of CPU {args.server_cpu}: "
                                  f"running it again in {args.retry_pause:g} s", file=sys.stderr, flush=True)
                    r.attempts = attempt + 1
                    runs.append(r)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    with open(os.path.join(args.out, "runs.tsv"), "w") as f:
        f.write("round\tworkload\tserver\trps\trequests\tseconds\tserver_cpu_s\tothers\twrk_cpu\tbytes\tp50_ms\tp99_ms\n")
        for r in runs:
            f.write(f"{r.round}\t{r.workload}\t{r.server}\t{r.rps:.0f}\t{r.requests}\t{r.seconds:.3f}\t"
                    f"{r.server_cpu:.2f}\t{r.others:.3f}\t{r.wrk_cpu:.3f}\t{r.bytes_per_answer:.0f}\t"
                    f"{r.p50_ms:.3f}\t{r.p99_ms:.3f}\n")

    table = summarize(runs, workloads, servers, "nginx")
    noisy = [r for r in runs if r.others > args.max_others]
    retried = sum(r.attempts > 1 for r in runs)
    note = ""
    if retried:
        note += (f"{retried} of {len(runs)} runs were repeated because other processes took more than "
                 f"{args.max_others:.0%} of CPU {args.server_cpu}; the quietest attempt is kept.\n")
    if noisy:
        note += (f"\nNoise: in {len(noisy)} of {len(runs)} runs other processes still took more than "
                 f"{args.max_others:.0%} of CPU {args.server_cpu} (up to {max(r.others for r in noisy):.0%}); "
                 "req/s of those runs is understated, the per-CPU-second ratio less so. "
                 "Rerun on a quiet machine for final figures.\n")
    busy_wrk = [r for r in runs if r.wrk_cpu > 0.9]
    if busy_wrk:
        note += (f"\nwrk used more than 90% of CPU {args.client_cpu} in {len(busy_wrk)} of {len(runs)} runs "
                 f"({', '.join(sorted({f'{r.workload} {r.server}' for r in busy_wrk}))}): there the load "
                 "generator, not the server, may be the limit, so those req/s are floors.\n")
    parts = [
        f"Command: `{args.command}`" if args.command else "",
        args.machine.strip(),
        f"{args.rounds} rounds × {args.duration} s (after {args.warmup} s warm-up), wrk -t1 -c{args.connections}, "
        f"GET {PATH}; pipelined = {args.depth} requests per write. Servers on CPU {args.server_cpu}, "
        f"wrk on CPU {args.client_cpu}.",
        table,
        note.strip(),
        "<details><summary>every run</summary>\n\n" + details(runs) + "\n\n</details>",
    ]
    md = "\n\n".join(p for p in parts if p) + "\n"
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(md)
    print("\n" + table + "\n\n" + note.strip() + "\n")
    print(f"results: {os.path.join(args.out, 'results.md')}, {os.path.join(args.out, 'runs.tsv')}")

    if args.min_ratio > 0:
        b = {(r.workload, r.round): r for r in runs if r.server == "nginx"}
        for s in servers:
            if s.name == "nginx":
                continue
            for wl in workloads:
                rs = [r.rps / b[(wl.name, r.round)].rps for r in runs if r.server == s.name and r.workload == wl.name]
                if rs and statistics.median(rs) < args.min_ratio:
                    print(f"FAIL: {s.name} {wl.name}: dusty/nginx {statistics.median(rs):.2f} < floor "
                          f"{args.min_ratio}", file=sys.stderr)
                    return 2
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
