#include <tcpcore/rules/diagram.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

using namespace tcpcore;

namespace {
std::string render(void (*writer)(std::string&)) {
    std::string s;
    writer(s);
    return s;
}
}  // namespace

TEST_CASE("diagram: DOT and Mermaid hold every row of the table") {
    const std::string dot = render([](std::string& s) { write_dot([&](std::string_view t) { s += t; }); });
    const std::string mermaid = render([](std::string& s) { write_mermaid([&](std::string_view t) { s += t; }); });
    CHECK(dot.rfind("digraph tcp {", 0) == 0);
    CHECK(mermaid.rfind("stateDiagram-v2\n", 0) == 0);
    CHECK(dot.find("\"SYN-SENT\" -> \"SYN-RECEIVED\" [label=\"rcv SYN / snd SYN,ACK\"];") != std::string::npos);
    CHECK(mermaid.find("SYN_SENT --> SYN_RECEIVED: rcv SYN / snd SYN,ACK\n") != std::string::npos);
    CHECK(mermaid.find("state \"FIN-WAIT-1\" as FIN_WAIT_1\n") != std::string::npos);
    std::size_t arrows = 0;
    for (std::size_t p = mermaid.find(" --> "); p != std::string::npos; p = mermaid.find(" --> ", p + 1)) ++arrows;
    CHECK(arrows == transition_table.size() + 1);  // plus [*] --> CLOSED
}

TEST_CASE("diagram: docs/state-machine.md matches the table") {
    std::string expected;
    write_state_machine_doc([&](std::string_view t) { expected += t; });
    std::ifstream in(TCPCORE_SOURCE_DIR "/docs/state-machine.md", std::ios::binary);
    INFO("docs/state-machine.md is missing or stale: build the tcpcore_update_docs target");
    REQUIRE(in.good());
    std::stringstream committed;
    committed << in.rdbuf();
    CHECK(committed.str() == expected);
}
