/* test_instances.c - several lwIP instances on threads at once: byte-exact transfers, no leaks, no shared state.
 *
 * Why this test exists: a plain lwIP keeps its whole state (PCB lists,
 * netif_list, ARP and ND tables, timers, the per-packet statics of
 * tcp_in.c) in globals shared by every thread of the process. Run this test
 * on it and the threads' stacks walk and rewrite each other's lists: it
 * crashes, hangs or corrupts data (and ThreadSanitizer reports races
 * throughout). Here every thread calls lwip_init() on the derived lwIP and
 * runs its own stack, with the same IP and MAC addresses in every pair.
 * Every byte arriving intact in both directions of every pair, every
 * thread's heap ending empty and every thread seeing only its own netif is
 * the proof that the per-shard derivation gives each thread an independent
 * stack.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"

#include "lwip_pair.h"

/* At least two pairs, so that at least four lwIP instances run at once. */
#define TEST_PAIRS		3
#define DEFAULT_BYTES		(8ull << 20)
/* Generous: ThreadSanitizer slows the transfer down 5-15 times. */
#define TEST_TIMEOUT_MS		240000u

_Static_assert(TEST_PAIRS >= 2, "the point is several instances at once");

/* Bytes each direction carries: MLW_INSTANCES_BYTES (a number, with an
 * optional K, M or G suffix) or 8 MiB. */
static uint64_t transfer_bytes(void)
{
	const char *env = getenv("MLW_INSTANCES_BYTES");
	unsigned long long v;
	char *end;

	if (env == NULL || *env == '\0')
		return DEFAULT_BYTES;
	errno = 0;
	v = strtoull(env, &end, 10);
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	default: break;
	}
	if (errno != 0 || *end != '\0' || v == 0 || env[0] < '0' || env[0] > '9')
		fail_msg("MLW_INSTANCES_BYTES='%s' is not a positive size (e.g. 8M)", env);
	return v;
}

static struct mlw_pair_opts test_opts(uint64_t bytes, bool ipv6)
{
	struct mlw_pair_opts o = { .bytes = bytes, .timeout_ms = TEST_TIMEOUT_MS, .ipv6 = ipv6 };

	return o;
}

static void report(const struct mlw_pair_result *r, unsigned i)
{
	print_message("  endpoint %u (pair %u %s): status %d, sent %" PRIu64 ", received %" PRIu64
		      ", mismatches %" PRIu64 ", %.3f s, %.1f MiB/s in, %" PRIu64 " frames out, %" PRIu64
		      " refused (ring full), %" PRIu64 " lost, heap peak %" PRIu64 " B, in use at end %" PRIu64 " B / %" PRIu64 " objects\n",
		      i, r->pair, r->side == 0 ? "server" : "client", r->status, r->bytes_sent,
		      r->bytes_received, r->mismatches, r->elapsed_s,
		      r->elapsed_s > 0 ? (double)r->bytes_received / (1 << 20) / r->elapsed_s : 0.0,
		      r->frames_tx, r->tx_dropped, r->rx_dropped, r->heap_peak_bytes,
		      r->alloc_end.bytes_in_use, r->alloc_end.objects_in_use);
}

/* Everything that makes an endpoint's run good, whatever the mode. */
static void check_endpoint(const struct mlw_pair_result *r, uint64_t bytes)
{
	assert_int_equal(r->status, 0);
	assert_int_equal(r->bytes_sent, bytes);
	assert_int_equal(r->bytes_received, bytes);
	assert_int_equal(r->mismatches, 0);
	/* lwIP's memory came from the shard heap, and all of it went back. */
	assert_int_equal(r->alloc_fini_rc, 0);
	assert_int_equal(r->alloc_end.bytes_in_use, 0);
	assert_int_equal(r->alloc_end.objects_in_use, 0);
	assert_true(r->alloc_end.allocs > 0);
	assert_int_equal(r->alloc_end.allocs, r->alloc_end.frees);
	assert_int_equal(r->alloc_end.failures, 0);
	assert_true(r->heap_peak_bytes > 0);
}

static void run_threaded(bool ipv6)
{
	struct mlw_pair_result res[2 * TEST_PAIRS];
	uint64_t bytes = transfer_bytes();
	struct mlw_pair_opts opts = test_opts(bytes, ipv6);
	int rc;

	rc = mlw_pair_run_threaded(TEST_PAIRS, &opts, res);
	print_message("%d pairs, %d threads, %" PRIu64 " bytes each way, %s: rc %d\n", TEST_PAIRS,
		      2 * TEST_PAIRS, bytes, ipv6 ? "IPv6" : "IPv4", rc);
	for (unsigned i = 0; i < 2 * TEST_PAIRS; i++)
		report(&res[i], i);
	for (unsigned i = 0; i < 2 * TEST_PAIRS; i++) {
		check_endpoint(&res[i], bytes);
		assert_int_equal(res[i].pair, i / 2);
		assert_int_equal(res[i].side, (int)(i % 2));
		/* With every stack up, this thread's netif_list held exactly
		 * its own netif: none of the 2 * TEST_PAIRS - 1 others. */
		assert_int_equal(res[i].netifs_seen, 1);
		assert_true(res[i].netif_list_is_own);
	}
	assert_int_equal(rc, 0);
}

static void test_threaded_ipv4(void **state)
{
	(void)state;
	run_threaded(false);
}

static void test_threaded_ipv6(void **state)
{
	(void)state;
	run_threaded(true);
}

/* A second lwIP thread's state is its own: the threads each saw a different
 * netif_list variable, none of them the main thread's, and the main thread,
 * which never called lwip_init(), still has empty lists afterwards. */
static void test_state_is_per_thread(void **state)
{
	struct mlw_pair_result res[2 * TEST_PAIRS];
	struct mlw_pair_opts opts = test_opts(256u << 10, false);

	(void)state;
	assert_int_equal(mlw_pair_run_threaded(TEST_PAIRS, &opts, res), 0);
	for (unsigned i = 0; i < 2 * TEST_PAIRS; i++) {
		check_endpoint(&res[i], opts.bytes);
		assert_true(res[i].netif_list_is_own);
		assert_non_null(res[i].netif_list_addr);
		assert_ptr_not_equal(res[i].netif_list_addr, (const void *)&netif_list);
		for (unsigned j = 0; j < i; j++)
			assert_ptr_not_equal(res[i].netif_list_addr, res[j].netif_list_addr);
	}
	assert_null(netif_list);
	assert_null(netif_default);
	assert_null(tcp_active_pcbs);
	assert_null(tcp_tw_pcbs);
	assert_null(tcp_listen_pcbs.listen_pcbs);
}

struct same_thread_run {
	struct mlw_pair_opts opts;
	struct mlw_pair_result res[2];
	int rc;
};

static void *same_thread_main(void *arg)
{
	struct same_thread_run *run = arg;

	run->rc = mlw_pair_run_same_thread(&run->opts, run->res);
	return NULL;
}

/* Both endpoints as two netifs of one lwIP (the mode the derived-vs-plain
 * comparison uses), on a helper thread so the main thread stays lwIP-free. */
static void test_same_thread(void **state)
{
	struct same_thread_run run = { .opts = test_opts(transfer_bytes(), false) };
	pthread_t tid;

	(void)state;
	assert_int_equal(pthread_create(&tid, NULL, same_thread_main, &run), 0);
	assert_int_equal(pthread_join(tid, NULL), 0);
	for (unsigned i = 0; i < 2; i++) {
		report(&run.res[i], i);
		check_endpoint(&run.res[i], run.opts.bytes);
		assert_int_equal(run.res[i].netifs_seen, 2);
		assert_true(run.res[i].netif_list_is_own);
	}
	assert_int_equal(run.rc, 0);
}

/* The checker the transfer tests rely on does catch corruption, so they can
 * fail: every flipped byte is counted, and the pattern differs per offset,
 * direction and pair. */
static void test_pattern_detects_corruption(void **state)
{
	static uint8_t a[5000], b[5000];

	(void)state;
	mlw_pair_pattern_fill(a, sizeof(a), 12345, 1, 0);
	assert_int_equal(mlw_pair_pattern_check(a, sizeof(a), 12345, 1, 0), 0);
	/* A slice starting at an odd offset is the same bytes. */
	mlw_pair_pattern_fill(b, 777, 12345 + 3, 1, 0);
	assert_memory_equal(a + 3, b, 777);
	a[0] ^= 1;
	a[1500] ^= 0x80;
	a[4999] = (uint8_t)~a[4999];
	assert_int_equal(mlw_pair_pattern_check(a, sizeof(a), 12345, 1, 0), 3);
	/* Shifted by one byte, in the other direction, or from another pair:
	 * almost every byte is wrong. */
	mlw_pair_pattern_fill(a, sizeof(a), 0, 1, 0);
	assert_true(mlw_pair_pattern_check(a, sizeof(a), 1, 1, 0) > sizeof(a) * 9 / 10);
	assert_true(mlw_pair_pattern_check(a, sizeof(a), 0, 1, 1) > sizeof(a) * 9 / 10);
	assert_true(mlw_pair_pattern_check(a, sizeof(a), 0, 2, 0) > sizeof(a) * 9 / 10);
}

static void test_bad_arguments(void **state)
{
	struct mlw_pair_result res[2];
	struct mlw_pair_opts opts = test_opts(1024, false);

	(void)state;
	assert_int_equal(mlw_pair_run_threaded(0, &opts, res), -EINVAL);
	assert_int_equal(mlw_pair_run_threaded(MLW_PAIR_MAX_PAIRS + 1, &opts, res), -EINVAL);
	assert_int_equal(mlw_pair_run_threaded(1, NULL, res), -EINVAL);
	opts.bytes = 0;
	assert_int_equal(mlw_pair_run_threaded(1, &opts, res), -EINVAL);
	assert_int_equal(mlw_pair_run_same_thread(&opts, res), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_detects_corruption),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_threaded_ipv4),
		cmocka_unit_test(test_threaded_ipv6),
		cmocka_unit_test(test_state_is_per_thread),
		cmocka_unit_test(test_same_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
