#pragma once
// The I/O policy: where outgoing traffic goes. Either whole IP datagrams (a
// TUN device, a raw IP socket, a DPDK-style ring) or bare TCP segments with
// their addresses (an in-process link, a simulator). The endpoint hands each
// outgoing packet over as a span valid only during the call; nothing is
// allocated per packet.
//
// A policy may refuse a packet (a full ring) by returning false. The
// endpoint then holds that one packet, pulls nothing more from its
// connections, and offers it again at its next poll() or receive (or
// resume_output()); its next_deadline() says "now" meanwhile. A policy whose
// send returns void always accepts.

#include <tcpcore/wire/ip_address.hpp>

#include <concepts>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace tcpcore {

// What a send returns: nothing (always accepted) or whether it was accepted.
template <class R>
concept io_answer = std::is_void_v<R> || std::same_as<R, bool>;

// Takes whole IP datagrams (IPv4 or IPv6 header included).
template <class T>
concept datagram_io = requires(T& io, std::span<const std::uint8_t> datagram) {
    { io.send_datagram(datagram) } -> io_answer;
};

// Takes bare TCP segments and the addresses they travel between.
template <class T>
concept segment_io = requires(T& io, const four_tuple& addresses, std::span<const std::uint8_t> segment) {
    { io.send_segment(addresses, segment) } -> io_answer;
};

// The two kinds of send as one question: did the policy take the packet?
template <datagram_io T>
bool offer_datagram(T& io, std::span<const std::uint8_t> datagram) {
    if constexpr (std::is_void_v<decltype(io.send_datagram(datagram))>) {
        io.send_datagram(datagram);
        return true;
    } else {
        return io.send_datagram(datagram);
    }
}
template <segment_io T>
bool offer_segment(T& io, const four_tuple& addresses, std::span<const std::uint8_t> segment) {
    if constexpr (std::is_void_v<decltype(io.send_segment(addresses, segment))>) {
        io.send_segment(addresses, segment);
        return true;
    } else {
        return io.send_segment(addresses, segment);
    }
}

template <class T>
concept io_policy = datagram_io<T> || segment_io<T>;

// A reference model: keeps every datagram sent, in order, for inspection.
// Allocates; meant for tests and examples, not for a data path.
struct capture_io {
    std::vector<std::vector<std::uint8_t>> datagrams;

    void send_datagram(std::span<const std::uint8_t> datagram) {
        datagrams.emplace_back(datagram.begin(), datagram.end());
    }
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
