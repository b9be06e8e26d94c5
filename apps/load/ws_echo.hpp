#pragma once
// dusty-load --ws: one connection's WebSocket echo load. After the opening handshake the
// connection sends a binary message of --size bytes and times its echo: in a closed loop
// `pipeline` messages at once and the next batch when all have come back; with --rate,
// each at its scheduled time (at most `pipeline` in flight), latency measured from that
// time, as the HTTP mode does. An echo counts as a response in the shard's stats.
#include "plan.hpp"
#include "stats.hpp"
#include "worker.hpp"

#include <dusty/net/stream.hpp>

#include <chrono>

namespace dusty::load {

/// Runs the echo loop on a connected `stream` until the run ends (true) or the
/// connection fails (false, counted in `stats`: a refused handshake or a close from the
/// server is a protocol error). `next_send` and `interval`: the open loop's schedule.
/// Suspends; call from the connection's fiber.
bool ws_echo(const load_plan& plan, shard_stats& stats, shard_load::slot& slot, net::stream& stream,
             std::chrono::steady_clock::time_point& next_send, std::chrono::steady_clock::duration interval);

}  // namespace dusty::load
