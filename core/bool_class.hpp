#pragma once
// bool_class<Tag>: a typed boolean, so call sites read `keep_alive::yes`, not `true`.

namespace dusty {

template <class Tag>
class bool_class {
 public:
  static const bool_class yes;
  static const bool_class no;

  constexpr bool_class() noexcept = default;
  constexpr explicit bool_class(bool v) noexcept : value_(v) {}
  constexpr explicit operator bool() const noexcept { return value_; }
  constexpr bool_class operator!() const noexcept { return bool_class(!value_); }
  friend constexpr bool operator==(bool_class, bool_class) noexcept = default;

 private:
  bool value_ = false;
};

template <class Tag>
constexpr bool_class<Tag> bool_class<Tag>::yes{true};
template <class Tag>
constexpr bool_class<Tag> bool_class<Tag>::no{false};

}  // namespace dusty
