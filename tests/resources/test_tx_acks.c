/* test_tx_acks.c - with the port backed up, pure ACKs are not refused: the newest per connection waits beside the TX queue and goes out once the queue drains; other frames are refused as before.
 *
 * main -> mlw_stack_run(one shard on net_ring0, whose TX ring loops back to
 * its RX ring) -> run(): without polling, junk frames through the
 * port's linkoutput until the ring and the queue are full -> pure ACKs of
 * two connections, a SYN and a big frame -> checks -> polling until every
 * kept ACK left -> mlw_stack_stop -> CMocka asserts what the shard saw.
 * The looped-back frames are addressed to 10.0.0.99 (not the shard's), so
 * lwIP drops them.
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
#include "test_stack.h"

#define ACKS_PER_FLOW	5
#define MAX_FILL	100000	/* frames tried before giving up on filling the port */

static struct {
	bool ran;
	char why[256];
	unsigned filled_with;		/* junk frames taken before the first refusal */
	int ack_rc[2][ACKS_PER_FLOW];	/* linkoutput's answers to the ACKs */
	uint64_t drops_before, drops_after_acks;
	unsigned kept;			/* ACKs waiting */
	uint64_t merged;
	uint32_t kept_ackno[2];		/* ack numbers of the kept ones */
	int syn_rc, big_rc;
	uint64_t drops_after_others;
	bool drained;			/* every kept ACK left within 5 s */
} res;


static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* An Ethernet + IPv4 + TCP frame from 10.0.0.2:@p sport to 10.0.0.99:80
 * with @p flags, @p ackno and @p payload bytes of data. Checksums are not
 * filled in: nobody checks them here. */
static struct pbuf *tcp_frame(uint16_t sport, uint8_t flags, uint32_t ackno, unsigned payload)
{
	unsigned len = 14 + 20 + 20 + payload;
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
	f[34] = (uint8_t)(sport >> 8), f[35] = (uint8_t)sport;
	f[37] = 80;
	put32(f + 38, 1000);
	put32(f + 42, ackno);
	f[46] = 5 << 4;
	f[47] = flags;
	f[48] = 0xff, f[49] = 0xff;
	return p;
}

static int send_frame(struct netif *nif, struct pbuf *p)
{
	int rc = p != NULL ? nif->linkoutput(nif, p) : -100;

	pbuf_free(p);
	return rc;
}

static uint32_t ackno_of(struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);

	return (uint32_t)f[42] << 24 | (uint32_t)f[43] << 16 | (uint32_t)f[44] << 8 | f[45];
}

static void run(void)
{
	struct netif *nif;
	struct mlw_txq *q;
	int64_t end;

	nif = test_dpdk_netif();
	if (nif == NULL) {
		snprintf(res.why, sizeof(res.why), "no DPDK netif");
		return;
	}
	q = ((struct mlw_netif_state *)nif->state)->txq;
	res.drops_before = q->tx_drops;
	while (q->tx_drops == res.drops_before && res.filled_with < MAX_FILL) {
		struct pbuf *p = pbuf_alloc(PBUF_RAW, 1000, PBUF_RAM);

		if (p == NULL)
			break;
		memset(p->payload, 0, 1000);
		((uint8_t *)p->payload)[12] = 0x88, ((uint8_t *)p->payload)[13] = 0xb5;
		if (send_frame(nif, p) == ERR_OK)
			res.filled_with++;
	}
	if (q->tx_drops == res.drops_before) {
		snprintf(res.why, sizeof(res.why), "the port took %u frames without filling up",
			 res.filled_with);
		return;
	}
	res.drops_before = q->tx_drops;
	for (unsigned i = 0; i < ACKS_PER_FLOW; i++)
		for (unsigned fl = 0; fl < 2; fl++)
			res.ack_rc[fl][i] = send_frame(nif, tcp_frame((uint16_t)(40000 + fl), 0x10,
								  100 * fl + i, 0));
	res.drops_after_acks = q->tx_drops;
	res.kept = q->nacks;
	res.merged = q->ack_merged;
	for (unsigned i = 0; i < q->nacks && i < 2; i++)
		res.kept_ackno[i] = ackno_of(q->acks[i]);
	res.syn_rc = send_frame(nif, tcp_frame(40002, 0x02, 0, 0));
	res.big_rc = send_frame(nif, tcp_frame(40000, 0x10, 7, 100));
	res.drops_after_others = q->tx_drops;
	end = test_now_ms() + 5000;
	while ((q->n > 0 || q->nacks > 0) && test_now_ms() < end)
		test_pump();
	res.drained = q->n == 0 && q->nacks == 0;
	res.ran = true;
}

static unsigned bad_heaps;

static void test_acks_kept_not_refused(void **state)
{
	(void)state;
	if (!res.ran)
		fail_msg("%s", res.why);
	for (unsigned fl = 0; fl < 2; fl++)
		for (unsigned i = 0; i < ACKS_PER_FLOW; i++)
			assert_int_equal(res.ack_rc[fl][i], ERR_OK);
	assert_int_equal(res.drops_after_acks, res.drops_before);
}

static void test_newest_ack_per_connection(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.kept, 2);
	assert_int_equal(res.merged, 2 * (ACKS_PER_FLOW - 1));
	assert_int_equal(res.kept_ackno[0], ACKS_PER_FLOW - 1);
	assert_int_equal(res.kept_ackno[1], 100 + ACKS_PER_FLOW - 1);
}

static void test_other_frames_refused(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.syn_rc, ERR_MEM);
	assert_int_equal(res.big_rc, ERR_MEM);
	assert_int_equal(res.drops_after_others, res.drops_after_acks + 2);
}

static void test_kept_acks_leave(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_true(res.drained);
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acks_kept_not_refused),
		cmocka_unit_test(test_newest_ack_per_connection),
		cmocka_unit_test(test_other_frames_refused),
		cmocka_unit_test(test_kept_acks_leave),
	};
	int rc = test_stack_run("mlwacks", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", run,
				&bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("tx_acks", tests, NULL, NULL);
}
