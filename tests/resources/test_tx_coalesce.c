/* test_tx_coalesce.c - a pure ACK replaces the last waiting ACK of its connection in the TX batch when it acknowledges more; duplicate ACKs, other connections and other frames are all sent.
 *
 * main -> test_stack_run(one shard on net_ring0, whose TX ring loops back to
 * its RX ring) -> run(): with the batch flushed and nothing polled, frames
 * straight into the port's linkoutput: ACKs of two connections (advancing,
 * repeated, and going back), a data segment, a SYN -> the batch (q->pkts)
 * as it is then -> polling until it is sent -> CMocka asserts. The frames
 * are addressed to 10.0.0.99 (not the shard's), so lwIP drops them when
 * they loop back.
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

#define MAX_SEEN 16

/* What linkoutput is given, in order: source port, TCP flags, ack number,
 * payload bytes. */
static const struct step {
	uint16_t sport;
	uint8_t flags;
	uint32_t ackno;
	unsigned payload;
} steps[] = {
	{ 40000, 0x10, 10, 0 },		/* A acks 10                  -> slot 0 */
	{ 40001, 0x10, 500, 0 },	/* B acks 500                 -> slot 1 */
	{ 40000, 0x10, 20, 0 },		/* A acks 20: replaces slot 0 */
	{ 40000, 0x10, 20, 0 },		/* A duplicate of 20          -> slot 2 */
	{ 40000, 0x18, 30, 100 },	/* A data (acks 30)           -> slot 3 */
	{ 40000, 0x10, 30, 0 },		/* A acks 30: replaces slot 2 */
	{ 40001, 0x10, 400, 0 },	/* B goes back to 400         -> slot 4 */
	{ 40001, 0x12, 600, 0 },	/* B SYN+ACK                  -> slot 5 */
	{ 40001, 0x10, 0x80000010u, 0 },/* B acks 2^31 + 16 after 400 -> replaces slot 4 */
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

/* The batch expected afterwards: source port, flags, ack number. */
static const struct step want[] = {
	{ 40000, 0x10, 20, 0 }, { 40001, 0x10, 500, 0 }, { 40000, 0x10, 30, 0 },
	{ 40000, 0x18, 30, 100 }, { 40001, 0x10, 0x80000010u, 0 }, { 40001, 0x12, 600, 0 },
};
#define NWANT (sizeof(want) / sizeof(want[0]))

static struct {
	bool ran;
	char why[256];
	int rc[NSTEPS];
	unsigned n;			/* frames in the batch afterwards */
	struct step seen[MAX_SEEN];
	uint64_t coalesced, drops;
	bool drained;
} res;

/* Ethernet + IPv4 + TCP from 10.0.0.2:@p s->sport to 10.0.0.99:80.
 * Checksums are left zero: nobody checks them here. */
static struct pbuf *tcp_frame(const struct step *s)
{
	unsigned len = 14 + 20 + 20 + s->payload;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	uint8_t *f;

	if (p == NULL)
		return NULL;
	f = p->payload;
	memset(f, 0, len);
	memcpy(f, "\x02\x00\x00\x00\x00\x63\x02\x00\x00\x00\x00\x02\x08\x00", 14);
	f[14] = 0x45;
	f[16] = (uint8_t)((len - 14) >> 8), f[17] = (uint8_t)(len - 14);
	f[22] = 64, f[23] = 6;
	memcpy(f + 26, "\x0a\x00\x00\x02\x0a\x00\x00\x63", 8);
	f[34] = (uint8_t)(s->sport >> 8), f[35] = (uint8_t)s->sport;
	f[37] = 80;
	test_put32(f + 38, 1000);
	test_put32(f + 42, s->ackno);
	f[46] = 5 << 4;
	f[47] = s->flags;
	f[48] = 0xff, f[49] = 0xff;
	return p;
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

		res.seen[i].sport = (uint16_t)(f[34] << 8 | f[35]);
		res.seen[i].flags = f[47];
		res.seen[i].ackno = test_get32(f + 42);
		res.seen[i].payload = q->pkts[i]->data_len - 54u;
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
