// The Node contender of perf/macro/websocket.sh: an echo server on Node `ws` (Debian
// node-ws), one process (one thread of JavaScript), permessage-deflate off (ws's server
// default), each message sent back as it came (text or binary).
// Usage: NODE_PATH=/usr/share/nodejs node node_ws_echo.js PORT   # prints "listening"
'use strict';
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2]), maxPayload: 16 << 20 });
wss.on('listening', () => console.log('listening'));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
