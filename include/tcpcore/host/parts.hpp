#pragma once
// The instances an endpoint is built from, as one struct with a default for
// each, so that a call names only what it sets:
//
//   tcpcore::endpoint<my_policies> ep(*checked, {.io = tcpcore::tun_io{&dev}, .isn = tcpcore::sequential_isn{1000}});
//
// Designated initializers must follow the order below (the compiler says so
// otherwise). The types come from the bundle; `tracer` and `on_drop` from its
// optional members (observers.hpp).

#include <tcpcore/host/observers.hpp>
#include <tcpcore/host/options.hpp>
#include <tcpcore/host/syn_cookie.hpp>
#include <tcpcore/policies.hpp>

namespace tcpcore {

template <policy_bundle P>
struct endpoint_parts {
    typename P::io io{};
    typename P::clock clock{};
    typename P::isn isn{};                 // the default rfc6528_isn draws a random key
    typename P::timer timer{};
    typename P::allocator allocator{};
    syn_cookie_jar cookies{};              // the default draws a random key
    typename bundle_tracer<P>::type tracer{};
    typename bundle_drop_hook<P>::type on_drop{};
    endpoint_options options{};
};

}  // namespace tcpcore
