#pragma once
// The socket layer: a BSD-socket-shaped API over an endpoint (socket/socket_layer.hpp),
// its options (socket/options.hpp) and Linux's numbers for them (socket/constants.hpp).

#include <tcpcore/socket/constants.hpp>
#include <tcpcore/socket/options.hpp>
#include <tcpcore/socket/socket_layer.hpp>
