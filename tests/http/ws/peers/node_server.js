// An echo server on Node `ws` (Debian node-ws) with permessage-deflate, for dusty's client
// tests: prints "port N" once listening on 127.0.0.1 (port 0), echoes every message
// (compressed whatever its size: threshold 0), and exits after 60 s at most.
// Path "/ext" first answers with the negotiated extensions, then echoes.
// Usage: NODE_PATH=/usr/share/nodejs node node_server.js
'use strict';
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  maxPayload: 4 << 20,
  perMessageDeflate: { threshold: 0 },
});
wss.on('listening', () => console.log(`port ${wss.address().port}`));
wss.on('connection', (ws, req) => {
  if (req.url === '/ext') ws.send(ws.extensions);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
setTimeout(() => process.exit(0), 60000).unref();
