/* test_rx_cksum.c - checksums by port mode: with checksum = verify a frame with a wrong checksum is dropped and counted unless the port says it checked it, one the port marked bad is dropped, and frames sent carry checksums; with checksum = trust nothing is checked and nothing computed.
 *
 * Run as "test_rx_cksum verify" or "test_rx_cksum trust" (two registered
 * tests). main -> test_stack_run(one shard on net_ring0, whose TX ring
 * loops back to its RX ring, [port0] checksum = MODE) -> run() on the
 * shard: a raw lwIP listener on port 80 -> an ARP request from 10.0.0.1
 * (so replies need no resolution) -> crafted SYNs from 10.0.0.1, each
 * from its own port, put on the port's TX ring as mbufs with chosen RX
 * offload flags (net_ring hands the same mbuf to RX, flags and all) ->
 * the run loop takes them like any received frame (sharding/shard.c,
 * input_frame) -> a SYN was accepted iff lwIP has a SYN_RCVD connection
 * from its port -> the ck_drop counter -> an active open's SYN as it
 * leaves (q->pkts) -> CMocka asserts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dpdk_netif.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"	/* tcp_active_pcbs */
#include "lwip/tcp.h"
#include "mlwip/stack.h"
#include "test_frame.h"
#include "test_stack.h"

enum bend { NONE = 0, BAD_TCP = 1, BAD_IP = 2 };

static const struct syn_case {
	const char *name;
	uint16_t sport;
	unsigned bend;
	uint64_t ol;		/* RX offload flags on the mbuf */
	bool verify_accepts;	/* with checksum = verify (trust accepts all) */
} cases[] = {
	{ "right checksums", 40001, NONE, 0, true },
	{ "wrong TCP checksum", 40002, BAD_TCP, 0, false },
	{ "wrong TCP checksum, port says good", 40003, BAD_TCP,
	  RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD, true },
	{ "right checksums, port says TCP bad", 40004, NONE,
	  RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD, false },
	{ "wrong IP checksum, port says IP good", 40005, BAD_IP, RTE_MBUF_F_RX_IP_CKSUM_GOOD, true },
	{ "wrong TCP checksum, port says data good (NONE)", 40006, BAD_TCP,
	  RTE_MBUF_F_RX_L4_CKSUM_NONE, true },
	{ "wrong IP checksum", 40007, BAD_IP, 0, false },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))
#define VERIFY_DROPS 3	/* cases verify refuses */

static bool trust;
static struct {
	bool ran;
	char why[256];
	bool accepted[NCASES];
	uint64_t ck_drops;
	bool syn_seen;
	uint16_t syn_ip_field, syn_tcp_field;	/* checksum fields of the SYN sent */
	uint16_t syn_ip_sum, syn_tcp_sum;	/* sums over them: 0xffff if right */
} res;

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

/* One's complement sum of a TCP segment with its IPv4 pseudo-header. */
static uint16_t tcp_sum(const uint8_t *ip, unsigned tcplen)
{
	uint32_t s = test_sum16(ip + 12, 8, 0) + 6 + tcplen;

	return test_fold(test_sum16(ip + 20, tcplen, s));
}

/* Put @p len bytes of frame on the port's TX ring (-> our RX) with RX
 * offload flags @p ol, through the shard's TX batch (this file cannot
 * include rte_ethdev.h beside lwIP's headers). */
static bool inject(const struct mlw_netif_state *ns, const uint8_t *f, unsigned len, uint64_t ol)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ns->pool);
	char *d;

	if (m == NULL)
		return false;
	d = rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		return false;
	}
	memcpy(d, f, len);
	m->ol_flags = ol;
	for (int i = 0; i < 1000 && ns->txq->n != 0; i++)
		mlw__txq_flush(ns->txq);	/* the shard's own frames first */
	if (ns->txq->n != 0) {
		rte_pktmbuf_free(m);
		return false;
	}
	ns->txq->pkts[ns->txq->n++] = m;
	mlw__txq_flush(ns->txq);
	return ns->txq->n == 0;
}

static unsigned arp_request(uint8_t *f)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08, f[13] = 0x06;
	memcpy(f + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(f + 22, peer_mac, 6);
	memcpy(f + 28, "\x0a\x00\x00\x01", 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, "\x0a\x00\x00\x02", 4);
	memset(f + 42, 0, 18);
	return 60;
}

/* A SYN from 10.0.0.1:@p c->sport to 10.0.0.2:80, checksums right unless bent. */
static unsigned syn(uint8_t *f, const uint8_t *our_mac, const struct syn_case *c)
{
	uint8_t *ip = f + 14, *tcp = f + 34;
	uint16_t s;

	memset(f, 0, 54);
	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08, f[13] = 0x00;
	ip[0] = 0x45, ip[3] = 40, ip[8] = 64, ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	s = (uint16_t)~test_fold(test_sum16(ip, 20, 0));
	if (c->bend & BAD_IP)
		s ^= 0x0101;
	ip[10] = (uint8_t)(s >> 8), ip[11] = (uint8_t)s;
	tcp[0] = (uint8_t)(c->sport >> 8), tcp[1] = (uint8_t)c->sport;
	tcp[3] = 80;
	tcp[4] = 0x12, tcp[5] = 0x34;	/* seq */
	tcp[12] = 5 << 4, tcp[13] = 0x02;
	tcp[14] = 0xff, tcp[15] = 0xff;
	s = (uint16_t)~tcp_sum(ip, 20);
	if (c->bend & BAD_TCP)
		s ^= 0x0101;
	tcp[16] = (uint8_t)(s >> 8), tcp[17] = (uint8_t)s;
	return 54;
}

static bool syn_rcvd_from(uint16_t port)
{
	for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next)
		if (p->remote_port == port && p->state == SYN_RCVD)
			return true;
	return false;
}

static void run(void)
{
	struct netif *nif = test_dpdk_netif();
	struct mlw_netif_state *ns;
	struct mlw_shard_stats st;
	struct tcp_pcb *l, *c;
	ip_addr_t peer;
	uint8_t f[128];

	if (nif == NULL) {
		snprintf(res.why, sizeof(res.why), "no DPDK netif");
		return;
	}
	ns = nif->state;
	l = tcp_new();
	if (l == NULL || tcp_bind(l, IP_ANY_TYPE, 80) != ERR_OK || (l = tcp_listen(l)) == NULL) {
		snprintf(res.why, sizeof(res.why), "no listener");
		return;
	}
	if (!inject(ns, f, arp_request(f), 0)) {
		snprintf(res.why, sizeof(res.why), "the ring took no ARP request");
		return;
	}
	test_pump_ms(20);
	for (unsigned i = 0; i < NCASES; i++) {
		if (!inject(ns, f, syn(f, nif->hwaddr, &cases[i]), cases[i].ol)) {
			snprintf(res.why, sizeof(res.why), "the ring took no SYN (%s)", cases[i].name);
			return;
		}
		test_pump_ms(20);
		res.accepted[i] = syn_rcvd_from(cases[i].sport);
	}
	test_pump_ms(250);	/* counters are published every 100 ms */
	if (mlw_stack_stats(test_stack_current(), 0, &st) != 0) {
		snprintf(res.why, sizeof(res.why), "no stats");
		return;
	}
	res.ck_drops = st.rx_cksum_drops;

	/* An active open: its SYN leaves at once (10.0.0.1 is in the ARP
	 * table since its request), and is read from the batch before the
	 * loop flushes it. */
	c = tcp_new();
	IP_ADDR4(&peer, 10, 0, 0, 1);
	if (c != NULL && ns->txq->n == 0 && tcp_connect(c, &peer, 7, NULL) == ERR_OK && ns->txq->n > 0) {
		struct rte_mbuf *m = ns->txq->pkts[ns->txq->n - 1];
		const uint8_t *g = rte_pktmbuf_mtod(m, const uint8_t *);
		unsigned tcplen = (unsigned)(g[16] << 8 | g[17]) - 20u;

		if (m->data_len >= 54 && g[23] == 6 && (g[47] & 0x02)) {
			res.syn_seen = true;
			res.syn_ip_field = (uint16_t)(g[24] << 8 | g[25]);
			res.syn_tcp_field = (uint16_t)(g[50] << 8 | g[51]);
			res.syn_ip_sum = test_fold(test_sum16(g + 14, 20, 0));
			res.syn_tcp_sum = tcp_sum(g + 14, tcplen);
		}
	}
	test_pump_ms(20);
	res.ran = true;
}

static unsigned bad_heaps;

static void test_syns(void **state)
{
	(void)state;
	if (!res.ran)
		fail_msg("%s", res.why);
	for (unsigned i = 0; i < NCASES; i++) {
		bool want = trust || cases[i].verify_accepts;

		if (res.accepted[i] != want)
			fail_msg("%s: %s, expected %s", cases[i].name,
				 res.accepted[i] ? "accepted" : "dropped", want ? "accepted" : "dropped");
	}
}

static void test_drop_counter(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.ck_drops, trust ? 0 : VERIFY_DROPS);
}

static void test_checksums_sent(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_true(res.syn_seen);
	if (trust) {
		assert_int_equal(res.syn_ip_field, 0);
		assert_int_equal(res.syn_tcp_field, 0);
	} else {
		assert_int_equal(res.syn_ip_sum, 0xffff);
		assert_int_equal(res.syn_tcp_sum, 0xffff);
	}
	assert_int_equal(bad_heaps, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syns),
		cmocka_unit_test(test_drop_counter),
		cmocka_unit_test(test_checksums_sent),
	};
	char sections[160];
	int rc;

	if (argc != 2 || (strcmp(argv[1], "verify") != 0 && strcmp(argv[1], "trust") != 0)) {
		fprintf(stderr, "usage: %s verify|trust\n", argv[0]);
		return 2;
	}
	trust = strcmp(argv[1], "trust") == 0;
	snprintf(sections, sizeof(sections), "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\nchecksum = %s\n",
		 argv[1]);
	rc = test_stack_run(trust ? "mlwcktrust" : "mlwckverify", sections, run, &bad_heaps);
	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name(trust ? "rx_cksum_trust" : "rx_cksum_verify", tests, NULL, NULL);
}
