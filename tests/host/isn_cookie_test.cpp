// SipHash-2-4 against the published vectors, RFC 6528 ISNs and SYN cookies.

#include <tcpcore/detail/siphash.hpp>
#include <tcpcore/policies/isn.hpp>
#include <tcpcore/host/syn_cookie.hpp>

#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>

#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

using namespace tcpcore;
using namespace std::chrono_literals;

namespace {

// The paper's key 00 01 .. 0f.
constexpr detail::siphash_key paper_key{0x0706050403020100u, 0x0f0e0d0c0b0a0908u};

// SipHash-2-4 with key 00..0f over the messages 00, 00 01, ..., 00 .. 3e: the
// reference vectors published with the paper (vectors.h, vectors_sip64), read
// as little-endian 64-bit values.
constexpr std::array<std::uint64_t, 64> paper_vectors{
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
    0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
    0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
    0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
    0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
    0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
    0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
    0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
    0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
    0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
    0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
    0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
    0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

constexpr std::array<std::uint8_t, 64> counting_bytes = [] {
    std::array<std::uint8_t, 64> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i);
    return bytes;
}();

constexpr std::uint64_t paper_hash(std::size_t length) {
    return detail::siphash24(paper_key, std::span<const std::uint8_t>(counting_bytes).first(length));
}

// Usable in constant expressions, and right there too.
static_assert(paper_hash(0) == 0x726fdb47dd0e0e31);
static_assert(paper_hash(15) == 0xa129ca6149be45e5);
static_assert(paper_hash(63) == 0x958a324ceb064572);

// A second SipHash-2-4, written as a byte stream with its own rotation, so
// that the one under test is checked against more than the vectors' lengths
// and key.
std::uint64_t streaming_siphash24(std::uint64_t k0, std::uint64_t k1, const std::vector<std::uint8_t>& message) {
    std::uint64_t v[4] = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
                          k1 ^ 0x7465646279746573ull};
    const auto rotate = [](std::uint64_t x, unsigned by) { return (x << by) | (x >> (64 - by)); };
    const auto round = [&] {
        v[0] += v[1], v[2] += v[3];
        v[1] = rotate(v[1], 13) ^ v[0], v[3] = rotate(v[3], 16) ^ v[2];
        v[0] = rotate(v[0], 32);
        v[2] += v[1], v[0] += v[3];
        v[1] = rotate(v[1], 17) ^ v[2], v[3] = rotate(v[3], 21) ^ v[0];
        v[2] = rotate(v[2], 32);
    };
    const auto absorb = [&](std::uint64_t m) {
        v[3] ^= m;
        round();
        round();
        v[0] ^= m;
    };
    std::uint64_t pending = 0;
    unsigned pending_bytes = 0;
    for (const std::uint8_t byte : message) {
        pending |= std::uint64_t{byte} << (8 * pending_bytes);
        if (++pending_bytes == 8) {
            absorb(pending);
            pending = 0;
            pending_bytes = 0;
        }
    }
    absorb(pending | (std::uint64_t{static_cast<std::uint8_t>(message.size())} << 56));
    v[2] ^= 0xff;
    for (int i = 0; i < 4; ++i) round();
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

constexpr secret_key test_key{0x0123456789abcdefu, 0xfedcba9876543210u};
constexpr secret_key other_key{0x0123456789abcdefu, 0xfedcba9876543211u};

const four_tuple example_tuple{{ip_address::v4(10, 0, 0, 1), 80}, {ip_address::v4(192, 0, 2, 7), 40000}};

rc::Gen<ip_address> any_address() {
    return rc::gen::exec([] {
        if (*rc::gen::arbitrary<bool>()) return ip_address::v4(*rc::gen::arbitrary<std::uint32_t>());
        std::array<std::uint16_t, 8> groups{};
        for (auto& g : groups) g = *rc::gen::arbitrary<std::uint16_t>();
        return ip_address::v6(groups);
    });
}

rc::Gen<four_tuple> any_tuple() {
    return rc::gen::exec([] {
        return four_tuple{{*any_address(), *rc::gen::arbitrary<std::uint16_t>()},
                          {*any_address(), *rc::gen::arbitrary<std::uint16_t>()}};
    });
}

// Time points on both sides of the epoch, far enough out that every counter wraps.
rc::Gen<time_point> any_time() {
    return rc::gen::map(rc::gen::inRange<std::int64_t>(-(std::int64_t{1} << 50), std::int64_t{1} << 50),
                        [](std::int64_t us) { return time_point{duration{us}}; });
}

// Every way of changing one field of a tuple, by a nonzero amount.
std::vector<four_tuple> one_field_changed(const four_tuple& t, std::uint32_t delta) {
    const auto bump = [delta](const ip_address& a) {
        auto bytes = a.bytes();
        std::array<std::uint8_t, 16> changed{};
        for (std::size_t i = 0; i < 16; ++i) changed[i] = bytes[i];
        changed[15 - delta % 4] = static_cast<std::uint8_t>(changed[15 - delta % 4] + 1 + delta % 255);
        return ip_address::v6(std::span<const std::uint8_t, 16>(changed));
    };
    const auto port = [delta](std::uint16_t p) { return static_cast<std::uint16_t>(p + 1 + delta % 65535); };
    std::vector<four_tuple> out(4, t);
    out[0].local.address = bump(t.local.address);
    out[1].local.port = port(t.local.port);
    out[2].remote.address = bump(t.remote.address);
    out[3].remote.port = port(t.remote.port);
    return out;
}

time_point start_of_minute(time_point t) {
    return time_point{std::chrono::floor<std::chrono::minutes>(t.time_since_epoch())};
}

}  // namespace

// ---------------------------------------------------------------- SipHash-2-4

TEST_CASE("siphash: the paper's 64 reference vectors") {
    for (std::size_t length = 0; length < paper_vectors.size(); ++length) {
        INFO("message length " << length);
        CHECK(paper_hash(length) == paper_vectors[length]);
    }
}

TEST_CASE("siphash: the key is read from bytes little-endian") {
    std::array<std::uint8_t, 16> key_bytes{};
    for (std::size_t i = 0; i < 16; ++i) key_bytes[i] = static_cast<std::uint8_t>(i);
    CHECK(detail::siphash_key_from_bytes(key_bytes) == paper_key);
}

TEST_CASE("siphash: agrees with an independent streaming implementation") {
    rc::prop("same output for any key and message", [](std::uint64_t k0, std::uint64_t k1,
                                                        const std::vector<std::uint8_t>& message) {
        RC_ASSERT(detail::siphash24({k0, k1}, message) == streaming_siphash24(k0, k1, message));
    });
    // Lengths past 255, where only the low byte of the length is hashed.
    std::vector<std::uint8_t> long_message(600);
    for (std::size_t i = 0; i < long_message.size(); ++i) long_message[i] = static_cast<std::uint8_t>(i * 7);
    for (const std::size_t length : {255u, 256u, 257u, 511u, 600u}) {
        const std::vector<std::uint8_t> m(long_message.begin(), long_message.begin() + length);
        CHECK(detail::siphash24(paper_key, m) == streaming_siphash24(paper_key[0], paper_key[1], m));
    }
}

// ---------------------------------------------------------------- ISN

TEST_CASE("isn: both models satisfy the policy concept") {
    STATIC_REQUIRE(isn_policy<rfc6528_isn>);
    STATIC_REQUIRE(isn_policy<sequential_isn>);
    STATIC_REQUIRE(isn_policy<const rfc6528_isn>);
    struct returns_raw_integer {
        std::uint32_t initial_sequence(const four_tuple&, time_point) const { return 0; }
        std::uint32_t timestamp_offset(const four_tuple&) const { return 0; }
    };
    struct not_const_callable {
        seq32 initial_sequence(const four_tuple&, time_point) { return {}; }
        std::uint32_t timestamp_offset(const four_tuple&) { return 0; }
    };
    STATIC_REQUIRE_FALSE(isn_policy<returns_raw_integer>);
    STATIC_REQUIRE_FALSE(isn_policy<not_const_callable>);
}

TEST_CASE("isn: advances one per 4 microseconds for a fixed tuple") {
    const rfc6528_isn isn(test_key);
    const time_point t0 = at(1234567888us);  // a multiple of 4 us
    const seq32 base = isn.initial_sequence(example_tuple, t0);
    CHECK(isn.initial_sequence(example_tuple, t0 + 1us) == base);
    CHECK(isn.initial_sequence(example_tuple, t0 + 3us) == base);
    CHECK(isn.initial_sequence(example_tuple, t0 + 4us) == base + 1);
    CHECK(isn.initial_sequence(example_tuple, t0 + 1s) == base + 250000);
    // 2^32 ticks of 4 us: the ISN space wraps after about 4.77 hours.
    CHECK(isn.initial_sequence(example_tuple, t0 + 4us * (std::int64_t{1} << 32)) == base);

    rc::prop("ISN(t + d) - ISN(t) == floor(t + d, 4us) - floor(t, 4us)", [] {
        const rfc6528_isn generator(test_key);
        const four_tuple tuple = *any_tuple();
        const time_point t = *any_time();
        const auto d = duration{*rc::gen::inRange<std::int64_t>(0, std::int64_t{1} << 33)};
        using four_microseconds = std::chrono::duration<std::int64_t, std::ratio<4, 1000000>>;
        const auto ticks = [](time_point p) {
            return std::chrono::floor<four_microseconds>(p.time_since_epoch()).count();
        };
        const auto expected = static_cast<std::uint32_t>(ticks(t + d) - ticks(t));
        RC_ASSERT(seq_distance(generator.initial_sequence(tuple, t), generator.initial_sequence(tuple, t + d)) ==
                  expected);
    });
}

TEST_CASE("isn: monotonic across the clock's epoch") {
    const rfc6528_isn isn(test_key);
    seq32 previous = isn.initial_sequence(example_tuple, at(-40us));
    for (std::int64_t us = -39; us <= 40; ++us) {
        const seq32 next = isn.initial_sequence(example_tuple, at(duration{us}));
        CHECK(seq_distance(previous, next) == ((us % 4 == 0) ? 1u : 0u));
        previous = next;
    }
}

TEST_CASE("isn: same key, tuple and time give the same ISN") {
    rc::prop("two generators built from one key agree", [](std::uint64_t k0, std::uint64_t k1) {
        const four_tuple tuple = *any_tuple();
        const time_point now = *any_time();
        const rfc6528_isn a({k0, k1});
        const rfc6528_isn b({k0, k1});
        RC_ASSERT(a.initial_sequence(tuple, now) == b.initial_sequence(tuple, now));
        RC_ASSERT(a.timestamp_offset(tuple) == b.timestamp_offset(tuple));
    });
    // Fixed here so that a change to the ISN function is a deliberate one.
    constexpr rfc6528_isn isn(test_key);
    constexpr seq32 at_zero = isn.initial_sequence(four_tuple{}, time_point{});
    static_assert(at_zero == isn.initial_sequence(four_tuple{}, time_point{}), "usable in constant expressions");
    CHECK(isn.initial_sequence(four_tuple{}, at(4us)) == at_zero + 1);
}

TEST_CASE("isn: changing any tuple field gives an unrelated ISN") {
    rc::prop("each one-field change moves the ISN", [](std::uint32_t delta) {
        const rfc6528_isn isn(test_key);
        const four_tuple tuple = *any_tuple();
        const time_point now = *any_time();
        const seq32 original = isn.initial_sequence(tuple, now);
        for (const four_tuple& changed : one_field_changed(tuple, delta))
            RC_ASSERT(isn.initial_sequence(changed, now) != original);
    });
    rc::prop("swapping local and remote moves the ISN", [] {
        const rfc6528_isn isn(test_key);
        const four_tuple tuple = *any_tuple();
        RC_PRE(tuple.local != tuple.remote);
        const time_point now = *any_time();
        RC_ASSERT(isn.initial_sequence({tuple.remote, tuple.local}, now) != isn.initial_sequence(tuple, now));
    });

    // Neighbouring ports (the case a sequential ISN would make guessable): the
    // values look uniform, with each bit set about half the time and about
    // half the bits different between neighbours.
    const rfc6528_isn isn(test_key);
    constexpr int samples = 4096;
    std::array<int, 32> ones{};
    long differing_bits = 0;
    std::set<std::uint32_t> distinct;
    std::uint32_t previous = 0;
    for (int port = 0; port < samples; ++port) {
        four_tuple t = example_tuple;
        t.remote.port = static_cast<std::uint16_t>(30000 + port);
        const std::uint32_t value = isn.initial_sequence(t, at(5s)).raw();
        for (int bit = 0; bit < 32; ++bit) ones[bit] += static_cast<int>((value >> bit) & 1);
        if (port != 0) differing_bits += std::popcount(value ^ previous);
        distinct.insert(value);
        previous = value;
    }
    for (int bit = 0; bit < 32; ++bit) {
        INFO("bit " << bit);
        CHECK(ones[bit] > samples * 45 / 100);
        CHECK(ones[bit] < samples * 55 / 100);
    }
    const double mean_differing = static_cast<double>(differing_bits) / (samples - 1);
    CHECK(mean_differing > 15.0);
    CHECK(mean_differing < 17.0);
    CHECK(distinct.size() >= static_cast<std::size_t>(samples - 2));
}

TEST_CASE("isn: different keys give different ISNs") {
    rc::prop("keys differing in one bit disagree", [](std::uint64_t k0, std::uint64_t k1) {
        const unsigned bit = *rc::gen::inRange(0u, 128u);
        secret_key flipped{k0, k1};
        flipped[bit / 64] ^= std::uint64_t{1} << (bit % 64);
        const four_tuple tuple = *any_tuple();
        const time_point now = *any_time();
        RC_ASSERT(rfc6528_isn({k0, k1}).initial_sequence(tuple, now) !=
                  rfc6528_isn(flipped).initial_sequence(tuple, now));
        RC_ASSERT(rfc6528_isn({k0, k1}).timestamp_offset(tuple) != rfc6528_isn(flipped).timestamp_offset(tuple));
    });
    const rfc6528_isn a = rfc6528_isn::with_random_key();
    const rfc6528_isn b = rfc6528_isn::with_random_key();
    CHECK(a.initial_sequence(example_tuple, at(1s)) != b.initial_sequence(example_tuple, at(1s)));
    CHECK(random_secret_key() != random_secret_key());
    // Default construction is random too, never a well-known key.
    const rfc6528_isn defaulted_a = {};
    const rfc6528_isn defaulted_b = {};
    CHECK(defaulted_a.initial_sequence(example_tuple, at(1s)) != defaulted_b.initial_sequence(example_tuple, at(1s)));
}

TEST_CASE("isn: the timestamp offset depends on the addresses only") {
    rc::prop("ports do not change it, addresses do", [](std::uint16_t other_local_port,
                                                       std::uint16_t other_remote_port) {
        const rfc6528_isn isn(test_key);
        const four_tuple tuple = *any_tuple();
        four_tuple other_ports = tuple;
        other_ports.local.port = other_local_port;
        other_ports.remote.port = other_remote_port;
        RC_ASSERT(isn.timestamp_offset(other_ports) == isn.timestamp_offset(tuple));
        const auto changed = one_field_changed(tuple, *rc::gen::arbitrary<std::uint32_t>());
        RC_ASSERT(isn.timestamp_offset(changed[0]) != isn.timestamp_offset(tuple));
        RC_ASSERT(isn.timestamp_offset(changed[2]) != isn.timestamp_offset(tuple));
    });
    // Not a function of the ISN key: knowing one tells nothing of the other.
    const rfc6528_isn isn(test_key);
    CHECK(isn.timestamp_offset(example_tuple) != isn.initial_sequence(example_tuple, time_point{}).raw());
}

TEST_CASE("isn: sequential_isn counts from its base and ignores tuple and time") {
    const sequential_isn isn(seq32{1000}, 1000);
    CHECK(isn.initial_sequence(example_tuple, at(1s)) == seq32{1000});
    CHECK(isn.initial_sequence(four_tuple{}, at(9s)) == seq32{2000});
    CHECK(isn.initial_sequence(example_tuple, at(1s)) == seq32{3000});
    CHECK(isn.issued() == 3);
    CHECK(isn.timestamp_offset(example_tuple) == 0);

    const sequential_isn defaulted = {};  // copy-list-initialisable, as an endpoint's `isn_type isn = {}` needs
    CHECK(defaulted.initial_sequence(example_tuple, at(1s)) == seq32{1000});
    CHECK(defaulted.initial_sequence(example_tuple, at(1s)) == seq32{2000});

    sequential_isn wrapping(seq32{0xfffffffeu}, 1);
    CHECK(wrapping.initial_sequence(example_tuple, {}) == seq32{0xfffffffeu});
    CHECK(wrapping.initial_sequence(example_tuple, {}) == seq32{0xffffffffu});
    CHECK(wrapping.initial_sequence(example_tuple, {}) == seq32{0});
}

// ---------------------------------------------------------------- SYN cookies

TEST_CASE("syn cookie: round trip within the acceptance window") {
    rc::prop("check(make(...)) gives back the table MSS", [](std::uint32_t client_isn, std::uint16_t client_mss) {
        const syn_cookie_jar jar(test_key);
        const four_tuple tuple = *any_tuple();
        const time_point made = *any_time();
        // Anywhere from the making until the end of the next minute.
        const duration window_left = start_of_minute(made) + 2min - made;
        const time_point checked = made + duration{*rc::gen::inRange<std::int64_t>(0, window_left.count())};
        const seq32 cookie = jar.make(tuple, seq32{client_isn}, client_mss, made);
        const auto mss = jar.check(tuple, seq32{client_isn}, cookie, checked);
        RC_ASSERT(mss.has_value());
        RC_ASSERT(*mss == syn_cookie_jar::encoded_mss(client_mss));
    });
}

TEST_CASE("syn cookie: accepted for any delay under 60 s, rejected from 120 s on") {
    rc::prop("under a minute: accepted", [](std::uint32_t client_isn, std::uint16_t client_mss) {
        const syn_cookie_jar jar(test_key);
        const four_tuple tuple = *any_tuple();
        const time_point made = *any_time();
        const time_point checked = made + duration{*rc::gen::inRange<std::int64_t>(0, 60'000'000)};
        RC_ASSERT(jar.check(tuple, seq32{client_isn}, jar.make(tuple, seq32{client_isn}, client_mss, made), checked)
                      .has_value());
    });
    rc::prop("two minutes or more (short of a counter wrap): rejected", [](std::uint32_t client_isn,
                                                                          std::uint16_t client_mss) {
        const syn_cookie_jar jar(test_key);
        const four_tuple tuple = *any_tuple();
        const time_point made = *any_time();
        // Up to 254 minutes later: the counter has moved on by 2..254.
        const auto delay = duration{*rc::gen::inRange<std::int64_t>(120'000'000, 254LL * 60'000'000)};
        RC_ASSERT(!jar.check(tuple, seq32{client_isn}, jar.make(tuple, seq32{client_isn}, client_mss, made),
                             made + delay));
    });
    // The boundary, exactly.
    const syn_cookie_jar jar(test_key);
    const seq32 isn{12345};
    const time_point made = at(10min);
    const seq32 cookie = jar.make(example_tuple, isn, 1460, made);
    CHECK(jar.check(example_tuple, isn, cookie, made + 2min - 1us) == std::optional<std::uint16_t>{1460});
    CHECK_FALSE(jar.check(example_tuple, isn, cookie, made + 2min));
    // Checked before it was made (a clock gone backwards): the counter is "in
    // the future", which never happens to a real cookie.
    CHECK_FALSE(jar.check(example_tuple, isn, cookie, made - 1us));
}

TEST_CASE("syn cookie: rejected when the 8-bit counter has wrapped back") {
    // 256 minutes later the 8-bit counter matches again; the MAC over the full
    // minute count still refuses it.
    const syn_cookie_jar jar(test_key);
    for (std::uint32_t i = 0; i < 64; ++i) {
        four_tuple tuple = example_tuple;
        tuple.remote.port = static_cast<std::uint16_t>(50000 + i);
        const time_point made = at(std::chrono::minutes{1000 + i});
        const seq32 cookie = jar.make(tuple, seq32{i * 7919}, 1460, made);
        REQUIRE(jar.check(tuple, seq32{i * 7919}, cookie, made));
        CHECK_FALSE(jar.check(tuple, seq32{i * 7919}, cookie, made + 256min));
        CHECK_FALSE(jar.check(tuple, seq32{i * 7919}, cookie, made + 257min));
        CHECK_FALSE(jar.check(tuple, seq32{i * 7919}, cookie, made + 512min));
    }
}

TEST_CASE("syn cookie: rejected when any tuple field or the client ISN differs") {
    rc::prop("another tuple or ISN does not validate", [](std::uint32_t client_isn, std::uint16_t client_mss,
                                                          std::uint32_t delta) {
        const syn_cookie_jar jar(test_key);
        const four_tuple tuple = *any_tuple();
        const time_point now = *any_time();
        const seq32 cookie = jar.make(tuple, seq32{client_isn}, client_mss, now);
        RC_ASSERT(jar.check(tuple, seq32{client_isn}, cookie, now).has_value());
        for (const four_tuple& changed : one_field_changed(tuple, delta))
            RC_ASSERT(!jar.check(changed, seq32{client_isn}, cookie, now));
        RC_ASSERT(!jar.check(tuple, seq32{client_isn} + (1 + delta % 0xfffffffeu), cookie, now));
        RC_ASSERT(!jar.check({tuple.remote, tuple.local}, seq32{client_isn}, cookie, now) ||
                  tuple.remote == tuple.local);
    });
}

TEST_CASE("syn cookie: every single-bit change to the cookie is rejected") {
    rc::prop("all 32 one-bit flips fail", [](std::uint32_t client_isn, std::uint16_t client_mss) {
        const syn_cookie_jar jar(test_key);
        const four_tuple tuple = *any_tuple();
        const time_point made = *any_time();
        const time_point checked = made + duration{*rc::gen::inRange<std::int64_t>(0, 60'000'000)};
        const seq32 cookie = jar.make(tuple, seq32{client_isn}, client_mss, made);
        for (unsigned bit = 0; bit < 32; ++bit) {
            const seq32 flipped{cookie.raw() ^ (std::uint32_t{1} << bit)};
            RC_ASSERT(!jar.check(tuple, seq32{client_isn}, flipped, checked));
        }
    });
}

TEST_CASE("syn cookie: another jar's cookies are rejected") {
    rc::prop("a different secret does not validate", [](std::uint32_t client_isn, std::uint16_t client_mss) {
        const syn_cookie_jar ours(test_key);
        const syn_cookie_jar theirs(other_key);
        const four_tuple tuple = *any_tuple();
        const time_point now = *any_time();
        RC_ASSERT(!ours.check(tuple, seq32{client_isn}, theirs.make(tuple, seq32{client_isn}, client_mss, now), now));
    });
    const syn_cookie_jar random_jar = syn_cookie_jar::with_random_key();
    const seq32 cookie = random_jar.make(example_tuple, seq32{1}, 1460, at(1s));
    CHECK(random_jar.check(example_tuple, seq32{1}, cookie, at(2s)) == std::optional<std::uint16_t>{1460});
    // Default construction draws a random secret: two such jars do not share one.
    const syn_cookie_jar defaulted_a = {};
    const syn_cookie_jar defaulted_b = {};
    const seq32 from_a = defaulted_a.make(example_tuple, seq32{1}, 1460, at(1s));
    CHECK(defaulted_a.check(example_tuple, seq32{1}, from_a, at(2s)) == std::optional<std::uint16_t>{1460});
    CHECK_FALSE(defaulted_b.check(example_tuple, seq32{1}, from_a, at(2s)));
}

TEST_CASE("syn cookie: the decoded MSS is the table entry chosen") {
    CHECK(syn_cookie_jar::encoded_mss(0) == 536);
    CHECK(syn_cookie_jar::encoded_mss(535) == 536);
    CHECK(syn_cookie_jar::encoded_mss(536) == 536);
    CHECK(syn_cookie_jar::encoded_mss(1299) == 536);
    CHECK(syn_cookie_jar::encoded_mss(1300) == 1300);
    CHECK(syn_cookie_jar::encoded_mss(1439) == 1300);
    CHECK(syn_cookie_jar::encoded_mss(1440) == 1440);
    CHECK(syn_cookie_jar::encoded_mss(1459) == 1440);
    CHECK(syn_cookie_jar::encoded_mss(1460) == 1460);
    CHECK(syn_cookie_jar::encoded_mss(9000) == 1460);
    CHECK(syn_cookie_jar::encoded_mss(65535) == 1460);

    // Every possible client MSS: the largest entry not above it (536 when
    // none is), and that is what comes back out of the cookie.
    const syn_cookie_jar jar(test_key);
    for (std::uint32_t mss = 0; mss <= 0xffff; ++mss) {
        std::uint16_t expected = 536;
        for (const std::uint16_t entry : syn_cookie_mss_table)
            if (entry <= mss) expected = entry;
        const auto client_mss = static_cast<std::uint16_t>(mss);
        REQUIRE(syn_cookie_jar::encoded_mss(client_mss) == expected);
        const seq32 cookie = jar.make(example_tuple, seq32{mss * 2654435761u}, client_mss, at(3min));
        REQUIRE(jar.check(example_tuple, seq32{mss * 2654435761u}, cookie, at(3min + 30s)) ==
                std::optional<std::uint16_t>{expected});
    }
}

TEST_CASE("syn cookie: make and check are usable in constant expressions") {
    constexpr syn_cookie_jar jar(test_key);
    constexpr four_tuple tuple{{ip_address::v4(10, 0, 0, 1), 80}, {ip_address::v4(10, 0, 0, 2), 1234}};
    constexpr seq32 cookie = jar.make(tuple, seq32{99}, 1400, at(90s));
    static_assert(jar.check(tuple, seq32{99}, cookie, at(100s)) == std::optional<std::uint16_t>{1300});
    static_assert(!jar.check(tuple, seq32{98}, cookie, at(100s)));
    SUCCEED();
}

TEST_CASE("syn cookie timestamps: options round trip for every window scale and SACK") {
    std::vector<std::optional<std::uint8_t>> scales{std::nullopt};
    for (std::uint8_t s = 0; s <= 14; ++s) scales.push_back(s);
    for (const auto wscale : scales) {
        for (const bool sack : {false, true}) {
            INFO("wscale " << (wscale ? int{*wscale} : -1) << " sack " << sack);
            for (const std::uint32_t now : {0u, 1u, 63u, 64u, 0x3fu, 0x12345678u, 0xffffffc0u, 0xffffffffu}) {
                const std::uint32_t tsval = syn_cookie_jar::encode_tsval(now, wscale, sack);
                CHECK(syn_cookie_jar::decode_tsecr(tsval) == syn_cookie_ts_options{wscale, sack});
                CHECK(seq_distance(seq32{tsval}, seq32{now}) < 64);  // at or behind the clock, by under 64
            }
        }
    }
    rc::prop("any clock value", [](std::uint32_t now, bool sack) {
        std::optional<std::uint8_t> wscale;
        if (*rc::gen::arbitrary<bool>()) wscale = *rc::gen::inRange<std::uint8_t>(0, 15);
        const std::uint32_t tsval = syn_cookie_jar::encode_tsval(now, wscale, sack);
        RC_ASSERT(syn_cookie_jar::decode_tsecr(tsval) == (syn_cookie_ts_options{wscale, sack}));
        RC_ASSERT(seq_distance(seq32{tsval}, seq32{now}) < 64);
        RC_ASSERT((tsval & ~0x3fu) == (now & ~0x3fu) || (tsval & ~0x3fu) == (now & ~0x3fu) - 64);
    });
}

TEST_CASE("syn cookie timestamps: layout of the low six bits") {
    CHECK(syn_cookie_jar::encode_tsval(0x1000, std::nullopt, false) == 0x1000 - 64 + 0x0f);
    CHECK(syn_cookie_jar::encode_tsval(0x103f, std::nullopt, false) == 0x100f);
    CHECK(syn_cookie_jar::encode_tsval(0x103f, std::uint8_t{7}, true) == 0x1017);
    CHECK(syn_cookie_jar::encode_tsval(0x1010, std::uint8_t{7}, false) == 0x1007);
    // Bit 5 is reserved: always sent clear, ignored on the way back.
    CHECK((syn_cookie_jar::encode_tsval(0xffffffffu, std::uint8_t{3}, true) & 0x20) == 0);
    CHECK(syn_cookie_jar::decode_tsecr(0x20 | 0x13) == syn_cookie_ts_options{std::uint8_t{3}, true});
    // A shift above 14 is sent as 14 (RFC 7323 §2.3), never as the "none" code.
    CHECK(syn_cookie_jar::decode_tsecr(syn_cookie_jar::encode_tsval(5000, std::uint8_t{15}, false)).wscale ==
          std::optional<std::uint8_t>{14});
    CHECK(syn_cookie_jar::decode_tsecr(syn_cookie_jar::encode_tsval(5000, std::uint8_t{255}, false)).wscale ==
          std::optional<std::uint8_t>{14});
}
