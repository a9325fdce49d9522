// Writes a pcap of generated segments, IPv4 and IPv6, with every option kind,
// and has Wireshark's own dissector (tshark) read it back: every packet
// decodes, every checksum is good, nothing is malformed, and every field
// reads as written.

#include <tcpcore/wire/pcap.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include "../support/bytes.hpp"

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

using namespace tcpcore;

namespace {
struct sample {
    ip_address src, dst;
    tcp_header_fields fields;
    tcp_options options;
    std::vector<std::uint8_t> raw_options;  // used instead of `options` when not empty
    std::size_t payload_size;
};

std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : line) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

std::string run(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int status = pclose(p);
    INFO(cmd << "\n" << out);
    REQUIRE(status == 0);
    return out;
}
}  // namespace

TEST_CASE("pcap: tshark decodes every generated segment as written") {
    const std::string tshark = TCPCORE_TSHARK_PATH;
    INFO("tshark is needed for this test: apt-get install tshark (tests/run.sh installs it)");
    REQUIRE(!tshark.empty());

    const auto a4 = ip_address::v4(192, 0, 2, 1), b4 = ip_address::v4(192, 0, 2, 2);
    const auto a6 = ip_address::v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});
    const auto b6 = ip_address::v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 2});

    std::vector<sample> samples;
    for (bool v6 : {false, true}) {
        const auto& a = v6 ? a6 : a4;
        const auto& b = v6 ? b6 : b4;
        sample syn{a, b, {40000, 80, seq32{1000}, seq32{0}, tcp_flags::syn, 64240, 0, 0}, {}, {}, 0};
        syn.options.mss = 1460;
        syn.options.sack_permitted = true;
        syn.options.timestamps = tcp_timestamps{111, 0};
        syn.options.window_scale = 7;
        samples.push_back(syn);

        sample synack{b, a, {80, 40000, seq32{5000}, seq32{1001}, tcp_flags::syn | tcp_flags::ack, 65160, 0, 0},
                      {}, {}, 0};
        synack.options.mss = 1400;
        synack.options.sack_permitted = true;  // without timestamps: nop nop sackOK
        synack.options.window_scale = 14;
        samples.push_back(synack);

        sample data{a, b, {40000, 80, seq32{1001}, seq32{5001}, tcp_flags::psh | tcp_flags::ack, 502, 0, 0},
                    {}, {}, 100};
        data.options.timestamps = tcp_timestamps{112, 222};
        samples.push_back(data);

        sample sack3{b, a, {80, 40000, seq32{5001}, seq32{1101}, tcp_flags::ack, 509, 0, 0}, {}, {}, 0};
        sack3.options.timestamps = tcp_timestamps{223, 112};
        sack3.options.add_sack_block({seq32{1201}, seq32{1301}});
        sack3.options.add_sack_block({seq32{1401}, seq32{1501}});
        sack3.options.add_sack_block({seq32{1601}, seq32{1701}});
        samples.push_back(sack3);

        sample sack4{b, a, {80, 40000, seq32{5001}, seq32{1101}, tcp_flags::ack, 509, 0, 0}, {}, {}, 0};
        for (std::uint32_t i = 0; i < 4; ++i) sack4.options.add_sack_block({seq32{2001 + 200 * i}, seq32{2101 + 200 * i}});
        samples.push_back(sack4);

        // An option Wireshark knows but we do not build (experimental, RFC
        // 4727's kind 253), followed by an MSS: unknown kinds are skipped.
        sample unknown{a, b, {40000, 80, seq32{1101}, seq32{5001}, tcp_flags::ack, 502, 0, 0}, {}, {}, 1};
        unknown.raw_options = {253, 4, 0xab, 0xcd, 1, 1, 1, 0};
        samples.push_back(unknown);

        samples.push_back({a, b, {40000, 80, seq32{1102}, seq32{5001}, tcp_flags::fin | tcp_flags::ack, 502, 0, 0},
                           {}, {}, 0});
        samples.push_back({b, a, {80, 40000, seq32{5001}, seq32{0}, tcp_flags::rst, 0, 0, 0}, {}, {}, 0});
    }

    const auto path = (std::filesystem::temp_directory_path() / "tcpcore_tshark_test.pcap").string();
    {
        pcap_file file(path.c_str());
        REQUIRE(file.is_open());
        std::int64_t t = 1'700'000'000'000'000;
        for (const auto& s : samples) {
            std::vector<std::uint8_t> seg(60 + s.payload_size);
            std::vector<std::uint8_t> payload(s.payload_size, 0x61);
            std::size_t len;
            if (s.raw_options.empty()) {
                len = *build_tcp_segment(seg, s.fields, s.options, payload, s.src, s.dst);
            } else {
                const auto h = *write_tcp_header(seg, s.fields, std::span(s.raw_options));
                std::copy(payload.begin(), payload.end(), seg.begin() + static_cast<std::ptrdiff_t>(h));
                len = h + payload.size();
                seg.resize(len);
                write_tcp_checksum(seg, s.src, s.dst);
            }
            seg.resize(len);
            file.write_tcp_segment(std::chrono::microseconds{t += 1000}, s.src, s.dst, seg);
        }
    }

    const std::string fields[] = {"ip.src",
                                  "ipv6.src",
                                  "tcp.srcport",
                                  "tcp.dstport",
                                  "tcp.seq_raw",
                                  "tcp.ack_raw",
                                  "tcp.flags",
                                  "tcp.window_size_value",
                                  "tcp.len",
                                  "tcp.options.mss_val",
                                  "tcp.options.wscale.shift",
                                  "tcp.options.sack_perm",
                                  "tcp.options.timestamp.tsval",
                                  "tcp.options.timestamp.tsecr",
                                  "tcp.options.sack_le",
                                  "tcp.options.sack_re",
                                  "tcp.checksum.status",
                                  "ip.checksum.status",
                                  "_ws.malformed",
                                  "_ws.expert.severity",
                                  "tcp.options.experimental"};
    std::string cmd = "'" + tshark + "' -n -r '" + path +
                      "' -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE"
                      " -o tcp.relative_sequence_numbers:FALSE -o tcp.analyze_sequence_numbers:FALSE"
                      " -T fields -E separator='|' -E occurrence=a -E aggregator=,";
    for (const auto& f : fields) cmd += " -e " + f;
    cmd += " 2>/dev/null";
    const auto out = run(cmd);

    std::istringstream lines(out);
    std::string line;
    std::size_t i = 0;
    while (std::getline(lines, line)) {
        REQUIRE(i < samples.size());
        const auto& s = samples[i];
        const auto f = split(line, '|');
        REQUIRE(f.size() == std::size(fields));
        INFO("packet " << i + 1 << ": " << line);
        char addr[46];
        format_address(s.src, addr);
        CHECK(f[s.src.is_v4() ? 0 : 1] == addr);
        CHECK(f[2] == std::to_string(s.fields.src_port));
        CHECK(f[3] == std::to_string(s.fields.dst_port));
        CHECK(f[4] == std::to_string(s.fields.seq.raw()));
        if (s.fields.flags.ack_set()) CHECK(f[5] == std::to_string(s.fields.ack.raw()));
        char flags_hex[16];
        std::snprintf(flags_hex, sizeof flags_hex, "0x%04x", s.fields.flags.bits());
        CHECK(f[6] == flags_hex);
        CHECK(f[7] == std::to_string(s.fields.window));
        CHECK(f[8] == std::to_string(s.payload_size));
        const auto& o = s.options;
        CHECK(f[9] == (o.mss ? std::to_string(*o.mss) : ""));
        CHECK(f[10] == (o.window_scale ? std::to_string(*o.window_scale) : ""));
        CHECK(!f[11].empty() == o.sack_permitted);
        CHECK(f[12] == (o.timestamps ? std::to_string(o.timestamps->value) : ""));
        CHECK(f[13] == (o.timestamps ? std::to_string(o.timestamps->echo_reply) : ""));
        std::string le, re;
        for (const auto& b : o.sack_blocks()) {
            if (!le.empty()) {
                le += ',';
                re += ',';
            }
            le += std::to_string(b.left.raw());
            re += std::to_string(b.right.raw());
        }
        CHECK(f[14] == le);
        CHECK(f[15] == re);
        CHECK(f[16] == "1");  // PROTO_CHECKSUM_E_GOOD
        if (s.src.is_v4()) CHECK(f[17] == "1");
        CHECK(f[18].empty());  // nothing malformed
        // Expert info of "error" severity (PI_ERROR, 0x00800000) would flag a
        // bad packet; chat, note and warn (a RST is a "warn") are normal.
        CHECK(f[19].find("8388608") == std::string::npos);
        CHECK(!f[20].empty() == !s.raw_options.empty());
        ++i;
    }
    CHECK(i == samples.size());
    std::filesystem::remove(path);
}
