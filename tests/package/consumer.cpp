// Built against the installed package: proves headers, targets and dependencies resolve.
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/core/submit_to.hpp>

#include <cstdio>

int main() {
  dusty::runtime_config config;
  config.shards = 1;
  config.handle_signals = false;
  dusty::runtime rt(config);
  return rt.run([] {
    int answer = dusty::submit_to(0, [] { return 42; }).get();
    std::printf("answer %d\n", answer);
    return answer == 42 ? 0 : 1;
  });
}
