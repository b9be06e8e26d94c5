#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: tests/fuzz/<target>/seed-*.

HTTP/1 seeds come from the parser case files (tests/http/h1/data, the same unescaping as
case_file.hpp); the others are written here. Run it again after changing either; the
output is committed, so a fuzz run needs nothing but the clone. Inputs that once failed
are kept beside the seeds as regress-*, which this script leaves alone.
"""
import gzip
import pathlib
import re
import struct
import zlib

here = pathlib.Path(__file__).resolve().parent
h1_data = here.parent / "http" / "h1" / "data"
max_seed = 4096  # libFuzzer's default -max_len: longer seeds would be cut anyway


def unescape(line):
    line = re.sub(r"\{\{(\d+) x (.*?)\}\}", lambda m: m.group(2) * int(m.group(1)), line)
    out = bytearray()
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line):
            e = line[i + 1]
            if e == "x":
                out.append(int(line[i + 2 : i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\", '"': b'"'}[e]
            i += 2
            continue
        out += c.encode()
        i += 1
    return bytes(out)


def blocks(kind):
    """Every ```<kind> block of the h1 case files, decoded."""
    found = []
    for path in sorted(h1_data.glob("*.md")):
        block = None
        for line in path.read_text().splitlines():
            if block is None:
                if line == "```" + kind:
                    block = b""
            elif line == "```":
                found.append(block)
                block = None
            else:
                block += unescape(line)
    return [b for b in found if 0 < len(b) <= max_seed]


def write(target, seeds):
    folder = here / target
    folder.mkdir(exist_ok=True)
    for old in folder.glob("seed-*"):
        old.unlink()
    for i, seed in enumerate(dict.fromkeys(seeds)):  # unique, in order
        (folder / f"seed-{i:03}").write_bytes(seed if isinstance(seed, bytes) else seed.encode())


requests = blocks("request")
write("request_parser", requests)
write("response_parser", blocks("response"))
write("body_decoder", [r.split(b"\r\n\r\n", 1)[1] for r in requests if b"chunked" in r and b"\r\n\r\n" in r])

ours = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"PUT /stream HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n\xffabc",
    b"GET /users/7 HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\nGET /query?q=x%20y HTTP/1.1\r\nHost: a\r\n\r\n",
    b"OPTIONS /echo HTTP/1.1\r\nHost: a\r\nOrigin: http://b\r\nAccess-Control-Request-Method: POST\r\n\r\n",
    b"GET /fail HTTP/1.0\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: a\r\n\xff\r\nGET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
]
write("server_connection", ours + [r for r in requests if len(r) < 512][:40])

write("url", [
    "http://example.com/a/b?c=d#e\n../x?y",
    "https://user:pw@EXAMPLE.com:8443/\n//other.org/p",
    "http://[::1]:8080/p\n?q=1",
    "http://127.0.0.1\nhttps://a.b/c/./d/../e",
    "http://h/a/b/c\n../../../g",
    "http://h\n#frag",
])
write("query_form", ["a=1&b=2", "x=%20y+z&x=2&&=&k", "%zz=%4&%41%42=%c3%a9", "a[]=1&a[]=2;b"])
write("cookie", [
    "session=7d2c9a1f; theme=dark",
    "a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=60; Domain=.example.com; Path=/x; Secure; HttpOnly; SameSite=Lax",
    'id="quoted"; SameSite=None; Secure',
    "x=; Max-Age=0",
])
write("range_conditional", [
    "bytes=0-99, 200-",
    "bytes=-500",
    "bytes=5-1",
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
    '"v1", W/"v2"',
    "*",
    'W/"weak"',
])


def dns_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def dns_message(flags, question, answers, authority=b"", nauth=0):
    head = struct.pack("!HHHHHH", 0x1234, flags, 1, len(answers), nauth, 0)
    q = dns_name(question) + struct.pack("!HH", 1, 1)
    rr = b""
    for rtype, rdata in answers:
        rr += b"\xc0\x0c" + struct.pack("!HHIH", rtype, 1, 300, len(rdata)) + rdata
    return head + q + rr + authority


soa = b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 60, 22) + b"\0\0" + struct.pack("!IIIII", 1, 2, 3, 4, 30)
write("dns_message", [
    dns_message(0x8180, "example.com", [(1, bytes([93, 184, 216, 34]))]),
    dns_message(0x8180, "example.com", [(28, bytes(range(16))), (1, bytes([1, 2, 3, 4]))]),
    dns_message(0x8180, "www.example.com", [(5, b"\xc0\x10"), (1, bytes([9, 9, 9, 9]))]),
    dns_message(0x8183, "missing.test", [], soa, 1),
    dns_message(0x0100, "query.example", []),
    b"localhost",
    b"a-b_c.example.org.",
])

text = b"hello hello hello, a body to compress " * 4
write("content_coding", [
    b"\x01\x40" + gzip.compress(text),
    b"\x20\x02" + gzip.compress(text),
    b"\x00\x40" + zlib.compress(text),
    b"\x00\x01" + zlib.compress(text)[2:-4],  # raw deflate, small bound
    b"\x01\xff" + gzip.compress(b"one") + gzip.compress(b"two"),
    b"\x00\x00gzip;q=0.5, deflate;q=1, *;q=0",
    b"\x01\x10identity, gzip;q=0",
])


def ws_frame(opcode, payload, fin=True, mask=b"\x37\xfa\x21\x3d", rsv=0):
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        head = bytes([first, m | n])
    elif n < 65536:
        head = bytes([first, m | 126]) + struct.pack("!H", n)
    else:
        head = bytes([first, m | 127]) + struct.pack("!Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + (mask or b"") + payload


deflated = zlib.compressobj(wbits=-15)
compressed = deflated.compress(b"hello hello hello") + deflated.flush(zlib.Z_SYNC_FLUSH)
write("ws_frame", [
    b"\x00" + ws_frame(1, "héllo wörld".encode()),
    b"\x00" + ws_frame(2, bytes(range(200))),
    b"\x00" + ws_frame(1, b"frag", fin=False) + ws_frame(9, b"ping!") + ws_frame(0, b"ment"),
    b"\x00" + ws_frame(8, struct.pack("!H", 1000) + b"bye"),
    b"\x01" + ws_frame(1, b"from a server", mask=None),
    b"\x02" + ws_frame(1, compressed[:-4], rsv=4),
    b"\x04" + ws_frame(2, b"x" * 100),
    b"\x00" + ws_frame(1, b"\xed\xa0\x80"),  # a surrogate: invalid UTF-8
])

write("multipart", [
    b"multipart/form-data; boundary=XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
    b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\n"
    b"file\r\n--\r\ncontent\r\n--XyZ--\r\n",
    b'multipart/mixed; boundary="quoted b"\npreamble\r\n--quoted b\r\n\r\nno head\r\n--quoted b--epilogue',
])
