#pragma once
// The doubly linked FIFO that fiber wait lists are made of: nodes live on the waiting
// fibers' stacks and carry their own `prev`/`next`, so queueing never allocates and a
// cancelled waiter unlinks itself from the middle in O(1).
namespace dusty::detail {

template <class Node>
class intrusive_fifo {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  Node* front() const noexcept { return head_; }

  void push_back(Node* n) noexcept {
    n->next = nullptr;
    n->prev = tail_;
    if (tail_)
      tail_->next = n;
    else
      head_ = n;
    tail_ = n;
  }

  /// Unlinks `n`, which must be in this list.
  void unlink(Node* n) noexcept {
    if (n->prev)
      n->prev->next = n->next;
    else
      head_ = n->next;
    if (n->next)
      n->next->prev = n->prev;
    else
      tail_ = n->prev;
    n->prev = n->next = nullptr;
  }

 private:
  Node* head_ = nullptr;
  Node* tail_ = nullptr;
};

}  // namespace dusty::detail
