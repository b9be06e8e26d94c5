#!/usr/bin/python3
"""Python `websockets` (Debian python3-websockets) as a client of the dusty echo server:
echo of text and binary, fragmented messages, ping/pong, close codes both ways, and the
server's 1009 for an oversized message. Usage: python_client.py PORT. Prints "all ok"."""
import asyncio
import sys

import websockets
from websockets.exceptions import ConnectionClosed

PORT = int(sys.argv[1])
URL = f"ws://127.0.0.1:{PORT}/echo"


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
        await ws.close(code=4321, reason="bye from python")
        assert ws.close_code == 4321, ws.close_code
    print("echo, fragments, ping, sizes, close ok")

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
