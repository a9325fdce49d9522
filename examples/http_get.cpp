// An HTTP/1.0 client on tcpcore, over a TUN device: fetches one URL and
// writes the body to a file (or standard output).

#include "tun_host.hpp"

#include <cstring>
#include <string>

namespace {
struct url {
    tcpcore::ip_address host;
    std::string host_text;
    std::uint16_t port = 80;
    std::string path = "/";
};

// http://a.b.c.d[:port][/path] (an address, not a name: there is no resolver here).
std::optional<url> parse_url(std::string s) {
    const std::string scheme = "http://";
    if (s.rfind(scheme, 0) != 0) return std::nullopt;
    s = s.substr(scheme.size());
    url u;
    const auto slash = s.find('/');
    if (slash != std::string::npos) {
        u.path = s.substr(slash);
        s = s.substr(0, slash);
    }
    const auto colon = s.find(':');
    if (colon != std::string::npos) {
        const int p = std::atoi(s.substr(colon + 1).c_str());
        if (p <= 0 || p > 65535) return std::nullopt;
        u.port = static_cast<std::uint16_t>(p);
        s = s.substr(0, colon);
    }
    const auto a = example::parse_ipv4(s.c_str());
    if (!a) return std::nullopt;
    u.host = *a;
    u.host_text = s;
    return u;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr,
                     "usage: %s <tun-name> <local-address> <http://address[:port]/path> [output-file] "
                     "[--setup <kernel-address/prefix>]\n"
                     "\n"
                     "Fetches the URL with HTTP/1.0 over tcpcore and writes the body to <output-file>\n"
                     "(standard output without one); the status line goes to standard error.\n"
                     "\n"
                     "example (a kernel web server on 10.7.0.1:8000, e.g. 'python3 -m http.server'):\n"
                     "  sudo %s tcpc0 10.7.0.2 http://10.7.0.1:8000/README.md readme.md --setup 10.7.0.1/24\n",
                     argv[0], argv[0]);
        return 2;
    }
    const char* output = nullptr;
    const char* setup = nullptr;
    for (int i = 4; i < argc; ++i) {
        if (std::strcmp(argv[i], "--setup") == 0 && i + 1 < argc) setup = argv[++i];
        else output = argv[i];
    }
    const auto local = example::parse_ipv4(argv[2]);
    const auto target = parse_url(argv[3]);
    if (!local || !target) {
        std::fprintf(stderr, "bad local address or URL (only http:// with a numeric IPv4 address)\n");
        return 2;
    }
    auto tun = example::open_tun(argv[1], setup);
    if (!tun) return 1;

    static const tcpcore::config cfg;  // Linux's defaults; it must outlive the endpoint
    const auto checked = example::check_config(cfg);
    if (!checked) return 1;
    example::tun_endpoint ep(*checked, {.io = tcpcore::tun_io{&*tun}});
    const auto c = ep.connect({target->host, target->port}, {*local, 0});
    if (!c) {
        std::fprintf(stderr, "connect: %s\n", c.error().message().c_str());
        return 1;
    }
    const std::string request =
        "GET " + target->path + " HTTP/1.0\r\nHost: " + target->host_text + "\r\nUser-Agent: tcpcore\r\n\r\n";
    std::size_t request_sent = 0;
    std::string response;
    std::error_code failure;
    bool closed = false;
    example::run(*tun, ep, [&] {
        while (auto e = ep.next_event())
            if (e->events.has(tcpcore::connection_events::closed) && e->error) failure = e->error;
        if (failure) return false;
        if (closed) return ep.connection_count() != 0;  // until the close completes (the handle is gone)
        const auto* conn = ep.get(*c).value();  // ours until close(): never a bad handle here
        if (conn->state() == tcpcore::tcp_state::established && request_sent < request.size()) {
            const auto n = ep.send(*c, std::span(reinterpret_cast<const std::uint8_t*>(request.data()) + request_sent,
                                                 request.size() - request_sent));
            if (n) request_sent += *n;
            if (request_sent == request.size()) ep.shutdown(*c);  // HTTP/1.0: the request is all
        }
        std::uint8_t chunk[16384];
        for (auto n = ep.recv(*c, chunk); n && *n != 0; n = ep.recv(*c, chunk))
            response.append(reinterpret_cast<char*>(chunk), *n);
        if (conn->eof()) {  // HTTP/1.0: the body ends with the connection
            ep.close(*c);
            closed = true;
        }
        return true;
    });
    if (failure) {
        std::fprintf(stderr, "connection failed: %s\n", failure.message().c_str());
        return 1;
    }
    const auto header_end = response.find("\r\n\r\n");
    if (header_end == std::string::npos) {
        std::fprintf(stderr, "no HTTP response\n");
        return 1;
    }
    std::fprintf(stderr, "%s\n", response.substr(0, response.find("\r\n")).c_str());
    const std::string body = response.substr(header_end + 4);
    std::FILE* out = output ? std::fopen(output, "wb") : stdout;
    if (out == nullptr) {
        std::perror(output);
        return 1;
    }
    std::fwrite(body.data(), 1, body.size(), out);
    if (output) std::fclose(out);
    return response.rfind("HTTP/1.", 0) == 0 && response.find(" 200 ") != std::string::npos ? 0 : 1;
}
