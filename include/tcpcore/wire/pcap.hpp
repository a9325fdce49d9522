#pragma once
// A pcap writer (the classic libpcap format, LINKTYPE_RAW: each record is an
// IPv4 or IPv6 packet), so any trace opens in Wireshark or tshark. Bytes go
// to a sink the caller chooses; pcap_file writes to a file through <cstdio>.

#include <tcpcore/detail/byte_order.hpp>
#include <tcpcore/wire/ip.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>

namespace tcpcore {

inline constexpr std::uint32_t pcap_linktype_raw = 101;  // LINKTYPE_RAW: raw IPv4/IPv6
inline constexpr std::uint32_t pcap_default_snaplen = 262144;

// Where pcap bytes go: called with each chunk in order.
template <class S>
concept pcap_sink = requires(S& sink, std::span<const std::uint8_t> bytes) { sink(bytes); };

template <pcap_sink Sink>
class pcap_writer {
public:
    // Writes the file header at once, so even an empty trace is a valid file.
    explicit pcap_writer(Sink sink, std::uint32_t snaplen = pcap_default_snaplen)
        : sink_(std::move(sink)), snaplen_(snaplen) {
        std::uint8_t h[24];
        store_le32(h, 0xa1b2c3d4u);  // microsecond timestamps; little-endian file
        store_le16(h + 4, 2);
        store_le16(h + 6, 4);
        store_le32(h + 8, 0);        // thiszone
        store_le32(h + 12, 0);       // sigfigs
        store_le32(h + 16, snaplen_);
        store_le32(h + 20, pcap_linktype_raw);
        sink_(std::span<const std::uint8_t>(h));
    }

    // Records one IP packet seen at `when` (any epoch; Wireshark shows it
    // as time since 1970).
    void write_packet(std::chrono::microseconds when, std::span<const std::uint8_t> ip_packet) {
        const std::size_t captured = write_record_header(when, ip_packet.size());
        sink_(ip_packet.first(captured));
    }

    // Records a bare TCP segment (as the connection engine emits it) by
    // putting an IP header of the addresses' family in front of it.
    void write_tcp_segment(std::chrono::microseconds when, const ip_address& src, const ip_address& dst,
                           std::span<const std::uint8_t> segment, const ip_header_params& params = {}) {
        std::uint8_t header[ipv6_header_length];
        const auto len = write_ip_header(header, src, dst, ip_protocol_tcp, segment.size(), params);
        if (!len) return;  // mixed families or an oversized segment: nothing sensible to record
        const std::size_t captured = write_record_header(when, *len + segment.size());
        sink_(std::span<const std::uint8_t>(header, *len < captured ? *len : captured));
        if (captured > *len) sink_(segment.first(captured - *len));
    }

    [[nodiscard]] Sink& sink() noexcept { return sink_; }

private:
    // Writes a record header and returns how many of the packet's bytes the
    // snap length lets through.
    std::size_t write_record_header(std::chrono::microseconds when, std::size_t length) {
        const auto us = static_cast<std::uint64_t>(when.count() < 0 ? 0 : when.count());
        const std::size_t captured = length < snaplen_ ? length : std::size_t{snaplen_};
        std::uint8_t h[16];
        store_le32(h, static_cast<std::uint32_t>(us / 1000000));
        store_le32(h + 4, static_cast<std::uint32_t>(us % 1000000));
        store_le32(h + 8, static_cast<std::uint32_t>(captured));
        store_le32(h + 12, static_cast<std::uint32_t>(length));
        sink_(std::span<const std::uint8_t>(h));
        return captured;
    }

    static void store_le16(std::uint8_t* p, std::uint16_t v) noexcept {
        p[0] = static_cast<std::uint8_t>(v);
        p[1] = static_cast<std::uint8_t>(v >> 8);
    }
    static void store_le32(std::uint8_t* p, std::uint32_t v) noexcept {
        store_le16(p, static_cast<std::uint16_t>(v));
        store_le16(p + 2, static_cast<std::uint16_t>(v >> 16));
    }

    Sink sink_;
    std::uint32_t snaplen_;
};

// A sink that appends to a FILE*. It does not own the stream.
struct pcap_stdio_sink {
    std::FILE* stream = nullptr;
    void operator()(std::span<const std::uint8_t> bytes) const noexcept {
        if (stream != nullptr) (void)std::fwrite(bytes.data(), 1, bytes.size(), stream);
    }
};

// A pcap file on disk, flushed and closed when destroyed.
class pcap_file {
public:
    // Check is_open() afterwards: opening can fail (no exceptions here).
    explicit pcap_file(const char* path, std::uint32_t snaplen = pcap_default_snaplen)
        : stream_(std::fopen(path, "wb")), writer_(pcap_stdio_sink{stream_}, snaplen) {}
    pcap_file(const pcap_file&) = delete;
    pcap_file& operator=(const pcap_file&) = delete;
    ~pcap_file() {
        if (stream_ != nullptr) std::fclose(stream_);
    }

    [[nodiscard]] bool is_open() const noexcept { return stream_ != nullptr; }
    void write_packet(std::chrono::microseconds when, std::span<const std::uint8_t> ip_packet) {
        writer_.write_packet(when, ip_packet);
    }
    void write_tcp_segment(std::chrono::microseconds when, const ip_address& src, const ip_address& dst,
                           std::span<const std::uint8_t> segment, const ip_header_params& params = {}) {
        writer_.write_tcp_segment(when, src, dst, segment, params);
    }
    void flush() noexcept {
        if (stream_ != nullptr) std::fflush(stream_);
    }

private:
    std::FILE* stream_;
    pcap_writer<pcap_stdio_sink> writer_;
};

}  // namespace tcpcore
