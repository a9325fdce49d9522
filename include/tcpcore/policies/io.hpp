#pragma once
// The I/O policy: where outgoing traffic goes. Either whole IP datagrams (a
// TUN device, a raw IP socket, a DPDK-style ring) or bare TCP segments with
// their addresses (an in-process link, a simulator). The endpoint hands each
// outgoing packet over once, as a span valid only during the call; nothing is
// allocated per packet.

#include <tcpcore/wire/ip_address.hpp>

#include <concepts>
#include <cstdint>
#include <span>
#include <vector>

namespace tcpcore {

// Takes whole IP datagrams (IPv4 or IPv6 header included).
template <class T>
concept datagram_io = requires(T& io, std::span<const std::uint8_t> datagram) {
    io.send_datagram(datagram);
};

// Takes bare TCP segments and the addresses they travel between.
template <class T>
concept segment_io = requires(T& io, const four_tuple& addresses, std::span<const std::uint8_t> segment) {
    io.send_segment(addresses, segment);
};

template <class T>
concept io_policy = datagram_io<T> || segment_io<T>;

// A reference model: keeps every datagram sent, in order, for inspection.
// Allocates; meant for tests and examples, not for a data path.
struct capture_io {
    std::vector<std::vector<std::uint8_t>> datagrams;

    void send_datagram(std::span<const std::uint8_t> datagram) { datagrams.emplace_back(datagram.begin(), datagram.end()); }
};
static_assert(datagram_io<capture_io>);

// The same for bare segments.
struct capture_segment_io {
    struct captured {
        four_tuple addresses;
        std::vector<std::uint8_t> segment;
    };
    std::vector<captured> segments;

    void send_segment(const four_tuple& addresses, std::span<const std::uint8_t> segment) {
        segments.push_back({addresses, {segment.begin(), segment.end()}});
    }
};
static_assert(segment_io<capture_segment_io>);

}  // namespace tcpcore
