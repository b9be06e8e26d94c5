#pragma once
// The request heads the HTTP micro-benchmarks parse: one place, so every benchmark that
// says "a browser head" measures the same bytes.
#include <string>

namespace dusty::perf {

/// A typical browser GET: 555 bytes, 12 header fields.
inline const std::string browser_request =
    "GET /articles/2024/http-parsing?page=2&sort=new HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Referer: https://www.example.com/articles\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=7d2c9a1f0b3e4c58; theme=dark\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "\r\n";

}  // namespace dusty::perf
