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

#include <tcpcore/policies/allocator.hpp>
#include <tcpcore/policies/clock.hpp>
#include <tcpcore/policies/congestion.hpp>
#include <tcpcore/policies/io.hpp>
#include <tcpcore/policies/isn.hpp>
#include <tcpcore/policies/timer.hpp>
#include <tcpcore/policies/timer_heap.hpp>
#include <tcpcore/policies/timer_wheel.hpp>

namespace tcpcore {

struct default_policies {
    using clock = steady_clock_source;
    using io = capture_io;
    using allocator = std_allocator;
    using timer = timing_wheel<>;  // O(1); timer_heap and timer_list are the alternatives
    using congestion_control = newreno;
    using isn = rfc6528_isn;  // a random key per endpoint unless one is given
};

template <class P>
concept policy_bundle = requires {
    typename P::clock;
    typename P::io;
    typename P::allocator;
    typename P::timer;
    typename P::congestion_control;
    typename P::isn;
} && clock_policy<typename P::clock> && io_policy<typename P::io> && allocator_policy<typename P::allocator> &&
    timer_policy<typename P::timer> && congestion_control<typename P::congestion_control> &&
    isn_policy<typename P::isn>;

static_assert(policy_bundle<default_policies>);

}  // namespace tcpcore
