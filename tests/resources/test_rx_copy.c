/* test_rx_copy.c - received frames are handed to lwIP without copying until the shard holds MLW_RX_ZC_MAX of them, then copied into the shard heap so the mbuf pool stays free for the ports.
 *
 * main -> mlw_stack_run(one shard on net_ring0) -> run(): a mempool of
 * its own (the shard's mbuf layout), MLW_RX_ZC_MAX + EXTRA frames through
 * mlw__mbuf_to_pbuf() while lwIP "holds" them all (unread data) -> checks
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
#include "mlwip/stack.h"
#include "test_stack.h"

#define EXTRA	100		/* frames past the zero-copy limit */
#define NFRAMES	(MLW_RX_ZC_MAX + EXTRA)
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
} res;

static struct pbuf *pb[NFRAMES];

static uint8_t pat(unsigned frame, unsigned off)
{
	return (uint8_t)(frame * 31u + off);
}

/* A frame of FRAME bytes from @p pool, through the RX hand-over. */
static struct pbuf *receive(struct rte_mempool *pool, unsigned frame)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *d;

	if (m == NULL || (d = (uint8_t *)rte_pktmbuf_append(m, FRAME)) == NULL) {
		snprintf(res.why, sizeof(res.why), "no mbuf for frame %u", frame);
		return NULL;
	}
	for (unsigned i = 0; i < FRAME; i++)
		d[i] = pat(frame, i);
	return mlw__mbuf_to_pbuf(m);
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
		pb[i] = receive(pool, i);
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
	res.held_at_peak = mlw__rx_zc_held();
	res.mbufs_at_peak = rte_mempool_in_use_count(pool);
	res.copied_count = mlw__rx_copied() - copied0;
	for (unsigned i = 0; i < NFRAMES; i++) {
		pbuf_free(pb[i]);
		pb[i] = NULL;
	}
	res.held_after = mlw__rx_zc_held();
	res.mbufs_after = rte_mempool_in_use_count(pool);
	p = receive(pool, 0);
	if (p != NULL) {
		res.zero_copy_again = (p->flags & PBUF_FLAG_IS_CUSTOM) != 0;
		pbuf_free(p);
	}
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
	assert_int_equal(res.zero_copy, MLW_RX_ZC_MAX);
	assert_int_equal(res.held_at_peak, MLW_RX_ZC_MAX);
}

static void test_copied_past_the_limit(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.copied, EXTRA);
	assert_int_equal(res.copied_count, EXTRA);
	/* The copies gave their mbufs back at once. */
	assert_int_equal(res.mbufs_at_peak, MLW_RX_ZC_MAX);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_copy_up_to_the_limit),
		cmocka_unit_test(test_copied_past_the_limit),
		cmocka_unit_test(test_recovers),
	};
	int rc = test_stack_run("mlwrxc", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", run,
				&bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("rx_copy", tests, NULL, NULL);
}
