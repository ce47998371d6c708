/* test_frame_pool.c - mlwip's own frames for builds without DPDK (sharding/frame.h, frame_pool.c): sizes and limits, copies, and frames freed by another thread coming back to their pool.
 *
 * Checked: a pool of N frames gives N and then none; each frame's data is
 * cache-line aligned and holds exactly its room (append refuses more);
 * a frame freed by the owner is given again; a copy carries data, port,
 * checksum verdicts and hash; a second thread that frees 200,000 frames
 * the owner allocated and passed to it over a ring (as a shard frees a
 * forwarded frame) returns every one: the owner never allocates a frame
 * that is still out, and the pool is whole at the end; bad sizes are
 * refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

#define CYCLES 200000u
#define NFRAMES 64u

static void test_limits(void **state)
{
	mlw__frame_t *f[9];
	mlw__frame_pool_t *p;

	(void)state;
	errno = 0;
	assert_null(mlw__frame_pool_create(0, 2048, -1));
	assert_int_equal(errno, EINVAL);
	assert_null(mlw__frame_pool_create(8, 0, -1));
	p = mlw__frame_pool_create(8, 2048, -1);
	assert_non_null(p);
	mlw__frame_pool_own(p);
	assert_int_equal(mlw__frame_pool_size(p), 8);
	for (int i = 0; i < 8; i++) {
		f[i] = mlw__frame_alloc(p);
		assert_non_null(f[i]);
		assert_int_equal((uintptr_t)mlw__frame_data(f[i]) % 64, 0);
		assert_int_equal(mlw__frame_len(f[i]), 0);
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(f[i], f[j]);
	}
	assert_null(mlw__frame_alloc(p));
	assert_int_equal(mlw__frame_pool_avail(p), 0);
	assert_non_null(mlw__frame_append(f[0], 2000));
	assert_null(mlw__frame_append(f[0], 49));
	assert_non_null(mlw__frame_append(f[0], 48));
	assert_int_equal(mlw__frame_len(f[0]), 2048);
	memset(mlw__frame_data(f[0]), 0x5a, 2048);	/* the whole room is writable */
	mlw__frame_free(f[3]);
	f[8] = mlw__frame_alloc(p);
	assert_ptr_equal(f[8], f[3]);
	assert_int_equal(mlw__frame_len(f[8]), 0);
	for (int i = 0; i < 8; i++)
		mlw__frame_free(f[i == 3 ? 8 : i]);
	assert_int_equal(mlw__frame_pool_avail(p), 8);
	mlw__frame_pool_free(p);
}

static void test_copy(void **state)
{
	mlw__frame_pool_t *p = mlw__frame_pool_create(4, 256, -1);
	mlw__frame_t *f, *c;
	uint8_t *d;

	(void)state;
	assert_non_null(p);
	mlw__frame_pool_own(p);
	f = mlw__frame_alloc(p);
	d = mlw__frame_append(f, 100);
	for (int i = 0; i < 100; i++)
		d[i] = (uint8_t)i;
	f->port = 3;
	f->hash = 0xabcdef;
	f->hash_valid = true;
	mlw__frame_set_ck(f, MLW_FRAME_CK_GOOD, MLW_FRAME_CK_NONE);
	c = mlw__frame_copy(f, p);
	assert_non_null(c);
	assert_ptr_not_equal(c, f);
	assert_int_equal(mlw__frame_len(c), 100);
	assert_memory_equal(mlw__frame_data(c), d, 100);
	assert_int_equal(c->port, 3);
	assert_int_equal(c->hash, 0xabcdef);
	assert_true(c->hash_valid);
	assert_int_equal(c->ip_ck, MLW_FRAME_CK_GOOD);
	assert_int_equal(c->l4_ck, MLW_FRAME_CK_NONE);
	mlw__frame_free(c);
	mlw__frame_free(f);
	mlw__frame_pool_free(p);
}

static mlw__ring_t *to_freer;
static atomic_uint freed;

/* Another shard: frees what the owner hands it, until CYCLES frames. */
static int freer(void *arg)
{
	void *got[32];

	(void)arg;
	while (atomic_load_explicit(&freed, memory_order_relaxed) < CYCLES) {
		unsigned n = mlw__ring_take(to_freer, got, 32);

		for (unsigned i = 0; i < n; i++) {
			mlw__frame_t *f = got[i];

			/* The owner wrote its sequence number into it. */
			if (f->len != 4 || f->hash != 1)
				return 1;
			f->hash = 0;
			mlw__frame_free(f);
		}
		atomic_fetch_add_explicit(&freed, n, memory_order_relaxed);
		if (n == 0)
			mlw__rt_pause();
	}
	return 0;
}

static void test_return_ring(void **state)
{
	struct mlw__rt_threads threads;
	mlw__frame_pool_t *p = mlw__frame_pool_create(NFRAMES, 64, -1);
	unsigned sent = 0, waiting, other = 0, dry = 0;
	cpu_set_t set;

	(void)state;
	memset(&threads, 0, sizeof(threads));
	assert_non_null(p);
	mlw__frame_pool_own(p);
	to_freer = mlw__ring_create("mlwt_fp", 128, -1);
	assert_non_null(to_freer);
	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof(set), &set);
	for (int c = CPU_SETSIZE - 1; c >= 0; c--)
		if (CPU_ISSET(c, &set)) {
			other = (unsigned)c;
			break;
		}
	assert_int_equal(mlw__rt_launch(&threads, 1, other, freer, NULL), 0);
	while (sent < CYCLES) {
		mlw__frame_t *f = mlw__frame_alloc(p);

		if (f == NULL) {
			dry++;
			mlw__rt_pause();
			continue;
		}
		/* hash: 1 while the freer holds it, 0 once it gave it back. */
		if (f->hash != 0)
			fail_msg("frame %p allocated while still out", (void *)f);
		f->hash = 1;
		memcpy(mlw__frame_append(f, 4), &sent, 4);
		while (!mlw__ring_put(to_freer, f, &waiting))
			mlw__rt_pause();
		sent++;
	}
	mlw__rt_wait(&threads);
	printf("%u frames through a pool of %u, %u allocations found it empty\n", CYCLES, NFRAMES, dry);
	assert_int_equal(atomic_load(&freed), CYCLES);
	/* Every frame is back (on the return stack until the owner takes it). */
	assert_int_equal(mlw__frame_pool_avail(p), NFRAMES);
	for (unsigned i = 0; i < NFRAMES; i++)
		assert_non_null(mlw__frame_alloc(p));
	assert_null(mlw__frame_alloc(p));
	mlw__ring_free(to_freer);
	mlw__frame_pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_return_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
