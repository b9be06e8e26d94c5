#pragma once

namespace dusty::detail {

struct fiber_context;

/// A deadline scope on a fiber's scope chain (see with_deadline in core/deadline.hpp).
struct cancel_scope {
  cancel_scope* parent = nullptr;
  bool expired = false;
};

}  // namespace dusty::detail
