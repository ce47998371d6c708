/* test_tw_reopen.c - a server connection in TIME-WAIT meets its peer again, as Linux's TIME-WAIT does (lwip-port/tcp_tw.c): a SYN with a newer sequence number (or, with timestamps, a newer TSval) opens a new connection in the same pass, an older one gets lwIP's ACK, a reset with the expected sequence number ends TIME-WAIT.
 *
 * main -> test_stack_run(one shard on net_ring0) -> run(): the peer
 * 10.0.0.99 is played by frames put into lwIP's input (test_wire.c); the
 * shard closes first, so its side goes to TIME-WAIT; then the peer comes
 * back on the same 4-tuple. What the shard sends is read off the ring. Each
 * case records what it saw in res; the CMocka tests after the run assert
 * it. Before tcp_tw.c lwIP answered every such SYN with an ACK (an RST
 * inside the old window) and ignored resets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "mlw_tcp_table.h"
#include "test_frame.h"
#include "test_stack.h"
#include "test_peer.h"

#define LPORT 80	/* the listener */
#define LPORT_GONE 81	/* a listener closed while its connection waits */

/* What the shard sent from LPORT to a peer port, from a log index on. */
struct seen {
	bool synack;		/* a SYN-ACK */
	unsigned others;	/* any other segment */
	uint8_t other_flags;	/* the last of those */
	uint32_t other_ack;
};

static struct {
	/* a SYN above rcv_nxt */
	int reopen_tw_before, reopen_tw_after;
	struct seen reopen;	/* in the pass of the SYN */
	int reopen_fd;		/* accept() of the new connection */
	long reopen_read;	/* bytes the new connection received */
	unsigned reopen_sent;	/* bytes it sent */
	/* a SYN below rcv_nxt, then resets */
	int old_tw_before, old_tw_after;
	struct seen old;
	uint32_t old_rcv_nxt;
	struct seen same;	/* a SYN with rcv_nxt itself */
	int same_tw_after;
	int old_tw_after_bad_rst, old_tw_after_rst_ack;
	int rst_tw_before, rst_tw_after;
	/* a SYN above rcv_nxt without a listener */
	int gone_tw_after;
	bool gone_rst;
	uint32_t gone_rst_ack;
	/* timestamps (LWIP_TCP_TIMESTAMPS only) */
	bool ts_ran;
	struct seen ts_newer;	/* older sequence number, newer TSval */
	int ts_newer_tw_after;
	struct seen ts_paws;	/* newer sequence number, older TSval */
	uint32_t ts_paws_rcv_nxt;
	int ts_paws_tw_after;
	struct mlw_shard_stats st;
} res;

/* The peer's options in @p o: on a SYN an MSS option, then with @p tsval
 * != 0 timestamps. Returns their length. */
static unsigned peer_opts(uint8_t o[16], uint8_t flags, uint32_t tsval)
{
	static const uint8_t mss[4] = { 0x02, 0x04, 0x05, 0xb4 }, ts[4] = { 1, 1, 8, 10 };
	unsigned n = 0;

	if (flags & 0x02) {
		memcpy(o, mss, 4);
		n = 4;
	}
	if (tsval != 0) {
		memcpy(o + n, ts, 4);
		test_put32(o + n + 4, tsval);
		test_put32(o + n + 8, 0);
		n += 12;
	}
	return n;
}

/* The peer sends from @p pport to @p lport (options: peer_opts()). */
static void peer(uint16_t pport, uint16_t lport, uint8_t flags, uint32_t seq, uint32_t ack,
		 uint32_t tsval, unsigned payload)
{
	uint8_t o[16];

	test_peer_send(pport, lport, flags, seq, ack, 0xffff, o, peer_opts(o, flags, tsval), payload);
}

/* The peer's SYN with @p seq (and @p tsval) was sent at log index @p from:
 * the handshake's end, accepted. */
static int handshake(int lfd, uint16_t lport, uint16_t pport, unsigned from, uint32_t seq,
		     uint32_t tsval, uint32_t *isn)
{
	uint8_t o[16];

	return test_peer_accept(lfd, lport, pport, from, seq, o, peer_opts(o, 0x10, tsval), isn);
}

/* TIME-WAIT connections (PCBs or compact records) of the peer's port
 * @p pport to our @p LPORT or LPORT_GONE, and the records among them. */
static ip_addr_t our_ip, peer_ip;

static int tw_count(uint16_t pport)
{
	return mlw__tcp_table_tw_find(&our_ip, LPORT, &peer_ip, pport, NULL) +
	       mlw__tcp_table_tw_find(&our_ip, LPORT_GONE, &peer_ip, pport, NULL);
}

static bool full_mode;	/* "full": TIME-WAIT PCBs stay whole */

/* TIME-WAIT PCBs (not records) of the peer's port @p pport. */
static int tw_pcbs(uint16_t pport)
{
	int n = 0;

	for (struct tcp_pcb *p = tcp_tw_pcbs; p != NULL; p = p->next)
		n += p->remote_port == pport;
	return n;
}

static struct seen seen_since(unsigned from, uint16_t lport, uint16_t pport)
{
	struct seen s = { 0 };

	for (unsigned i = from; i < test_peer_log.n; i++) {
		const struct test_seg *g = &test_peer_log.seg[i];

		if (g->sport != lport || g->dport != pport)
			continue;
		if ((g->flags & 0x12) == 0x12) {
			s.synack = true;
		} else {
			s.others++;
			s.other_flags = g->flags;
			s.other_ack = g->ack;
		}
	}
	return s;
}

/* The peer connects from @p pport with sequence number @p seq; the shard
 * closes first and its side ends in TIME-WAIT. Returns its rcv_nxt there,
 * 0 if it did not get there. */
static uint32_t to_time_wait(int lfd, uint16_t lport, uint16_t pport, uint32_t seq, uint32_t tsval)
{
	unsigned from = test_peer_log.n;
	uint32_t isn;
	int fd;

	peer(pport, lport, 0x02, seq, 0, tsval, 0);
	fd = handshake(lfd, lport, pport, from, seq, tsval, &isn);
	if (fd < 0)
		return 0;
	from = test_peer_log.n;
	mlw_close(fd);
	test_peer_passes(3);
	if (test_peer_last(from, lport, pport, 0x01, 0x01) == NULL) {
		test_peer_fail("no FIN on port %u to %u", lport, pport);
		return 0;
	}
	/* The peer acknowledges our FIN and sends its own. */
	peer(pport, lport, 0x11, seq + 1, isn + 2, tsval != 0 ? tsval + 5 : 0, 0);
	test_peer_passes(2);
	if (tw_count(pport) != 1) {
		test_peer_fail("port %u to %u not in TIME-WAIT", lport, pport);
		return 0;
	}
	/* Compacted once tcp_input returned (the socket was closed), unless
	 * this run keeps whole PCBs. */
	if (tw_pcbs(pport) != (full_mode ? 1 : 0)) {
		test_peer_fail("port %u to %u: %d TIME-WAIT PCBs", lport, pport, tw_pcbs(pport));
		return 0;
	}
	return seq + 2;
}

/* A SYN above rcv_nxt: a SYN-ACK in the same pass, a new connection that
 * carries data both ways. */
static void reopen_case(int lfd)
{
	const uint16_t pport = 5005;
	uint32_t rcv_nxt = to_time_wait(lfd, LPORT, pport, 1000, 0), seq = rcv_nxt + 100000, isn;
	unsigned from = test_peer_log.n, bytes = 0;
	char buf[200];
	int fd;

	if (rcv_nxt == 0)
		return;
	res.reopen_tw_before = tw_count(pport);
	peer(pport, LPORT, 0x02, seq, 0, 0, 0);
	test_wire_pass();
	res.reopen = seen_since(from, LPORT, pport);
	res.reopen_tw_after = tw_count(pport);
	if (!res.reopen.synack)
		return;	/* test_newer_syn_reopens says so */
	fd = handshake(lfd, LPORT, pport, from, seq, 0, &isn);
	res.reopen_fd = fd;
	if (fd < 0)
		return;
	peer(pport, LPORT, 0x18, seq + 1, isn + 1, 0, 100);
	test_peer_passes(2);
	res.reopen_read = (long)mlw_read(fd, buf, sizeof(buf));
	memset(buf, 'r', 50);
	from = test_peer_log.n;
	if (mlw_write(fd, buf, 50) != 50)
		test_peer_fail("write on the new connection: %s", strerror(errno));
	test_peer_passes(2);
	for (unsigned i = from; i < test_peer_log.n; i++)
		if (test_peer_log.seg[i].sport == LPORT && test_peer_log.seg[i].dport == pport)
			bytes += test_peer_log.seg[i].plen;
	res.reopen_sent = bytes;
	mlw_close(fd);
	test_peer_passes(2);
}

/* A SYN below rcv_nxt: lwIP's ACK, TIME-WAIT stays; one with rcv_nxt
 * itself: an ACK too (lwIP alone resets it). A reset with another
 * sequence number changes nothing; RST+ACK without options (the inline hook
 * test) and a bare RST with rcv_nxt end TIME-WAIT. */
static void old_syn_and_rst_case(int lfd)
{
	const uint16_t pport = 5006, pport2 = 5007;
	uint32_t rcv_nxt = to_time_wait(lfd, LPORT, pport, 2000, 0);
	unsigned from = test_peer_log.n;

	if (rcv_nxt == 0)
		return;
	res.old_rcv_nxt = rcv_nxt;
	res.old_tw_before = tw_count(pport);
	peer(pport, LPORT, 0x02, rcv_nxt - 500, 0, 0, 0);
	test_wire_pass();
	res.old = seen_since(from, LPORT, pport);
	res.old_tw_after = tw_count(pport);
	from = test_peer_log.n;
	peer(pport, LPORT, 0x02, rcv_nxt, 0, 0, 0);
	test_wire_pass();
	res.same = seen_since(from, LPORT, pport);
	res.same_tw_after = tw_count(pport);
	peer(pport, LPORT, 0x04, rcv_nxt + 10, 0, 0, 0);
	test_wire_pass();
	res.old_tw_after_bad_rst = tw_count(pport);
	peer(pport, LPORT, 0x14, rcv_nxt, 0, 0, 0);
	test_wire_pass();
	res.old_tw_after_rst_ack = tw_count(pport);

	rcv_nxt = to_time_wait(lfd, LPORT, pport2, 3000, 0);
	if (rcv_nxt == 0)
		return;
	res.rst_tw_before = tw_count(pport2);
	peer(pport2, LPORT, 0x04, rcv_nxt, 0, 0, 0);
	test_wire_pass();
	res.rst_tw_after = tw_count(pport2);
}

/* A SYN above rcv_nxt after the listener closed: TIME-WAIT ends, lwIP
 * answers the SYN with a reset, as it does any SYN for no listener. */
static void no_listener_case(void)
{
	const uint16_t pport = 5008;
	int lfd = test_peer_listen(LPORT_GONE);
	uint32_t rcv_nxt, seq;
	unsigned from;
	const struct test_seg *r;

	if (lfd < 0)
		return;
	rcv_nxt = to_time_wait(lfd, LPORT_GONE, pport, 4000, 0);
	mlw_close(lfd);
	test_peer_passes(2);
	if (rcv_nxt == 0)
		return;
	seq = rcv_nxt + 7;
	from = test_peer_log.n;
	peer(pport, LPORT_GONE, 0x02, seq, 0, 0, 0);
	test_wire_pass();
	res.gone_tw_after = tw_count(pport);
	r = test_peer_last(from, LPORT_GONE, pport, 0x04, 0x04);
	res.gone_rst = r != NULL;
	res.gone_rst_ack = r != NULL ? r->ack : 0;
}

/* RFC 6191 with timestamps: the old connection's last TSval was 1005 (its
 * FIN). A SYN with an older sequence number and TSval 2000 opens a new
 * connection; one with a newer sequence number and TSval 500 is refused
 * (PAWS) and gets lwIP's ACK. */
static void timestamps_case(int lfd)
{
#if LWIP_TCP_TIMESTAMPS
	const uint16_t pport = 5009, pport2 = 5010;
	uint32_t rcv_nxt = to_time_wait(lfd, LPORT, pport, 6000, 1000), seq, isn;
	unsigned from = test_peer_log.n;
	int fd;

	if (rcv_nxt == 0)
		return;
	seq = rcv_nxt - 500;
	peer(pport, LPORT, 0x02, seq, 0, 2000, 0);
	test_wire_pass();
	res.ts_newer = seen_since(from, LPORT, pport);
	res.ts_newer_tw_after = tw_count(pport);
	if (res.ts_newer.synack) {
		fd = handshake(lfd, LPORT, pport, from, seq, 2001, &isn);
		if (fd >= 0)
			mlw_close(fd);
		test_peer_passes(2);
	}

	rcv_nxt = to_time_wait(lfd, LPORT, pport2, 7000, 1000);
	if (rcv_nxt == 0)
		return;
	from = test_peer_log.n;
	res.ts_paws_rcv_nxt = rcv_nxt;
	peer(pport2, LPORT, 0x02, rcv_nxt + 1000, 0, 500, 0);
	test_wire_pass();
	res.ts_paws = seen_since(from, LPORT, pport2);
	res.ts_paws_tw_after = tw_count(pport2);
	res.ts_ran = true;
#else
	(void)lfd;
#endif
}

static void run(void)
{
	int lfd;

	if (!test_peer_init("10.0.0.99", "10.0.0.2")) {
		test_peer_fail("no DPDK netif");
		return;
	}
	ipaddr_aton("10.0.0.2", &our_ip);
	ipaddr_aton("10.0.0.99", &peer_ip);
	mlw__tcp_table_tw_compact(!full_mode);
	lfd = test_peer_listen(LPORT);
	if (lfd < 0)
		return;
	reopen_case(lfd);
	old_syn_and_rst_case(lfd);
	no_listener_case();
	timestamps_case(lfd);
	mlw_close(lfd);
	/* Stats are published every 100 ms. */
	test_pump_ms(150);
	mlw_stack_stats(test_stack_current(), 0, &res.st);
}

static unsigned bad_heaps;

static void check_ran(void)
{
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s", test_peer_failure());
}

/* Answered by one ACK of @p rcv_nxt (TIME-WAIT's), nothing else. */
static void assert_acked(const struct seen *s, uint32_t rcv_nxt)
{
	assert_false(s->synack);
	assert_int_equal(s->others, 1);
	assert_int_equal(s->other_flags, 0x10);
	assert_int_equal(s->other_ack, rcv_nxt);
}

static void test_newer_syn_reopens(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.reopen_tw_before, 1);
	/* The SYN-ACK in the pass of the SYN, not lwIP's ACK or RST. */
	assert_true(res.reopen.synack);
	assert_int_equal(res.reopen.others, 0);
	assert_int_equal(res.reopen_tw_after, 0);
	assert_true(res.reopen_fd >= 0);
	assert_int_equal(res.reopen_read, 100);
	assert_int_equal(res.reopen_sent, 50);
}

static void test_older_syn_gets_ack(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.old_tw_before, 1);
	assert_acked(&res.old, res.old_rcv_nxt);
	assert_int_equal(res.old_tw_after, 1);
	assert_acked(&res.same, res.old_rcv_nxt);
	assert_int_equal(res.same_tw_after, 1);
}

static void test_rst_ends_time_wait(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.old_tw_after_bad_rst, 1);	/* not rcv_nxt: ignored */
	assert_int_equal(res.old_tw_after_rst_ack, 0);
	assert_int_equal(res.rst_tw_before, 1);
	assert_int_equal(res.rst_tw_after, 0);
}

static void test_no_listener_resets(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.gone_tw_after, 0);
	assert_true(res.gone_rst);
	assert_int_equal(res.gone_rst_ack, 4000 + 2 + 7 + 1);	/* the SYN's sequence number + 1 */
}

static void test_timestamps(void **state)
{
	(void)state;
	check_ran();
	if (!LWIP_TCP_TIMESTAMPS)
		skip();
	assert_true(res.ts_ran);
	assert_true(res.ts_newer.synack);
	assert_int_equal(res.ts_newer.others, 0);
	assert_int_equal(res.ts_newer_tw_after, 0);
	assert_acked(&res.ts_paws, res.ts_paws_rcv_nxt);
	assert_int_equal(res.ts_paws_tw_after, 1);
}

static void test_counted(void **state)
{
	(void)state;
	check_ran();
	/* reopen, no listener, and the timestamps case's newer TSval */
	assert_int_equal(res.st.rx_tcp_tw_syn_reopens, LWIP_TCP_TIMESTAMPS ? 3 : 2);
	assert_int_equal(res.st.rx_tcp_tw_rst_kills, 2);
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_int_equal(bad_heaps, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newer_syn_reopens),
		cmocka_unit_test(test_older_syn_gets_ack),
		cmocka_unit_test(test_rst_ends_time_wait),
		cmocka_unit_test(test_no_listener_resets),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_counted),
		cmocka_unit_test(test_no_leak),
	};
	int rc;

	full_mode = argc > 1 && strcmp(argv[1], "full") == 0;
	rc = test_stack_run(full_mode ? "mlwtwfull" : "mlwtwreopen", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n",
			    run, &bad_heaps);
	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name(full_mode ? "tw_reopen_full" : "tw_reopen", tests, NULL, NULL);
}
