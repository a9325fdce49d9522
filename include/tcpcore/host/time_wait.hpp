#pragma once
// TIME-WAIT without the connection: when a connection enters TIME-WAIT the
// endpoint keeps only what answering the peer for 2 MSL takes, a 56-byte
// entry in a 64-byte slab cell (a connection's cell is 256 bytes, and a busy
// server holds far more of these than live connections). This header owns
// the entries, their storage, the arrival rules applied to them and the ACK
// they send; the endpoint owns their timers and their place in the flow table.

#include <tcpcore/detail/slab.hpp>
#include <tcpcore/engine/connection.hpp>
#include <tcpcore/policies/allocator.hpp>
#include <tcpcore/rules/arrival.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace tcpcore {

struct time_wait_entry {
    four_tuple tuple;
    seq32 snd_nxt;
    seq32 rcv_nxt;
    std::uint32_t ts_recent;
    std::uint32_t ts_offset;
    std::uint16_t window;
    bool timestamps;
};
static_assert(sizeof(time_wait_entry) <= 56);

template <allocator_policy Alloc>
class time_wait_table {
public:
    // Entries have no generations: no handle names them.
    using slab_type = detail::slab<time_wait_entry, Alloc, 10, false>;
    static_assert(slab_type::cell_size() <= 64, "a TIME-WAIT entry must stay within 64 bytes");
    static constexpr std::uint32_t none = slab_type::none;

    explicit time_wait_table(Alloc alloc) noexcept : entries_(std::move(alloc)) {}

    // The entry for a connection handing off TIME-WAIT; `none` when out of memory.
    // (The record is basic_connection<...>::time_wait_record, of any connection type.)
    template <class Record>
    std::uint32_t add(const Record& r) {
        return entries_.emplace(
            time_wait_entry{r.tuple, r.snd_nxt, r.rcv_nxt, r.ts_recent, r.ts_offset, r.window, r.timestamps});
    }
    void erase(std::uint32_t w) noexcept { entries_.erase(w); }
    [[nodiscard]] bool live(std::uint32_t w) const noexcept { return entries_.live(w); }
    [[nodiscard]] time_wait_entry& operator[](std::uint32_t w) noexcept { return entries_[w]; }
    [[nodiscard]] const time_wait_entry& operator[](std::uint32_t w) const noexcept { return entries_[w]; }
    [[nodiscard]] std::uint32_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] std::size_t footprint() const noexcept { return entries_.footprint(); }
    [[nodiscard]] static constexpr std::size_t cell_size() noexcept { return slab_type::cell_size(); }

private:
    slab_type entries_;
};

// The arrival rules of TIME-WAIT (RFC 9293 §3.10.7.4, RFC 1337, RFC 6191's
// timestamps for a newer SYN), on the compact entry.
[[nodiscard]] inline arrival_decision decide_time_wait_arrival(const time_wait_entry& e, const tcp_segment_view& seg,
                                                              bool rfc1337) noexcept {
    const tcp_flags fl = seg.flags();
    segment_facts f;
    f.state = tcp_state::time_wait;
    f.flags = fl.bits();
    f.rfc1337 = rfc1337;
    const auto& ts = seg.options().timestamps;
    const bool newer_ts = e.timestamps && ts && static_cast<std::int32_t>(ts->value - e.ts_recent) > 0;
    if (fl.syn_set() && (e.rcv_nxt < seg.seq() || newer_ts)) f.seq = seq_check::syn_newer;
    else f.seq = seg.seq() == e.rcv_nxt && seg.sequence_length() == 0 ? seq_check::acceptable
                                                                      : seq_check::unacceptable;
    f.rst = seg.seq() == e.rcv_nxt ? rst_check::exact : rst_check::outside;
    if (fl.ack_set()) f.ack = e.snd_nxt < seg.ack() ? ack_check::future : ack_check::acceptable;
    if (e.timestamps && ts && static_cast<std::int32_t>(ts->value - e.ts_recent) < 0) f.paws = paws_check::failed;
    return decide_arrival(f);
}

// The ACK TIME-WAIT sends (for a retransmitted FIN, or as a challenge),
// written into `room`; its length, or nothing when it does not fit.
[[nodiscard]] inline std::optional<std::size_t> write_time_wait_ack(std::span<std::uint8_t> room,
                                                                   const time_wait_entry& e, time_point now) noexcept {
    tcp_header_fields f;
    f.src_port = e.tuple.local.port;
    f.dst_port = e.tuple.remote.port;
    f.seq = e.snd_nxt;
    f.ack = e.rcv_nxt;
    f.flags = tcp_flags::ack;
    f.window = e.window;
    tcp_options o;
    if (e.timestamps) o.timestamps = tcp_timestamps{detail::ms32(now) + e.ts_offset, e.ts_recent};
    const auto n = build_tcp_segment(room, f, o, {}, e.tuple.local.address, e.tuple.remote.address);
    if (!n) return std::nullopt;
    return *n;
}

}  // namespace tcpcore
