/* test_runtime.c - the shards' platform calls (sharding/runtime.h), built once per implementation: POSIX (pthreads, libnuma, C11 atomics; also under qemu) and DPDK's EAL (test_runtime_dpdk).
 *
 * Checked: ticks advance at the rate mlw__rt_hz() says (against
 * CLOCK_MONOTONIC, with wide bounds: a check of the unit, not a timing);
 * a ring holds size - 1 pointers, refuses the next, reports what waits,
 * keeps order across wrap-around, refuses sizes that are not powers of
 * two; two threads hand a million pointers over one ring with none lost,
 * repeated or out of order; a launched thread runs on the core asked for,
 * with the asynchronous signals blocked, is not the main thread, and is
 * joined by mlw__rt_wait(); bad launches are refused; shard memory is
 * zeroed and cache-line aligned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime.h"

#define HANDOVER 1000000u

static struct mlw__rt_threads threads;
static unsigned cpu_main, cpu_other;	/* CPUs this process may use */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void test_ticks(void **state)
{
	struct timespec d = { 0, 50 * 1000 * 1000 };
	uint64_t t0, t1, hz = mlw__rt_hz();
	int64_t n0, n1;
	double ratio;

	(void)state;
	assert_true(hz >= 1000000u);
	t0 = mlw__rt_ticks();
	n0 = mono_ns();
	nanosleep(&d, NULL);
	t1 = mlw__rt_ticks();
	n1 = mono_ns();
	assert_true(t1 > t0);
	/* The same interval in both clocks: within a factor of 1.5 (a wrong
	 * unit would be off by 1000 or more). */
	ratio = ((double)(t1 - t0) / (double)hz) / ((double)(n1 - n0) / 1e9);
	printf("ticks/hz over CLOCK_MONOTONIC: %.3f (hz %llu)\n", ratio, (unsigned long long)hz);
	assert_true(ratio > 0.67 && ratio < 1.5);
	mlw__rt_pause();
}

static void test_ring_single(void **state)
{
	mlw__ring_t *r;
	void *out[16];
	unsigned waiting, n;

	(void)state;
	errno = 0;
	assert_null(mlw__ring_create("mlwt_bad", 12, -1));
	assert_int_equal(errno, EINVAL);
	assert_null(mlw__ring_create("mlwt_bad1", 1, -1));
	r = mlw__ring_create("mlwt_r8", 8, -1);
	assert_non_null(r);
	assert_int_equal(mlw__ring_capacity(r), 7);
	assert_int_equal(mlw__ring_take(r, out, 16), 0);
	for (uintptr_t i = 1; i <= 7; i++) {
		assert_true(mlw__ring_put(r, (void *)i, &waiting));
		assert_int_equal(waiting, i - 1);
	}
	assert_false(mlw__ring_put(r, (void *)8, &waiting));
	assert_int_equal(waiting, 7);
	n = mlw__ring_take(r, out, 3);
	assert_int_equal(n, 3);
	for (uintptr_t i = 0; i < 3; i++)
		assert_ptr_equal(out[i], (void *)(i + 1));
	/* Across the end of the slots, in order. */
	for (uintptr_t i = 8; i <= 10; i++)
		assert_true(mlw__ring_put(r, (void *)i, &waiting));
	assert_false(mlw__ring_put(r, (void *)11, &waiting));
	n = mlw__ring_take(r, out, 16);
	assert_int_equal(n, 7);
	for (uintptr_t i = 0; i < 7; i++)
		assert_ptr_equal(out[i], (void *)(i + 4));
	mlw__ring_free(r);
}

static mlw__ring_t *hand_ring;

/* Thread 1: put 1..HANDOVER on the ring, spinning while it is full. */
static int producer(void *arg)
{
	unsigned waiting;

	(void)arg;
	for (uintptr_t i = 1; i <= HANDOVER; i++)
		while (!mlw__ring_put(hand_ring, (void *)i, &waiting))
			mlw__rt_pause();
	return 0;
}

static void test_ring_threads(void **state)
{
	uintptr_t next = 1;
	void *out[64];
	int64_t deadline = mono_ns() + 60 * (int64_t)1000000000;

	(void)state;
	hand_ring = mlw__ring_create("mlwt_hand", 256, -1);
	assert_non_null(hand_ring);
	assert_int_equal(mlw__rt_launch(&threads, 1, cpu_other, producer, NULL), 0);
	while (next <= HANDOVER && mono_ns() < deadline) {
		unsigned n = mlw__ring_take(hand_ring, out, 64);

		for (unsigned i = 0; i < n; i++) {
			if (out[i] != (void *)next)
				fail_msg("got %p, expected %p", out[i], (void *)next);
			next++;
		}
		if (n == 0)
			mlw__rt_pause();
	}
	mlw__rt_wait(&threads);
	assert_int_equal(next, HANDOVER + 1);
	assert_int_equal(mlw__ring_take(hand_ring, out, 64), 0);
	mlw__ring_free(hand_ring);
}

struct seen {
	int cpu_count, on_cpu;
	int term_blocked;
	int is_main;
};
static struct seen seen;

static int observer(void *arg)
{
	cpu_set_t set;
	sigset_t mask;

	(void)arg;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		seen.cpu_count = CPU_COUNT(&set);
		seen.on_cpu = CPU_ISSET(cpu_other, &set);
	}
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	seen.term_blocked = sigismember(&mask, SIGTERM);
	seen.is_main = mlw__rt_is_main();
	return 0;
}

static void test_launch(void **state)
{
	(void)state;
	assert_true(mlw__rt_is_main());
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(mlw__rt_launch(&threads, 1, cpu_other, observer, NULL), 0);
	mlw__rt_wait(&threads);
	assert_int_equal(seen.cpu_count, 1);
	assert_int_equal(seen.on_cpu, 1);
	assert_int_equal(seen.term_blocked, 1);
	assert_int_equal(seen.is_main, 0);
	/* After the wait the thread may run something again. */
	assert_int_equal(mlw__rt_launch(&threads, 1, cpu_other, observer, NULL), 0);
	mlw__rt_wait(&threads);
	assert_int_equal(mlw__rt_launch(&threads, 0, cpu_other, observer, NULL), -EINVAL);
	assert_int_equal(mlw__rt_launch(&threads, MLW_RT_MAX_THREADS, cpu_other, observer, NULL), -EINVAL);
	assert_true(mlw__rt_node(1, cpu_other) >= 0);
}

static void test_zalloc(void **state)
{
	static const size_t sizes[] = { 1, 64, 1000, 100000 };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int node = -1; node <= 0; node++) {
			unsigned char *p = mlw__rt_zalloc(sizes[i], node);

			assert_non_null(p);
			assert_int_equal((uintptr_t)p % MLW_RT_CACHE_LINE, 0);
			for (size_t b = 0; b < sizes[i]; b++)
				if (p[b] != 0)
					fail_msg("byte %zu of %zu not zero", b, sizes[i]);
			memset(p, 0xa5, sizes[i]);
			mlw__rt_free(p, sizes[i]);
		}
	}
}

/* Two CPUs of this process's affinity (the same one twice if it has one). */
static void pick_cpus(void)
{
	cpu_set_t set;
	int first = -1, second = -1;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set)) {
				if (first < 0)
					first = c;
				else if (second < 0)
					second = c;
			}
	cpu_main = first < 0 ? 0 : (unsigned)first;
	cpu_other = second < 0 ? cpu_main : (unsigned)second;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ticks),
		cmocka_unit_test(test_ring_single),
		cmocka_unit_test(test_ring_threads),
		cmocka_unit_test(test_launch),
		cmocka_unit_test(test_zalloc),
	};
	int rc;

	pick_cpus();
	{
		/* DPDK: lcore 0 on our first CPU, lcore 1 on the second (the
		 * EAL pins them). POSIX: no arguments. */
		char lcores[64], prefix[64], why[256];
		char *argv[] = { "test_runtime", "--no-huge", "--no-pci", "-m", "64", lcores, prefix,
				 "--log-level=lib.eal:error", NULL };
		int argc = MLW_RT_DPDK ? (int)(sizeof(argv) / sizeof(argv[0])) - 1 : 1;

		snprintf(lcores, sizeof(lcores), "--lcores=0@%u,1@%u", cpu_main, cpu_other);
		snprintf(prefix, sizeof(prefix), "--file-prefix=mlwt_rt%d", (int)getpid());
		rc = mlw__rt_init(argc, argv, why, sizeof(why));
		if (rc != 0) {
			fprintf(stderr, "test_runtime: mlw__rt_init: %s\n", why);
			return 1;
		}
		/* Without DPDK, arguments are refused with a reason. */
		if (!MLW_RT_DPDK && mlw__rt_init(3, argv, why, sizeof(why)) != -EINVAL) {
			fprintf(stderr, "test_runtime: EAL arguments accepted without DPDK\n");
			return 1;
		}
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	mlw__rt_fini();
#if MLW_RT_DPDK
	{
		char dir[128];

		snprintf(dir, sizeof(dir), "rm -rf /var/run/dpdk/mlwt_rt%d", (int)getpid());
		if (system(dir) != 0)
			fprintf(stderr, "test_runtime_dpdk: could not remove %s\n", dir + 7);
	}
#endif
	return rc;
}
