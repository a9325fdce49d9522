#pragma once
// The connection's one allocation: [SACK scoreboard | reassembly map | send
// ring | receive ring]. It owns the pointer and the allocator, and knows the
// layout; the send and receive sides keep their own ring positions and range
// counts (small fields that pack with theirs), and read their part of the
// block through the views this hands out.
//
// Allocated at the first send or the first data to arrive, not at open:
// connections that never carry data cost no buffer memory. Sizes come from
// the configuration, passed in rather than kept (the connection holds it).

#include <tcpcore/detail/byte_ring.hpp>
#include <tcpcore/detail/seq_ranges.hpp>
#include <tcpcore/engine/control.hpp>
#include <tcpcore/policies/allocator.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/wire/tcp_options.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace tcpcore::detail {

// Ranges each of the SACK scoreboard and the reassembly map can hold: enough
// for the holes a megabyte window sees at a few percent loss. Beyond it,
// out-of-order data is dropped and the peer sends it again.
inline constexpr std::size_t range_capacity = 16;
using range_set = seq_ranges<range_capacity>;
using const_range_set = const_seq_ranges<range_capacity>;

inline constexpr std::size_t range_bytes = 2 * range_capacity * sizeof(sack_block);

[[nodiscard]] inline std::uint32_t send_capacity(const config& c) noexcept { return c.send_buffer; }
[[nodiscard]] inline std::uint32_t receive_capacity(const config& c) noexcept { return c.receive_buffer; }
// The largest window offered: the buffer, or less under a window clamp.
[[nodiscard]] inline std::uint32_t window_limit(const config& c) noexcept {
    return c.window_clamp != 0 && c.window_clamp < c.receive_buffer ? c.window_clamp : c.receive_buffer;
}
// The scaled window field is rounded up so the advertised edge never moves
// left; the buffer holds the up to 2^scale - 1 bytes that promises (at the
// largest scale this configuration can offer).
[[nodiscard]] inline std::uint32_t receive_capacity_with_slack(const config& c) noexcept {
    return c.receive_buffer + (1u << window_scale_for(window_scale_basis(c)));
}
[[nodiscard]] inline std::size_t buffer_block_size(const config& c) noexcept {
    return range_bytes + std::size_t{send_capacity(c)} + receive_capacity_with_slack(c);
}

template <allocator_policy Alloc>
class buffer_block {
public:
    explicit buffer_block(Alloc alloc) noexcept : alloc_(std::move(alloc)) {}
    buffer_block(const buffer_block&) = delete;
    buffer_block& operator=(const buffer_block&) = delete;

    [[nodiscard]] bool allocated() const noexcept { return data_ != nullptr; }
    // Returns false when the allocator has no memory.
    [[nodiscard]] bool allocate(const config& c) noexcept {
        data_ = static_cast<std::uint8_t*>(alloc_.allocate(buffer_block_size(c), alignof(std::max_align_t)));
        return data_ != nullptr;
    }
    void release(const config& c) noexcept {
        if (data_ != nullptr) alloc_.deallocate(data_, buffer_block_size(c), alignof(std::max_align_t));
        data_ = nullptr;
    }

    // Without the block the rings have no storage (and hold no bytes); the
    // views may still be made, to be passed along unread.
    [[nodiscard]] ring_ref send_ring(const config& c, std::uint32_t start) const noexcept {
        return {at(range_bytes), send_capacity(c), start};
    }
    [[nodiscard]] ring_ref receive_ring(const config& c, std::uint32_t start) const noexcept {
        return {at(range_bytes + send_capacity(c)), receive_capacity_with_slack(c), start};
    }

    // The SACK scoreboard and the reassembly map, at the head of the block;
    // without it both are empty (their counts are zeroed on release).
    // The counts live with the sides that own the ranges.
    [[nodiscard]] range_set scoreboard(std::uint8_t& count) const noexcept { return {ranges_at(0), count}; }
    [[nodiscard]] const_range_set scoreboard(const std::uint8_t& count) const noexcept { return {ranges_at(0), count}; }
    [[nodiscard]] range_set reassembly(std::uint8_t& count) const noexcept { return {ranges_at(1), count}; }
    [[nodiscard]] const_range_set reassembly(const std::uint8_t& count) const noexcept { return {ranges_at(1), count}; }

private:
    using ranges = std::array<sack_block, range_capacity>;
    [[nodiscard]] ranges* ranges_at(std::size_t which) const noexcept {
        return data_ == nullptr ? nullptr : reinterpret_cast<ranges*>(data_) + which;
    }
    [[nodiscard]] std::uint8_t* at(std::size_t offset) const noexcept {
        return data_ == nullptr ? nullptr : data_ + offset;
    }

    std::uint8_t* data_ = nullptr;
    [[no_unique_address]] Alloc alloc_;
};

}  // namespace tcpcore::detail
