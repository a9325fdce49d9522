#pragma once
// Policies travel as one named bundle. Derive from default_policies and
// replace what you need:
//
//   struct my_policies : tcpcore::default_policies {
//       using clock = tcpcore::manual_clock;
//   };
//
// A bundle whose member does not model its concept fails to compile with the
// concept's name and the requirement it misses.

#include "policies/allocator.hpp"
#include "policies/clock.hpp"
#include "policies/io.hpp"
#include "policies/timer.hpp"

namespace tcpcore {

struct default_policies {
    using clock = steady_clock_source;
    using io = capture_io;
    using allocator = std_allocator;
    using timer = timer_list;
};

template <class P>
concept policy_bundle = requires {
    typename P::clock;
    typename P::io;
    typename P::allocator;
    typename P::timer;
} && clock_policy<typename P::clock> && io_policy<typename P::io> && allocator_policy<typename P::allocator> &&
    timer_policy<typename P::timer>;

static_assert(policy_bundle<default_policies>);

}  // namespace tcpcore
