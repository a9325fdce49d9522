#pragma once
// tcpcore::expected<T, E>: a value or a typed error, never both, no
// exceptions. Where the standard library has std::expected (C++23) it is that
// type; under C++20 it is a small stand-in with the same contract for what
// tcpcore uses (has_value, operator bool, value, operator*, operator->,
// error, value_or, unexpected{e}).
//
// Reading the value of an error, or the error of a value, is a bug in the
// caller. std::expected leaves it undefined; the stand-in checks it in every
// build mode, NDEBUG included, and stops the program with a message rather
// than hand back garbage: a parser fed three hostile bytes must never turn
// into a read of uninitialised memory because someone wrote `.value()`.

#include <tcpcore/detail/contract.hpp>

#include <type_traits>
#include <utility>

#if defined(__has_include) && __has_include(<version>)
#include <version>
#endif
#if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202202L
#include <expected>
#define TCPCORE_STD_EXPECTED 1
#endif

namespace tcpcore {

#if defined(TCPCORE_STD_EXPECTED)

template <class T, class E>
using expected = std::expected<T, E>;
using std::unexpected;

#else

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

    [[nodiscard]] constexpr const T& value() const& noexcept {
        if (!has_value_) detail::contract_violation("tcpcore::expected::value() called on an error");
        return value_;
    }
    [[nodiscard]] constexpr T& value() & noexcept {
        if (!has_value_) detail::contract_violation("tcpcore::expected::value() called on an error");
        return value_;
    }
    template <class U>
    [[nodiscard]] constexpr T value_or(U&& fallback) const& noexcept {
        return has_value_ ? value_ : static_cast<T>(std::forward<U>(fallback));
    }
    constexpr const T& operator*() const& noexcept { return value(); }
    constexpr T& operator*() & noexcept { return value(); }
    constexpr const T* operator->() const noexcept { return &value(); }
    constexpr T* operator->() noexcept { return &value(); }

    [[nodiscard]] constexpr E error() const noexcept {
        if (has_value_) detail::contract_violation("tcpcore::expected::error() called on a value");
        return error_;
    }

private:
    T value_{};
    E error_{};
    bool has_value_;
};

#endif

}  // namespace tcpcore
