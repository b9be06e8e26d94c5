#!/usr/bin/python3
"""An echo WebSocket server on Debian's python3-websockets, for dusty's client tests.

    python_server.py [--deflate]   # prints "port N" once listening on 127.0.0.1 (port 0),
                                   # then echoes every message; exits after 60 s at most

With --deflate, permessage-deflate is accepted (websockets' defaults: 12-bit windows both
ways, context takeover by the client); path "/ext" answers with the
Sec-WebSocket-Extensions value the server sent, then echoes.

Path "/close-4001" closes each session at once with code 4001 and reason "bye";
subprotocols "chat" and "echo" are spoken (the first one the client offers).
"""
import asyncio
import sys

import websockets


async def handler(ws, path=None):
    path = path if path is not None else ws.path
    if path == "/close-4001":
        await ws.close(4001, "bye")
        return
    if path == "/ext":
        await ws.send(ws.response_headers.get("Sec-WebSocket-Extensions", ""))
    async for message in ws:
        await ws.send(message)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=["chat", "echo"],
                                max_size=1 << 22,
                                compression="deflate" if "--deflate" in sys.argv else None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print("port", port, flush=True)
        await asyncio.sleep(60)


asyncio.run(main())
