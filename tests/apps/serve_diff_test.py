#!/usr/bin/python3
"""Differential test: dusty-serve (http::static_files) against nginx serving the same tree.

    /usr/bin/python3 tests/apps/serve_diff_test.py build/release/apps/serve/dusty-serve

Builds a tree in a temporary directory (files of 0, 1, 4096 bytes, 1 MiB of random bytes,
a sparse 100 MiB file with random blocks, a text file with .gz and .br siblings, nested
directories with index.html, a directory without one, dotfiles, symlinks in and out of
the tree, a FIFO, names with spaces, unicode and '%'), starts dusty-serve and nginx
(sendfile, open_file_cache, gzip_static, etag) on free loopback ports, and sends the same
requests to both with Python requests, curl and raw sockets: every file (bodies compared
with the disk; a hash for the 100 MiB file), HEAD, 50 seeded random ranges, conditional
requests (If-None-Match, If-Modified-Since, If-Match, If-Unmodified-Since, If-Range),
precompressed siblings, directory redirects and indexes, and path traversal attempts
(dusty must never answer 200 with /etc/passwd). Status codes are compared where the two
should agree; Content-Type (media type, for html, css, txt, bin), Content-Length,
Content-Range, Accept-Ranges and Last-Modified must be equal; ETag present in both.
Then 100 connections each pipeline 100 GETs with random ranges of the 1 MiB file (every
206 body checked) within 60 s; a file replaced by rename is served new, with a new ETag,
once the 1 s revalidation has passed; dusty-serve still answers, and exits 0 on SIGTERM.

Deliberate differences (dusty is checked alone, nginx's answer is not compared):
  - hidden names (/.secret, /.hidden_dir/x): nginx 200, dusty 404;
  - symlinks out of the root (/passwd_link, /etc_link/passwd): nginx follows them (200,
    disable_symlinks is off by default), dusty 403;
  - a FIFO: dusty 403 at once (nginx: 404, it is not a regular file);
  - a range covering the whole file ("bytes=0-", "-n" with n >= size): nginx 206, dusty
    200 with the whole body (RFC 9110 section 14.2 lets a server ignore Range);
  - "bytes=0-0" on an empty file: dusty 416 (unsatisfiable, RFC 9110 section 14.1.1),
    nginx 200 (it ignores Range on empty files);
  - 416: nginx sends an HTML body, dusty none (Content-Length is compared for 206 only);
  - several ranges: nginx answers multipart/byteranges; dusty merges overlapping or
    touching ranges into one 206 and answers 200 (the whole file) when they leave gaps;
  - Range with Accept-Encoding: gzip: nginx's gzip_static serves a range of the .gz,
    dusty a range of the identity bytes (without Content-Encoding);
  - .br siblings: nginx has no brotli module here; dusty serves them;
  - malformed paths ("..", a backslash, invalid UTF-8 such as %c0%ae, NUL): dusty 400
    for all; nginx 400 for some and 404 for others (backslash, overlong UTF-8);
  - Content-Type: dusty adds "; charset=utf-8" to text types (media types compared);
  - the Location of a directory redirect: nginx absolute and unescaped, dusty the raw
    request path (paths compared after percent-decoding).

DUSTY_BACKEND (io_uring, epoll) is passed on as --backend. Exit status 0 when every check
passed; the last line is "serve_diff: N passed, M failed".
"""
import gzip
import hashlib
import os
import random
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests

TIMEOUT = 10  # seconds, for any single request
MIB = 1024 * 1024
passed = 0
failures = []


def check(cond, what, detail=""):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what + (": " + detail if detail else ""))
        print("FAIL", what, detail[:2000], flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with status %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen on port %d" % port)


# ---- the tree --------------------------------------------------------------------------

TEXT = "".join("line %05d: the quick brown fox jumps over the lazy dog, ünïcødé ✓\n" % i for i in range(700))


def build_tree(root, rng):
    """Writes the tree; returns {url path: disk path} of the regular files both serve."""
    os.makedirs(root)

    def put(rel, data):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    put("empty.bin", b"")
    put("one.bin", b"\x7f")
    put("page4k.bin", rng.randbytes(4096))
    put("mid.bin", rng.randbytes(MIB))
    huge = os.path.join(root, "huge.bin")
    with open(huge, "wb") as f:
        f.truncate(100 * MIB)
        for _ in range(8):
            f.seek(rng.randrange(0, 100 * MIB - 65536))
            f.write(rng.randbytes(rng.randrange(1, 65536)))
        f.seek(100 * MIB - 4096)
        f.write(rng.randbytes(4096))  # the last block too: suffix ranges see data
    put("text.txt", TEXT.encode())
    put("text.txt.gz", gzip.compress(TEXT.encode(), 9, mtime=0))
    put("text.txt.br", b"not really brotli, but dusty does not look inside: " + rng.randbytes(100))
    put("style.css", b"body { color: #123456; }\n" * 10)
    put("index.html", b"<!doctype html><title>root</title><p>root index\n")
    put("sub/index.html", b"<!doctype html><title>sub</title><p>sub index\n")
    put("sub/data.txt", b"sub data\n" * 3000)  # > 16 KiB: sent from the file, not from memory
    put("sub/deeper/index.html", b"<!doctype html><p>deeper index\n")
    put("sub/deeper/page.html", b"<!doctype html><p>deeper page\n")
    put("noindex/file.txt", b"a file in a directory without index\n")
    put("dir with space/index.html", b"<!doctype html><p>index with space\n")
    put("with space.txt", b"a name with a space\n")
    put("ünïcødé ✓.txt", "unicode name ✓\n".encode())
    put("pct%41.txt", b"a literal percent sign in the name\n")
    put("plus+sign.txt", b"plus\n")
    put(".secret", b"SECRET=dotfile\n")
    put(".hidden_dir/file.txt", b"in a hidden directory\n")
    put("sub/.env", b"TOKEN=hidden\n")
    put("change.txt", b"version one\n")
    os.symlink("/etc/passwd", os.path.join(root, "passwd_link"))
    os.symlink("/etc", os.path.join(root, "etc_link"))
    os.symlink("mid.bin", os.path.join(root, "inner_link.bin"))
    os.symlink("sub/data.txt", os.path.join(root, "inner_link.txt"))
    os.symlink("sub", os.path.join(root, "sub_link"))
    os.mkfifo(os.path.join(root, "fifo"))
    files = {}
    for rel in ("empty.bin", "one.bin", "page4k.bin", "mid.bin", "text.txt", "text.txt.gz", "style.css",
                "index.html", "sub/index.html", "sub/data.txt", "sub/deeper/index.html", "sub/deeper/page.html",
                "noindex/file.txt", "dir with space/index.html", "with space.txt", "ünïcødé ✓.txt", "pct%41.txt",
                "plus+sign.txt", "inner_link.bin", "inner_link.txt", "sub_link/data.txt"):
        files["/" + urllib.parse.quote(rel)] = os.path.join(root, rel)
    return files


def write_nginx_conf(tmp, tree, port):
    conf = os.path.join(tmp, "nginx.conf")
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join("    %s_temp_path %s;\n" % (k, os.path.join(tmp, "nginx-" + k))
                   for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    with open(conf, "w") as f:
        f.write(user + """worker_processes 1;
pid %(tmp)s/nginx.pid;
error_log %(tmp)s/nginx-error.log;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    open_file_cache max=1000;
    gzip_static on;
    etag on;
    access_log %(tmp)s/nginx-access.log;
%(temp)s    server {
        listen 127.0.0.1:%(port)d;
        root %(tree)s;
    }
}
""" % {"tmp": tmp, "tree": tree, "port": port, "temp": temp})
    return conf


def start_nginx(tmp, tree):
    port = free_port()
    conf = write_nginx_conf(tmp, tree, port)
    proc = subprocess.Popen(["/usr/sbin/nginx", "-p", tmp, "-c", conf, "-e", os.path.join(tmp, "nginx-error.log"),
                             "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "nginx.stderr"), "w"))
    wait_listening(port, proc, time.monotonic() + 10)
    return proc, port


def start_dusty(binary, tmp, tree):
    # stderr goes to a file: a pipe nobody reads would stall the server once it fills.
    log = os.path.join(tmp, "dusty-serve.log")
    cmd = [binary, tree, "--port", "0", "--address", "127.0.0.1", "--shards", "2"]
    if os.environ.get("DUSTY_BACKEND"):
        cmd += ["--backend", os.environ["DUSTY_BACKEND"]]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)
    line = proc.stdout.readline()
    m = re.search(r"http://([0-9.]+):(\d+)/", line)
    if not m:
        proc.kill()
        raise RuntimeError("dusty-serve did not print its URL: %r %s" % (line, open(log).read()))
    wait_listening(int(m.group(2)), proc, time.monotonic() + 10)
    return proc, int(m.group(2))


# ---- clients ---------------------------------------------------------------------------

def raw(port, target, headers=(), method="GET", timeout=TIMEOUT):
    """One request on its own connection, the target sent byte for byte.
    Returns (status, {lower-case name: value}, body bytes)."""
    req = ["%s %s HTTP/1.1" % (method, target), "Host: 127.0.0.1:%d" % port, "Connection: close"]
    req += ["%s: %s" % h for h in headers]
    data = ("\r\n".join(req) + "\r\n\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
    resp = b"".join(chunks)
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    return (int(m.group(1)) if m else 0), hdrs, body


def curl(port, path, args=()):
    """(status, body) from curl."""
    cmd = ["curl", "-s", "-S", "--max-time", str(TIMEOUT), "-o", "-", "-w", "\n%{http_code}"] + list(args) + \
          ["http://127.0.0.1:%d%s" % (port, path)]
    out = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT + 5)
    body, _, code = out.stdout.rpartition(b"\n")
    return int(code or 0), body


def media_type(value):
    return (value or "").split(";")[0].strip().lower()


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


class Pair:
    def __init__(self, nginx_port, dusty_port):
        self.ports = {"nginx": nginx_port, "dusty": dusty_port}
        self.base = {k: "http://127.0.0.1:%d" % v for k, v in self.ports.items()}
        self.sessions = {k: requests.Session() for k in self.ports}
        for s in self.sessions.values():
            s.headers["Accept-Encoding"] = "identity"

    def get(self, who, method, path, **kw):
        kw.setdefault("timeout", TIMEOUT)
        kw.setdefault("allow_redirects", False)
        return self.sessions[who].request(method, self.base[who] + path, **kw)

    def both(self, method, path, **kw):
        return self.get("nginx", method, path, **kw), self.get("dusty", method, path, **kw)

    def same_headers(self, what, a, b, names=("Content-Length", "Content-Range", "Accept-Ranges", "Last-Modified"),
                     path=""):
        for h in names:
            check(a.headers.get(h) == b.headers.get(h), what + " " + h,
                  "nginx %r, dusty %r" % (a.headers.get(h), b.headers.get(h)))
        if a.status_code in (200, 206, 304):
            check(("ETag" in a.headers) == ("ETag" in b.headers) == True, what + " ETag present",  # noqa: E712
                  "nginx %r, dusty %r" % (a.headers.get("ETag"), b.headers.get("ETag")))
        ext = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
        if a.status_code in (200, 206) and ext in ("html", "css", "txt", "bin"):
            check(media_type(a.headers.get("Content-Type")) == media_type(b.headers.get("Content-Type")),
                  what + " Content-Type", "nginx %r, dusty %r" % (a.headers.get("Content-Type"),
                                                                 b.headers.get("Content-Type")))


# ---- a model of dusty's answer to a Range (http/codec/range.cpp) --------------------------

def parse_spec(value):
    specs = []
    unit, _, rest = value.partition("=")
    assert unit == "bytes"
    for item in rest.split(","):
        item = item.strip()
        if not item:
            continue
        a, _, b = item.partition("-")
        specs.append((int(a) if a else None, int(b) if b else None))
    return specs


def dusty_plan(value, size):
    """(status, first, last) as dusty answers Range `value` for a representation of `size`."""
    whole = (200, 0, size - 1)
    spans = []
    for a, b in parse_spec(value):
        if a is None:
            if b == 0 or size == 0:
                continue
            spans.append((size - min(b, size), size - 1))
        else:
            if a >= size:
                continue
            spans.append((a, min(size - 1 if b is None else b, size - 1)))
    if not spans:
        return (416, 0, 0)
    spans.sort()
    first, last = spans[0]
    for f, l in spans[1:]:
        if f > last + 1:
            return whole
        last = max(last, l)
    if first == 0 and last == size - 1:
        return whole
    return (206, first, last)


# ---- the cases -------------------------------------------------------------------------

def every_file(p, files):
    for path, disk in files.items():
        data = read_file(disk)
        a, b = p.both("GET", path)
        what = "GET " + path
        check(a.status_code == b.status_code == 200, what + " status", "nginx %d, dusty %d" % (a.status_code, b.status_code))
        check(b.content == data, what + " body", "%d bytes, expected %d" % (len(b.content), len(data)))
        check(a.content == data, what + " body (nginx)", "%d bytes" % len(a.content))
        p.same_headers(what, a, b, path=path)
        a, b = p.both("HEAD", path)
        check(a.status_code == b.status_code == 200 and b.content == b"", "HEAD " + path,
              "nginx %d, dusty %d, %d body bytes" % (a.status_code, b.status_code, len(b.content)))
        p.same_headers("HEAD " + path, a, b, path=path)
        # And with curl, both.
        for who in ("nginx", "dusty"):
            code, body = curl(p.ports[who], path)
            check(code == 200 and body == data, "curl %s %s" % (who, path), "%d, %d bytes" % (code, len(body)))


def huge_file(p, tree):
    path, disk = "/huge.bin", os.path.join(tree, "huge.bin")
    want = sha256_file(disk)
    for who in ("nginx", "dusty"):
        r = p.get(who, "GET", path, stream=True, timeout=30)
        h = hashlib.sha256()
        n = 0
        for block in r.iter_content(MIB):
            h.update(block)
            n += len(block)
        check(r.status_code == 200 and n == 100 * MIB and h.hexdigest() == want, "GET /huge.bin " + who,
              "%d, %d bytes" % (r.status_code, n))
    a, b = p.both("HEAD", path)
    p.same_headers("HEAD /huge.bin", a, b, path=path)
    # curl, into a pipe hashed as it comes.
    proc = subprocess.Popen(["curl", "-s", "-S", "--max-time", "30", "-o", "-", "http://127.0.0.1:%d%s" %
                             (p.ports["dusty"], path)], stdout=subprocess.PIPE)
    h = hashlib.sha256()
    for block in iter(lambda: proc.stdout.read(MIB), b""):
        h.update(block)
    check(proc.wait(40) == 0 and h.hexdigest() == want, "curl dusty /huge.bin hash")


def random_ranges(p, tree, rng):
    targets = [("/page4k.bin", 4096), ("/mid.bin", MIB), ("/huge.bin", 100 * MIB), ("/text.txt", len(TEXT.encode())),
               ("/one.bin", 1), ("/sub/data.txt", 27000)]
    blobs = {path: read_file(os.path.join(tree, path[1:])) for path, _ in targets if path != "/huge.bin"}
    huge = open(os.path.join(tree, "huge.bin"), "rb")

    def content(path, first, last):
        if path == "/huge.bin":
            huge.seek(first)
            return huge.read(last - first + 1)
        return blobs[path][first:last + 1]

    kinds = ["single", "single", "suffix", "open", "past-end", "overlap", "touch", "gap", "whole"]
    counts = {}
    for i in range(50):
        path, size = targets[i % len(targets)]
        kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(kinds)
        span = min(size, MIB)  # keep bodies of the huge file small
        a = rng.randrange(0, size)
        n = rng.randrange(1, span + 1)
        if kind == "single":
            value = "bytes=%d-%d" % (a, min(a + n - 1, size + 100))
        elif kind == "suffix":
            value = "bytes=-%d" % rng.choice([n, size + 10, 1])
        elif kind == "open":
            value = "bytes=%d-" % max(a, size - span)
        elif kind == "past-end":
            value = "bytes=%d-%d" % (size + rng.randrange(0, 1000), size + 2000)
        elif kind == "overlap":
            b = min(a + n, size - 1)
            value = "bytes=%d-%d, %d-%d" % (a, b, (a + b) // 2, min(b + n, size + 5))
        elif kind == "touch":
            b = min(a + n // 2, size - 1)
            value = "bytes=%d-%d,%d-%d" % (b + 1, min(b + n, size - 1), a, b) if b + 1 < size else "bytes=%d-%d" % (a, b)
        elif kind == "gap":
            value = "bytes=0-0, %d-%d" % (min(2, size - 1), size - 1) if size > 2 else "bytes=0-0"
        else:
            value = rng.choice(["bytes=0-", "bytes=0-%d" % (size + 7), "bytes=-%d" % (size * 2)])
        counts[kind] = counts.get(kind, 0) + 1
        status, first, last = dusty_plan(value, size)
        what = "Range %s on %s" % (value, path)
        a_, b_ = p.both("GET", path, headers={"Range": value})
        check(b_.status_code == status, what + " status", "dusty %d, expected %d" % (b_.status_code, status))
        if status == 206:
            check(b_.headers.get("Content-Range") == "bytes %d-%d/%d" % (first, last, size), what + " Content-Range",
                  str(b_.headers.get("Content-Range")))
            check(b_.content == content(path, first, last), what + " body", "%d bytes" % len(b_.content))
        elif status == 416:
            check(b_.headers.get("Content-Range") == "bytes */%d" % size, what + " Content-Range",
                  str(b_.headers.get("Content-Range")))
        else:
            check(int(b_.headers.get("Content-Length", -1)) == size and
                  (path == "/huge.bin" or b_.content == blobs[path]), what + " whole body")
        check(b_.headers.get("Accept-Ranges") == "bytes", what + " Accept-Ranges")
        # nginx agrees on one range that is not the whole file, and on 416.
        single = len(parse_spec(value)) == 1
        if (single and status == 206) or status == 416:
            check(a_.status_code == status, what + " status vs nginx", "nginx %d, dusty %d" % (a_.status_code, status))
            # (nginx's 416 has an HTML body, dusty's none: Content-Length is compared for 206 only.)
            p.same_headers(what, a_, b_, names=("Content-Length", "Content-Range") if status == 206 else
                           ("Content-Range",), path=path)
            if status == 206:
                check(a_.content == b_.content, what + " body vs nginx")
    huge.close()
    print("  ranges:", ", ".join("%s %d" % kv for kv in sorted(counts.items())), flush=True)
    # HEAD with a Range, and ranges of the empty file.
    # (path, Range, dusty's status, compared with nginx)
    for path, value, want, compare in (
            ("/mid.bin", "bytes=100-199", 206, True),
            ("/empty.bin", "bytes=0-0", 416, False),  # unsatisfiable (RFC 9110 14.1.1); nginx 200
            # RFC 9110 section 14.1.1: "When a selected representation has zero length, the only
            # satisfiable form of range in a GET request is a suffix-range with a non-zero
            # suffix-length": not a 416; nginx ignores the Range (200, the empty body).
            ("/empty.bin", "bytes=-5", 200, True),
            ("/one.bin", "bytes=0-0", 200, False),  # the whole file: dusty 200, nginx 206
            ("/one.bin", "bytes=1-", 416, True)):
        for method in ("HEAD", "GET"):
            a_, b_ = p.both(method, path, headers={"Range": value})
            what = "%s %s Range %s" % (method, path, value)
            check(b_.status_code == want, what + " status", "dusty %d, expected %d" % (b_.status_code, want))
            if method == "HEAD" or want == 416:
                check(b_.content == b"", what + " no body", "%d bytes" % len(b_.content))
            if compare:
                check(a_.status_code == b_.status_code, what + " status vs nginx",
                      "nginx %d, dusty %d" % (a_.status_code, b_.status_code))
                p.same_headers(what, a_, b_, names=("Content-Range",) + (("Content-Length",) if want != 416 else ()),
                               path=path)
    # curl's own --range, both.
    mid = blobs["/mid.bin"]
    for rng_arg, want in (("1000-1999", mid[1000:2000]), ("-300", mid[-300:]), ("1048000-", mid[1048000:])):
        for who in ("nginx", "dusty"):
            code, body = curl(p.ports[who], "/mid.bin", ["--range", rng_arg])
            check(code == 206 and body == want, "curl --range %s %s" % (rng_arg, who), "%d %d bytes" % (code, len(body)))


def conditionals(p, tree):
    for path in ("/mid.bin", "/text.txt", "/page4k.bin", "/sub/index.html"):
        data = read_file(os.path.join(tree, path[1:]))
        first = {who: p.get(who, "GET", path) for who in ("nginx", "dusty")}
        tag = {who: r.headers.get("ETag", "") for who, r in first.items()}
        lm = {who: r.headers.get("Last-Modified", "") for who, r in first.items()}
        check(re.fullmatch(r'"[^"]+"', tag["dusty"]) is not None, path + " strong ETag", tag["dusty"])
        check(lm["nginx"] == lm["dusty"] != "", path + " Last-Modified equal", str(lm))
        cases = [
            ("If-None-Match", lambda w: {"If-None-Match": tag[w]}, 304),
            ("If-None-Match list", lambda w: {"If-None-Match": '"nope", ' + tag[w]}, 304),
            ("If-None-Match *", lambda w: {"If-None-Match": "*"}, 304),
            ("If-None-Match weak", lambda w: {"If-None-Match": "W/" + tag[w]}, 304),
            ("If-None-Match other", lambda w: {"If-None-Match": '"nope"'}, 200),
            ("If-Modified-Since", lambda w: {"If-Modified-Since": lm[w]}, 304),
            ("If-Modified-Since old", lambda w: {"If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"}, 200),
            ("If-Match other", lambda w: {"If-Match": '"nope"'}, 412),
            ("If-Match own", lambda w: {"If-Match": tag[w]}, 200),
            ("If-Unmodified-Since old", lambda w: {"If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"}, 412),
            ("If-Range ETag", lambda w: {"Range": "bytes=1-10", "If-Range": tag[w]}, 206),
            ("If-Range other ETag", lambda w: {"Range": "bytes=1-10", "If-Range": '"nope"'}, 200),
            ("If-Range date", lambda w: {"Range": "bytes=1-10", "If-Range": lm[w]}, 206),
            ("If-Range old date", lambda w: {"Range": "bytes=1-10", "If-Range": "Sun, 06 Nov 1994 08:49:37 GMT"}, 200),
        ]
        for name, headers, want in cases:
            what = "%s %s" % (name, path)
            a = p.get("nginx", "GET", path, headers=headers("nginx"))
            b = p.get("dusty", "GET", path, headers=headers("dusty"))
            check(a.status_code == b.status_code == want, what + " status",
                  "nginx %d, dusty %d, expected %d" % (a.status_code, b.status_code, want))
            if want == 304:
                check(b.content == b"" and b.headers.get("ETag") == tag["dusty"], what + " 304 body and ETag",
                      "%r %r" % (b.content[:50], b.headers.get("ETag")))
            elif want == 206:
                check(b.content == data[1:11] and b.headers.get("Content-Range") == "bytes 1-10/%d" % len(data),
                      what + " 206 body")
            elif want == 200:
                check(b.content == data, what + " 200 body", "%d bytes" % len(b.content))
            if want in (200, 206):
                p.same_headers(what, a, b, names=("Content-Length", "Content-Range", "Last-Modified"), path=path)


def precompressed(p, tree):
    text = TEXT.encode()
    gz = read_file(os.path.join(tree, "text.txt.gz"))
    br = read_file(os.path.join(tree, "text.txt.br"))
    # gzip: both serve the sibling; decoded it is the text.
    a, b = p.both("GET", "/text.txt", headers={"Accept-Encoding": "gzip"})
    check(a.status_code == b.status_code == 200, "gzip status", "nginx %d, dusty %d" % (a.status_code, b.status_code))
    for who, r in (("nginx", a), ("dusty", b)):
        check(r.headers.get("Content-Encoding") == "gzip", "gzip Content-Encoding " + who, str(r.headers))
        check(r.content == text, "gzip decodes to the text " + who, "%d bytes" % len(r.content))
    check(b.headers.get("Vary") == "Accept-Encoding", "gzip Vary (dusty)", str(b.headers.get("Vary")))
    check(a.headers.get("Content-Length") == b.headers.get("Content-Length") == str(len(gz)), "gzip Content-Length",
          "nginx %r, dusty %r, .gz %d" % (a.headers.get("Content-Length"), b.headers.get("Content-Length"), len(gz)))
    check(media_type(b.headers.get("Content-Type")) == "text/plain", "gzip Content-Type is the text's",
          str(b.headers.get("Content-Type")))
    check(b.headers.get("ETag") != p.get("dusty", "GET", "/text.txt").headers.get("ETag"), "gzip variant has its own ETag")
    r = p.get("dusty", "GET", "/text.txt", headers={"Accept-Encoding": "gzip"}, stream=True)
    check(r.raw.read(decode_content=False) == gz, "gzip raw bytes are the .gz")
    # (curl --compressed alone would ask for br too, and the .br here is not brotli.)
    code, body = curl(p.ports["dusty"], "/text.txt", ["--compressed", "-H", "Accept-Encoding: gzip"])
    check(code == 200 and body == text, "curl --compressed dusty", "%d %d bytes" % (code, len(body)))
    # identity: the text itself, Vary still set.
    b = p.get("dusty", "GET", "/text.txt")
    check(b.content == text and "Content-Encoding" not in b.headers and b.headers.get("Vary") == "Accept-Encoding",
          "identity text", str(b.headers))
    b = p.get("dusty", "GET", "/text.txt", headers={"Accept-Encoding": "gzip;q=0, identity"})
    check(b.content == text and "Content-Encoding" not in b.headers, "gzip;q=0 gives identity", str(b.headers))
    # br: dusty only (nginx has no brotli module); br is preferred over gzip.
    for ae in ("br", "gzip, deflate, br"):
        r = p.get("dusty", "GET", "/text.txt", headers={"Accept-Encoding": ae}, stream=True)
        body = r.raw.read(decode_content=False)
        check(r.status_code == 200 and r.headers.get("Content-Encoding") == "br" and body == br and
              r.headers.get("Vary") == "Accept-Encoding", "br served for Accept-Encoding: " + ae,
              "%d %s %d bytes" % (r.status_code, r.headers, len(body)))
    # HEAD with gzip: the sibling's length.
    b = p.get("dusty", "HEAD", "/text.txt", headers={"Accept-Encoding": "gzip"})
    check(b.headers.get("Content-Length") == str(len(gz)) and b.headers.get("Content-Encoding") == "gzip", "HEAD gzip")
    # Ranges address the identity bytes, never the sibling.
    b = p.get("dusty", "GET", "/text.txt", headers={"Accept-Encoding": "gzip, br", "Range": "bytes=10-99"})
    check(b.status_code == 206 and b.content == text[10:100] and "Content-Encoding" not in b.headers,
          "Range with Accept-Encoding: identity bytes", "%d %s" % (b.status_code, b.headers))
    # The .gz itself is a file like any other.
    a, b = p.both("GET", "/text.txt.gz")
    check(b.status_code == 200 and b.content == gz and "Content-Encoding" not in b.headers, "GET /text.txt.gz raw")
    # A conditional on the gzip variant uses the variant's ETag.
    tag = p.get("dusty", "GET", "/text.txt", headers={"Accept-Encoding": "gzip"}).headers.get("ETag")
    b = p.get("dusty", "GET", "/text.txt", headers={"Accept-Encoding": "gzip", "If-None-Match": tag})
    check(b.status_code == 304, "If-None-Match on the gzip variant", str(b.status_code))


def directories(p):
    # 301 to the path with '/', query kept; Location paths compared percent-decoded.
    for target in ("/sub", "/sub/deeper", "/noindex", "/sub?x=1&y=2", "/dir%20with%20space"):
        statuses, locs = {}, {}
        for who in ("nginx", "dusty"):
            code, hdrs, _ = raw(p.ports[who], target)
            statuses[who] = code
            u = urllib.parse.urlsplit(hdrs.get("location", ""))
            locs[who] = urllib.parse.unquote(u.path.encode("latin-1").decode("utf-8", "replace")) + \
                ("?" + u.query if u.query else "")
        check(statuses["nginx"] == statuses["dusty"] == 301, "directory %s 301" % target, str(statuses))
        path, _, query = target.partition("?")
        want = urllib.parse.unquote(path) + "/" + ("?" + query if query else "")
        check(locs["dusty"] == locs["nginx"] == want, "directory %s Location" % target, str(locs))
    # index.html, for the root and nested directories.
    for path, index in (("/", "index.html"), ("/sub/", "sub/index.html"), ("/sub/deeper/", "sub/deeper/index.html"),
                        ("/dir%20with%20space/", "dir with space/index.html"), ("/sub//deeper/", "sub/deeper/index.html")):
        a, b = p.both("GET", path)
        check(a.status_code == b.status_code == 200 and a.content == b.content and b.content.startswith(b"<!doctype"),
              "index " + path, "nginx %d, dusty %d %r" % (a.status_code, b.status_code, b.content[:60]))
        p.same_headers("index " + path, a, b, path=index)
    # Without index: 403 from both (no listing).
    a, b = p.both("GET", "/noindex/")
    check(a.status_code == b.status_code == 403, "directory without index 403",
          "nginx %d, dusty %d" % (a.status_code, b.status_code))
    # A file named as a directory, things that do not exist, a method files do not have.
    for path, want in (("/sub/data.txt/", 404), ("/one.bin/", 404), ("/sub/data.txt/.", 404), ("/nope.txt", 404),
                       ("/sub/nope/", 404), ("/nope/deeper/x.html", 404), ("/./sub/./deeper/page.html", 200),
                       ("/pct%41.txt", 404), ("/pct%2541.txt", 200), ("/%6did.bin", 200), ("/mid.bin?x=1&y", 200),
                       ("/sub_link/", 200), ("/sub/deeper/index.html/", 404)):
        a = raw(p.ports["nginx"], path)[0]
        b = raw(p.ports["dusty"], path)[0]
        check(a == b == want, "GET %s" % path, "nginx %d, dusty %d, expected %d" % (a, b, want))
    a, b = p.both("POST", "/sub/data.txt", data=b"x")
    check(a.status_code == b.status_code == 405, "POST a file 405", "nginx %d, dusty %d" % (a.status_code, b.status_code))


def refusals(p):
    """Deliberate differences: dusty refuses what nginx serves by default."""
    for path, want in (("/.secret", 404), ("/.hidden_dir/file.txt", 404), ("/sub/.env", 404), ("/.hidden_dir/", 404),
                       ("/passwd_link", 403), ("/etc_link/passwd", 403), ("/fifo", 403)):
        t0 = time.monotonic()
        b = p.get("dusty", "GET", path)
        check(b.status_code == want and b"root:" not in b.content and b"SECRET" not in b.content and
              b"TOKEN" not in b.content, "dusty refuses " + path,
              "%d %r, expected %d" % (b.status_code, b.content[:100], want))
        check(time.monotonic() - t0 < 2, "dusty answers %s at once" % path)
        a = raw(p.ports["nginx"], path, timeout=3)[0]
        print("  %-24s nginx %d, dusty %d" % (path, a, b.status_code), flush=True)
    for path in ("/passwd_link", "/etc_link/passwd", "/.secret"):
        code, body = curl(p.ports["dusty"], path)
        check(code in (403, 404) and b"root:" not in body and b"SECRET" not in body, "curl dusty refuses " + path, str(code))


TRAVERSALS = ["/../etc/passwd", "/../../../../etc/passwd", "/sub/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
              "/%2E%2E/%2E%2E/%2E%2E/etc/passwd", "/sub%2f..%2f..%2fetc/passwd", "/sub/%2e%2e%2f%2e%2e%2fetc/passwd",
              "/..%5c..%5cetc/passwd", "/%c0%ae%c0%ae/etc/passwd", "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
              "/foo%00.html", "/index.html%00.txt", "/%252e%252e/etc/passwd", "/etc_link%2fpasswd",
              "/passwd_link%00", "/.%2e/.%2e/etc/passwd", "//etc/passwd", "/sub/..%2f..%2fetc%2fpasswd"]


def traversals(p):
    for path in TRAVERSALS:
        b_code, _, b_body = raw(p.ports["dusty"], path)
        a_code = raw(p.ports["nginx"], path)[0]
        check(b_code in (400, 403, 404) and b"root:" not in b_body, "traversal " + path,
              "dusty %d %r" % (b_code, b_body[:100]))
        # curl --path-as-is sends it as written, too.
        code, body = curl(p.ports["dusty"], path, ["--path-as-is"])
        check(code in (400, 403, 404) and b"root:" not in body, "traversal (curl) " + path, "dusty %d" % code)
        print("  %-40s nginx %d, dusty %d" % (path, a_code, b_code), flush=True)
    # Where nginx also says 400, dusty does too.
    for path in ("/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/sub%2f..%2f..%2fetc/passwd", "/foo%00.html"):
        a = raw(p.ports["nginx"], path)[0]
        b = raw(p.ports["dusty"], path)[0]
        check(a == b == 400, "traversal %s 400 in both" % path, "nginx %d, dusty %d" % (a, b))
    # '..' that stays inside the root is refused by dusty as malformed (nginx resolves it).
    code = raw(p.ports["dusty"], "/sub/../index.html")[0]
    check(code == 400, "/sub/../index.html is 400", str(code))


def pipelined_ranges(port, data, rng, conns=100, per_conn=100, limit=60.0):
    """`conns` connections, each pipelining `per_conn` GETs with random ranges; every 206 checked."""
    size = len(data)
    sel = selectors.DefaultSelector()
    state = []
    t0 = time.monotonic()
    for c in range(conns):
        s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        s.setblocking(False)
        out, expect = [], []
        for _ in range(per_conn):
            k = rng.random()
            if k < 0.7:
                a = rng.randrange(0, size - 1)
                b = min(a + rng.randrange(0, 65536), size - 2 if a == 0 else size - 1)
                value, first, last = "bytes=%d-%d" % (a, b), a, b
            elif k < 0.85:
                n = rng.randrange(1, 65536)
                value, first, last = "bytes=-%d" % n, size - n, size - 1
            else:
                a = rng.randrange(size - 65536, size)
                value, first, last = "bytes=%d-" % a, a, size - 1
            out.append("GET /mid.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: %s\r\n\r\n" % value)
            expect.append((first, last))
        st = {"sock": s, "out": memoryview("".join(out).encode()), "expect": expect, "buf": bytearray(), "pos": 0,
              "head": None, "done": 0, "bad": 0}
        state.append(st)
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, st)
    remaining = conns
    bad = []
    while remaining and time.monotonic() - t0 < limit:
        for key, events in sel.select(timeout=1.0):
            st = key.data
            s = st["sock"]
            if events & selectors.EVENT_WRITE and st["out"]:
                try:
                    n = s.send(st["out"][:65536])
                    st["out"] = st["out"][n:]
                except BlockingIOError:
                    pass
                if not st["out"]:
                    sel.modify(s, selectors.EVENT_READ, st)
            if not events & selectors.EVENT_READ:
                continue
            try:
                chunk = s.recv(1 << 18)
            except BlockingIOError:
                continue
            if not chunk:
                bad.append("connection closed after %d answers" % st["done"])
                sel.unregister(s)
                remaining -= 1
                continue
            buf = st["buf"]
            buf += chunk
            while st["done"] < per_conn:
                if st["head"] is None:
                    end = buf.find(b"\r\n\r\n", st["pos"])
                    if end < 0:
                        break
                    head = bytes(buf[st["pos"]:end])
                    m = re.match(rb"HTTP/1\.1 (\d{3})", head)
                    cl = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
                    cr = re.search(rb"\r\ncontent-range: *bytes (\d+)-(\d+)/(\d+)", head, re.I)
                    st["head"] = (int(m.group(1)) if m else 0, int(cl.group(1)) if cl else 0,
                                  (int(cr.group(1)), int(cr.group(2))) if cr else None)
                    st["pos"] = end + 4
                code, length, crange = st["head"]
                if len(buf) - st["pos"] < length:
                    break
                first, last = st["expect"][st["done"]]
                ok = (code == 206 and crange == (first, last) and length == last - first + 1 and
                      buf[st["pos"]:st["pos"] + length] == data[first:last + 1])
                if not ok and len(bad) < 5:
                    bad.append("answer %d: %d %r, expected %d-%d" % (st["done"], code, crange, first, last))
                st["bad"] += not ok
                st["pos"] += length
                st["head"] = None
                st["done"] += 1
            if st["pos"] > (1 << 20):
                del buf[:st["pos"]]
                st["pos"] = 0
            if st["done"] == per_conn:
                sel.unregister(s)
                remaining -= 1
    for st in state:
        st["sock"].close()
    sel.close()
    took = time.monotonic() - t0
    answered = sum(st["done"] for st in state)
    wrong = sum(st["bad"] for st in state)
    check(answered == conns * per_conn and wrong == 0 and not bad,
          "%d pipelined ranges: all answered and right" % (conns * per_conn),
          "%d answered, %d wrong, %.1f s: %s" % (answered, wrong, took, bad[:5]))
    check(took < limit, "pipelined ranges within %d s" % limit, "%.1f s" % took)
    print("  %d pipelined range requests on %d connections: %.1f s" % (answered, conns, took), flush=True)


def file_changes(p, tree):
    path = os.path.join(tree, "change.txt")
    old = read_file(path)

    def fresh_get():  # a new connection each time: both shards' caches are involved
        return requests.get(p.base["dusty"] + "/change.txt", headers={"Connection": "close"}, timeout=TIMEOUT)

    before = [fresh_get() for _ in range(8)]
    old_tag = before[0].headers.get("ETag")
    check(all(r.status_code == 200 and r.content == old and r.headers.get("ETag") == old_tag for r in before),
          "change.txt before the change")
    for n, new in enumerate((b"version two, longer than the first\n" * 100, b"version THREE, same size as two\n" * 100)):
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(new)
        st = os.stat(path)
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))  # a different mtime even on coarse clocks
        os.rename(tmp, path)
        # Before revalidation the old or the new file, never a mix.
        r = fresh_get()
        check(r.content in (old, new) and int(r.headers.get("Content-Length", -1)) == len(r.content),
              "change %d: old or new, whole" % n, "%d bytes" % len(r.content))
        time.sleep(1.5)
        after = [fresh_get() for _ in range(8)]
        tags = {r.headers.get("ETag") for r in after}
        check(all(r.status_code == 200 and r.content == new for r in after), "change %d: new content served" % n,
              str([(r.status_code, len(r.content)) for r in after]))
        check(len(tags) == 1 and old_tag not in tags, "change %d: a new ETag" % n, "%s -> %s" % (old_tag, tags))
        r = requests.get(p.base["dusty"] + "/change.txt", headers={"If-None-Match": old_tag}, timeout=TIMEOUT)
        check(r.status_code == 200 and r.content == new, "change %d: the old ETag no longer matches" % n,
              str(r.status_code))
        old, old_tag = new, after[0].headers.get("ETag")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    started = time.monotonic()
    rng = random.Random(20240611)
    tmp = tempfile.mkdtemp(prefix="serve-diff-")
    tree = os.path.join(tmp, "tree")
    files = build_tree(tree, rng)
    nginx_proc, dusty_proc = None, None
    try:
        nginx_proc, nginx_port = start_nginx(tmp, tree)
        dusty_proc, dusty_port = start_dusty(sys.argv[1], tmp, tree)
        p = Pair(nginx_port, dusty_port)
        mid = read_file(os.path.join(tree, "mid.bin"))
        parts = [("every_file", lambda: every_file(p, files)), ("huge_file", lambda: huge_file(p, tree)),
                 ("random_ranges", lambda: random_ranges(p, tree, rng)), ("conditionals", lambda: conditionals(p, tree)),
                 ("precompressed", lambda: precompressed(p, tree)), ("directories", lambda: directories(p)),
                 ("refusals", lambda: refusals(p)), ("traversals", lambda: traversals(p)),
                 ("pipelined_ranges", lambda: pipelined_ranges(dusty_port, mid, rng)),
                 ("file_changes", lambda: file_changes(p, tree))]
        for name, part in parts:
            t0 = time.monotonic()
            try:
                part()
            except Exception as e:  # noqa: BLE001 - report and go on with the next part
                check(False, name + " raised", repr(e))
            print("%-28s %.1f s" % (name, time.monotonic() - t0), flush=True)
        check(dusty_proc.poll() is None, "dusty-serve still running")
        try:
            r = requests.get(p.base["dusty"] + "/sub/data.txt", timeout=TIMEOUT)
            check(r.status_code == 200 and r.content == read_file(os.path.join(tree, "sub/data.txt")),
                  "still serving at the end")
        except requests.RequestException as e:
            check(False, "still serving at the end", repr(e))
    finally:
        for proc in (dusty_proc, nginx_proc):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    if dusty_proc is not None:
        check(dusty_proc.returncode == 0, "dusty-serve exits 0 on SIGTERM", str(dusty_proc.returncode))
    if failures:
        for log in ("dusty-serve.log", "nginx-error.log"):
            try:
                with open(os.path.join(tmp, log), errors="replace") as f:
                    print("%s (last 3000 bytes):\n%s" % (log, f.read()[-3000:]))
            except OSError:
                pass
    shutil.rmtree(tmp, ignore_errors=True)
    print("took %.1f s" % (time.monotonic() - started))
    print("serve_diff: %d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
