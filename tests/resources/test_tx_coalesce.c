/* test_tx_coalesce.c - a pure ACK replaces the last waiting ACK of its connection in the TX batch when it supersedes it (acknowledges more, repeats its SACK blocks, a timestamp not older); duplicate ACKs, ACKs whose SACK blocks the newer one drops, D-SACKs, unknown options, other connections and other frames are all sent.
 *
 * main -> test_stack_run(one shard on net_ring0, whose TX ring loops back to
 * its RX ring) -> run(): with the batch flushed and nothing polled, frames
 * straight into the port's linkoutput: ACKs of several connections
 * (advancing, repeated, going back; with timestamps and SACK blocks), a
 * data segment, a SYN -> the batch (q->pkts) as it is then -> polling until
 * it is sent -> CMocka asserts. The frames are addressed to 10.0.0.99 (not
 * the shard's), so lwIP drops them when they loop back.
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

#define MAX_SEEN 32

/* What linkoutput is given, in order: source port, TCP flags, ack number,
 * payload bytes; its options: TSval (0: no timestamps option), SACK
 * blocks, or an option of unknown kind (30, 4 bytes) instead. */
static const struct step {
	uint16_t sport;
	uint8_t flags;
	uint32_t ackno;
	unsigned payload;
	struct {
		uint32_t tsval;
		unsigned nsack;
		uint32_t sack[2][2];
		bool odd;
	} o;
} steps[] = {
	{ 40000, 0x10, 10, 0, { 0 } },		/* A acks 10                  -> slot 0 */
	{ 40001, 0x10, 500, 0, { 0 } },		/* B acks 500                 -> slot 1 */
	{ 40000, 0x10, 20, 0, { 0 } },		/* A acks 20: replaces slot 0 */
	{ 40000, 0x10, 20, 0, { 0 } },		/* A duplicate of 20          -> slot 2 */
	{ 40000, 0x18, 30, 100, { 0 } },	/* A data (acks 30)           -> slot 3 */
	{ 40000, 0x10, 30, 0, { 0 } },		/* A acks 30: replaces slot 2 */
	{ 40001, 0x10, 400, 0, { 0 } },		/* B goes back to 400         -> slot 4 */
	{ 40001, 0x12, 600, 0, { 0 } },		/* B SYN+ACK                  -> slot 5 */
	{ 40001, 0x10, 0x80000010u, 0, { 0 } },	/* B acks 2^31 + 16 after 400 -> replaces slot 4 */
	/* C, timestamps and SACK. */
	{ 40002, 0x10, 100, 0, { .tsval = 1 } },	/* acks 100           -> slot 6 */
	{ 40002, 0x10, 100, 0, { .tsval = 2, .nsack = 1, .sack = { { 200, 300 } } } },	/* a block -> 7 */
	{ 40002, 0x10, 150, 0, { .tsval = 3, .nsack = 1, .sack = { { 200, 300 } } } },	/* replaces 7 */
	{ 40002, 0x10, 150, 0, { .tsval = 4, .nsack = 2, .sack = { { 400, 500 }, { 200, 300 } } } },	/* -> 8 */
	{ 40002, 0x10, 160, 0, { .tsval = 5, .nsack = 1, .sack = { { 400, 500 } } } },	/* drops 200-300 -> 9 */
	{ 40002, 0x10, 350, 0, { .tsval = 6, .nsack = 1, .sack = { { 400, 500 } } } },	/* replaces 9 */
	{ 40002, 0x10, 400, 0, { .tsval = 5 } },	/* an older TSval     -> slot 10 */
	{ 40002, 0x10, 450, 0, { 0 } },		/* no timestamps after some   -> slot 11 */
	/* D: a D-SACK (below its ack number) is never replaced. */
	{ 40003, 0x10, 1000, 0, { .tsval = 1, .nsack = 1, .sack = { { 500, 600 } } } },	/* -> 12 */
	{ 40003, 0x10, 1100, 0, { .tsval = 2 } },	/*                    -> slot 13 */
	/* E: a longer frame replaces a shorter one. */
	{ 40004, 0x10, 10, 0, { .tsval = 1 } },		/*                    -> slot 14 */
	{ 40004, 0x10, 20, 0, { .tsval = 2, .nsack = 1, .sack = { { 30, 40 } } } },	/* replaces 14 */
	/* F: an ACK with an unknown option stays. */
	{ 40005, 0x10, 10, 0, { .odd = true } },	/*                    -> slot 15 */
	{ 40005, 0x10, 20, 0, { .tsval = 1 } },		/*                    -> slot 16 */
	/* G: timestamps only, a newer TSval, then the same TSval. */
	{ 40006, 0x10, 10, 0, { .tsval = 1 } },		/*                    -> slot 17 */
	{ 40006, 0x10, 20, 0, { .tsval = 2 } },		/* replaces slot 17 */
	{ 40006, 0x10, 30, 0, { .tsval = 2 } },		/* replaces slot 17 */
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

/* The batch expected afterwards: source port, flags, ack number, payload,
 * TSval (0: none). */
struct seen {
	uint16_t sport;
	uint8_t flags;
	uint32_t ackno;
	unsigned payload;
	uint32_t tsval;
};
static const struct seen want[] = {
	{ 40000, 0x10, 20, 0, 0 }, { 40001, 0x10, 500, 0, 0 }, { 40000, 0x10, 30, 0, 0 },
	{ 40000, 0x18, 30, 100, 0 }, { 40001, 0x10, 0x80000010u, 0, 0 }, { 40001, 0x12, 600, 0, 0 },
	{ 40002, 0x10, 100, 0, 1 }, { 40002, 0x10, 150, 0, 3 }, { 40002, 0x10, 150, 0, 4 },
	{ 40002, 0x10, 350, 0, 6 }, { 40002, 0x10, 400, 0, 5 }, { 40002, 0x10, 450, 0, 0 },
	{ 40003, 0x10, 1000, 0, 1 }, { 40003, 0x10, 1100, 0, 2 }, { 40004, 0x10, 20, 0, 2 },
	{ 40005, 0x10, 10, 0, 0 }, { 40005, 0x10, 20, 0, 1 }, { 40006, 0x10, 30, 0, 2 },
};
#define NWANT (sizeof(want) / sizeof(want[0]))

static struct {
	bool ran;
	char why[256];
	int rc[NSTEPS];
	unsigned n;			/* frames in the batch afterwards */
	struct seen seen[MAX_SEEN];
	uint64_t coalesced, drops;
	bool drained;
} res;

/* Ethernet + IPv4 + TCP from 10.0.0.2:@p s->sport to 10.0.0.99:80. */
static struct pbuf *tcp_frame(const struct step *s)
{
	static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 0x63 }, our_mac[6] = { 2, 0, 0, 0, 0, 2 };
	uint8_t opts[40] = { 30, 4, 0, 0 };
	unsigned optlen = s->o.odd ? 4 : test_tcp_ack_opts(opts, s->o.tsval != 0, s->o.tsval, 7, s->o.sack,
							     s->o.nsack);

	return test_tcp4_frame(peer_mac, our_mac, "10.0.0.2", s->sport, "10.0.0.99", 80, s->flags, 1000,
			       s->ackno, 0xffff, opts, optlen, s->payload);
}

static void run(void)
{
	struct netif *nif = test_dpdk_netif();
	struct mlw_txq *q;
	int64_t end;

	if (nif == NULL) {
		snprintf(res.why, sizeof(res.why), "no DPDK netif");
		return;
	}
	q = ((struct mlw_netif_state *)nif->state)->txq;
	/* Start from an empty batch (the netif's own start-up frames). */
	end = test_now_ms() + 2000;
	while (q->n > 0 && test_now_ms() < end)
		mlw__txq_flush(q);
	if (q->n > 0) {
		snprintf(res.why, sizeof(res.why), "the batch did not drain");
		return;
	}
	res.coalesced = q->ack_coalesced;
	res.drops = q->tx_drops;
	for (unsigned i = 0; i < NSTEPS; i++) {
		struct pbuf *p = tcp_frame(&steps[i]);

		res.rc[i] = p != NULL ? nif->linkoutput(nif, p) : -100;
		pbuf_free(p);
	}
	res.n = q->n;
	for (unsigned i = 0; i < q->n && i < MAX_SEEN; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(q->pkts[i], const uint8_t *);

		const uint8_t *ts = test_tcp_opt(f + 34, 8);

		res.seen[i].sport = (uint16_t)(f[34] << 8 | f[35]);
		res.seen[i].flags = f[47];
		res.seen[i].ackno = test_get32(f + 42);
		res.seen[i].payload = q->pkts[i]->data_len - 34u - (f[46] >> 4) * 4u;
		res.seen[i].tsval = ts != NULL ? test_get32(ts + 2) : 0;
	}
	res.coalesced = q->ack_coalesced - res.coalesced;
	res.drops = q->tx_drops - res.drops;
	end = test_now_ms() + 5000;
	while (q->n > 0 && test_now_ms() < end)
		test_pump();
	res.drained = q->n == 0 && q->ack_slots == 0;
	res.ran = true;
}

static unsigned bad_heaps;

static void test_all_accepted(void **state)
{
	(void)state;
	if (!res.ran)
		fail_msg("%s", res.why);
	for (unsigned i = 0; i < NSTEPS; i++)
		assert_int_equal(res.rc[i], ERR_OK);
	assert_int_equal(res.drops, 0);
}

static void test_batch_after_coalescing(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.n, NWANT);
	assert_int_equal(res.coalesced, NSTEPS - NWANT);
	for (unsigned i = 0; i < NWANT; i++) {
		assert_int_equal(res.seen[i].sport, want[i].sport);
		assert_int_equal(res.seen[i].flags, want[i].flags);
		assert_int_equal(res.seen[i].ackno, want[i].ackno);
		assert_int_equal(res.seen[i].payload, want[i].payload);
		assert_int_equal(res.seen[i].tsval, want[i].tsval);
	}
}

static void test_batch_leaves(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_true(res.drained);
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_accepted),
		cmocka_unit_test(test_batch_after_coalescing),
		cmocka_unit_test(test_batch_leaves),
	};
	int rc = test_stack_run("mlwcoal", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", run,
				&bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("tx_coalesce", tests, NULL, NULL);
}
