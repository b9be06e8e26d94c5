#pragma once
// The main() of a dusty HTTP server app: parse the common flags, start a runtime, build
// and start the server, print where it serves, and stop gracefully on SIGINT/SIGTERM.
//
//   int main(int argc, char** argv) {
//     return dusty::apps::serve_http(argc, argv, "dusty-hello", 8080,
//                                    [](http::server_config&) {}, install_routes);
//   }
//
// With --tls-cert/--tls-key it serves HTTPS on --port and reloads the certificate and
// key on SIGHUP (new connections get them; open ones keep theirs).
//
// Exit status: 0 after SIGINT/SIGTERM, 2 for flags, a configuration, a certificate or key
// or an address it cannot use (one line on stderr).
#include <server_flags.hpp>

#include <dusty/core/runtime.hpp>
#include <dusty/http/server.hpp>
#include <dusty/net/tls/context.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace dusty::apps {

/// `configure(http::server_config&)` adjusts the config after --port and --address are
/// applied; `install(http::server<>&)` adds middleware and routes. What install returns,
/// if anything (a service its routes use, such as a started ws::topics), is kept until the
/// server has stopped and then destroyed in the runtime's main fiber.
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
      if (flags.max_connections) config.limits.max_connections = *flags.max_connections;
      config.tls.cert_file = flags.tls_cert;
      config.tls.key_file = flags.tls_key;
      configure(config);
      http::server<> srv(config);
      [[maybe_unused]] auto keep = [&] {
        if constexpr (std::is_void_v<std::invoke_result_t<Install&, http::server<>&>>) {
          install(srv);
          return 0;
        } else {
          return install(srv);
        }
      }();
      try {
        srv.start();
      } catch (const std::system_error& e) {
        return config_failure(app, e.what());
      } catch (const net::tls::config_error& e) {
        return config_failure(app, e.what());
      } catch (const std::invalid_argument& e) {
        return config_failure(app, e.what());
      }
      std::printf("%s serving %s://%s/ (%u shards, %s)\n", std::string(app).c_str(), srv.tls() ? "https" : "http",
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
