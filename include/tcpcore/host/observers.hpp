#pragma once
// What the application may watch of the endpoint's decisions without being
// asked to act inside them: every state change of every connection (an
// endpoint tracer, told which connection it is), and every packet the
// endpoint drops (a drop hook, called beside the counters with the reason and
// the packet). A bundle names them as optional members:
//
//   struct my_policies : tcpcore::default_policies {
//       using tracer = my_tracer;        // on_transition(connection_handle, const transition&)
//       using drop_hook = my_drop_log;   // operator()(const dropped_packet&)
//   };
//
// Both run inside endpoint calls and must not call the endpoint back. A
// bundle without them gets no_endpoint_tracer and no_drop_hook, which do
// nothing and take no room: the connections then carry no tracer at all.

#include <tcpcore/engine/connection.hpp>
#include <tcpcore/host/handles.hpp>
#include <tcpcore/host/stats.hpp>
#include <tcpcore/rules/transitions.hpp>

#include <type_traits>

namespace tcpcore {

template <class T>
concept endpoint_tracer = requires(T& t, connection_handle h, const transition& row) { t.on_transition(h, row); };

struct no_endpoint_tracer {
    constexpr void on_transition(connection_handle, const transition&) const noexcept {}
};

template <class H>
concept drop_observer = requires(H& h, const dropped_packet& d) { h(d); };

struct no_drop_hook {
    constexpr void operator()(const dropped_packet&) const noexcept {}
};

// What each connection carries: a pointer to the endpoint's tracer and its
// own handle (16 bytes), or nothing when the endpoint's tracer does nothing.
template <endpoint_tracer T>
struct connection_tracer {
    T* tracer = nullptr;
    connection_handle handle{};
    void on_transition(const transition& row) {
        if (tracer != nullptr) tracer->on_transition(handle, row);
    }
};

template <class T>
using connection_tracer_for =
    std::conditional_t<std::is_same_v<T, no_endpoint_tracer>, no_tracer, connection_tracer<T>>;

// The bundle's optional members, or the defaults.
template <class P> struct bundle_tracer : std::type_identity<no_endpoint_tracer> {};
template <class P> requires requires { typename P::tracer; }
struct bundle_tracer<P> : std::type_identity<typename P::tracer> {};
template <class P> struct bundle_drop_hook : std::type_identity<no_drop_hook> {};
template <class P> requires requires { typename P::drop_hook; }
struct bundle_drop_hook<P> : std::type_identity<typename P::drop_hook> {};

}  // namespace tcpcore
