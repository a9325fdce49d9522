#include <tcpcore/rules/transitions.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace tcpcore;

TEST_CASE("states: RFC spellings") {
    CHECK(to_string(tcp_state::syn_received) == "SYN-RECEIVED");
    CHECK(to_string(tcp_state::fin_wait_1) == "FIN-WAIT-1");
    CHECK(to_string(tcp_state::time_wait) == "TIME-WAIT");
    CHECK(to_string(tcp_state::close_wait) == "CLOSE-WAIT");
    CHECK(to_string(tcp_state::last_ack) == "LAST-ACK");
    std::set<std::string_view> names;
    for (tcp_state s : all_tcp_states) names.insert(to_string(s));
    CHECK(names.size() == tcp_state_count);
    CHECK(all_tcp_states.size() == tcp_state_count);
}

TEST_CASE("transitions: the lookup finds exactly the table's rows") {
    std::size_t found = 0;
    for (tcp_state s : all_tcp_states) {
        for (std::size_t e = 0; e < tcp_event_count; ++e) {
            const auto ev = static_cast<tcp_event>(e);
            const transition* row = lookup_transition(s, ev);
            std::size_t in_table = 0;
            for (const auto& t : transition_table)
                if (t.from == s && t.event == ev) ++in_table;
            INFO(to_string(s) << " / " << to_string(ev));
            REQUIRE(in_table <= 1);
            CHECK((row != nullptr) == (in_table == 1));
            if (row) {
                CHECK(row->from == s);
                CHECK(row->event == ev);
                ++found;
            }
        }
    }
    CHECK(found == transition_table.size());
}

TEST_CASE("transitions: Figure 5 and the arrows the issue names") {
    auto to = [](tcp_state s, tcp_event e) {
        const transition* t = lookup_transition(s, e);
        REQUIRE(t != nullptr);
        return t->to;
    };
    CHECK(to(tcp_state::syn_sent, tcp_event::rcv_syn) == tcp_state::syn_received);  // simultaneous open
    CHECK(to(tcp_state::fin_wait_1, tcp_event::rcv_fin) == tcp_state::closing);     // simultaneous close
    CHECK(to(tcp_state::closing, tcp_event::rcv_ack_of_fin) == tcp_state::time_wait);
    CHECK(to(tcp_state::fin_wait_1, tcp_event::rcv_fin_ack_of_fin) == tcp_state::time_wait);
    CHECK(to(tcp_state::syn_received, tcp_event::rcv_rst_passive) == tcp_state::listen);
    CHECK(to(tcp_state::syn_received, tcp_event::rcv_rst) == tcp_state::closed);
    CHECK(to(tcp_state::time_wait, tcp_event::rcv_fin) == tcp_state::time_wait);  // re-ACK, restart 2MSL
    for (tcp_state s : all_tcp_states) {
        if (s == tcp_state::closed) continue;
        CHECK(to(s, tcp_event::abort) == tcp_state::closed);
    }
    // Every row names where the rule comes from.
    for (const auto& t : transition_table) CHECK(!t.rfc.empty());
}

TEST_CASE("transitions: what each arrow sends, as Figure 5 labels it") {
    CHECK(lookup_transition(tcp_state::closed, tcp_event::open_active)->output == transition_output::syn);
    CHECK(lookup_transition(tcp_state::listen, tcp_event::rcv_syn)->output == transition_output::syn_ack);
    CHECK(lookup_transition(tcp_state::syn_sent, tcp_event::rcv_syn_ack)->output == transition_output::ack);
    CHECK(lookup_transition(tcp_state::established, tcp_event::close)->output == transition_output::fin);
    CHECK(lookup_transition(tcp_state::established, tcp_event::rcv_fin)->output == transition_output::ack);
    CHECK(lookup_transition(tcp_state::established, tcp_event::abort)->output == transition_output::rst);
    CHECK(lookup_transition(tcp_state::established, tcp_event::keepalive_give_up)->output == transition_output::rst);
    CHECK(lookup_transition(tcp_state::established, tcp_event::retransmission_give_up)->output ==
          transition_output::none);
    CHECK(lookup_transition(tcp_state::established, tcp_event::user_timeout)->output == transition_output::none);
}

TEST_CASE("transitions: events that change nothing have no row") {
    CHECK(lookup_transition(tcp_state::closed, tcp_event::close) == nullptr);
    CHECK(lookup_transition(tcp_state::established, tcp_event::send) == nullptr);
    CHECK(lookup_transition(tcp_state::fin_wait_2, tcp_event::close) == nullptr);
    CHECK(lookup_transition(tcp_state::listen, tcp_event::rcv_rst) == nullptr);
    CHECK(lookup_transition(tcp_state::time_wait, tcp_event::keepalive_give_up) == nullptr);
}
