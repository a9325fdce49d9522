#include <tcpcore/rules/config.hpp>

#include <catch2/catch.hpp>

using namespace tcpcore;
using namespace std::chrono_literals;

namespace {
constexpr config keepalive_config = [] {
    config c;
    c.keepalive = true;
    c.keepalive_idle = 2s;
    c.keepalive_interval = 1s;
    c.keepalive_probes = 3;
    return c;
}();
static_assert(validate(keepalive_config), "a valid configuration passes at compile time");
}  // namespace

TEST_CASE("config: defaults are those of docs/behaviour.md §5") {
    const config c;
    CHECK(c.rto_min == 200ms);
    CHECK(c.rto_max == 120s);
    CHECK(c.rto_initial == 1s);
    CHECK(c.syn_retries == 5);
    CHECK(c.syn_linear_timeouts == 0);
    CHECK(c.retries1 == 3);
    CHECK(c.retries2 == 15);
    CHECK(c.user_timeout == 0s);
    CHECK(!c.keepalive);
    CHECK(c.keepalive_idle == 7200s);
    CHECK(c.keepalive_interval == 75s);
    CHECK(c.keepalive_probes == 9);
    CHECK(c.msl == 30s);
    CHECK(!c.rfc1337);
    CHECK(c.delayed_ack_timeout == 40ms);
    CHECK(validate(c).ok());
}

TEST_CASE("config: each nonsense value is refused, naming its field") {
    struct bad_case {
        void (*spoil)(config&);
        config_field field;
    };
    const bad_case cases[] = {
        {[](config& c) { c.keepalive_interval = 0s; }, config_field::keepalive_interval},
        {[](config& c) { c.keepalive_probes = 0; }, config_field::keepalive_probes},
        {[](config& c) { c.keepalive_probes = 128; }, config_field::keepalive_probes},
        {[](config& c) { c.keepalive_idle = -1s; }, config_field::keepalive_idle},
        {[](config& c) { c.keepalive_idle = 32768s; }, config_field::keepalive_idle},
        {[](config& c) { c.rto_min = 200s; }, config_field::rto_min},
        {[](config& c) { c.rto_min = 0s; }, config_field::rto_min},
        {[](config& c) { c.rto_initial = 0s; }, config_field::rto_initial},
        {[](config& c) { c.rto_initial = 200s; }, config_field::rto_initial},
        {[](config& c) { c.msl = 0s; }, config_field::msl},
        {[](config& c) { c.syn_retries = 0; }, config_field::syn_retries},
        {[](config& c) { c.syn_retries = 200; }, config_field::syn_retries},
        {[](config& c) { c.synack_retries = 0; }, config_field::synack_retries},
        {[](config& c) { c.retries2 = 0; }, config_field::retries2},
        {[](config& c) { c.user_timeout = -1ms; }, config_field::user_timeout},
        {[](config& c) { c.user_timeout = std::chrono::microseconds{999}; }, config_field::user_timeout},
        {[](config& c) { c.fin_timeout = 0s; }, config_field::fin_timeout},
        {[](config& c) { c.challenge_ack_limit = 0; }, config_field::challenge_ack_limit},
        {[](config& c) { c.challenge_ack_limit = 65536; }, config_field::challenge_ack_limit},
        {[](config& c) { c.mss = 40; }, config_field::mss},
        {[](config& c) { c.send_buffer = 0; }, config_field::send_buffer},
        {[](config& c) { c.receive_buffer = 100; }, config_field::receive_buffer},
        {[](config& c) { c.receive_buffer = (1u << 30) + 1; }, config_field::receive_buffer},
        {[](config& c) { c.delayed_ack_timeout = 500ms; }, config_field::delayed_ack_timeout},
        {[](config& c) { c.initial_cwnd = 0; }, config_field::initial_cwnd},
    };
    for (const auto& bc : cases) {
        config c;
        bc.spoil(c);
        const auto check = validate(c);
        INFO("expected field " << to_string(bc.field) << ", got " << to_string(check.field) << ": "
                               << check.message);
        CHECK(!check);
        CHECK(check.field == bc.field);
        CHECK(!check.message.empty());
        CHECK(check.message.find(to_string(bc.field)) != std::string_view::npos);
        CHECK(check.error() == std::errc::invalid_argument);
    }
}
