#include <tcpcore/rules/timeouts.hpp>

#include <rapidcheck/catch.h>

using namespace tcpcore;
using namespace std::chrono_literals;

TEST_CASE("timeouts: SYN schedules, doubling and linear") {
    const duration expected[] = {1s, 3s, 7s, 15s, 31s};
    for (unsigned n = 1; n <= 5; ++n) CHECK(syn_retransmission_time(n, 1s, 0, 120s) == expected[n - 1]);
    CHECK(syn_give_up_time(5, 1s, 0, 120s) == 63s);
    const duration linear[] = {1s, 2s, 3s, 4s, 5s, 7s, 11s, 19s, 35s};
    for (unsigned n = 1; n <= 9; ++n) CHECK(syn_retransmission_time(n, 1s, 4, 120s) == linear[n - 1]);
    CHECK(syn_give_up_time(5, 1s, 4, 120s) == 67s);
    // Linux's own default, 6 retries: 127 s.
    CHECK(syn_give_up_time(6, 1s, 0, 120s) == 127s);
    // The cap: with many retries each wait stops at rto_max.
    CHECK(syn_wait(20, 1s, 0, 120s) == 120s);
}

TEST_CASE("timeouts: T(retries2)") {
    CHECK(retries_give_up_time(15, 200ms, 120s) == 924600ms);
    CHECK(retries_give_up_time(4, 200ms, 120s) == 6200ms);
    CHECK(retries_give_up_time(9, 200ms, 120s) == 204600ms);
    CHECK(retries_give_up_time(10, 200ms, 120s) == 324600ms);
    rc::prop("T grows with b", [](std::uint8_t b) {
        RC_ASSERT(retries_give_up_time(b + 1u, 200ms, 120s) > retries_give_up_time(b, 200ms, 120s));
    });
}

TEST_CASE("timeouts: RTO formulas") {
    CHECK(compute_rto(10ms, 5ms, rto_formula::linux_style, 200ms, 120s) == 210ms);
    CHECK(compute_rto(100ms, 80ms, rto_formula::linux_style, 200ms, 120s) == 420ms);
    CHECK(compute_rto(100ms, 80ms, rto_formula::rfc6298, 200ms, 120s) == 420ms);
    CHECK(compute_rto(10ms, 5ms, rto_formula::rfc6298, 200ms, 120s) == 200ms);
    CHECK(compute_rto(100s, 10s, rto_formula::linux_style, 200ms, 120s) == 120s);
    CHECK(backed_off_rto(210ms, 120s) == 420ms);
    CHECK(backed_off_rto(100s, 120s) == 120s);
    rc::prop("the RTO always lies in [rto_min, rto_max] (Linux: SRTT + at least rto_min)",
             [](std::uint32_t srtt_us, std::uint32_t rttvar_us) {
                 const duration r = compute_rto(duration{srtt_us}, duration{rttvar_us}, rto_formula::linux_style,
                                                200ms, 120s);
                 RC_ASSERT(r >= 200ms);
                 RC_ASSERT(r <= 120s);
             });
}

TEST_CASE("timeouts: the data retransmission schedules of docs/behaviour.md §4") {
    config c;
    c.retries2 = 4;
    auto s = data_retransmission_schedule(210ms, c);
    REQUIRE(s.count == 4);
    CHECK(s.retransmissions[0] == 210ms);
    CHECK(s.retransmissions[1] == 630ms);
    CHECK(s.retransmissions[2] == 1470ms);
    CHECK(s.retransmissions[3] == 3150ms);
    CHECK(s.give_up == 6510ms);

    config u;
    u.user_timeout = 3s;
    s = data_retransmission_schedule(210ms, u);
    REQUIRE(s.count == 4);
    CHECK(s.retransmissions[3] == 3150ms);
    CHECK(s.give_up == 3210ms);

    // Default retries2 (15): 924.6 s from the first retransmission, reached at
    // the expiry after it.
    s = data_retransmission_schedule(210ms, config{});
    CHECK(s.give_up - s.retransmissions[0] >= 924600ms);
    CHECK(s.retransmissions[s.count - 1] - s.retransmissions[0] < 924600ms);
}

TEST_CASE("timeouts: user timeout clamps, never lengthens") {
    rc::prop("clamped RTO <= RTO and the deadline is never passed", [](std::uint32_t rto_ms, std::uint32_t since_ms,
                                                                       std::uint32_t ut_ms) {
        const duration rto = std::chrono::milliseconds{rto_ms % 200000 + 1};
        const duration since = std::chrono::milliseconds{since_ms % 200000};
        const duration ut = std::chrono::milliseconds{ut_ms % 200000 + 1};
        const duration c = clamp_rto_to_user_timeout(rto, since, ut);
        RC_ASSERT(c <= rto);
        RC_ASSERT(c >= duration::zero());
        if (since < ut) RC_ASSERT(since + c <= ut);
    });
    CHECK(clamp_rto_to_user_timeout(3360ms, 2940ms, 3s) == 60ms);
    CHECK(clamp_rto_to_user_timeout(3360ms, 2940ms, duration::zero()) == 3360ms);
    CHECK(clamp_rto_to_user_timeout(3360ms, 3500ms, 3s) == duration::zero());
}

TEST_CASE("timeouts: keepalive and TIME-WAIT") {
    CHECK(keepalive_probe_time(1, 2s, 1s) == 2s);
    CHECK(keepalive_probe_time(3, 2s, 1s) == 4s);
    CHECK(keepalive_give_up_time(2s, 1s, 3, duration::zero()) == 5s);
    CHECK(keepalive_give_up_time(7200s, 75s, 9, duration::zero()) == 7875s);
    // User timeout shorter than the idle time: still one probe first.
    CHECK(keepalive_give_up_time(2s, 1s, 3, 1s) == 3s);
    CHECK(keepalive_give_up_time(2s, 1s, 3, 10s) == 10s);  // beyond the count of 3
    CHECK(time_wait_duration(30s) == 60s);
}
