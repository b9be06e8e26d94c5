#!/usr/bin/python3
"""Python `websockets` (Debian python3-websockets) as a client of the dusty echo server:
echo of text and binary, fragmented messages, ping/pong, close codes both ways, and the
server's 1009 for an oversized message. Usage: python_client.py PORT [PATH]. Prints "all ok"."""
import asyncio
import sys

import websockets
from websockets.exceptions import ConnectionClosed

PORT = int(sys.argv[1])
URL = f"ws://127.0.0.1:{PORT}" + (sys.argv[2] if len(sys.argv) > 2 else "/echo")


async def main():
    async with websockets.connect(URL, max_size=4 << 20) as ws:
        await ws.send("héllo wörld ✓")
        assert await ws.recv() == "héllo wörld ✓"
        payload = bytes(range(256)) * 300
        await ws.send(payload)
        assert await ws.recv() == payload
        # A fragmented message: an iterable is sent as fragments.
        await ws.send(["frag", "ment", "ed ✓"])
        assert await ws.recv() == "fragmented ✓"
        await ws.send([b"\x00\x01", b"\x02"])
        assert await ws.recv() == b"\x00\x01\x02"
        pong = await ws.ping(b"ping-data")
        await asyncio.wait_for(pong, 5)
        for size in (0, 125, 126, 65535, 65536, 1 << 20):
            data = b"x" * size
            await ws.send(data)
            assert await ws.recv() == data, size
        assert [e.name for e in ws.extensions] == ["permessage-deflate"], ws.extensions
        await ws.close(code=4321, reason="bye from python")
        assert ws.close_code == 4321, ws.close_code
    print("echo, fragments, ping, sizes, close ok (permessage-deflate)")

    # Without compression the same works, uncompressed both ways.
    async with websockets.connect(URL, compression=None, max_size=4 << 20) as ws:
        assert ws.extensions == []
        for data in ("plain ✓", b"\x00" * 70000):
            await ws.send(data)
            assert await ws.recv() == data
    print("uncompressed ok")

    # A compression bomb: 8 MiB of zeros compress to a few KiB; inflated past the 1 MiB
    # limit, the server closes with 1009 before holding more than the limit.
    async with websockets.connect(URL, max_size=4 << 20) as ws:
        await ws.send(b"\x00" * (8 << 20))
        try:
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("the bomb was echoed")
        except ConnectionClosed:
            pass
        assert ws.close_code == 1009, ws.close_code
    print("compression bomb 1009 ok")

    # One byte over max_message_size: the server closes with 1009.
    async with websockets.connect(URL, max_size=4 << 20) as ws:
        await ws.send(b"y" * ((1 << 20) + 1))
        try:
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("oversized message was echoed")
        except ConnectionClosed:
            pass
        assert ws.close_code == 1009, ws.close_code
    print("oversize 1009 ok")

    # Fragments that add up to more than the limit: 1009 as well.
    async with websockets.connect(URL, max_size=4 << 20) as ws:
        try:
            await ws.send([b"z" * (600 * 1024), b"z" * (600 * 1024)])
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("oversized fragmented message was echoed")
        except ConnectionClosed:
            pass
        assert ws.close_code == 1009, ws.close_code
    print("fragmented oversize 1009 ok")

    # Many messages pipelined, then read back in order.
    async with websockets.connect(URL) as ws:
        for i in range(500):
            await ws.send(f"m{i}")
        for i in range(500):
            assert await ws.recv() == f"m{i}"
    print("pipelined ok")
    print("all ok")


asyncio.run(asyncio.wait_for(main(), 50))
