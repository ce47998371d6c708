/* test_syn_cookie.c - a listener whose half-open queue is full of spoofed SYNs still takes every legitimate connection, through SYN cookies (lwip-port/syn_cookie.c): the options the SYN offered survive the cookie, data flows both ways, a forged or altered cookie gets a reset, and 100,000 spoofed SYNs leave the heap and the PCB count flat.
 *
 * main -> test_stack_run(one shard on net_ring0) -> run(): the legitimate
 * peer is 10.0.0.99 (also the gateway); spoofed SYNs come from random
 * addresses in 198.18.0.0/15 (off-link, so answers go to the gateway's
 * MAC and nothing waits for ARP). Frames go into lwIP's input
 * (test_wire.c); what the shard sends is read off the ring. Each case
 * records what it saw in res; the CMocka tests after the run assert it.
 * With the argument "off" the stack runs with [stack] syncookies = 0 and
 * the legitimate SYN after the spoofed ones gets nothing (lwIP's own
 * behaviour, the one issue 12 reported).
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

#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "mlwip/alloc.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "mlw_syn_cookie.h"
#include "mlw_tcp_table.h"
#include "test_frame.h"
#include "test_stack.h"
#include "test_peer.h"

#define LPORT 80
#define BACKLOG 4		/* listen(): lwIP's backlog (the half-open limit) is 5 */
#define HALF_OPEN 5
#define FLOOD 100000u
#define FLOOD_LEGIT 10u		/* legitimate connections during the flood */

/* A connection made through a cookie. */
struct conn {
	bool synack;		/* a SYN-ACK came */
	uint32_t isn;
	uint16_t synack_mss;
	bool synack_ts;
	uint32_t synack_tsecr;
	int fd;			/* accept() */
	int state;		/* its PCB's */
	uint16_t pcb_mss;
	uint8_t snd_scale;
	bool wscale, sack, ts;
	long got;		/* bytes our side read of the peer's 100 */
	unsigned sent;		/* bytes the peer saw of our 50 */
};

static struct {
	bool off;
	unsigned spoof_synacks;		/* SYN-ACKs to spoofed sources in the fill */
	uint32_t active_after_fill;
	struct conn full, bare, tamper;
	bool forged_rst;
	uint32_t forged_rst_seq;
	uint8_t forged_rst_flags;
	unsigned tamper_rsts;		/* of the two altered cookies */
	/* the flood */
	unsigned flood_synacks;
	uint64_t heap_before, heap_after, heap_max;
	uint32_t active_before, active_max;
	unsigned legit_ok;
	int64_t flood_ms;
	/* syncookies = 0 */
	bool off_synack;
	struct mlw_syn_cookie_stats sc;	/* the shard's counters, read on it */
	struct mlw_shard_stats st;	/* as published */
} res;

static uint8_t our_mac[6];
static const uint8_t gw_mac[6] = { 0x02, 0, 0, 0, 0, 0x63 };	/* test_peer.c's */
static ip_addr_t our_ip, peer_ip;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* A SYN from a random address in 198.18.0.0/15 and a random port. */
static void spoofed_syn(void)
{
	static const uint8_t mss[4] = { 0x02, 0x04, 0x05, 0xb4 };
	uint32_t r = rnd();
	char src[16];
	uint8_t f[128];
	unsigned len;

	snprintf(src, sizeof(src), "198.%u.%u.%u", 18 + (r >> 31), (r >> 8) & 0xff, (r & 0xff) | 1);
	len = test_tcp4_build(f, sizeof(f), our_mac, gw_mac, src, (uint16_t)(1024 + (rnd() % 60000)),
			      "10.0.0.2", LPORT, 0x02, rnd(), 0, 0xffff, mss, 4, 0);
	test_wire_input(f, len);
}

static unsigned synacks_to_others(unsigned from)
{
	unsigned n = 0;

	for (unsigned i = from; i < test_peer_log.n; i++)
		n += test_peer_log.seg[i].sport == LPORT && (test_peer_log.seg[i].flags & 0x12) == 0x12;
	return n;
}

/* The options of a full SYN: MSS 1460, window scale 7, SACK permitted,
 * timestamps with TSval @p tsval. */
static unsigned full_syn_opts(uint8_t o[24], uint32_t tsval)
{
	static const uint8_t head[16] = { 0x02, 0x04, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2, 1, 1, 8, 10 };

	memcpy(o, head, 16);
	test_put32(o + 16, tsval);
	test_put32(o + 20, 0);
	return 24;
}

static const struct test_seg *wait_synack(unsigned from, uint16_t pport)
{
	const struct test_seg *s = NULL;

	for (unsigned i = 0; i < 20 && s == NULL; i++) {
		test_peer_passes(1);
		s = test_peer_last(from, LPORT, pport, 0x12, 0x12);
	}
	return s;
}

/* The peer's SYN from @p pport was sent at log index @p from (with
 * timestamps if @p ts): the handshake's end, the PCB looked at, 100 bytes
 * each way... the peer's 100, our 50. */
static void finish(struct conn *c, unsigned from, uint16_t pport, uint32_t seq, bool ts, int lfd)
{
	const struct test_seg *sa = wait_synack(from, pport);
	uint8_t o[40];
	unsigned optlen = 0;
	struct tcp_pcb *pcb;
	char buf[200];

	c->fd = -1;
	if (sa == NULL) {
		test_peer_fail("no SYN-ACK for port %u", pport);
		return;
	}
	c->synack = true;
	c->isn = sa->seq;
	c->synack_mss = sa->mss;
	c->synack_ts = sa->ts;
	c->synack_tsecr = sa->tsecr;
	if (ts)
		optlen = test_tcp_ack_opts(o, true, 2000, sa->tsval, NULL, 0);
	c->fd = test_peer_accept(lfd, LPORT, pport, from, seq, o, optlen, &c->isn);
	if (c->fd < 0)
		return;
	pcb = mlw__tcp_table_lookup(&our_ip, LPORT, &peer_ip, pport, MLW_TCP_TABLE_ACTIVE);
	if (pcb == NULL) {
		test_peer_fail("no PCB for port %u", pport);
		return;
	}
	c->state = pcb->state;
	c->pcb_mss = pcb->mss;
	c->snd_scale = pcb->snd_scale;
	c->wscale = (pcb->flags & TF_WND_SCALE) != 0;
	c->sack = (pcb->flags & TF_SACK) != 0;
	c->ts = (pcb->flags & TF_TIMESTAMP) != 0;
	if (ts)
		optlen = test_tcp_ack_opts(o, true, 2001, sa->tsval, NULL, 0);
	test_peer_send(pport, LPORT, 0x18, seq + 1, c->isn + 1, 0xffff, o, optlen, 100);
	test_peer_passes(2);
	c->got = mlw_recv(c->fd, buf, sizeof(buf), 0);
	from = test_peer_log.n;
	if (mlw_send(c->fd, buf, 50, 0) != 50)
		test_peer_fail("send on port %u: %s", pport, strerror(errno));
	test_peer_passes(3);
	for (unsigned i = from; i < test_peer_log.n; i++)
		if (test_peer_log.seg[i].sport == LPORT && test_peer_log.seg[i].dport == pport)
			c->sent += test_peer_log.seg[i].plen;
}

/* The listener's half-open queue filled by spoofed SYNs, and more. */
static void fill(void)
{
	unsigned from = test_peer_log.n;

	for (unsigned i = 0; i < HALF_OPEN + 20; i++)
		spoofed_syn();
	test_peer_passes(2);
	res.spoof_synacks = synacks_to_others(from);
	res.active_after_fill = mlw__tcp_table_active_count();
}

static void cookie_cases(int lfd)
{
	uint8_t o[24];
	unsigned from;

	/* Every option lwIP reads. */
	from = test_peer_log.n;
	test_peer_send(5001, LPORT, 0x02, 1000, 0, 0xffff, o, full_syn_opts(o, 777), 0);
	finish(&res.full, from, 5001, 1000, true, lfd);
	/* None. */
	from = test_peer_log.n;
	test_peer_send(5002, LPORT, 0x02, 2000, 0, 0xffff, NULL, 0, 0);
	finish(&res.bare, from, 5002, 2000, false, lfd);
	/* An ACK that no cookie of ours acknowledges. */
	from = test_peer_log.n;
	test_peer_send(5003, LPORT, 0x10, 3000, 0x12345678, 0xffff, NULL, 0, 0);
	test_peer_passes(2);
	{
		const struct test_seg *r = test_peer_last(from, LPORT, 5003, 0x04, 0x04);

		res.forged_rst = r != NULL;
		if (r != NULL) {
			res.forged_rst_seq = r->seq;
			res.forged_rst_flags = r->flags;
		}
	}
	/* A real cookie altered: another period, another MSS; then itself. */
	from = test_peer_log.n;
	test_peer_send(5004, LPORT, 0x02, 4000, 0, 0xffff, o, 4, 0);
	{
		const struct test_seg *sa = wait_synack(from, 5004);

		if (sa == NULL) {
			test_peer_fail("no SYN-ACK for port 5004");
			return;
		}
		from = test_peer_log.n;
		test_peer_send(5004, LPORT, 0x10, 4001, (sa->seq ^ 0x100u) + 1, 0xffff, NULL, 0, 0);
		test_peer_send(5004, LPORT, 0x10, 4001, (sa->seq ^ 0x20u) + 1, 0xffff, NULL, 0, 0);
		test_peer_passes(2);
		for (unsigned i = from; i < test_peer_log.n; i++)
			res.tamper_rsts += test_peer_log.seg[i].dport == 5004 &&
					   (test_peer_log.seg[i].flags & 0x04);
		from = test_peer_log.n;
		test_peer_send(5004, LPORT, 0x02, 4000, 0, 0xffff, o, 4, 0);
		finish(&res.tamper, from, 5004, 4000, false, lfd);
	}
}

static uint64_t heap_now(void)
{
	struct mlw_alloc_stats a;

	mlw_alloc_stats(&a);
	return a.bytes_in_use;
}

/* FLOOD spoofed SYNs, 32 a pass, with a legitimate connection every
 * FLOOD / FLOOD_LEGIT of them. */
static void flood(int lfd)
{
	int64_t t0 = test_now_ms();
	uint8_t o[24];

	test_peer_log.n = 0;
	res.heap_before = heap_now();
	res.active_before = mlw__tcp_table_active_count();
	for (unsigned i = 0; i < FLOOD; i++) {
		spoofed_syn();
		if ((i + 1) % 32 != 0)
			continue;
		test_peer_passes(1);
		res.flood_synacks += synacks_to_others(0);
		test_peer_log.n = 0;
		if (heap_now() > res.heap_max)
			res.heap_max = heap_now();
		if (mlw__tcp_table_active_count() > res.active_max)
			res.active_max = mlw__tcp_table_active_count();
		if ((i + 1) % (FLOOD / FLOOD_LEGIT) < 32) {
			uint16_t pport = (uint16_t)(7000 + (i + 1) / (FLOOD / FLOOD_LEGIT));
			struct conn c = { 0 };

			test_peer_send(pport, LPORT, 0x02, 9000, 0, 0xffff, o, full_syn_opts(o, 5), 0);
			finish(&c, 0, pport, 9000, true, lfd);
			if (c.fd >= 0 && c.got == 100 && c.sent == 50)
				res.legit_ok++;
			if (c.fd >= 0) {
				/* Gone at once (a reset), so PCBs and heap show the flood alone. */
				struct linger l = { .l_onoff = 1, .l_linger = 0 };

				mlw_setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
				mlw_close(c.fd);
			}
			res.flood_synacks += synacks_to_others(0) - 1;	/* not the legitimate one */
			test_peer_log.n = 0;
		}
	}
	test_peer_passes(2);
	res.flood_ms = test_now_ms() - t0;
	res.heap_after = heap_now();
}

static void run(void)
{
	struct netif *nif = test_dpdk_netif();
	int lfd;

	if (nif == NULL || !test_peer_init("10.0.0.99", "10.0.0.2")) {
		test_peer_fail("no DPDK netif");
		return;
	}
	memcpy(our_mac, nif->hwaddr, 6);
	ipaddr_aton("10.0.0.2", &our_ip);
	ipaddr_aton("10.0.0.99", &peer_ip);
	lfd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	{
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(LPORT) };

		if (lfd < 0 || mlw_bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    mlw_listen(lfd, BACKLOG) != 0) {
			test_peer_fail("listen: %s", strerror(errno));
			return;
		}
	}
	fill();
	if (res.off) {
		unsigned from = test_peer_log.n;
		uint8_t o[24];

		test_peer_send(5001, LPORT, 0x02, 1000, 0, 0xffff, o, full_syn_opts(o, 777), 0);
		res.off_synack = wait_synack(from, 5001) != NULL;
	} else {
		cookie_cases(lfd);
		flood(lfd);
		for (struct conn *c = &res.full; c <= &res.tamper; c++)
			if (c->fd >= 0)
				mlw_close(c->fd);
	}
	mlw_close(lfd);
	mlw__syn_cookie_stats(&res.sc);
	/* Stats are published every 100 ms. */
	test_pump_ms(250);
	mlw_stack_stats(test_stack_current(), 0, &res.st);
}

static unsigned bad_heaps;

static void check_ran(void)
{
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s", test_peer_failure());
}

static void test_fill_then_cookies(void **state)
{
	(void)state;
	check_ran();
	/* The first HALF_OPEN got lwIP's SYN-ACK and a PCB, the rest cookies. */
	assert_int_equal(res.spoof_synacks, HALF_OPEN + 20);
	assert_int_equal(res.active_after_fill, HALF_OPEN);
}

static void assert_conn(const struct conn *c)
{
	assert_true(c->synack);
	assert_true(c->fd >= 0);
	assert_int_equal(c->state, ESTABLISHED);
	assert_int_equal(c->got, 100);
	assert_int_equal(c->sent, 50);
}

static void test_cookie_keeps_options(void **state)
{
	const struct conn *c = &res.full;

	(void)state;
	check_ran();
	assert_conn(c);
	/* In the ISN: MSS index 6 (1460), window scale 7, SACK. */
	assert_int_equal((c->isn >> 5) & 7, 6);
	assert_int_equal((c->isn >> 1) & 15, 7);
	assert_int_equal(c->isn & 1, 1);
	assert_int_equal(c->synack_mss, 1460);
	assert_true(c->wscale);
	assert_int_equal(c->snd_scale, 7);
	assert_true(c->sack);
	assert_int_equal(c->pcb_mss, 1460);
	if (LWIP_TCP_TIMESTAMPS) {
		assert_true(c->synack_ts);
		assert_int_equal(c->synack_tsecr, 777);
		assert_true(c->ts);
	}
}

static void test_cookie_without_options(void **state)
{
	const struct conn *c = &res.bare;

	(void)state;
	check_ran();
	assert_conn(c);
	assert_int_equal((c->isn >> 5) & 7, 0);	/* 536 */
	assert_int_equal((c->isn >> 1) & 15, 15);	/* no window scale */
	assert_int_equal(c->isn & 1, 0);
	assert_int_equal(c->pcb_mss, 536);
	assert_false(c->wscale);
	assert_false(c->sack);
	assert_false(c->ts);
	assert_false(c->synack_ts);
}

static void test_bad_cookies_reset(void **state)
{
	(void)state;
	check_ran();
	/* Linux's answer to an ACK whose cookie fails: a reset, <SEQ=SEG.ACK>. */
	assert_true(res.forged_rst);
	assert_int_equal(res.forged_rst_seq, 0x12345678);
	assert_int_equal(res.forged_rst_flags & 0x10, 0);
	assert_int_equal(res.tamper_rsts, 2);
	assert_conn(&res.tamper);
}

static void test_flood_bounded(void **state)
{
	(void)state;
	check_ran();
	print_message("flood: %u spoofed SYNs in %lld ms, %u SYN-ACKs to them, heap %llu -> max %llu -> %llu "
		      "bytes, PCBs %u -> max %u, %u/%u legitimate connections\n", FLOOD,
		      (long long)res.flood_ms, res.flood_synacks, (unsigned long long)res.heap_before,
		      (unsigned long long)res.heap_max, (unsigned long long)res.heap_after,
		      res.active_before, res.active_max, res.legit_ok, FLOOD_LEGIT);
	assert_int_equal(res.legit_ok, FLOOD_LEGIT);
	/* Every spoofed SYN answered by a cookie (and the half-open PCBs of
	 * the fill retransmitting theirs), none by a PCB. */
	assert_true(res.flood_synacks >= FLOOD);
	assert_true(res.flood_synacks <= FLOOD + 10 * HALF_OPEN);
	assert_true(res.active_max <= res.active_before + 1);
	/* The heap: the legitimate connection open at the time at most. */
	assert_true(res.heap_max <= res.heap_before + 64 * 1024);
	assert_true(res.heap_after <= res.heap_before + 16 * 1024);
}

static void test_counted(void **state)
{
	(void)state;
	check_ran();
	/* fill: 20; cases: full, bare, 5004 twice; flood: all and 10 */
	assert_int_equal(res.sc.sent, 20 + 4 + FLOOD + FLOOD_LEGIT);
	assert_int_equal(res.sc.ok, 3 + FLOOD_LEGIT);
	assert_int_equal(res.sc.failed, 3);
	assert_int_equal(res.sc.syn_drops + res.sc.ack_drops, 0);
	/* The shard's published stats carry them. */
	assert_int_equal(res.st.syncookies_sent, res.sc.sent);
	assert_int_equal(res.st.syncookies_ok, res.sc.ok);
	assert_int_equal(res.st.syncookies_failed, res.sc.failed);
	/* A connection a cookie made is accepted, never half-open: the
	 * half-open ones are the spoofed SYNs that got a PCB. */
	assert_int_equal(res.st.tcp_accepts, res.sc.ok);
	assert_int_equal(res.st.tcp_half_open, HALF_OPEN);
}

static void test_off_drops(void **state)
{
	(void)state;
	check_ran();
	print_message("off: %u SYN-ACKs to spoofed sources, PCBs %u, syn_drops %llu\n", res.spoof_synacks,
		      res.active_after_fill, (unsigned long long)res.sc.syn_drops);
	assert_int_equal(res.spoof_synacks, HALF_OPEN);
	assert_false(res.off_synack);
	assert_int_equal(res.sc.sent, 0);
	assert_int_equal(res.sc.syn_drops, 20 + 1);
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_int_equal(bad_heaps, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_then_cookies),
		cmocka_unit_test(test_cookie_keeps_options),
		cmocka_unit_test(test_cookie_without_options),
		cmocka_unit_test(test_bad_cookies_reset),
		cmocka_unit_test(test_flood_bounded),
		cmocka_unit_test(test_counted),
		cmocka_unit_test(test_no_leak),
	};
	const struct CMUnitTest off_tests[] = {
		cmocka_unit_test(test_off_drops),
		cmocka_unit_test(test_no_leak),
	};
	int rc;

	res.off = argc > 1 && strcmp(argv[1], "off") == 0;
	rc = test_stack_run(res.off ? "mlwsynoff" : "mlwsyncookie",
			    res.off ? "[stack]\nshards = 1\nsyncookies = 0\n"
				      "[port0]\nipv4 = 10.0.0.2/24\ngateway = 10.0.0.99\n"
				    : "[stack]\nshards = 1\n"
				      "[port0]\nipv4 = 10.0.0.2/24\ngateway = 10.0.0.99\n",
			    run, &bad_heaps);
	if (rc != 0)
		return rc;
	if (res.off)
		return cmocka_run_group_tests_name("syn_cookie_off", off_tests, NULL, NULL);
	return cmocka_run_group_tests_name("syn_cookie", tests, NULL, NULL);
}
