/* test_tw_compact.c - compact TIME-WAIT records (lwip-port/tcp_table_tw.c): a closed server connection in TIME-WAIT answers its peer exactly as a whole PCB does, expires after 2 * TCP_MSL, is trimmed oldest first, costs a record's bytes, and is freed at the stop.
 *
 * main(mode) -> test_stack_run(one shard on net_ring0) -> run(): the peer
 * 10.0.0.99 is played by frames put into lwIP's input (test_wire.c); the
 * shard closes first, so its side goes to TIME-WAIT (compact mode: a
 * record; "full": records off, a whole PCB); then the peer sends a FIN
 * again, data, and the memory of 10,000 loopback TIME-WAIT connections is
 * read off the shard heap's counters. Both modes must see the same
 * segments; the CMocka tests after the run assert it. The figures are
 * printed ("bytes per TIME-WAIT connection").
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
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "mlwip/alloc.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "mlw_tcp_table.h"
#include "test_frame.h"
#include "test_peer.h"
#include "test_stack.h"

#define LPORT 80
#define NMEM 10000	/* loopback TIME-WAIT connections for the memory figure */

static bool full_mode;
static ip_addr_t our_ip, peer_ip;

struct seen {
	unsigned n;		/* segments from LPORT to the peer port */
	uint8_t flags;		/* the last one's */
	uint32_t seq, ack;
	bool ts;
	uint32_t tsecr;
};

static struct {
	uint32_t rcv_nxt, isn;
	int pcbs_in_tw;		/* whole TIME-WAIT PCBs of the FIN case's port */
	struct seen fin;	/* a retransmitted FIN */
	uint32_t age_before, age_after;
	int fin_tw_after;
	struct seen data;	/* data in TIME-WAIT */
	int data_tw_after;
	int oldest_dropped, oldest_kept;	/* drop_oldest: the first gone, the others kept */
	int exp_early, exp_kept, exp_late, exp_gone;
	unsigned mem_n;
	double mem_bytes, mem_objects;
	int verify;
	uint32_t records_at_end;
} res;

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

static void peer(uint16_t pport, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t tsval, unsigned payload)
{
	uint8_t o[16];

	test_peer_send(pport, LPORT, flags, seq, ack, 0xffff, o, peer_opts(o, flags, tsval), payload);
}

static bool in_tw(uint16_t pport, uint32_t *age)
{
	return mlw__tcp_table_tw_find(&our_ip, LPORT, &peer_ip, pport, age);
}

static int tw_pcbs(uint16_t pport)
{
	int n = 0;

	for (struct tcp_pcb *p = tcp_tw_pcbs; p != NULL; p = p->next)
		n += p->remote_port == pport;
	return n;
}

static struct seen seen_since(unsigned from, uint16_t pport)
{
	struct seen s = { 0 };

	for (unsigned i = from; i < test_peer_log.n; i++) {
		const struct test_seg *g = &test_peer_log.seg[i];

		if (g->sport != LPORT || g->dport != pport)
			continue;
		s.n++;
		s.flags = g->flags;
		s.seq = g->seq;
		s.ack = g->ack;
		s.ts = g->ts;
		s.tsecr = g->tsecr;
	}
	return s;
}

/* The peer connects from @p pport (timestamps from @p tsval on); the shard
 * closes first; the peer ACKs our FIN and sends its own with TSval
 * tsval + 5. Returns rcv_nxt in TIME-WAIT (0: did not get there). */
static uint32_t to_time_wait(int lfd, uint16_t pport, uint32_t seq, uint32_t tsval, uint32_t *isn)
{
	unsigned from = test_peer_log.n;
	uint8_t o[16];
	int fd;

	peer(pport, 0x02, seq, 0, tsval, 0);
	fd = test_peer_accept(lfd, LPORT, pport, from, seq, o, peer_opts(o, 0x10, tsval), isn);
	if (fd < 0)
		return 0;
	from = test_peer_log.n;
	mlw_close(fd);
	test_peer_passes(3);
	if (test_peer_last(from, LPORT, pport, 0x01, 0x01) == NULL) {
		test_peer_fail("no FIN to %u", pport);
		return 0;
	}
	peer(pport, 0x11, seq + 1, *isn + 2, tsval != 0 ? tsval + 5 : 0, 0);
	test_peer_passes(2);
	if (!in_tw(pport, NULL) || tw_pcbs(pport) != (full_mode ? 1 : 0)) {
		test_peer_fail("port %u: not in TIME-WAIT as expected (%d PCBs)", pport, tw_pcbs(pport));
		return 0;
	}
	return seq + 2;
}

/* A retransmitted FIN: one ACK of rcv_nxt with timestamps, TIME-WAIT
 * restarted; then data: one ACK, nothing taken. */
static void fin_and_data_case(int lfd)
{
	const uint16_t pport = 5101;
	unsigned from;

	res.rcv_nxt = to_time_wait(lfd, pport, 1000, 1000, &res.isn);
	if (res.rcv_nxt == 0)
		return;
	res.pcbs_in_tw = tw_pcbs(pport);
	test_pump_ms(40);
	in_tw(pport, &res.age_before);
	from = test_peer_log.n;
	peer(pport, 0x11, res.rcv_nxt - 1, res.isn + 2, 1010, 0);
	test_wire_pass();
	res.fin = seen_since(from, pport);
	res.fin_tw_after = in_tw(pport, &res.age_after);
	from = test_peer_log.n;
	peer(pport, 0x18, res.rcv_nxt, res.isn + 2, 1020, 10);
	test_wire_pass();
	res.data = seen_since(from, pport);
	res.data_tw_after = in_tw(pport, NULL);
}

/* Three more TIME-WAITs a few ms after the FIN case's: that one is the
 * oldest, dropped first, then the first of these. */
static void oldest_case(int lfd)
{
	uint32_t isn;

	for (uint16_t i = 0; i < 3; i++) {
		if (to_time_wait(lfd, (uint16_t)(5201 + i), 3000 + 1000u * i, 0, &isn) == 0)
			return;
		test_pump_ms(5);
	}
	mlw__tcp_table_tw_drop_oldest();
	res.oldest_dropped = !in_tw(5101, NULL) && in_tw(5201, NULL);
	mlw__tcp_table_tw_drop_oldest();
	res.oldest_dropped += !in_tw(5201, NULL);
	res.oldest_kept = in_tw(5202, NULL) + in_tw(5203, NULL);
}

/* 2 * TCP_MSL, by telling the expiry a time ahead (records only: the
 * wheel keeps whole PCBs to the real clock). */
static void expiry_case(void)
{
	u32_t now = sys_now();

	if (full_mode)
		return;
	res.exp_early = (int)mlw__tcp_table_tw_expire(now + 2 * TCP_MSL - 1000);
	res.exp_kept = in_tw(5202, NULL);
	res.exp_late = (int)mlw__tcp_table_tw_expire(now + 2 * TCP_MSL + 1000);
	res.exp_gone = !in_tw(5202, NULL) && !in_tw(5203, NULL);
}

static int cfd[NMEM], afd[NMEM];

/* NMEM loopback connections, the client closes first: NMEM TIME-WAITs;
 * their bytes are the heap's in-use bytes with them less without them. */
static void memory_case(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(to);
	struct mlw_alloc_stats with, without;
	const char *why = "";
	int lfd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), n;
	int64_t end;
	u32_t base = mlw__tcp_table_tw_count();

	if (lfd < 0 || mlw_bind(lfd, (struct sockaddr *)&to, sizeof(to)) != 0 || mlw_listen(lfd, 128) != 0 ||
	    mlw_getsockname(lfd, (struct sockaddr *)&to, &len) != 0) {
		test_peer_fail("loopback listener: %s", strerror(errno));
		return;
	}
	n = test_tcp_pairs(lfd, &to, cfd, afd, 0, NMEM, 20000, &why);
	if (n != NMEM) {
		test_peer_fail("%d of %d loopback pairs: %s", n, NMEM, why);
		return;
	}
	for (int i = 0; i < NMEM; i++)
		mlw_close(cfd[i]);
	test_pump_ms(20);
	for (int i = 0; i < NMEM; i++)
		mlw_close(afd[i]);
	end = test_now_ms() + 20000;
	while (mlw__tcp_table_tw_count() < base + NMEM && test_now_ms() < end)
		test_pump();
	test_pump_ms(30);	/* settled */
	mlw_close(lfd);
	test_pump_ms(10);
	res.mem_n = mlw__tcp_table_tw_count() - base;
	res.verify = mlw__tcp_table_verify();
	mlw_alloc_stats(&with);
	while (mlw__tcp_table_tw_count() > base && mlw__tcp_table_tw_drop_oldest())
		;
	mlw_alloc_stats(&without);
	res.mem_bytes = (double)(with.bytes_in_use - without.bytes_in_use) / NMEM;
	res.mem_objects = (double)(with.objects_in_use - without.objects_in_use) / NMEM;
	printf("bytes per TIME-WAIT connection (%s, %u connections): %.1f bytes in use, %.2f heap blocks\n",
	       full_mode ? "whole PCBs" : "compact records", NMEM, res.mem_bytes, res.mem_objects);
}

static void run(void)
{
	int lfd;
	uint32_t isn;

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
	fin_and_data_case(lfd);
	oldest_case(lfd);
	expiry_case();
	memory_case();
	/* One left in TIME-WAIT at the stop: the table's fini frees it. */
	to_time_wait(lfd, 5301, 9000, 0, &isn);
	mlw_close(lfd);
	test_pump_ms(20);
	res.records_at_end = mlw__tcp_table_tw_records();
}

static unsigned bad_heaps;

static void check_ran(void)
{
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s", test_peer_failure());
}

static void test_kept_as_expected(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.pcbs_in_tw, full_mode ? 1 : 0);
	assert_int_equal(res.verify, 0);
}

static void test_fin_acked_and_restarts(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.fin.n, 1);
	assert_int_equal(res.fin.flags, 0x10);
	assert_int_equal(res.fin.ack, res.rcv_nxt);
	assert_int_equal(res.fin.seq, res.isn + 2);
	if (LWIP_TCP_TIMESTAMPS) {
		assert_true(res.fin.ts);
		assert_int_equal(res.fin.tsecr, 1005);	/* the peer's FIN's TSval */
	}
	print_message("age before the FIN %u ms, after %u ms\n", res.age_before, res.age_after);
	assert_true(res.age_before >= 30);
	assert_true(res.age_after < 20);
	assert_int_equal(res.fin_tw_after, 1);
}

static void test_data_acked(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.data.n, 1);
	assert_int_equal(res.data.flags, 0x10);
	assert_int_equal(res.data.ack, res.rcv_nxt);
	assert_int_equal(res.data.ts, LWIP_TCP_TIMESTAMPS != 0);
	assert_int_equal(res.data_tw_after, 1);
}

static void test_oldest_dropped_first(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.oldest_dropped, 2);
	assert_int_equal(res.oldest_kept, 2);
}

static void test_expiry(void **state)
{
	(void)state;
	check_ran();
	if (full_mode)
		skip();
	assert_int_equal(res.exp_early, 0);
	assert_int_equal(res.exp_kept, 1);
	assert_int_equal(res.exp_late, 2);	/* 5202, 5203 */
	assert_int_equal(res.exp_gone, 1);
}

static void test_memory(void **state)
{
	(void)state;
	check_ran();
	assert_true(res.mem_n >= NMEM);
	if (full_mode) {
		assert_true(res.mem_bytes > 300);	/* a PCB alone is 376 bytes */
	} else {
		/* A 112-byte record (one 128-byte block with its header) and
		 * the table's buckets, which grew for the 20,000 PCBs of the
		 * open pairs (8 bytes each, at most 2 per entry): freed with
		 * the last entry. */
		assert_true(res.mem_bytes <= 112 + 32);
		assert_true(res.mem_objects <= 1.01);
	}
}

static void test_clean_stop(void **state)
{
	(void)state;
	check_ran();
	/* Full mode: 5202, 5203 and 5301 as whole PCBs; compact: 5301. */
	assert_int_equal(res.records_at_end, full_mode ? 0 : 1);
	assert_int_equal(bad_heaps, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_as_expected),
		cmocka_unit_test(test_fin_acked_and_restarts),
		cmocka_unit_test(test_data_acked),
		cmocka_unit_test(test_oldest_dropped_first),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_clean_stop),
	};
	int rc;

	full_mode = argc > 1 && strcmp(argv[1], "full") == 0;
	rc = test_stack_run(full_mode ? "mlwtwcfull" : "mlwtwc",
			    "[stack]\nshards = 1\nmax_time_wait = 100000\n[port0]\nipv4 = 10.0.0.2/24\n", run,
			    &bad_heaps);
	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name(full_mode ? "tw_compact_full" : "tw_compact", tests, NULL, NULL);
}
