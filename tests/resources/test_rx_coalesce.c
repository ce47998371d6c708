/* test_rx_coalesce.c - in one received burst, a pure ACK that a later ACK of the same connection supersedes never reaches lwIP; duplicate ACKs, ACKs whose SACK blocks or timestamp the later one does not carry on, other connections and data do.
 *
 * main -> test_stack_run(one shard on net_ring0, whose TX ring loops back
 * to its RX ring) -> run() on the shard: an ARP request from 10.0.0.1 into
 * lwIP (so it can answer at once) -> per round, one burst of ACKs and data
 * from 10.0.0.1 to 10.0.0.2:81, where nothing listens, handed to the TX
 * ring at once, so the shard receives them in one RX burst -> lwIP answers
 * each segment it gets with a reset whose sequence number is the segment's
 * ack number (lwip-port/tcp_rst.c), read off the ring before the shard's
 * RX sees it -> CMocka compares the resets (per connection and ack number)
 * and the rx_acks_coalesced counter with what coalescing leaves. Two
 * rounds, as coalescing follows at most 8 connections per burst.
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
#include "lwip/pbuf.h"
#include "mlwip/stack.h"
#include "test_frame.h"
#include "test_stack.h"

/* In the order sent: source port, TCP flags, ack number, payload bytes,
 * whether lwIP gets it; its options: TSval (0: no timestamps option),
 * SACK blocks. */
struct seg {
	uint16_t sport;
	uint8_t flags;
	uint32_t ackno;
	unsigned payload;
	bool reaches_lwip;
	struct {
		uint32_t tsval;
		unsigned nsack;
		uint32_t sack[2][2];
	} o;
};

static const struct seg round0[] = {
	{ 40000, 0x10, 10, 0, false, { 0 } },	/* A acks 10: A's 20 below acks more */
	{ 40001, 0x10, 500, 0, true, { 0 } },	/* B acks 500: B's later one acks less */
	{ 40000, 0x10, 20, 0, true, { 0 } },	/* A acks 20, then */
	{ 40000, 0x10, 20, 0, true, { 0 } },	/* a duplicate: equal, both kept */
	{ 40000, 0x18, 25, 100, true, { 0 } },	/* A data: never dropped */
	{ 40001, 0x10, 400, 0, true, { 0 } },	/* B goes back to 400 */
	{ 40002, 0x10, 0x7ffffff0u, 0, false, { 0 } },	/* C: the next one is 0x20 ahead, */
	{ 40002, 0x10, 0x80000010u, 0, true, { 0 } },	/* across 2^31 (serial numbers) */
	{ 40003, 0x10, 7, 0, false, { 0 } },	/* D: superseded, and its duplicate */
	{ 40003, 0x10, 7, 0, false, { 0 } },	/* too, by the ACK after them */
	{ 40003, 0x10, 9, 0, true, { 0 } },
};

/* Timestamps and SACK. */
static const struct seg round1[] = {
	/* E: 40-50 is covered by the last ACK, 20-30 is not. */
	{ 40004, 0x10, 10, 0, true, { .tsval = 5, .nsack = 1, .sack = { { 20, 30 } } } },
	{ 40004, 0x10, 12, 0, false, { .tsval = 6, .nsack = 1, .sack = { { 40, 50 } } } },
	{ 40004, 0x10, 15, 0, true, { .tsval = 7, .nsack = 1, .sack = { { 40, 60 } } } },
	/* F: the later ACK has an older TSval. */
	{ 40005, 0x10, 10, 0, true, { .tsval = 9 } },
	{ 40005, 0x10, 11, 0, true, { .tsval = 8 } },
	/* G: timestamps, then none. */
	{ 40006, 0x10, 10, 0, true, { .tsval = 3 } },
	{ 40006, 0x10, 11, 0, true, { 0 } },
	/* H: a D-SACK (below its own ack number) is kept. */
	{ 40007, 0x10, 100, 0, true, { .tsval = 1, .nsack = 1, .sack = { { 50, 60 } } } },
	{ 40007, 0x10, 120, 0, true, { .tsval = 2 } },
	/* I: a longer later ACK (timestamps and a block) supersedes. */
	{ 40008, 0x10, 10, 0, false, { .tsval = 1 } },
	{ 40008, 0x10, 20, 0, true, { .tsval = 2, .nsack = 1, .sack = { { 30, 40 } } } },
	/* J: equal ack numbers with new SACK information: both kept. */
	{ 40009, 0x10, 10, 0, true, { .tsval = 1, .nsack = 1, .sack = { { 20, 30 } } } },
	{ 40009, 0x10, 10, 0, true, { .tsval = 2, .nsack = 2, .sack = { { 40, 50 }, { 20, 30 } } } },
	/* K: the later ACK repeats the block and acknowledges more. */
	{ 40010, 0x10, 10, 0, false, { .tsval = 1, .nsack = 2, .sack = { { 40, 50 }, { 20, 30 } } } },
	{ 40010, 0x10, 30, 0, true, { .tsval = 2, .nsack = 1, .sack = { { 40, 50 } } } },
};

static const struct {
	const struct seg *segs;
	unsigned n;
} rounds[] = {
	{ round0, sizeof(round0) / sizeof(round0[0]) },
	{ round1, sizeof(round1) / sizeof(round1[0]) },
};
#define NROUNDS (sizeof(rounds) / sizeof(rounds[0]))
#define MAX_RST 64

static struct {
	bool ran;
	char why[256];
	uint64_t coalesced[NROUNDS], rx_pkts[NROUNDS];
	unsigned nrst[NROUNDS];
	struct {
		uint16_t port;
		uint32_t seq;
	} rst[NROUNDS][MAX_RST];
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

/* A segment from 10.0.0.1:@p s->sport to 10.0.0.2:81, into the TX batch. */
static bool put_segment(struct mlw_netif_state *ns, const uint8_t *our_mac, const struct seg *s)
{
	uint8_t opts[40];
	unsigned optlen = test_tcp_ack_opts(opts, s->o.tsval != 0, s->o.tsval, 0, s->o.sack, s->o.nsack);
	struct pbuf *p = test_tcp4_frame(our_mac, peer_mac, "10.0.0.1", s->sport, "10.0.0.2", 81, s->flags,
					 7000, s->ackno, 0xffff, opts, optlen, s->payload);
	bool ok = p != NULL && put(ns, p->payload, p->len);

	if (p != NULL)
		pbuf_free(p);
	return ok;
}

/* 10.0.0.1 asks for 10.0.0.2: lwIP learns its address and sends resets at once. */
static void peer_arp(struct netif *nif)
{
	uint8_t f[42];

	test_netif_receive(nif, f, test_arp_request(f, peer_mac, "10.0.0.1", "10.0.0.2"));
}

/* Take what the shard sent off the ring; record its resets from port 81. */
static void wire_read(struct mlw_txq *q, unsigned r)
{
	struct rte_mbuf *pkts[64];
	uint16_t n;

	while ((n = mlw__rx_burst(q->port_id, q->queue_id, pkts, 64)) > 0) {
		for (uint16_t i = 0; i < n; i++) {
			const uint8_t *f = rte_pktmbuf_mtod(pkts[i], const uint8_t *);

			if (pkts[i]->data_len >= 54 && test_get16(f + 12) == 0x0800 && f[23] == 6 &&
			    test_get16(f + 34) == 81 && (f[47] & 0x04) && res.nrst[r] < MAX_RST) {
				res.rst[r][res.nrst[r]].port = test_get16(f + 36);
				res.rst[r][res.nrst[r]].seq = test_get32(f + 38);
				res.nrst[r]++;
			}
			rte_pktmbuf_free(pkts[i]);
		}
	}
}

static void run(void)
{
	struct netif *nif = test_dpdk_netif();
	struct mlw_netif_state *ns;

	if (nif == NULL) {
		snprintf(res.why, sizeof(res.why), "no DPDK netif");
		return;
	}
	ns = nif->state;
	peer_arp(nif);
	test_pump_ms(150);	/* start-up frames and the ARP reply out, counters published */
	for (unsigned r = 0; r < NROUNDS; r++) {
		struct mlw_shard_stats st0, st1;

		test_pump_ms(120);	/* counters published again */
		if (mlw_stack_stats(test_stack_current(), 0, &st0) != 0 || ns->txq->n != 0) {
			snprintf(res.why, sizeof(res.why), "no stats, or the TX batch did not drain");
			return;
		}
		for (unsigned i = 0; i < rounds[r].n; i++) {
			if (!put_segment(ns, nif->hwaddr, &rounds[r].segs[i])) {
				snprintf(res.why, sizeof(res.why), "no mbuf");
				return;
			}
		}
		mlw__txq_flush(ns->txq);
		if (ns->txq->n != 0) {
			snprintf(res.why, sizeof(res.why), "the ring did not take the burst");
			return;
		}
		/* The shard takes the burst, lwIP answers; the answers are
		 * taken off the ring before the shard could receive them. */
		for (int64_t end = test_now_ms() + 250; test_now_ms() < end;) {
			mlw_shard_poll();
			wire_read(ns->txq, r);
		}
		if (mlw_stack_stats(test_stack_current(), 0, &st1) != 0) {
			snprintf(res.why, sizeof(res.why), "no stats");
			return;
		}
		res.coalesced[r] = st1.rx_acks_coalesced - st0.rx_acks_coalesced;
		res.rx_pkts[r] = st1.rx_pkts - st0.rx_pkts;
	}
	res.ran = true;
}

static unsigned bad_heaps;

/* Each segment that reaches lwIP gets a reset with its ack number as the
 * sequence number; each of the others is counted as coalesced. */
static void check_round(unsigned r)
{
	const struct seg *s = rounds[r].segs;
	unsigned reach = 0;

	if (!res.ran)
		fail_msg("%s", res.why);
	for (unsigned i = 0; i < rounds[r].n; i++) {
		unsigned want = 0, got = 0;

		reach += s[i].reaches_lwip;
		for (unsigned k = 0; k < rounds[r].n; k++)
			want += s[k].sport == s[i].sport && s[k].ackno == s[i].ackno && s[k].reaches_lwip;
		for (unsigned k = 0; k < res.nrst[r]; k++)
			got += res.rst[r][k].port == s[i].sport && res.rst[r][k].seq == s[i].ackno;
		if (got != want)
			fail_msg("round %u: port %u ack %u: %u resets, want %u", r, s[i].sport, s[i].ackno,
				 got, want);
	}
	assert_int_equal(res.nrst[r], reach);
	assert_int_equal(res.coalesced[r], rounds[r].n - reach);
	assert_int_equal(res.rx_pkts[r], rounds[r].n);
}

static void test_superseded_acks_dropped(void **state)
{
	(void)state;
	check_round(0);
}

static void test_sack_and_timestamps_kept(void **state)
{
	(void)state;
	check_round(1);
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_superseded_acks_dropped),
		cmocka_unit_test(test_sack_and_timestamps_kept),
		cmocka_unit_test(test_no_leak),
	};
	int rc = test_stack_run("mlwrxco", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", run,
				&bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("rx_coalesce", tests, NULL, NULL);
}
