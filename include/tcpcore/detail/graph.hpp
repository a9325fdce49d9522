#pragma once
// Small compile-time graph algorithms over dense node indices, kept apart from
// TCP so that the table checks read as statements about TCP, not about loops.

#include <array>
#include <cstddef>

namespace tcpcore::detail {

inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

template <std::size_t N>
using node_set = std::array<bool, N>;

// Nodes reachable from `start` along edges (from(i) -> to(i)), start included.
// Edges is any range whose elements edge_from/edge_to map to indices < N.
template <std::size_t N, class Edges, class From, class To>
constexpr node_set<N> reachable_from(const Edges& edges, std::size_t start, From edge_from, To edge_to) {
    node_set<N> seen{};
    seen[start] = true;
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& e : edges) {
            const std::size_t a = edge_from(e), b = edge_to(e);
            if (seen[a] && !seen[b]) {
                seen[b] = true;
                grew = true;
            }
        }
    }
    return seen;
}

// Nodes from which `target` is reachable: the same walk on reversed edges.
template <std::size_t N, class Edges, class From, class To>
constexpr node_set<N> can_reach(const Edges& edges, std::size_t target, From edge_from, To edge_to) {
    return reachable_from<N>(edges, target, edge_to, edge_from);
}

template <std::size_t N>
constexpr std::size_t first_missing(const node_set<N>& set) {
    for (std::size_t i = 0; i < N; ++i)
        if (!set[i]) return i;
    return npos;
}

}  // namespace tcpcore::detail
