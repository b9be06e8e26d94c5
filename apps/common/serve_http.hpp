#pragma once
// The main() of a dusty HTTP server app: parse the common flags, start a runtime, build
// and start the server, print where it serves, and stop gracefully on SIGINT/SIGTERM.
//
//   int main(int argc, char** argv) {
//     return dusty::apps::serve_http(argc, argv, "dusty-hello", 8080,
//                                    [](http::server_config&) {}, install_routes);
//   }
//
// Exit status: 0 after SIGINT/SIGTERM, 2 for flags, a configuration or an address it
// cannot use (one line on stderr).
#include <server_flags.hpp>

#include <dusty/core/runtime.hpp>
#include <dusty/http/server.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>

namespace dusty::apps {

/// `configure(http::server_config&)` adjusts the config after --port and --address are
/// applied; `install(http::server<>&)` adds middleware and routes.
template <class Configure, class Install>
int serve_http(int argc, char** argv, std::string_view app, std::uint16_t default_port, Configure configure,
               Install install) {
  server_flags flags{.port = default_port};
  if (auto error = parse_server_flags(argc, argv, app, flags)) return config_failure(app, *error);
  try {
    dusty::runtime rt(flags.runtime());
    return rt.run([&] {
      http::server_config config;
      config.address = flags.address;
      config.port = flags.port;
      configure(config);
      http::server<> srv(config);
      install(srv);
      try {
        srv.start();
      } catch (const std::system_error& e) {
        std::fprintf(stderr, "%s: %s\n", std::string(app).c_str(), e.what());
        return 2;
      }
      std::printf("%s serving http://%s/ (%u shards, %s)\n", std::string(app).c_str(),
                  srv.address().to_string().c_str(), dusty::shard_count(),
                  std::string(dusty::to_string(dusty::reactor::backend())).c_str());
      std::fflush(stdout);
      dusty::wait_for_stop();
      srv.stop();
      return 0;
    });
  } catch (const dusty::config_error& e) {
    return config_failure(app, e.what());
  }
}

}  // namespace dusty::apps
