#pragma once
// The endpoint: many connections behind one address, assembled from the
// policies of a bundle. It reads the Clock, takes IP datagrams (or bare
// segments) in, demultiplexes them by 4-tuple, runs listeners with bounded
// accept queues and SYN backlogs (and SYN cookies when they overflow),
// keeps TIME-WAIT in compact 64-byte entries, hands every outgoing segment to
// the I/O policy, gets all memory from the Allocator and keeps each
// connection's next deadline in the TimerStrategy.
//
//   tcpcore::endpoint<my_policies> ep(cfg);
//   auto l = ep.listen({addr, 80});
//   ep.receive_datagram(packet);          // for each packet from the device
//   ep.poll();                            // when ep.next_deadline() comes
//   while (auto e = ep.next_event()) ...  // accept, read, write, learn of closes
//
// Nothing happens behind the application's back: no callbacks; the engine
// runs only inside these calls, and what it has to say waits in next_event().

#include <tcpcore/detail/slab.hpp>
#include <tcpcore/engine/connection.hpp>
#include <tcpcore/host/flow_table.hpp>
#include <tcpcore/host/syn_cookie.hpp>
#include <tcpcore/policies.hpp>
#include <tcpcore/rules/arrival.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/timeouts.hpp>
#include <tcpcore/wire/ip.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>

namespace tcpcore {

struct connection_handle {
    std::uint32_t index = 0xffffffffu;
    std::uint32_t generation = 0;
    friend constexpr bool operator==(connection_handle, connection_handle) noexcept = default;
};

struct listener_handle {
    std::uint32_t index = 0xffffffffu;
    std::uint32_t generation = 0;
    friend constexpr bool operator==(listener_handle, listener_handle) noexcept = default;
};

enum class syn_cookie_mode : std::uint8_t {
    off,                // a SYN beyond the backlog is dropped
    when_backlog_full,  // the default: cookies only under pressure (Linux tcp_syncookies = 1)
    always,             // no state for any SYN (Linux tcp_syncookies = 2)
};

struct listen_options {
    std::uint32_t backlog = 128;      // established connections waiting for accept() (Linux somaxconn)
    std::uint32_t syn_backlog = 256;  // connections in SYN-RECEIVED (Linux tcp_max_syn_backlog)
    syn_cookie_mode syn_cookies = syn_cookie_mode::when_backlog_full;
};

struct endpoint_options {
    std::uint16_t ephemeral_first = 32768;  // Linux ip_local_port_range
    std::uint16_t ephemeral_last = 60999;
    std::uint32_t max_time_wait = 262144;   // Linux tcp_max_tw_buckets: beyond it, TIME-WAIT is skipped
    std::uint64_t hash_seed = 0;            // demultiplexing hash seed; 0 picks one from the ISN policy
};

// What next_event() reports. For a connection: the events since its last
// report (several may come together). For a listener: connections wait in
// accept().
struct endpoint_event {
    connection_handle connection{};
    listener_handle listener{};
    connection_events events{};
    std::error_code error{};  // why it closed, with connection_events::closed
    bool accept_ready = false;
};

// Counters for everything the endpoint refused or did on its own.
struct endpoint_stats {
    std::uint64_t datagrams_in = 0;
    std::uint64_t segments_in = 0;
    std::uint64_t segments_out = 0;
    std::uint64_t not_tcp = 0;
    std::array<std::uint64_t, ip_parse_error_count> ip_errors{};
    std::array<std::uint64_t, tcp_parse_error_count> tcp_errors{};
    std::array<std::uint64_t, drop_reason_count> drops{};
    std::uint64_t resets_for_no_connection = 0;
    std::uint64_t syn_backlog_overflows = 0;  // SYNs dropped: backlog full, no cookies
    std::uint64_t accept_queue_overflows = 0;
    std::uint64_t syn_cookies_sent = 0;
    std::uint64_t syn_cookies_accepted = 0;
    std::uint64_t syn_cookies_rejected = 0;
    std::uint64_t time_wait_skipped = 0;  // beyond max_time_wait
    std::uint64_t out_of_memory = 0;
};

template <policy_bundle P = default_policies>
class endpoint {
public:
    using policies = P;
    using clock_type = typename P::clock;
    using io_type = typename P::io;
    using allocator_type = typename P::allocator;
    using timer_type = typename P::timer;
    using isn_type = typename P::isn;
    using connection_type = basic_connection<typename P::congestion_control, allocator_type>;

    // The configuration must outlive the endpoint (its connections share it).
    explicit endpoint(const config& cfg, endpoint_options options = {}, clock_type clock = {}, io_type io = {},
                      allocator_type alloc = {}, isn_type isn = {}, syn_cookie_jar cookies = {},
                      timer_type timers = {})
        : cfg_(&cfg),
          options_(options),
          clock_(std::move(clock)),
          io_(std::move(io)),
          alloc_(alloc),
          isn_(std::move(isn)),
          cookies_(std::move(cookies)),
          timers_(std::move(timers)),
          slots_(alloc),
          time_waits_(alloc),
          listeners_(alloc),
          flows_(alloc, options.hash_seed != 0 ? options.hash_seed : derive_seed()) {
        TCPCORE_ASSERT(validate(cfg).ok());
    }
    endpoint(const endpoint&) = delete;
    endpoint& operator=(const endpoint&) = delete;
    ~endpoint() {
        for (std::uint32_t i = 0; i < listeners_.capacity(); ++i)
            if (listeners_.live(i)) free_queue(listeners_[i]);
    }

    // ---- Listening -----------------------------------------------------------

    expected<listener_handle, std::error_code> listen(const socket_address& local, listen_options o = {}) {
        if (local.port == 0 || o.backlog == 0) return unexpected{std::make_error_code(std::errc::invalid_argument)};
        for (std::uint32_t i = 0; i < listeners_.capacity(); ++i)
            if (listeners_.live(i) && listeners_[i].local == local)
                return unexpected{std::make_error_code(std::errc::address_in_use)};
        auto* queue = static_cast<std::uint32_t*>(alloc_.allocate(sizeof(std::uint32_t) * o.backlog, alignof(std::uint32_t)));
        if (queue == nullptr) return unexpected{std::make_error_code(std::errc::not_enough_memory)};
        const std::uint32_t i = listeners_.emplace(listener{local, o, queue});
        if (i == listeners_.none) {
            alloc_.deallocate(queue, sizeof(std::uint32_t) * o.backlog, alignof(std::uint32_t));
            return unexpected{std::make_error_code(std::errc::not_enough_memory)};
        }
        return listener_handle{i, listeners_.generation(i)};
    }

    // Stops listening; connections still waiting for accept() are reset.
    void close_listener(listener_handle h) {
        listener* l = find(h);
        if (l == nullptr) return;
        const time_point now = clock_.now();
        for (std::uint32_t k = 0; k < l->count; ++k) {
            const std::uint32_t s = l->queue[(l->head + k) % l->options.backlog];
            slots_[s].listener = 0;
            slots_[s].conn.abort(now);
            slots_[s].flags |= slot_user_closed;
            service(s, now);
        }
        // Embryonic connections lose their owner and go with their handshake.
        for (std::uint32_t s = 0; s < slots_.capacity(); ++s)
            if (slots_.live(s) && slots_[s].listener == h.index + 1) {
                slots_[s].listener = 0;
                slots_[s].conn.abort(now);
                slots_[s].flags |= slot_user_closed;
                service(s, now);
            }
        free_queue(*l);
        listeners_.erase(h.index);
    }

    // The next established connection waiting on the listener.
    std::optional<connection_handle> accept(listener_handle h) {
        listener* l = find(h);
        if (l == nullptr || l->count == 0) return std::nullopt;
        const std::uint32_t s = l->queue[l->head];
        l->head = (l->head + 1) % l->options.backlog;
        --l->count;
        slots_[s].listener = 0;
        slots_[s].flags |= slot_user_owned;
        if (slots_[s].pending != 0) mark_ready(s);  // what happened before accept() is reported now
        return handle_of(s);
    }

    // ---- Active open ------------------------------------------------------------

    // Connects from `local` (port 0: an ephemeral port, RFC 6056) to `remote`.
    expected<connection_handle, std::error_code> connect(const socket_address& remote, socket_address local) {
        const time_point now = clock_.now();
        if (remote.port == 0 || remote.address.is_v4() != local.address.is_v4())
            return unexpected{std::make_error_code(std::errc::invalid_argument)};
        if (local.port == 0) {
            const auto port = pick_ephemeral_port(local.address, remote);
            if (!port) return unexpected{std::make_error_code(std::errc::address_not_available)};
            local.port = *port;
        } else if (lookup({local, remote}) != flow_none) {
            return unexpected{std::make_error_code(std::errc::address_in_use)};
        }
        const four_tuple t{local, remote};
        const std::uint32_t s = new_slot();
        if (s == slots_.none) return unexpected{std::make_error_code(std::errc::not_enough_memory)};
        if (const auto e = slots_[s].conn.open_active(now, t, isn_.initial_sequence(t, now), isn_.timestamp_offset(t));
            e) {
            slots_.erase(s);
            return unexpected{e};
        }
        if (!flows_.insert(t, s, key_of())) {
            slots_.erase(s);
            ++stats_.out_of_memory;
            return unexpected{std::make_error_code(std::errc::not_enough_memory)};
        }
        slots_[s].flags |= slot_user_owned | slot_in_table;
        service(s, now);
        return handle_of(s);
    }

    // ---- Connection calls (by handle) --------------------------------------------

    expected<std::size_t, std::error_code> send(connection_handle h, std::span<const std::uint8_t> bytes) {
        slot* s = user_slot(h);
        if (s == nullptr) return unexpected{std::make_error_code(std::errc::bad_file_descriptor)};
        const time_point now = clock_.now();
        auto r = s->conn.send(now, bytes);
        service(h.index, now);
        return r;
    }

    std::size_t recv(connection_handle h, std::span<std::uint8_t> out) {
        slot* s = user_slot(h);
        if (s == nullptr) return 0;
        const std::size_t n = s->conn.recv(out);
        service(h.index, clock_.now());  // a window update may be due
        return n;
    }

    std::error_code shutdown(connection_handle h) {
        slot* s = user_slot(h);
        if (s == nullptr) return std::make_error_code(std::errc::bad_file_descriptor);
        const time_point now = clock_.now();
        const auto e = s->conn.shutdown(now);
        service(h.index, now);
        return e;
    }

    // Lets go of the handle: the connection finishes on its own (FIN after
    // the queued data, or RST if data was left unread) and is freed when done.
    std::error_code close(connection_handle h) {
        slot* s = user_slot(h);
        if (s == nullptr) return std::make_error_code(std::errc::bad_file_descriptor);
        const time_point now = clock_.now();
        s->flags |= slot_user_closed;
        s->flags &= ~slot_user_owned;
        const auto e = s->conn.close(now);
        service(h.index, now);
        return e;
    }

    // Resets the connection (RST) and lets go of the handle.
    void abort(connection_handle h) {
        slot* s = user_slot(h);
        if (s == nullptr) return;
        const time_point now = clock_.now();
        s->flags |= slot_user_closed;
        s->flags &= ~slot_user_owned;
        s->conn.abort(now);
        service(h.index, now);
    }

    // Read access to a connection (state, error, info, readable, eof...).
    [[nodiscard]] const connection_type* get(connection_handle h) const noexcept {
        return valid(h) ? &slots_[h.index].conn : nullptr;
    }

    // Changes per-connection settings: f(connection&) may call the set_*
    // functions; the endpoint then takes account of new deadlines.
    template <class F>
    auto configure(connection_handle h, F&& f) -> decltype(f(std::declval<connection_type&>())) {
        slot* s = user_slot(h);
        TCPCORE_ASSERT(s != nullptr);
        auto r = f(s->conn);
        service(h.index, clock_.now());
        return r;
    }

    // ---- Input -----------------------------------------------------------------------

    // One IP datagram (IPv4 or IPv6) from the device.
    void receive_datagram(std::span<const std::uint8_t> datagram) {
        ++stats_.datagrams_in;
        const auto ip = parse_ip_packet(datagram);
        if (!ip) {
            ++stats_.ip_errors[static_cast<std::size_t>(ip.error())];
            return;
        }
        if (ip->protocol != ip_protocol_tcp) {
            ++stats_.not_tcp;
            return;
        }
        receive_segment(ip->src, ip->dst, ip->payload);
    }

    // One TCP segment and the addresses it travelled between.
    void receive_segment(const ip_address& src, const ip_address& dst, std::span<const std::uint8_t> segment) {
        ++stats_.segments_in;
        const auto seg = tcp_segment_view::parse(segment, src, dst);
        if (!seg) {
            ++stats_.tcp_errors[static_cast<std::size_t>(seg.error())];
            return;
        }
        dispatch(clock_.now(), src, dst, *seg);
    }

    // ---- Time ----------------------------------------------------------------------------

    // Runs everything due now.
    void poll() {
        const time_point now = clock_.now();
        while (const auto id = timers_.pop_expired(now)) {
            if (*id & time_wait_tag) expire_time_wait(*id & ~time_wait_tag);
            else if (slots_.live(*id)) service(*id, now);
        }
    }

    // When poll() is next needed (never later than that; `never` when idle).
    [[nodiscard]] time_point next_deadline() const noexcept { return timers_.next_deadline(); }

    // ---- Events ----------------------------------------------------------------------------

    std::optional<endpoint_event> next_event() {
        while (ready_listeners_ != none) {
            const std::uint32_t i = ready_listeners_;
            listener& l = listeners_[i];
            ready_listeners_ = l.ready_next;
            l.in_ready = false;
            if (l.count != 0) return endpoint_event{{}, {i, listeners_.generation(i)}, {}, {}, true};
        }
        while (ready_ != none) {
            const std::uint32_t i = ready_;
            slot& s = slots_[i];
            ready_ = s.ready_next;
            s.flags &= ~slot_in_ready;
            if (s.pending == 0 || !(s.flags & slot_user_owned)) continue;
            endpoint_event e{handle_of(i), {}, {std::exchange(s.pending, std::uint8_t{0})}, {}, false};
            if (e.events.has(connection_events::closed)) e.error = s.conn.error();
            return e;
        }
        return std::nullopt;
    }

    // ---- Introspection ------------------------------------------------------------------------

    [[nodiscard]] const endpoint_stats& stats() const noexcept { return stats_; }
    [[nodiscard]] std::size_t connection_count() const noexcept { return slots_.size(); }
    [[nodiscard]] std::size_t time_wait_count() const noexcept { return time_waits_.size(); }
    [[nodiscard]] clock_type& clock() noexcept { return clock_; }
    [[nodiscard]] io_type& io() noexcept { return io_; }
    [[nodiscard]] timer_type& timers() noexcept { return timers_; }
    [[nodiscard]] const config& configuration() const noexcept { return *cfg_; }

    // Bytes one connection costs while idle with empty buffers: its slot in
    // the slab and its share of the demultiplexing table (at worst load).
    // The timer strategy's per-id storage comes on top (see its header).
    [[nodiscard]] static constexpr std::size_t idle_connection_bytes() noexcept {
        return slab_type::cell_size() + 2 * 8;
    }
    // The same for a TIME-WAIT entry.
    [[nodiscard]] static constexpr std::size_t time_wait_entry_bytes() noexcept {
        return time_wait_slab::cell_size() + 2 * 8;
    }
    // Everything the endpoint holds from its allocator now, but buffers.
    [[nodiscard]] std::size_t footprint() const noexcept {
        return slots_.footprint() + time_waits_.footprint() + listeners_.footprint() + flows_.footprint();
    }

private:
    static constexpr std::uint32_t none = 0xffffffffu;
    static constexpr std::uint32_t time_wait_tag = 0x80000000u;
    static constexpr std::uint32_t flow_none = detail::flow_table<allocator_type>::empty;

    static constexpr std::uint8_t slot_in_ready = 1u << 0;
    static constexpr std::uint8_t slot_user_owned = 1u << 1;  // connect()ed or accept()ed, not closed
    static constexpr std::uint8_t slot_user_closed = 1u << 2; // close()d or abort()ed: free when CLOSED
    static constexpr std::uint8_t slot_in_table = 1u << 3;

    struct slot {
        connection_type conn;
        std::uint32_t ready_next = none;
        std::uint16_t listener = 0;  // owning listener index + 1 until accept()
        std::uint8_t pending = 0;    // events not reported yet
        std::uint8_t flags = 0;
        slot(const config& c, const allocator_type& a) : conn(c, a) {}
    };

    // TIME-WAIT in 56 bytes (64 with its slab cell): what answering the
    // peer for 2 MSL takes.
    struct time_wait_entry {
        four_tuple tuple;
        seq32 snd_nxt;
        seq32 rcv_nxt;
        std::uint32_t ts_recent;
        std::uint32_t ts_offset;
        std::uint16_t window;
        bool timestamps;
    };
    static_assert(sizeof(time_wait_entry) <= 56);

    struct listener {
        socket_address local;
        listen_options options;
        std::uint32_t* queue;  // accept queue: slot indices, a ring of options.backlog
        std::uint32_t head = 0;
        std::uint32_t count = 0;
        std::uint32_t syn_received = 0;
        std::uint32_t ready_next = none;
        bool in_ready = false;
    };

    using slab_type = detail::slab<slot, allocator_type>;
    using time_wait_slab = detail::slab<time_wait_entry, allocator_type, 10, false>;
    static_assert(time_wait_slab::cell_size() <= 64, "a TIME-WAIT entry must stay within 64 bytes");

    // ---- Slots and handles -------------------------------------------------------------
    // The hash seed from the ISN policy's secret (two pure, keyed values), so
    // that a random ISN key makes the table's layout unpredictable too.
    [[nodiscard]] std::uint64_t derive_seed() const noexcept {
        const four_tuple a{}, b{{ip_address::v4(1, 2, 3, 4), 1}, {}};
        return (std::uint64_t{isn_.timestamp_offset(a)} << 32 | isn_.timestamp_offset(b)) ^ 0x9e3779b97f4a7c15ull;
    }
    [[nodiscard]] auto key_of() const noexcept {
        return [this](std::uint32_t v) -> const four_tuple& {
            return (v & time_wait_tag) ? time_waits_[v & ~time_wait_tag].tuple : slots_[v].conn.tuple();
        };
    }
    [[nodiscard]] std::uint32_t lookup(const four_tuple& t) const noexcept { return flows_.find(t, key_of()); }

    std::uint32_t new_slot() {
        const std::uint32_t s = slots_.emplace(*cfg_, alloc_);
        if (s == slots_.none) ++stats_.out_of_memory;
        return s;
    }
    [[nodiscard]] connection_handle handle_of(std::uint32_t s) const noexcept { return {s, slots_.generation(s)}; }
    [[nodiscard]] bool valid(connection_handle h) const noexcept {
        return slots_.live(h.index) && slots_.generation(h.index) == h.generation;
    }
    slot* user_slot(connection_handle h) noexcept {
        if (!valid(h)) return nullptr;
        slot& s = slots_[h.index];
        return (s.flags & slot_user_owned) ? &s : nullptr;
    }
    listener* find(listener_handle h) noexcept {
        if (!listeners_.live(h.index) || listeners_.generation(h.index) != h.generation) return nullptr;
        return &listeners_[h.index];
    }
    void free_queue(listener& l) noexcept {
        alloc_.deallocate(l.queue, sizeof(std::uint32_t) * l.options.backlog, alignof(std::uint32_t));
    }

    void mark_ready(std::uint32_t s) noexcept {
        slot& sl = slots_[s];
        if (sl.flags & slot_in_ready) return;
        sl.flags |= slot_in_ready;
        sl.ready_next = none;
        if (ready_tail_ != none && ready_ != none) slots_[ready_tail_].ready_next = s;
        else ready_ = s;
        ready_tail_ = s;
    }
    void mark_listener_ready(std::uint32_t i) noexcept {
        listener& l = listeners_[i];
        if (l.in_ready) return;
        l.in_ready = true;
        l.ready_next = ready_listeners_;
        ready_listeners_ = i;
    }

    // ---- After every call that touched a connection -------------------------------
    // Sends what it has to send, collects its events, moves its deadline, and
    // follows its life: into the accept queue, into TIME-WAIT, out of memory.
    void service(std::uint32_t s, time_point now) {
        slot& sl = slots_[s];
        flush(sl.conn, now);
        const connection_events ev = sl.conn.take_events();
        const tcp_state st = sl.conn.state();

        if (sl.listener != 0 && ev.has(connection_events::connected)) {
            listener& l = listeners_[sl.listener - 1u];
            --l.syn_received;
            l.queue[(l.head + l.count) % l.options.backlog] = s;
            ++l.count;
            mark_listener_ready(sl.listener - 1u);
        }
        sl.pending |= ev.bits;
        if (sl.pending != 0 && (sl.flags & slot_user_owned)) mark_ready(s);

        if (st == tcp_state::time_wait) {
            enter_time_wait(s, now);  // the slot may be gone after this
            return;
        }
        if (st == tcp_state::closed || st == tcp_state::listen) {
            // LISTEN: a RST sent an embryonic connection back; it has no
            // future without its listener's SYN.
            retire(s);
            return;
        }
        const time_point deadline = sl.conn.poll_at();
        if (deadline == never) {
            timers_.cancel(s);
        } else if (!arm(s, deadline)) {
            // Without a timer the connection could never time out: end it.
            sl.conn.abort(now);
            flush(sl.conn, now);
            sl.pending |= sl.conn.take_events().bits;
            if (sl.pending != 0 && (sl.flags & slot_user_owned)) mark_ready(s);
            retire(s);
        }
    }

    // Timer strategies may refuse when their storage cannot grow.
    bool arm(std::uint32_t id, time_point deadline) {
        if constexpr (std::is_same_v<decltype(timers_.schedule(id, deadline)), bool>) {
            if (timers_.schedule(id, deadline)) return true;
            ++stats_.out_of_memory;
            return false;
        } else {
            timers_.schedule(id, deadline);
            return true;
        }
    }

    // The connection is done with its 4-tuple: it leaves the table, and the
    // slot goes once no one will ask about it.
    void retire(std::uint32_t s) {
        slot& sl = slots_[s];
        timers_.cancel(s);
        if (sl.flags & slot_in_table) {
            flows_.erase(sl.conn.tuple(), s);
            sl.flags &= ~slot_in_table;
        }
        if (sl.listener != 0) {
            listener& l = listeners_[sl.listener - 1u];
            if (l.syn_received != 0 && !in_accept_queue(l, s)) --l.syn_received;
            if (in_accept_queue(l, s)) return;  // accept() will hand it over, closed
        }
        if (!(sl.flags & slot_user_owned)) {
            if (sl.flags & slot_in_ready) sl.pending = 0;  // next_event() skips it... then it is gone
            unlink_ready(s);
            slots_.erase(s);
        }
    }

    [[nodiscard]] static bool in_accept_queue(const listener& l, std::uint32_t s) noexcept {
        for (std::uint32_t k = 0; k < l.count; ++k)
            if (l.queue[(l.head + k) % l.options.backlog] == s) return true;
        return false;
    }

    void unlink_ready(std::uint32_t s) noexcept {
        if (!(slots_[s].flags & slot_in_ready)) return;
        std::uint32_t prev = none;
        for (std::uint32_t i = ready_; i != none; prev = i, i = slots_[i].ready_next) {
            if (i != s) continue;
            if (prev == none) ready_ = slots_[i].ready_next;
            else slots_[prev].ready_next = slots_[i].ready_next;
            if (ready_tail_ == s) ready_tail_ = prev;
            break;
        }
        slots_[s].flags &= ~slot_in_ready;
    }

    // ---- Output ------------------------------------------------------------------------------
    void flush(connection_type& c, time_point now) {
        for (;;) {
            const std::size_t n = c.poll_output(now, segment_room());
            if (n == 0) return;
            transmit(c.tuple(), n);
        }
    }

    // Segments are written after room for the largest IP header, which a
    // datagram I/O gets in front of them without a copy.
    [[nodiscard]] std::span<std::uint8_t> segment_room() noexcept {
        return std::span(scratch_).subspan(ipv6_header_length);
    }

    void transmit(const four_tuple& t, std::size_t tcp_length) {
        ++stats_.segments_out;
        const std::span<std::uint8_t> seg = segment_room().first(tcp_length);
        if constexpr (datagram_io<io_type>) {
            const std::size_t hl = ip_header_length(t.local.address.family());
            ip_header_params params;
            params.identification = ip_id_++;
            const auto r = write_ip_header(std::span(scratch_).subspan(ipv6_header_length - hl, hl), t.local.address,
                                           t.remote.address, ip_protocol_tcp, tcp_length, params);
            TCPCORE_ASSERT(r.has_value());
            (void)r;
            io_.send_datagram(std::span<const std::uint8_t>(scratch_).subspan(ipv6_header_length - hl, hl + tcp_length));
        } else {
            io_.send_segment(t, seg);
        }
    }

    // A reply to a segment that no connection owns (RFC 9293 §3.10.7.1).
    void send_reset(const four_tuple& t, const tcp_segment_view& seg, reply_kind kind) {
        tcp_header_fields f;
        f.src_port = t.local.port;
        f.dst_port = t.remote.port;
        if (kind == reply_kind::rst_ack) {
            f.seq = seq32{0};
            f.ack = seg.seq() + seg.sequence_length();
            f.flags = tcp_flags::rst | tcp_flags::ack;
        } else {
            f.seq = seg.ack();
            f.flags = tcp_flags::rst;
        }
        const auto n = build_tcp_segment(segment_room(), f, {}, {}, t.local.address, t.remote.address);
        if (n) transmit(t, *n);
    }

    // ---- Demultiplexing -----------------------------------------------------------------------
    void dispatch(time_point now, const ip_address& src, const ip_address& dst, const tcp_segment_view& seg) {
        const four_tuple t{{dst, seg.dst_port()}, {src, seg.src_port()}};
        const std::uint32_t v = lookup(t);
        if (v != flow_none) {
            if (v & time_wait_tag) return time_wait_segment(now, v & ~time_wait_tag, t, seg);
            return connection_segment(now, v, seg, src, dst);
        }
        if (const std::uint32_t l = find_listener(t.local); l != none) return listener_segment(now, l, t, seg);
        no_connection(t, seg);
    }

    void connection_segment(time_point now, std::uint32_t s, const tcp_segment_view& seg, const ip_address& src,
                            const ip_address& dst) {
        slot& sl = slots_[s];
        // A full accept queue holds the handshake back: the completing ACK is
        // dropped and the client tries again (Linux, tcp_abort_on_overflow 0).
        if (sl.listener != 0 && sl.conn.state() == tcp_state::syn_received && seg.flags().ack_set() &&
            !seg.flags().rst_set()) {
            const listener& l = listeners_[sl.listener - 1u];
            if (l.count >= l.options.backlog) {
                ++stats_.accept_queue_overflows;
                return;
            }
        }
        const segment_outcome out = sl.conn.on_segment(now, seg, src, dst);
        if (out.result == segment_result::dropped) ++stats_.drops[static_cast<std::size_t>(out.reason)];
        service(s, now);
    }

    [[nodiscard]] std::uint32_t find_listener(const socket_address& local) const noexcept {
        std::uint32_t wildcard = none;
        for (std::uint32_t i = 0; i < listeners_.capacity(); ++i) {
            if (!listeners_.live(i) || listeners_[i].local.port != local.port) continue;
            const ip_address& a = listeners_[i].local.address;
            if (a == local.address) return i;
            if (a == ip_address{} || (a == ip_address::v4(0, 0, 0, 0) && local.address.is_v4())) wildcard = i;
        }
        return wildcard;
    }

    void no_connection(const four_tuple& t, const tcp_segment_view& seg) {
        const arrival_decision d = decide_arrival({tcp_state::closed, seg.flags().bits()});
        ++stats_.drops[static_cast<std::size_t>(d.reason)];
        if (d.reply == reply_kind::rst || d.reply == reply_kind::rst_ack) {
            ++stats_.resets_for_no_connection;
            send_reset(t, seg, d.reply);
        }
    }

    // ---- Listeners ------------------------------------------------------------------------------
    void listener_segment(time_point now, std::uint32_t li, const four_tuple& t, const tcp_segment_view& seg) {
        listener& l = listeners_[li];
        const tcp_flags fl = seg.flags();
        // A bare ACK may complete a handshake that only a SYN cookie remembers.
        if (fl.ack_set() && !fl.syn_set() && !fl.rst_set() && l.options.syn_cookies != syn_cookie_mode::off &&
            cookie_ack(now, li, t, seg))
            return;
        const arrival_decision d = decide_arrival({tcp_state::listen, fl.bits()});
        if (d.action == verdict::drop) {
            ++stats_.drops[static_cast<std::size_t>(d.reason)];
            if (d.reply == reply_kind::rst || d.reply == reply_kind::rst_ack) send_reset(t, seg, d.reply);
            return;
        }
        // A SYN. Linux drops it outright when the accept queue is full.
        if (l.count >= l.options.backlog) {
            ++stats_.accept_queue_overflows;
            return;
        }
        const bool backlog_full = l.syn_received >= l.options.syn_backlog;
        if (l.options.syn_cookies == syn_cookie_mode::always ||
            (backlog_full && l.options.syn_cookies == syn_cookie_mode::when_backlog_full)) {
            send_cookie_syn_ack(now, t, seg);
            return;
        }
        if (backlog_full) {
            ++stats_.syn_backlog_overflows;
            return;
        }
        const std::uint32_t s = new_slot();
        if (s == slots_.none) return;
        slot& sl = slots_[s];
        if (sl.conn.open_passive(now, t.local, isn_.initial_sequence(t, now), isn_.timestamp_offset(t), t.remote)) {
            slots_.erase(s);
            return;
        }
        const segment_outcome out = sl.conn.on_segment(now, seg, t.remote.address, t.local.address);
        if (out.result != segment_result::accepted || !flows_.insert(t, s, key_of())) {
            slots_.erase(s);
            return;
        }
        sl.flags |= slot_in_table;
        sl.listener = static_cast<std::uint16_t>(li + 1);
        ++l.syn_received;
        service(s, now);
    }

    // RFC 4987 §3.6: the SYN,ACK carries all the state, in its sequence
    // number (and, with timestamps, in TSval's low bits).
    void send_cookie_syn_ack(time_point now, const four_tuple& t, const tcp_segment_view& syn) {
        const tcp_options& in = syn.options();
        const std::uint16_t peer_mss = in.mss.value_or(536);
        tcp_header_fields f;
        f.src_port = t.local.port;
        f.dst_port = t.remote.port;
        f.seq = cookies_.make(t, syn.seq(), peer_mss, now);
        f.ack = syn.seq() + 1;
        f.flags = tcp_flags::syn | tcp_flags::ack;
        f.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(cfg_->receive_buffer, 0xffff));
        tcp_options o;
        o.mss = std::min<std::uint16_t>(cfg_->mss, peer_mss);
        // Window scale and SACK can be remembered only inside a timestamp.
        if (cfg_->timestamps && in.timestamps) {
            std::optional<std::uint8_t> ws;
            if (cfg_->window_scaling && in.window_scale) {
                ws = *in.window_scale;
                o.window_scale = detail::window_scale_for(cfg_->receive_buffer);
            }
            const bool sack = cfg_->sack && in.sack_permitted;
            o.sack_permitted = sack;
            const std::uint32_t tsval = detail::ms32(now) + isn_.timestamp_offset(t);
            o.timestamps = tcp_timestamps{cookies_.encode_tsval(tsval, ws, sack), in.timestamps->value};
        }
        const auto n = build_tcp_segment(segment_room(), f, o, {}, t.local.address, t.remote.address);
        if (n) {
            ++stats_.syn_cookies_sent;
            transmit(t, *n);
        }
    }

    bool cookie_ack(time_point now, std::uint32_t li, const four_tuple& t, const tcp_segment_view& ack) {
        const auto mss = cookies_.check(t, ack.seq() - 1, ack.ack() - 1, now);
        if (!mss) {
            ++stats_.syn_cookies_rejected;
            return false;
        }
        listener& l = listeners_[li];
        if (l.count >= l.options.backlog) {
            ++stats_.accept_queue_overflows;
            return true;  // Linux drops it; the client's data or retransmission tries again
        }
        typename connection_type::cookie_syn syn;
        syn.mss = *mss;
        syn.window = ack.window();  // the SYN's own window is gone; the ACK's is the best there is
        if (const auto& ts = ack.options().timestamps; ts && cfg_->timestamps) {
            const auto opts = cookies_.decode_tsecr(ts->echo_reply);
            syn.window_scale = opts.wscale;
            syn.sack_permitted = opts.sack;
            syn.ts_recent = ts->value;
        }
        const std::uint32_t s = new_slot();
        if (s == slots_.none) return true;
        slot& sl = slots_[s];
        const segment_outcome out =
            sl.conn.open_from_cookie(now, t, ack.ack() - 1, isn_.timestamp_offset(t), syn, ack);
        if (out.result != segment_result::accepted || sl.conn.state() != tcp_state::established ||
            !flows_.insert(t, s, key_of())) {
            slots_.erase(s);
            return true;
        }
        ++stats_.syn_cookies_accepted;
        sl.flags |= slot_in_table;
        sl.listener = static_cast<std::uint16_t>(li + 1);
        ++l.syn_received;  // service() counts it out again as it joins the queue
        service(s, now);
        return true;
    }

    // ---- TIME-WAIT ------------------------------------------------------------------------------
    void enter_time_wait(std::uint32_t s, time_point now) {
        slot& sl = slots_[s];
        const auto r = sl.conn.hand_off_time_wait(now);
        flows_.erase(r.tuple, s);
        sl.flags &= ~slot_in_table;
        timers_.cancel(s);
        sl.pending |= sl.conn.take_events().bits;
        if (sl.pending != 0 && (sl.flags & slot_user_owned)) mark_ready(s);
        if (time_waits_.size() < options_.max_time_wait) {
            const std::uint32_t w = time_waits_.emplace(
                time_wait_entry{r.tuple, r.snd_nxt, r.rcv_nxt, r.ts_recent, r.ts_offset, r.window, r.timestamps});
            if (w != time_waits_.none && flows_.insert(r.tuple, w | time_wait_tag, key_of())) {
                if (!arm(w | time_wait_tag, now + time_wait_duration(cfg_->msl))) expire_time_wait(w);
            } else if (w != time_waits_.none) {
                time_waits_.erase(w);
                ++stats_.out_of_memory;
            }
        } else {
            ++stats_.time_wait_skipped;
        }
        if (!(sl.flags & slot_user_owned)) retire(s);
    }

    void expire_time_wait(std::uint32_t w) {
        if (!time_waits_.live(w)) return;
        timers_.cancel(w | time_wait_tag);  // when ended early: its index may be reused
        flows_.erase(time_waits_[w].tuple, w | time_wait_tag);
        time_waits_.erase(w);
    }

    // The arrival rules of TIME-WAIT, on the compact entry.
    void time_wait_segment(time_point now, std::uint32_t w, const four_tuple& t, const tcp_segment_view& seg) {
        time_wait_entry& e = time_waits_[w];
        const tcp_flags fl = seg.flags();
        segment_facts f;
        f.state = tcp_state::time_wait;
        f.flags = fl.bits();
        f.rfc1337 = cfg_->rfc1337;
        const auto& ts = seg.options().timestamps;
        const bool newer_ts = e.timestamps && ts && static_cast<std::int32_t>(ts->value - e.ts_recent) > 0;
        if (fl.syn_set() && (e.rcv_nxt < seg.seq() || newer_ts)) f.seq = seq_check::syn_newer;
        else f.seq = seg.seq() == e.rcv_nxt && seg.sequence_length() == 0 ? seq_check::acceptable
                                                                          : seq_check::unacceptable;
        f.rst = seg.seq() == e.rcv_nxt ? rst_check::exact : rst_check::outside;
        if (fl.ack_set()) f.ack = e.snd_nxt < seg.ack() ? ack_check::future : ack_check::acceptable;
        if (e.timestamps && ts && static_cast<std::int32_t>(ts->value - e.ts_recent) < 0) f.paws = paws_check::failed;
        const arrival_decision d = decide_arrival(f);

        if (d.reply == reply_kind::ack || d.reply == reply_kind::challenge_ack) time_wait_ack(now, e);
        if (d.reason == drop_reason::time_wait_ack && e.timestamps && ts) e.ts_recent = ts->value;
        if (d.restart_time_wait && !arm(w | time_wait_tag, now + time_wait_duration(cfg_->msl))) {
            expire_time_wait(w);
            return;
        }
        switch (d.action) {
            case verdict::drop: ++stats_.drops[static_cast<std::size_t>(d.reason)]; return;
            case verdict::reset: expire_time_wait(w); return;
            case verdict::reopen: {
                // A new incarnation: free the 4-tuple and let the listener
                // take the SYN as any other.
                expire_time_wait(w);
                if (const std::uint32_t l = find_listener(t.local); l != none) return listener_segment(now, l, t, seg);
                return no_connection(t, seg);
            }
            case verdict::accept: return;  // TIME-WAIT accepts nothing further
        }
    }

    void time_wait_ack(time_point now, const time_wait_entry& e) {
        tcp_header_fields f;
        f.src_port = e.tuple.local.port;
        f.dst_port = e.tuple.remote.port;
        f.seq = e.snd_nxt;
        f.ack = e.rcv_nxt;
        f.flags = tcp_flags::ack;
        f.window = e.window;
        tcp_options o;
        if (e.timestamps) o.timestamps = tcp_timestamps{detail::ms32(now) + e.ts_offset, e.ts_recent};
        const auto n = build_tcp_segment(segment_room(), f, o, {}, e.tuple.local.address, e.tuple.remote.address);
        if (n) transmit(e.tuple, *n);
    }

    // ---- Ephemeral ports (RFC 6056 Algorithm 3: a keyed start, then a walk) ----
    std::optional<std::uint16_t> pick_ephemeral_port(const ip_address& local, const socket_address& remote) {
        const std::uint32_t first = options_.ephemeral_first, last = options_.ephemeral_last;
        if (first == 0 || last < first) return std::nullopt;
        const std::uint32_t range = last - first + 1;
        const four_tuple key{{local, 0}, remote};
        const std::uint32_t offset = isn_.timestamp_offset(key);
        for (std::uint32_t k = 0; k < range; ++k) {
            const auto port = static_cast<std::uint16_t>(first + (offset + next_ephemeral_ + k) % range);
            if (lookup({{local, port}, remote}) == flow_none && find_listener({local, port}) == none) {
                next_ephemeral_ += k + 1;
                return port;
            }
        }
        return std::nullopt;
    }

    const config* cfg_;
    endpoint_options options_;
    clock_type clock_;
    io_type io_;
    allocator_type alloc_;
    isn_type isn_;
    syn_cookie_jar cookies_;
    timer_type timers_;
    slab_type slots_;
    time_wait_slab time_waits_;
    detail::slab<listener, allocator_type, 4> listeners_;
    detail::flow_table<allocator_type> flows_;
    endpoint_stats stats_{};
    std::uint32_t ready_ = none, ready_tail_ = none;
    std::uint32_t ready_listeners_ = none;
    std::uint32_t next_ephemeral_ = 0;
    std::uint16_t ip_id_ = 0;
    std::array<std::uint8_t, ipv6_header_length + tcp_max_header_length + 65535> scratch_{};
};

}  // namespace tcpcore
