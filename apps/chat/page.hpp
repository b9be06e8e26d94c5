#pragma once
// The page dusty-chat serves at /: HTML, CSS and JavaScript in one answer, nothing loaded
// from elsewhere. It joins /ws under the chosen name and shows what the room says, always
// through textContent (a message is never parsed as HTML).
#include <string_view>

inline constexpr std::string_view chat_page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dusty chat</title>
<style>
  body { font: 16px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  #log { list-style: none; padding: .5rem; height: 60vh; overflow-y: auto; border: 1px solid #ccc; }
  #log .notice { color: #777; font-style: italic; }
  #log .from { font-weight: bold; margin-right: .5em; }
  form { display: flex; gap: .5rem; margin: .5rem 0; }
  form input[type=text] { flex: 1; }
</style>
</head>
<body>
<h1>dusty chat</h1>
<form id="join">
  <input id="name" type="text" maxlength="24" pattern="[A-Za-z0-9 _.\-]{1,24}" placeholder="your name" required>
  <button id="join-button">Join</button>
</form>
<p id="status">not connected</p>
<ul id="log"></ul>
<form id="say">
  <input id="text" type="text" maxlength="1000" placeholder="message" autocomplete="off" disabled>
  <button id="send" disabled>Send</button>
</form>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let socket = null;

function show(line) {
  const item = document.createElement("li");
  if (line.notice !== undefined) {
    item.className = "notice";
    item.textContent = line.notice;
  } else {
    const from = document.createElement("span");
    from.className = "from";
    from.textContent = line.from;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = line.text;
    item.append(from, " ", text);
  }
  const log = $("log");
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

function connected(yes) {
  $("status").textContent = yes ? "connected as " + $("name").value : "not connected";
  $("text").disabled = $("send").disabled = !yes;
  $("name").disabled = $("join-button").disabled = yes;
  if (yes) $("text").focus();
}

$("join").addEventListener("submit", (e) => {
  e.preventDefault();
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  socket = new WebSocket(scheme + location.host + "/ws?name=" + encodeURIComponent($("name").value));
  socket.onopen = () => connected(true);
  socket.onclose = () => connected(false);
  socket.onmessage = (e) => {
    try { show(JSON.parse(e.data)); } catch (err) { /* not ours: ignore */ }
  };
});

$("say").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (text.trim() && socket && socket.readyState === WebSocket.OPEN) socket.send(text);
  $("text").value = "";
});
</script>
</body>
</html>
)html";
