/* test_rx_copy.c - received frames are handed to lwIP without copying until the shard holds ZC_OWN of them, then copied into the shard heap so the mbuf pool stays free for the ports.
 *
 * main -> mlw_stack_run(one shard on net_ring0) -> run(): a mempool of
 * its own (the shard's mbuf layout), ZC_OWN + EXTRA frames through
 * mlw__frame_to_pbuf() while lwIP "holds" them all (unread data) -> checks
 * kept in `res` -> pbufs freed -> one more frame -> mlw_stack_stop ->
 * CMocka asserts what the shard saw and that its heap ended empty.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dpdk_netif.h"
#include "lwip/pbuf.h"
#include "mlwip/config.h"
#include "mlwip/stack.h"
#include "test_stack.h"

/* The test stack's limits: the defaults of [stack] rx_zero_copy, and what
 * one shard may hold of another's pool. */
#define ZC_OWN	MLW_CONFIG_RX_ZERO_COPY_DEFAULT
#define ZC_FWD	(ZC_OWN < 512u ? ZC_OWN : 512u)
#define EXTRA	100		/* frames past the zero-copy limit */
#define NFRAMES	(ZC_OWN + EXTRA)
#define FRAME	200		/* bytes per frame */

static struct {
	bool ran;
	char why[256];
	unsigned zero_copy, copied;	/* pbufs of each kind */
	unsigned held_at_peak;		/* mlw__rx_zc_held() with all held */
	unsigned mbufs_at_peak;		/* pool mbufs in use with all held */
	uint64_t copied_count;		/* mlw__rx_copied() difference */
	unsigned bad_payload;		/* frames whose bytes differ */
	unsigned held_after, mbufs_after;	/* after freeing every pbuf */
	bool zero_copy_again;		/* the next frame is zero-copy again */
	unsigned fwd_zero_copy;		/* forwarded frames kept zero-copy */
	unsigned fwd_held, fwd_own_held, fwd_mbufs, fwd_held_after;
} res;

static struct pbuf *pb[NFRAMES];

static uint8_t pat(unsigned frame, unsigned off)
{
	return (uint8_t)(frame * 31u + off);
}

/* A frame of FRAME bytes from @p pool, through the RX hand-over, as if
 * from shard @p from's pool (0: this shard's own; 1: forwarded). */
static struct pbuf *receive(struct rte_mempool *pool, unsigned frame, unsigned from)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *d;

	if (m == NULL || (d = (uint8_t *)rte_pktmbuf_append(m, FRAME)) == NULL) {
		snprintf(res.why, sizeof(res.why), "no mbuf for frame %u", frame);
		return NULL;
	}
	for (unsigned i = 0; i < FRAME; i++)
		d[i] = pat(frame, i);
	return mlw__frame_to_pbuf(m, from);
}

static void run(void)
{
	struct rte_mempool *pool;
	uint64_t copied0 = mlw__rx_copied();
	struct pbuf *p;

	pool = rte_pktmbuf_pool_create("mlw_test_rxc", NFRAMES + 64, 0, MLW_MBUF_PRIV_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		snprintf(res.why, sizeof(res.why), "mempool: %s", rte_strerror(rte_errno));
		return;
	}
	for (unsigned i = 0; i < NFRAMES; i++) {
		pb[i] = receive(pool, i, 0);
		if (pb[i] == NULL) {
			if (res.why[0] == '\0')
				snprintf(res.why, sizeof(res.why), "frame %u: no pbuf", i);
			goto out;
		}
		if (pb[i]->flags & PBUF_FLAG_IS_CUSTOM)
			res.zero_copy++;
		else
			res.copied++;
		if (pb[i]->tot_len != FRAME || pb[i]->len != FRAME) {
			res.bad_payload++;
			continue;
		}
		for (unsigned j = 0; j < FRAME; j++)
			if (((const uint8_t *)pb[i]->payload)[j] != pat(i, j)) {
				res.bad_payload++;
				break;
			}
	}
	res.held_at_peak = mlw__rx_zc_held(0);
	res.mbufs_at_peak = rte_mempool_in_use_count(pool);
	res.copied_count = mlw__rx_copied() - copied0;
	for (unsigned i = 0; i < NFRAMES; i++) {
		pbuf_free(pb[i]);
		pb[i] = NULL;
	}
	res.held_after = mlw__rx_zc_held(0);
	res.mbufs_after = rte_mempool_in_use_count(pool);
	p = receive(pool, 0, 0);
	if (p != NULL) {
		res.zero_copy_again = (p->flags & PBUF_FLAG_IS_CUSTOM) != 0;
		pbuf_free(p);
	}
	/* Frames of another shard's pool (forwarded to this one): counted
	 * against that pool, of which this shard holds at most ZC_FWD, even
	 * though it holds nothing of its own. */
	for (unsigned i = 0; i < ZC_FWD + EXTRA; i++) {
		pb[i] = receive(pool, i, 1);
		if (pb[i] == NULL)
			goto out;
		if (pb[i]->flags & PBUF_FLAG_IS_CUSTOM)
			res.fwd_zero_copy++;
	}
	res.fwd_held = mlw__rx_zc_held(1);
	res.fwd_own_held = mlw__rx_zc_held(0);
	res.fwd_mbufs = rte_mempool_in_use_count(pool);
	for (unsigned i = 0; i < ZC_FWD + EXTRA; i++) {
		pbuf_free(pb[i]);
		pb[i] = NULL;
	}
	res.fwd_held_after = mlw__rx_zc_held(1);
	res.ran = true;
out:
	for (unsigned i = 0; i < NFRAMES; i++)
		if (pb[i] != NULL)
			pbuf_free(pb[i]);
	rte_mempool_free(pool);
}

static unsigned bad_heaps;

static void test_zero_copy_up_to_the_limit(void **state)
{
	(void)state;
	if (!res.ran)
		fail_msg("%s", res.why);
	assert_int_equal(res.zero_copy, ZC_OWN);
	assert_int_equal(res.held_at_peak, ZC_OWN);
}

static void test_copied_past_the_limit(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.copied, EXTRA);
	assert_int_equal(res.copied_count, EXTRA);
	/* The copies gave their mbufs back at once. */
	assert_int_equal(res.mbufs_at_peak, ZC_OWN);
	assert_int_equal(res.bad_payload, 0);
}

static void test_recovers(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.held_after, 0);
	assert_int_equal(res.mbufs_after, 0);
	assert_true(res.zero_copy_again);
	assert_int_equal(bad_heaps, 0);
}

static void test_forwarded_count_against_their_pool(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.fwd_zero_copy, ZC_FWD);
	assert_int_equal(res.fwd_held, ZC_FWD);
	assert_int_equal(res.fwd_own_held, 0);
	assert_int_equal(res.fwd_mbufs, ZC_FWD);
	assert_int_equal(res.fwd_held_after, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_copy_up_to_the_limit),
		cmocka_unit_test(test_copied_past_the_limit),
		cmocka_unit_test(test_recovers),
		cmocka_unit_test(test_forwarded_count_against_their_pool),
	};
	int rc = test_stack_run("mlwrxc", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", run,
				&bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("rx_copy", tests, NULL, NULL);
}
