// Node `ws` (Debian node-ws) as a client of the dusty echo server: text and binary echo,
// fragmented sends, ping/pong, close codes, and 1009 for an oversized message.
// Usage: NODE_PATH=/usr/share/nodejs node node_client.js PORT [PATH]. Prints "all ok".
'use strict';
const WebSocket = require('ws');
const url = `ws://127.0.0.1:${process.argv[2]}${process.argv[3] || '/echo'}`;

function fail(why) {
  console.error('FAIL:', why);
  process.exit(1);
}
setTimeout(() => fail('timed out'), 40000).unref();

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: 4 << 20 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
function next(ws) {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));
}
function closed(ws) {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

async function main() {
  const ws = await open();
  ws.send('grüße ✓');
  let m = await next(ws);
  if (m.isBinary || m.data.toString() !== 'grüße ✓') fail('text echo');
  const bin = Buffer.alloc(100000, 7);
  ws.send(bin);
  m = await next(ws);
  if (!m.isBinary || !m.data.equals(bin)) fail('binary echo');
  // Fragments: fin false, then the last piece.
  ws.send('abc', { fin: false });
  ws.send('def', { fin: true });
  m = await next(ws);
  if (m.data.toString() !== 'abcdef') fail('fragmented echo: ' + m.data.toString());
  const pong = new Promise((resolve) => ws.once('pong', resolve));
  ws.ping('node-ping');
  if ((await pong).toString() !== 'node-ping') fail('pong payload');
  const c = closed(ws);
  ws.close(4100, 'node says bye');
  const { code } = await c;
  if (code !== 4100) fail('close code ' + code);
  console.log('echo, fragments, ping, close ok');

  const big = await open();
  const bc = closed(big);
  big.send(Buffer.alloc((1 << 20) + 1, 1));
  const r = await bc;
  if (r.code !== 1009) fail('oversize close code ' + r.code);
  console.log('oversize 1009 ok');
  console.log('all ok');
}
main().catch((e) => fail(e.stack || e));
