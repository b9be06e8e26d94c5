#!/usr/bin/python3
"""Hostile HTTP/2 clients for tests/http/h2/server_h2_attack_test.cpp.

    h2_attack.py PORT SCENARIO [WAIT_SECONDS]

Speaks raw HTTP/2 frames (hyperframe, hpack from Debian's python3-h2) to 127.0.0.1:PORT,
runs one attack, then reads what the server answers until it closes the connection or
WAIT_SECONDS (default 5) pass, and prints one line per event:

    goaway <ERROR_NAME> last=<id>     rst <stream> <ERROR_NAME>     status <stream> <code>
    closed                            silent (the connection is still open after the wait)
    sent <n> frames in <s> s          bystander <status>   (a fresh connection's GET /)

The C++ test decides what must be there. Every loop is bounded in count and time.
"""
import socket
import sys
import time

import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame,
                              PriorityFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
          "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
          "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]


def error_name(code):
    return ERRORS[code] if code < len(ERRORS) else str(code)


class client:
    def __init__(self, port, settings=None, ack_settings=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.ack_settings = ack_settings
        self.buf = b""
        self.events = []
        self.closed = False
        self.sock.sendall(PREFACE + SettingsFrame(0, settings=settings or {}).serialize())

    def send(self, *frames):
        # A server that gave up on us closes while we send: what it said before is still
        # in the socket for read().
        try:
            self.sock.sendall(b"".join(f.serialize() for f in frames))
            return True
        except OSError:
            return False

    def request_block(self, path="/", method="GET", extra=()):
        return self.encoder.encode([(":method", method), (":scheme", "http"), (":authority", "127.0.0.1"),
                                    (":path", path)] + list(extra))

    def headers(self, stream_id, path="/", end_stream=True, method="GET", extra=()):
        flags = ["END_HEADERS"] + (["END_STREAM"] if end_stream else [])
        return HeadersFrame(stream_id, self.request_block(path, method, extra), flags=flags)

    def read(self, wait, until_event=None):
        """Reads frames for up to `wait` seconds (or until the connection closes, or an
        event starting with `until_event` is seen)."""
        end = time.monotonic() + wait
        while not self.closed and time.monotonic() < end:
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                data = b""
            if not data:
                self.closed = True
                self.events.append("closed")
                break
            self.buf += data
            while len(self.buf) >= 9:
                frame, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
                if len(self.buf) < 9 + length:
                    break
                frame.parse_body(memoryview(self.buf[9:9 + length]))
                self.buf = self.buf[9 + length:]
                self.on_frame(frame)
            if until_event and any(e.startswith(until_event) for e in self.events):
                break
        return self.events

    def on_frame(self, f):
        if isinstance(f, SettingsFrame) and "ACK" not in f.flags and self.ack_settings:
            self.send(SettingsFrame(0, flags=["ACK"]))
        elif isinstance(f, GoAwayFrame):
            self.events.append("goaway %s last=%d" % (error_name(f.error_code), f.last_stream_id))
        elif isinstance(f, WindowUpdateFrame):
            self.events.append("window %d %d" % (f.stream_id, f.window_increment))
        elif isinstance(f, RstStreamFrame):
            self.events.append("rst %d %s" % (f.stream_id, error_name(f.error_code)))
        elif isinstance(f, HeadersFrame):
            for name, value in self.decoder.decode(f.data):
                if name == b":status" or name == ":status":
                    self.events.append("status %d %s" % (f.stream_id, value.decode() if isinstance(value, bytes) else value))


def bystander(port):
    """A well-behaved request on a fresh connection: the attacks must not hurt others."""
    try:
        c = client(port)
    except OSError:
        return "refused"  # the server was stopped (the graceful scenario)
    c.send(c.headers(1))
    for e in c.read(5, "status 1"):
        if e.startswith("status 1"):
            return e.split()[2]
    return "none"


def rapid_reset(c):
    sent = 0
    for batch in range(50):
        frames = []
        for i in range(100):
            sid = 1 + 2 * sent
            frames += [c.headers(sid, "/slow"), RstStreamFrame(sid, error_code=8)]
            sent += 1
        if not c.send(*frames):
            break
    return 2 * sent


def continuation_flood(c):
    block = c.request_block("/")
    frames = [HeadersFrame(1, block, flags=[])]
    frames += [ContinuationFrame(1, b"") for _ in range(10000)]
    c.send(*frames)
    return len(frames)


def hpack_bomb(c):
    # One 4000-byte field goes into the dynamic table (the encoder indexes it), then one
    # byte per repeat refers to it (index 62, the newest entry): 16 KiB of block decode to
    # some 60 MiB of fields.
    block = c.request_block("/", extra=[("x-bomb", "a" * 4000)])
    block += b"\xbe" * (16384 - len(block) - 16)
    c.send(HeadersFrame(1, block, flags=["END_HEADERS", "END_STREAM"]))
    return 1


def settings_flood(c):
    c.send(*[SettingsFrame(0, settings={}) for _ in range(5000)])
    return 5000


def ping_flood(c):
    c.send(*[PingFrame(0, opaque_data=b"12345678") for _ in range(5000)])
    return 5000


def priority_flood(c):
    c.send(*[PriorityFrame(1 + 2 * i, depends_on=0, stream_weight=16) for i in range(5000)])
    return 5000


def empty_data_flood(c):
    c.send(c.headers(1, "/upload", end_stream=False, method="POST"))
    c.send(*[DataFrame(1, b"") for _ in range(5000)])
    return 5001


def window_update_flood(c):
    c.send(*[WindowUpdateFrame(0, window_increment=1) for _ in range(5000)])
    return 5000


def zero_window(c):
    # The client's SETTINGS gave a window of 0 (see main): the server can send the
    # response's HEADERS but no DATA, and must give up on the stream.
    c.send(c.headers(1, "/big"))
    return 1


def zero_window_small(c):
    # As zero_window, with a body small enough that its fiber leaves before any DATA.
    c.send(c.headers(1, "/"))
    return 1


def too_many_streams(c):
    c.read(0.5, "")  # let SETTINGS (max concurrent streams) be exchanged and acknowledged
    c.send(*[c.headers(1 + 2 * i, "/slow") for i in range(300)])
    return 300


def stream_id_backwards(c):
    c.send(c.headers(5))
    c.read(1, "status 5")
    c.send(c.headers(3))
    return 2


def empty_header_name(c):
    block = c.request_block("/", extra=[("", "x")])
    c.send(HeadersFrame(1, block, flags=["END_HEADERS", "END_STREAM"]))
    return 1


def window_follows_reads(c):
    # /hold reads nothing for its first second: the stream's window must stay shut until
    # the handler reads, then open (WINDOW_UPDATE on stream 1).
    c.send(c.headers(1, "/hold", end_stream=False, method="POST"))
    c.send(*[DataFrame(1, b"x" * 16384) for _ in range(3)])
    c.read(0.5)
    print("early stream window updates %d" % sum(e.startswith("window 1 ") for e in c.events))
    c.send(DataFrame(1, b"x" * 100, flags=["END_STREAM"]))
    c.read(3, "status 1")
    print("late stream window updates %d" % sum(e.startswith("window 1 ") for e in c.events))
    return 5


def graceful(c):
    # The test stops the server while /slow runs: GOAWAY (NO_ERROR, last stream 1)
    # comes first, then the answer, then the end of the connection.
    c.send(c.headers(1, "/slow"))
    return 1


def reset_running(c):
    # The client gives up on /slow while its handler runs: the handler is cancelled.
    c.send(c.headers(1, "/slow"))
    c.read(0.3)
    c.send(RstStreamFrame(1, error_code=8))
    return 2


def idle(c):
    return 0  # the client says nothing after its preface: the idle timeout ends it


def settings_timeout(c):
    return 0  # the client never acknowledges the server's SETTINGS (see main)


def main():
    port, scenario = int(sys.argv[1]), sys.argv[2]
    settings = {SettingsFrame.INITIAL_WINDOW_SIZE: 0} if scenario.startswith("zero_window") else None
    c = client(port, settings=settings, ack_settings=scenario != "settings_timeout")
    started = time.monotonic()
    n = globals()[scenario](c)
    print("sent %d frames in %.2f s" % (n, time.monotonic() - started))
    for e in c.read(float(sys.argv[3]) if len(sys.argv) > 3 else 5):
        if not e.startswith("window"):
            print(e)
    if not c.closed:
        print("silent")
    print("bystander %s" % bystander(port))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
