#pragma once
// The echo servers' logic, apart from how they wait (poll or Asio): accept
// every connection, send back whatever arrives, close when the client does.

#include <tcpcore/host/endpoint.hpp>

#include <cstdio>
#include <vector>

namespace example {

template <class Endpoint>
class echo_service {
public:
    echo_service(Endpoint& ep, tcpcore::listener_handle listener) : ep_(ep), listener_(listener) {}

    // Handles everything the endpoint has to report.
    void handle_events() {
        while (auto e = ep_.next_event()) {
            if (e->accept_ready) {
                while (auto c = ep_.accept(listener_)) {
                    char addr[46];
                    const auto& t = ep_.get(*c).value()->tuple();
                    tcpcore::format_address(t.remote.address, addr);
                    std::printf("accepted %s:%u\n", addr, t.remote.port);
                    std::fflush(stdout);
                    if (pending_.size() <= c->index) pending_.resize(c->index + 1);
                }
                continue;
            }
            echo(e->connection, e->events);
        }
    }

private:
    void echo(tcpcore::connection_handle h, tcpcore::connection_events events) {
        // Bytes read but not yet echoed: the send buffer may be full.
        auto& buf = pending_[h.index];
        if (events.has(tcpcore::connection_events::closed)) {
            buf.clear();
            ep_.close(h);
            return;
        }
        std::uint8_t chunk[16384];
        bool end_of_stream = false;
        for (;;) {  // recv: bytes, 0 at the end of the stream, or an error (EAGAIN: nothing yet)
            const auto n = ep_.recv(h, chunk);
            if (!n || *n == 0) {
                end_of_stream = n.has_value();
                break;
            }
            buf.insert(buf.end(), chunk, chunk + *n);
        }
        if (!buf.empty()) {
            const auto sent = ep_.send(h, buf);
            if (sent) buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*sent));
        }
        if (end_of_stream && buf.empty()) ep_.close(h);  // the client is done: so are we
    }

    Endpoint& ep_;
    tcpcore::listener_handle listener_;
    std::vector<std::vector<std::uint8_t>> pending_;
};

}  // namespace example
