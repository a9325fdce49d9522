#pragma once
// The way out: every segment the endpoint sends is written once into one
// buffer, after room for the largest IP header, so a datagram I/O policy gets
// the header put in front without a copy. When the policy refuses a packet
// (a full ring), this keeps it, in that same buffer, until the policy takes
// it: one held packet at most, no allocation. While one is held nothing new
// can be written; the endpoint pulls no output from its connections then.

#include <tcpcore/detail/assert.hpp>
#include <tcpcore/policies/io.hpp>
#include <tcpcore/wire/ip.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpcore {

template <io_policy IO>
class packet_output {
public:
    explicit packet_output(IO io) : io_(std::move(io)) {}

    [[nodiscard]] IO& io() noexcept { return io_; }

    // Where the next segment is written. Not while a packet is held.
    [[nodiscard]] std::span<std::uint8_t> segment_room() noexcept {
        TCPCORE_ASSERT(!held());
        return std::span(scratch_).subspan(ipv6_header_length);
    }

    // Hands the segment written in segment_room() to the policy, as a
    // datagram when the policy takes datagrams. False: the policy refused it
    // and it is held.
    bool send(const four_tuple& t, std::size_t tcp_length) {
        if constexpr (datagram_io<IO>) {
            const std::size_t hl = ip_header_length(t.local.address.family());
            ip_header_params params;
            params.identification = ip_id_++;
            const auto r = write_ip_header(std::span(scratch_).subspan(ipv6_header_length - hl, hl), t.local.address,
                                           t.remote.address, ip_protocol_tcp, tcp_length, params);
            TCPCORE_ASSERT(r.has_value());  // the addresses came from a parsed segment or a checked connect()
            (void)r;
            held_offset_ = static_cast<std::uint32_t>(ipv6_header_length - hl);
            held_length_ = static_cast<std::uint32_t>(hl + tcp_length);
        } else {
            held_tuple_ = t;
            held_offset_ = static_cast<std::uint32_t>(ipv6_header_length);
            held_length_ = static_cast<std::uint32_t>(tcp_length);
        }
        return release();
    }

    [[nodiscard]] bool held() const noexcept { return held_length_ != 0; }

    // Offers the held packet again; true when nothing is held any more.
    bool release() {
        if (!held()) return true;
        const std::span<const std::uint8_t> p =
            std::span<const std::uint8_t>(scratch_).subspan(held_offset_, held_length_);
        bool taken;
        if constexpr (datagram_io<IO>) taken = offer_datagram(io_, p);
        else taken = offer_segment(io_, held_tuple_, p);
        if (taken) held_length_ = 0;
        return taken;
    }

private:
    IO io_;
    four_tuple held_tuple_{};  // for a segment policy
    std::uint32_t held_offset_ = 0;
    std::uint32_t held_length_ = 0;  // 0: nothing held
    std::uint16_t ip_id_ = 0;
    std::array<std::uint8_t, ipv6_header_length + tcp_max_header_length + 65535> scratch_{};
};

}  // namespace tcpcore
