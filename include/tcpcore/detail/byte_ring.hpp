#pragma once
// Copying in and out of a circular byte buffer whose storage, capacity and
// positions the caller keeps (the connection stores them compactly). Offsets
// are relative to the ring's start; nothing here allocates or checks bounds
// beyond assertions: callers keep offset + length <= capacity.

#include <tcpcore/detail/assert.hpp>
#include <tcpcore/wire/checksum.hpp>

#include <cstdint>
#include <cstring>
#include <span>

namespace tcpcore::detail {

struct ring_ref {
    std::uint8_t* data;
    std::uint32_t capacity;
    std::uint32_t start;  // index of the first byte

    // The storage index of the byte `offset` past the start.
    [[nodiscard]] constexpr std::uint32_t index(std::uint32_t offset) const noexcept {
        const std::uint64_t i = std::uint64_t{start} + offset;
        return static_cast<std::uint32_t>(i >= capacity ? i - capacity : i);
    }

    // The up to two contiguous pieces of [offset, offset + length).
    struct pieces {
        std::span<std::uint8_t> first;
        std::span<std::uint8_t> second;
    };
    [[nodiscard]] pieces at(std::uint32_t offset, std::uint32_t length) const noexcept {
        TCPCORE_ASSERT(std::uint64_t{offset} + length <= capacity);
        const std::uint32_t i = index(offset);
        const std::uint32_t until_end = capacity - i;
        if (length <= until_end) return {{data + i, length}, {}};
        return {{data + i, until_end}, {data, length - until_end}};
    }

    void write(std::uint32_t offset, std::span<const std::uint8_t> bytes) const noexcept {
        const auto p = at(offset, static_cast<std::uint32_t>(bytes.size()));
        if (!p.first.empty()) std::memcpy(p.first.data(), bytes.data(), p.first.size());
        if (!p.second.empty()) std::memcpy(p.second.data(), bytes.data() + p.first.size(), p.second.size());
    }

    void read(std::uint32_t offset, std::span<std::uint8_t> out) const noexcept {
        const auto p = at(offset, static_cast<std::uint32_t>(out.size()));
        if (!p.first.empty()) std::memcpy(out.data(), p.first.data(), p.first.size());
        if (!p.second.empty()) std::memcpy(out.data() + p.first.size(), p.second.data(), p.second.size());
    }

    // Copies [offset, offset + out.size()) into out while adding it to sum:
    // one pass over the payload for copy and checksum.
    void read_summing(std::uint32_t offset, std::span<std::uint8_t> out, internet_checksum& sum) const noexcept {
        const auto p = at(offset, static_cast<std::uint32_t>(out.size()));
        if (!p.first.empty()) sum.add_copy(out.data(), p.first);
        if (!p.second.empty()) sum.add_copy(out.data() + p.first.size(), p.second);
    }
};

}  // namespace tcpcore::detail
