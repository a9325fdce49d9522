// tcpcore::expected's contract holds in every build mode: reading the value
// of an error (or the error of a value) stops the program with a message; it
// never hands back uninitialised bytes. This file is compiled with NDEBUG
// (tests/CMakeLists.txt), as a release build would be, so an assert-only
// check would let these tests fail.

#include <tcpcore/detail/expected.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <system_error>

#ifndef NDEBUG
#error "this test proves the checks survive NDEBUG: build it with NDEBUG"
#endif

namespace {

// Runs `f` in a child process; true when the child was stopped by SIGABRT
// (the contract check) rather than returning.
template <class F>
bool aborts(F f) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        f();
        std::_Exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

}  // namespace

TEST_CASE("expected: value() of an error stops the program, with NDEBUG too") {
    // Three garbage bytes: the README once taught `.value()` on them.
    const std::uint8_t garbage[3] = {0xde, 0xad, 0x01};
    const auto seg = tcpcore::tcp_segment_view::parse(garbage, tcpcore::ip_address::v4(192, 0, 2, 1),
                                                      tcpcore::ip_address::v4(192, 0, 2, 2));
    REQUIRE_FALSE(seg.has_value());
    CHECK(aborts([&] { (void)seg.value().src_port(); }));
    CHECK(aborts([&] { (void)seg->src_port(); }));
}

TEST_CASE("expected: error() of a value stops the program") {
    const tcpcore::expected<int, std::errc> ok = 7;
    CHECK(aborts([&] { (void)ok.error(); }));
    CHECK_FALSE(aborts([&] { (void)ok.value(); }));
}

TEST_CASE("expected: value_or gives the fallback for an error and the value otherwise") {
    const tcpcore::expected<int, std::errc> bad = tcpcore::unexpected{std::errc::invalid_argument};
    const tcpcore::expected<int, std::errc> ok = 7;
    CHECK(bad.value_or(3) == 3);
    CHECK(ok.value_or(3) == 7);
    CHECK(bad.error() == std::errc::invalid_argument);
}
