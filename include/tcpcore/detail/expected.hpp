#pragma once
// A small std::expected stand-in (C++20 has none): a value or a typed error,
// never both, no exceptions. Only what tcpcore needs: T and E are trivially
// copyable value types.

#include <tcpcore/detail/assert.hpp>

#include <type_traits>
#include <utility>

namespace tcpcore {

template <class E>
struct unexpected {
    E error;
};
template <class E>
unexpected(E) -> unexpected<E>;

template <class T, class E>
class expected {
    static_assert(std::is_trivially_copyable_v<E>, "error types are plain enums or codes");

public:
    using value_type = T;
    using error_type = E;

    constexpr expected(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
        : value_(std::move(value)), has_value_(true) {}
    constexpr expected(unexpected<E> e) noexcept : error_(e.error), has_value_(false) {}

    [[nodiscard]] constexpr bool has_value() const noexcept { return has_value_; }
    constexpr explicit operator bool() const noexcept { return has_value_; }

    // Precondition: has_value(). Reading the value of an error is a bug in the
    // caller, so it is checked unless NDEBUG.
    [[nodiscard]] constexpr const T& value() const& noexcept { TCPCORE_ASSERT(has_value_); return value_; }
    [[nodiscard]] constexpr T& value() & noexcept { TCPCORE_ASSERT(has_value_); return value_; }
    constexpr const T& operator*() const& noexcept { return value(); }
    constexpr T& operator*() & noexcept { return value(); }
    constexpr const T* operator->() const noexcept { return &value(); }
    constexpr T* operator->() noexcept { return &value(); }

    [[nodiscard]] constexpr E error() const noexcept { return has_value_ ? E{} : error_; }

private:
    T value_{};
    E error_{};
    bool has_value_;
};

}  // namespace tcpcore
