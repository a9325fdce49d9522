#pragma once
// A fixed-capacity set of disjoint sequence ranges [left, right), kept in
// order of recency (the most recently touched range first). Two uses:
//   - the receiver's out-of-order reassembly map, whose recency order is the
//     order RFC 2018 §4 wants SACK blocks in;
//   - the sender's SACK scoreboard (RFC 6675).
// Fixed capacity is the memory bound: a range that would need a slot beyond
// it is refused (reassembly drops the segment; the peer retransmits).
//
// The ranges live in the connection's buffer block (they describe data that
// lives there too) and their count in the connection object, where it packs
// with other small fields; these views operate on both. With no storage the
// count must be 0, and nothing is read.

#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_options.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace tcpcore::detail {

inline constexpr std::size_t no_range = static_cast<std::size_t>(-1);

template <std::size_t N>
class const_seq_ranges {
public:
    constexpr const_seq_ranges(const std::array<sack_block, N>* r, const std::uint8_t& count) noexcept
        : r_(r), count_(&count) {}

    [[nodiscard]] constexpr std::size_t size() const noexcept { return *count_; }
    [[nodiscard]] constexpr bool empty() const noexcept { return *count_ == 0; }
    [[nodiscard]] constexpr const sack_block& operator[](std::size_t i) const noexcept { return (*r_)[i]; }

    // The index of the range containing x, or no_range.
    [[nodiscard]] constexpr std::size_t find(seq32 x) const noexcept {
        for (std::size_t i = 0; i < size(); ++i)
            if (!(x < (*r_)[i].left) && x < (*r_)[i].right) return i;
        return no_range;
    }

    // The lowest left edge at or above x, or `none` when no range lies there.
    [[nodiscard]] constexpr seq32 next_left_at_or_after(seq32 x, seq32 none) const noexcept {
        bool found = false;
        seq32 best = none;
        for (std::size_t i = 0; i < size(); ++i) {
            const seq32 l = (*r_)[i].left;
            if (!(l < x) && (!found || l < best)) {
                best = l;
                found = true;
            }
        }
        return best;
    }

    [[nodiscard]] constexpr seq32 highest_right(seq32 otherwise) const noexcept {
        seq32 best = otherwise;
        for (std::size_t i = 0; i < size(); ++i)
            if (best < (*r_)[i].right) best = (*r_)[i].right;
        return best;
    }

    // Bytes covered inside [from, to).
    [[nodiscard]] constexpr std::uint32_t covered(seq32 from, seq32 to) const noexcept {
        std::uint32_t n = 0;
        for (std::size_t i = 0; i < size(); ++i) {
            const seq32 l = seq_max((*r_)[i].left, from);
            const seq32 r = seq_min((*r_)[i].right, to);
            if (l < r) n += seq_distance(l, r);
        }
        return n;
    }

private:
    const std::array<sack_block, N>* r_;
    const std::uint8_t* count_;
};

template <std::size_t N>
class seq_ranges : public const_seq_ranges<N> {
public:
    constexpr seq_ranges(std::array<sack_block, N>* r, std::uint8_t& count) noexcept
        : const_seq_ranges<N>(r, count), r_(r), count_(&count) {}

    constexpr void clear() noexcept { *count_ = 0; }

    // Adds [left, right), merging with every range it touches or overlaps;
    // the result becomes the most recent. Returns false (and changes nothing)
    // when it would need a new slot and none is free.
    constexpr bool add(seq32 left, seq32 right) noexcept {
        if (!(left < right)) return true;
        bool touches = false;
        for (std::size_t i = 0; i < *count_ && !touches; ++i) touches = overlaps(i, left, right);
        if (!touches && *count_ == N) return false;
        for (std::size_t i = 0; i < *count_;) {
            if (overlaps(i, left, right)) {
                left = seq_min(left, (*r_)[i].left);
                right = seq_max(right, (*r_)[i].right);
                remove_at(i);
                continue;
            }
            ++i;
        }
        for (std::size_t j = *count_; j > 0; --j) (*r_)[j] = (*r_)[j - 1];
        (*r_)[0] = {left, right};
        ++*count_;
        return true;
    }

    // Adds [left, right); when full, forgets the range with the lowest right
    // edge to make room (the scoreboard prefers what lies furthest ahead).
    constexpr void add_evicting(seq32 left, seq32 right) noexcept {
        if (add(left, right)) return;
        std::size_t lowest = 0;
        for (std::size_t i = 1; i < *count_; ++i)
            if ((*r_)[i].right < (*r_)[lowest].right) lowest = i;
        remove_at(lowest);
        (void)add(left, right);
    }

    // Forgets everything below `edge`, trimming a range that straddles it.
    constexpr void trim_below(seq32 edge) noexcept {
        for (std::size_t i = 0; i < *count_;) {
            if (!(edge < (*r_)[i].right)) {
                remove_at(i);
                continue;
            }
            if ((*r_)[i].left < edge) (*r_)[i].left = edge;
            ++i;
        }
    }

private:
    [[nodiscard]] constexpr bool overlaps(std::size_t i, seq32 left, seq32 right) const noexcept {
        return !((*r_)[i].right < left) && !(right < (*r_)[i].left);  // touching counts
    }
    constexpr void remove_at(std::size_t i) noexcept {
        for (std::size_t j = i + 1; j < *count_; ++j) (*r_)[j - 1] = (*r_)[j];
        --*count_;
    }

    std::array<sack_block, N>* r_;
    std::uint8_t* count_;
};

}  // namespace tcpcore::detail
