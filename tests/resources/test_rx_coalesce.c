/* test_rx_coalesce.c - in one received burst, a pure ACK that a later ACK of the same connection supersedes never reaches lwIP; duplicate ACKs, other connections and data do.
 *
 * main -> test_stack_run(one shard on net_ring0, whose TX ring loops back
 * to its RX ring) -> run() on the shard: an ARP request from 10.0.0.1 ->
 * one burst of ACKs and a data segment from 10.0.0.1 to 10.0.0.2:81, where
 * nothing listens, handed to the TX ring at once, so the shard receives
 * them in one RX burst -> lwIP answers each frame it gets with a reset
 * (MIB-II tcpOutRsts, the "resets" counter) -> CMocka compares the resets
 * and the rx_acks_coalesced counter with what coalescing leaves. A
 * duplicate ACK followed by one that acknowledges more says nothing more
 * (the data it asked for has arrived), so it goes too.
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
#include "lwip/netif.h"
#include "mlwip/stack.h"
#include "test_frame.h"
#include "test_stack.h"

/* In the order sent: source port, TCP flags, ack number, payload bytes. */
static const struct seg {
	uint16_t sport;
	uint8_t flags;
	uint32_t ackno;
	unsigned payload;
	bool reaches_lwip;
} burst[] = {
	{ 40000, 0x10, 10, 0, false },		/* A acks 10: A's 20 below acks more */
	{ 40001, 0x10, 500, 0, true },		/* B acks 500: B's later one acks less */
	{ 40000, 0x10, 20, 0, true },		/* A acks 20, then */
	{ 40000, 0x10, 20, 0, true },		/* a duplicate: equal, both kept */
	{ 40000, 0x18, 25, 100, true },		/* A data: never dropped */
	{ 40001, 0x10, 400, 0, true },		/* B goes back to 400 */
	{ 40002, 0x10, 0x7ffffff0u, 0, false },	/* C: the next one is 0x20 ahead, */
	{ 40002, 0x10, 0x80000010u, 0, true },	/* across 2^31 (serial numbers) */
	{ 40003, 0x10, 7, 0, false },		/* D: superseded, and its duplicate */
	{ 40003, 0x10, 7, 0, false },		/* too, by the ACK after them */
	{ 40003, 0x10, 9, 0, true },
};
#define NBURST (sizeof(burst) / sizeof(burst[0]))

static struct {
	bool ran;
	char why[256];
	uint64_t resets, coalesced, rx_pkts;
} res;

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

/* Queue a frame in the shard's TX batch (sent to our RX by the next flush). */
static bool put(struct mlw_netif_state *ns, const uint8_t *f, unsigned len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ns->pool);
	char *d = m ? rte_pktmbuf_append(m, (uint16_t)len) : NULL;

	if (d == NULL) {
		rte_pktmbuf_free(m);
		return false;
	}
	memcpy(d, f, len);
	ns->txq->pkts[ns->txq->n++] = m;
	return true;
}

/* A segment from 10.0.0.1:@p s->sport to 10.0.0.2:81 with right checksums. */
static unsigned segment(uint8_t *f, const uint8_t *our_mac, const struct seg *s)
{
	uint8_t *ip = f + 14, *tcp = f + 34;
	unsigned tl = 20 + s->payload;
	uint16_t c;

	memset(f, 0, 54 + s->payload);
	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45, ip[2] = (uint8_t)((20 + tl) >> 8), ip[3] = (uint8_t)(20 + tl), ip[8] = 64, ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	c = (uint16_t)~test_fold(test_sum16(ip, 20, 0));
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	tcp[0] = (uint8_t)(s->sport >> 8), tcp[1] = (uint8_t)s->sport;
	tcp[3] = 81;
	test_put32(tcp + 4, 7000);
	test_put32(tcp + 8, s->ackno);
	tcp[12] = 5 << 4, tcp[13] = s->flags;
	tcp[14] = 0xff, tcp[15] = 0xff;
	c = (uint16_t)~test_fold(test_sum16(tcp, tl, test_sum16(ip + 12, 8, 0) + 6 + tl));
	tcp[16] = (uint8_t)(c >> 8), tcp[17] = (uint8_t)c;
	return 54 + s->payload;
}

static void run(void)
{
	struct netif *nif = test_dpdk_netif();
	struct mlw_shard_stats st0, st1;
	struct mlw_netif_state *ns;
	uint8_t f[256];

	if (nif == NULL) {
		snprintf(res.why, sizeof(res.why), "no DPDK netif");
		return;
	}
	ns = nif->state;
	test_pump_ms(150);	/* start-up frames out, counters published */
	if (mlw_stack_stats(test_stack_current(), 0, &st0) != 0 || ns->txq->n != 0) {
		snprintf(res.why, sizeof(res.why), "no stats, or the TX batch did not drain");
		return;
	}
	for (unsigned i = 0; i < NBURST; i++) {
		if (!put(ns, f, segment(f, nif->hwaddr, &burst[i]))) {
			snprintf(res.why, sizeof(res.why), "no mbuf");
			return;
		}
	}
	mlw__txq_flush(ns->txq);
	if (ns->txq->n != 0) {
		snprintf(res.why, sizeof(res.why), "the ring did not take the burst");
		return;
	}
	test_pump_ms(250);
	if (mlw_stack_stats(test_stack_current(), 0, &st1) != 0) {
		snprintf(res.why, sizeof(res.why), "no stats");
		return;
	}
	res.resets = st1.tcp_resets - st0.tcp_resets;
	res.coalesced = st1.rx_acks_coalesced - st0.rx_acks_coalesced;
	res.rx_pkts = st1.rx_pkts - st0.rx_pkts;
	res.ran = true;
}

static unsigned bad_heaps;

static void test_superseded_acks_dropped(void **state)
{
	unsigned reach = 0;

	(void)state;
	if (!res.ran)
		fail_msg("%s", res.why);
	for (unsigned i = 0; i < NBURST; i++)
		reach += burst[i].reaches_lwip;
	/* lwIP resets every segment for a port nobody listens on. */
	assert_int_equal(res.resets, reach);
	assert_int_equal(res.coalesced, NBURST - reach);
	/* Frames the shard sent itself (resets, ARP) loop back too. */
	assert_true(res.rx_pkts >= NBURST);
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_superseded_acks_dropped),
	};
	int rc = test_stack_run("mlwrxco", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", run,
				&bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("rx_coalesce", tests, NULL, NULL);
}
