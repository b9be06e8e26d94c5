#!/usr/bin/python3
"""Memory per idle HTTP/2 connection (issue 14): dusty-hello beside nginx.

    perf/macro/h2_idle_memory.py --build-dir build/release [--conns 2000]

Starts dusty-hello (1 shard) and nginx (1 worker, `listen ... http2`, h2c), opens N h2c
connections to each (preface, SETTINGS, and the ACK of the server's SETTINGS; one GET on
each so that every connection has served a request), leaves them idle for a moment and
reads the servers' resident memory (VmRSS; nginx: its worker) before and after. Prints
the growth per connection. Bounded: N connections, a few seconds. Records nothing.
"""
import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "http", "h2"))
import h2_attack  # noqa: E402  (the frame client of the tests)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def open_idle(port, n):
    conns = []
    for i in range(n):
        c = h2_attack.client(port)
        c.send(c.headers(1, "/plaintext"))
        conns.append(c)
    for c in conns:
        c.read(5, "status 1")
    return conns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build/release")
    ap.add_argument("--conns", type=int, default=2000)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4 * a.conns + 256), hard))
    tmp = tempfile.mkdtemp(prefix="dusty-h2mem-")
    procs = []
    try:
        dport, nport = free_port(), free_port()
        procs.append(subprocess.Popen([os.path.join(a.build_dir, "apps/hello/dusty-hello"), "--port", str(dport),
                                       "--address", "127.0.0.1", "--shards", "1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        os.makedirs(f"{tmp}/nginx")
        user = "user root;" if os.geteuid() == 0 else ""
        open(f"{tmp}/nginx/nginx.conf", "w").write(f"""daemon off; master_process on; worker_processes 1; {user}
pid {tmp}/nginx/nginx.pid; error_log {tmp}/nginx/error.log crit;
worker_rlimit_nofile {4 * a.conns + 256};
events {{ worker_connections {2 * a.conns + 64}; use epoll; }}
http {{ access_log off; client_body_temp_path {tmp}/nginx/body; proxy_temp_path {tmp}/nginx/proxy;
  fastcgi_temp_path {tmp}/nginx/fastcgi; uwsgi_temp_path {tmp}/nginx/uwsgi; scgi_temp_path {tmp}/nginx/scgi;
  keepalive_timeout 300s;
  server {{ listen 127.0.0.1:{nport} http2; location = /plaintext {{ return 200 "Hello, World!"; }} }} }}
""")
        procs.append(subprocess.Popen(["nginx", "-p", f"{tmp}/nginx", "-c", f"{tmp}/nginx/nginx.conf",
                                       "-e", f"{tmp}/nginx/error.log"]))
        wait_port(dport)
        wait_port(nport)
        time.sleep(0.5)
        workers = subprocess.run(["pgrep", "-P", str(procs[1].pid)], capture_output=True, text=True).stdout.split()
        targets = {"dusty": (dport, procs[0].pid), "nginx": (nport, int(workers[0]))}
        print(f"| {a.conns} idle h2c connections | RSS before (KiB) | after (KiB) | per connection (KiB) |")
        print("|---|---|---|---|")
        for name, (port, pid) in targets.items():
            before = rss_kib(pid)
            conns = open_idle(port, a.conns)
            time.sleep(1.0)
            after = rss_kib(pid)
            print(f"| {name} | {before:,} | {after:,} | {(after - before) / a.conns:.1f} |")
            for c in conns:
                c.sock.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)


if __name__ == "__main__":
    main()
