#pragma once
// What an expectation of the testing tools comes to: passed, or failed with
// a message that says what differed. The tools never abort and never throw,
// so that fuzzers, property tests and any test framework decide what a
// failure means; a framework adapter turns an expectation into its own
// assertion (the project's Catch2 one is tests/support/harness.hpp).

#include <string>
#include <utility>

namespace tcpcore::testing {

class [[nodiscard]] expectation {
public:
    // A pass; also what a default-constructed expectation is.
    expectation() = default;
    [[nodiscard]] static expectation pass() { return {}; }
    // A failure says why: a expectation cannot fail silently.
    [[nodiscard]] static expectation fail(std::string why) {
        expectation v;
        v.ok_ = false;
        v.message_ = why.empty() ? std::string("failed") : std::move(why);
        return v;
    }

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    // Empty for a pass.
    [[nodiscard]] const std::string& message() const noexcept { return message_; }

    // Both must pass; their messages are kept, one a line.
    expectation& operator&=(const expectation& other) {
        if (other.ok_) return *this;
        message_ = ok_ ? other.message_ : message_ + "\n" + other.message_;
        ok_ = false;
        return *this;
    }

private:
    bool ok_ = true;
    std::string message_;
};

}  // namespace tcpcore::testing
