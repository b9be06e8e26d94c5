// dusty-serve: a one-command static file server (http::static_files), like
// `python3 -m http.server`, but on every CPU and without copying file bytes.
//
//   dusty-serve DIR [--listing] [--hidden] [--cache-control VALUE] [--no-precompressed]
//                   [--port N] [--address A] [--shards N] [--backend B] [--tls-cert F --tls-key F]
//
// Exit status: 0 after SIGINT/SIGTERM, 2 for flags, a directory or an address it cannot use.
#include <dusty/http/middleware/access_log.hpp>
#include <dusty/http/server.hpp>
#include <dusty/http/static_files.hpp>

#include <serve_http.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace http = dusty::http;

namespace {

constexpr std::string_view app = "dusty-serve";

constexpr std::string_view usage =
    "usage: dusty-serve DIR [--listing] [--hidden] [--cache-control VALUE] [--no-precompressed]\n"
    "                       [--access-log] [server flags]\n"
    "  DIR                  the directory to serve. Default: the current directory\n"
    "  --listing            list directories that have no index.html\n"
    "  --hidden             serve names starting with '.' (refused by default)\n"
    "  --cache-control V    the Cache-Control value of every file answer\n"
    "  --no-precompressed   never serve FILE.br / FILE.gz in place of FILE\n"
    "  --access-log         one line per request on stderr\n";

}  // namespace

int main(int argc, char** argv) {
  // Our own flags and DIR come out here; the rest are the common server flags.
  std::string root = ".";
  bool root_given = false, access_log = false;
  http::static_files_options options;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage.data(), stdout);
      rest.push_back(argv[i]);  // the common flags' usage follows
    } else if (a == "--listing") {
      options.directory_listing = true;
    } else if (a == "--hidden") {
      options.hidden_files = true;
    } else if (a == "--no-precompressed") {
      options.precompressed = false;
    } else if (a == "--access-log") {
      access_log = true;
    } else if (a == "--cache-control") {
      if (i + 1 >= argc) return dusty::apps::config_failure(app, "--cache-control: missing value");
      options.cache_control = argv[++i];
    } else if (a.starts_with("--cache-control=")) {
      options.cache_control = a.substr(std::strlen("--cache-control="));
    } else if (!a.starts_with("-")) {
      if (root_given) return dusty::apps::config_failure(app, "one directory only (got '" + root + "' and '" + std::string(a) + "')");
      root = a;
      root_given = true;
    } else {
      rest.push_back(argv[i]);
      // A common flag's separate value ("--port 8080") goes along with it.
      if (!a.contains('=') && i + 1 < argc) rest.push_back(argv[++i]);
    }
  }

  http::handler files;
  try {
    files = http::static_files(root, options);
  } catch (const std::system_error& e) {
    return dusty::apps::config_failure(app, e.what());
  }
  return dusty::apps::serve_http(
      static_cast<int>(rest.size()), rest.data(), app, 8080, [](http::server_config&) {},
      [&](http::server<>& srv) {
        if (access_log) srv.use(http::access_log());
        srv.get("/*", files);
      });
}
