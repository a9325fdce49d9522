#pragma once
// The state machine drawn from the transition table itself, as Graphviz DOT
// and as Mermaid, so that the picture cannot drift from the rules.
// docs/state-machine.md is the Mermaid rendering; a test fails when it
// differs from what write_state_machine_doc() produces.
//
// Output goes to a sink called with string_views, in order: no allocation.

#include <tcpcore/rules/state.hpp>
#include <tcpcore/rules/transitions.hpp>

#include <concepts>
#include <cstddef>
#include <string_view>

namespace tcpcore {

template <class S>
concept text_sink = requires(S& sink, std::string_view text) { sink(text); };

namespace detail {
// Mermaid state ids cannot hold '-': SYN-SENT becomes SYN_SENT.
template <text_sink Sink>
void write_mermaid_id(Sink& out, tcp_state s) {
    const std::string_view name = to_string(s);
    std::size_t start = 0;
    for (std::size_t i = 0; i <= name.size(); ++i) {
        if (i == name.size() || name[i] == '-') {
            out(name.substr(start, i - start));
            if (i != name.size()) out("_");
            start = i + 1;
        }
    }
}

template <text_sink Sink>
void write_label(Sink& out, const transition& t) {
    out(to_string(t.event));
    if (t.output != transition_output::none) {
        out(" / ");
        out(to_string(t.output));
    }
}
}  // namespace detail

template <text_sink Sink, class Table = decltype(transition_table)>
void write_dot(Sink&& out, const Table& table = transition_table) {
    out("digraph tcp {\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
        "  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (tcp_state s : all_tcp_states) {
        out("  \"");
        out(to_string(s));
        out("\";\n");
    }
    for (const transition& t : table) {
        out("  \"");
        out(to_string(t.from));
        out("\" -> \"");
        out(to_string(t.to));
        out("\" [label=\"");
        detail::write_label(out, t);
        out("\"];\n");
    }
    out("}\n");
}

template <text_sink Sink, class Table = decltype(transition_table)>
void write_mermaid(Sink&& out, const Table& table = transition_table) {
    out("stateDiagram-v2\n");
    for (tcp_state s : all_tcp_states) {
        out("    state \"");
        out(to_string(s));
        out("\" as ");
        detail::write_mermaid_id(out, s);
        out("\n");
    }
    out("    [*] --> CLOSED\n");
    for (const transition& t : table) {
        out("    ");
        detail::write_mermaid_id(out, t.from);
        out(" --> ");
        detail::write_mermaid_id(out, t.to);
        out(": ");
        detail::write_label(out, t);
        out("\n");
    }
}

// The whole of docs/state-machine.md.
template <text_sink Sink>
void write_state_machine_doc(Sink&& out) {
    out("# tcpcore's connection state machine\n\n"
        "Generated from `tcpcore::transition_table` (include/tcpcore/rules/transitions.hpp) by\n"
        "`tcpcore::write_state_machine_doc`; do not edit by hand. The test\n"
        "\"diagram: docs/state-machine.md matches the table\" fails when this file and the table\n"
        "differ; rebuild the `tcpcore_update_docs` target to regenerate it.\n\n"
        "Every arrow of RFC 9293 Figure 5 is here, with the reset, abort and timeout arrows the\n"
        "figure leaves out. Labels read `event / what is sent`; section numbers in the\n"
        "reference column are RFC 9293's.\n\n"
        "```mermaid\n");
    write_mermaid(out);
    out("```\n\n| from | event | to | sends | reference |\n|---|---|---|---|---|\n");
    for (const transition& t : transition_table) {
        out("| ");
        out(to_string(t.from));
        out(" | ");
        out(to_string(t.event));
        out(" | ");
        out(to_string(t.to));
        out(" | ");
        out(t.output == transition_output::none ? std::string_view{"-"} : to_string(t.output));
        out(" | ");
        out(t.rfc);
        out(" |\n");
    }
}

}  // namespace tcpcore
