#!/usr/bin/python3
"""Opens N sessions to the dusty echo server at once (Python `websockets`), sends a message
on each while all are open, checks every echo, then closes all. Usage: python_many.py PORT N [PATH].
Prints "N sessions ok" and the time it took."""
import asyncio
import resource
import sys
import time

import websockets

PORT = int(sys.argv[1])
N = int(sys.argv[2])
URL = f"ws://127.0.0.1:{PORT}" + (sys.argv[3] if len(sys.argv) > 3 else "/echo")


async def main():
    # Every session is a socket: take all the open files the hard limit allows.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < N + 100 and (hard == resource.RLIM_INFINITY or hard > soft):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    start = time.monotonic()
    conns = []
    for i in range(0, N, 100):  # connect in waves: the listen backlog is finite
        conns += await asyncio.gather(*(websockets.connect(URL, open_timeout=30) for _ in range(min(100, N - i))))
    opened = time.monotonic()

    async def echo(i, ws):
        await ws.send(f"session {i}")
        assert await ws.recv() == f"session {i}"

    await asyncio.gather(*(echo(i, ws) for i, ws in enumerate(conns)))
    await asyncio.gather(*(ws.close() for ws in conns))
    assert all(ws.close_code == 1000 for ws in conns)
    print(f"{N} sessions ok: opened in {opened - start:.2f} s, all done in {time.monotonic() - start:.2f} s")


asyncio.run(asyncio.wait_for(main(), 140))
