#pragma once
// A pcap tap usable with any I/O policy: it records every datagram the
// endpoint sends before passing it on, and the application records what
// arrives with incoming() before handing it to the endpoint. The capture is
// what the wire saw, in order, with the clock's timestamps, and opens in
// Wireshark.
//
//   tcpcore::pcap_file file("run.pcap");
//   struct policies : tcpcore::default_policies {
//       using io = tcpcore::pcap_tap<tcpcore::tun_io>;
//   };
//   tcpcore::endpoint<policies> ep(*tcpcore::check(cfg), {.io = {tcpcore::tun_io{&tun}, &file}});
//   ... tun.receive([&](auto d) { ep.io().incoming(d); ep.receive_datagram(d); });

#include <tcpcore/policies/clock.hpp>
#include <tcpcore/policies/io.hpp>
#include <tcpcore/wire/ip.hpp>
#include <tcpcore/wire/pcap.hpp>

#include <chrono>
#include <span>

namespace tcpcore {

template <io_policy Inner, clock_policy Clock = steady_clock_source>
struct pcap_tap {
    Inner inner;
    pcap_file* file = nullptr;
    Clock clock{};

    // Outgoing, as the endpoint hands it over. The inner policy's answer is
    // passed back, so a refusal (a full ring) reaches the endpoint, and only
    // what the inner policy took is recorded: the capture shows the wire.
    bool send_datagram(std::span<const std::uint8_t> datagram)
        requires datagram_io<Inner>
    {
        if (!offer_datagram(inner, datagram)) return false;
        record(datagram);
        return true;
    }
    bool send_segment(const four_tuple& t, std::span<const std::uint8_t> segment)
        requires(segment_io<Inner> && !datagram_io<Inner>)
    {
        if (!offer_segment(inner, t, segment)) return false;
        if (file != nullptr) file->write_tcp_segment(stamp(), t.local.address, t.remote.address, segment);
        return true;
    }

    // Incoming: call with each datagram before receive_datagram().
    void incoming(std::span<const std::uint8_t> datagram) { record(datagram); }

private:
    [[nodiscard]] std::chrono::microseconds stamp() {
        return std::chrono::duration_cast<std::chrono::microseconds>(clock.now().time_since_epoch());
    }
    void record(std::span<const std::uint8_t> datagram) {
        if (file != nullptr) file->write_packet(stamp(), datagram);
    }
};

}  // namespace tcpcore
