/* test_alloc.c - CMocka tests of the per-shard allocator (sharding/alloc.c). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mlwip/alloc.h"
#include "../../sharding/alloc_private.h"

#if defined(MLW_ALLOC_DEBUG) && MLW_ALLOC_DEBUG
#define CHECKS 1
#else
#define CHECKS 0
#endif

/* xorshift64*: deterministic sizes and free orders; the seed is printed so a
 * failure can be replayed. */
static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static bool aligned16(const void *p)
{
	return ((uintptr_t)p & 15u) == 0;
}

/* Fill @p len bytes with a pattern that depends on @p tag and the offset. */
static void fill(void *p, size_t len, uint64_t tag)
{
	uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(tag * 31u + i * 7u + (i >> 8));
}

/* Returns the offset of the first wrong byte, or len if all are right. */
static size_t check_fill(const void *p, size_t len, uint64_t tag)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != (uint8_t)(tag * 31u + i * 7u + (i >> 8)))
			return i;
	return len;
}

static struct mlw_alloc_stats stats_now(void)
{
	struct mlw_alloc_stats st;

	assert_int_equal(mlw_alloc_stats(&st), 0);
	return st;
}

static void assert_nothing_in_use(void)
{
	struct mlw_alloc_stats st = stats_now();

	assert_int_equal(st.objects_in_use, 0);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.allocs, st.frees);
}

static int setup_heap(void **state)
{
	(void)state;
	assert_int_equal(mlw_alloc_thread_init(-1), 0);
	return 0;
}

/* Every test that uses a heap ends here: fini reports -EBUSY if anything leaked. */
static int teardown_heap(void **state)
{
	struct mlw_alloc_stats st;
	int ret;

	(void)state;
	ret = mlw_alloc_thread_fini(&st);
	if (ret == -EBUSY)
		print_error("leaked %llu objects, %llu bytes\n",
			    (unsigned long long)st.objects_in_use, (unsigned long long)st.bytes_in_use);
	assert_int_equal(ret, 0);
	return 0;
}

/* For tests that manage the heap themselves: they must not leave one behind. */
static int teardown_no_heap(void **state)
{
	(void)state;
	assert_int_equal(mlw_alloc_thread_fini(NULL), -ENOENT);
	return 0;
}

static void test_basic(void **state)
{
	struct mlw_alloc_stats st;
	void *a, *b;

	(void)state;
	st = stats_now();
	assert_int_equal(st.objects_in_use, 0);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.bytes_reserved, 0);
	assert_int_equal(st.allocs, 0);

	a = mlw_alloc_malloc(100);
	b = mlw_alloc_malloc(3000);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(aligned16(a) && aligned16(b));
	assert_ptr_not_equal(a, b);
	fill(a, 100, 1);
	fill(b, 3000, 2);
	assert_int_equal(check_fill(a, 100, 1), 100);
	assert_int_equal(check_fill(b, 3000, 2), 3000);

	st = stats_now();
	assert_int_equal(st.objects_in_use, 2);
	assert_int_equal(st.bytes_in_use, 3100);
	assert_int_equal(st.allocs, 2);
	assert_int_equal(st.frees, 0);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.bytes_reserved, MLW_ALLOC_CHUNK_SIZE);

	mlw_alloc_free(a);
	st = stats_now();
	assert_int_equal(st.objects_in_use, 1);
	assert_int_equal(st.bytes_in_use, 3000);
	mlw_alloc_free(b);
	mlw_alloc_free(NULL);
	st = stats_now();
	assert_int_equal(st.objects_in_use, 0);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.frees, 2);
	/* Chunks stay with the heap until fini. */
	assert_int_equal(st.bytes_reserved, MLW_ALLOC_CHUNK_SIZE);
}

/* The arithmetic class mapping against a brute-force search over the class table. */
static void test_class_mapping(void **state)
{
	size_t prev = 0;

	(void)state;
	for (unsigned int c = 0; c < MLW_ALLOC_NCLASSES; c++) {
		size_t cs = mlw__alloc_class_size(c);

		assert_true(cs > prev);
		assert_int_equal(cs % MLW_ALLOC_ALIGN, 0);
		/* Geometric classes: no more than 25% above the previous one. */
		if (c >= MLW_ALLOC_LINEAR_CLASSES)
			assert_true(cs * 4 <= prev * 5);
		prev = cs;
	}
	assert_int_equal(prev, MLW_ALLOC_MAX_CLASS);
	assert_int_equal(mlw__alloc_class_size(MLW_ALLOC_SMALL_CLASSES - 1), MLW_ALLOC_MAX_SMALL);
	for (size_t size = 0; size <= MLW_ALLOC_MAX_SMALL; size++) {
		unsigned int want = 0;

		while (mlw__alloc_class_size(want) < size)
			want++;
		if (mlw__alloc_size_class(size) != want)
			fail_msg("size %zu: class %u, expected %u", size, mlw__alloc_size_class(size), want);
	}
	/* Above: each class's edges. */
	for (unsigned int c = MLW_ALLOC_SMALL_CLASSES; c < MLW_ALLOC_NCLASSES; c++) {
		size_t cs = mlw__alloc_class_size(c);

		assert_int_equal(mlw__alloc_size_class(cs), c);
		assert_int_equal(mlw__alloc_size_class(mlw__alloc_class_size(c - 1) + 1), c);
	}
}

/* size - 1, size and size + 1 of every class: aligned, the smallest class
 * that fits, and the whole block (the class size, which may exceed the
 * request) writable without touching a neighbour. */
static void test_class_boundaries(void **state)
{
	enum { NCLS = MLW_ALLOC_SMALL_CLASSES + 20, N = NCLS * 3 };	/* classes up to 1 MiB */
	void *p[N];
	size_t cap[N];
	uint64_t bytes = 0;
	struct mlw_alloc_stats st;
	int n = 0;

	(void)state;
	for (unsigned int c = 0; c < NCLS; c++) {
		size_t cs = mlw__alloc_class_size(c);

		for (size_t s = cs - 1; s <= cs + 1; s++, n++) {
			struct mlw__alloc_hdr *hdr;

			p[n] = mlw_alloc_malloc(s);
			assert_non_null(p[n]);
			assert_true(aligned16(p[n]));
			hdr = mlw__alloc_hdr_of(p[n]);
			assert_true(hdr->cls < MLW_ALLOC_NCLASSES);
			assert_true(mlw__alloc_class_size(hdr->cls) >= s);
			if (hdr->cls > 0)
				assert_true(mlw__alloc_class_size(hdr->cls - 1u) < s);
			assert_int_equal(hdr->size, s);
			cap[n] = mlw__alloc_class_size(hdr->cls);
			memset(p[n], 0xee, cap[n]);
			fill(p[n], cap[n], (uint64_t)n);
			bytes += s;
		}
	}
	for (int i = 0; i < n; i++)
		assert_int_equal(check_fill(p[i], cap[i], (uint64_t)i), cap[i]);
	st = stats_now();
	assert_int_equal(st.objects_in_use, N);
	assert_int_equal(st.bytes_in_use, bytes);
	for (int i = 0; i < n; i++)
		mlw_alloc_free(p[i]);
	assert_nothing_in_use();
}

/*
 * Blocks above 32 KiB: up to 64 MiB of classes carved from the arena,
 * kept for reuse when freed (no mapping made or removed either way);
 * above 64 MiB a mapping of their own, returned at free.
 */
static void test_large(void **state)
{
	static const size_t sizes[] = { MLW_ALLOC_MAX_SMALL + 1, 100000, 1u << 20, 16u << 20 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	struct mlw_alloc_stats before, st, held;
	void *p[N], *q;
	uint64_t bytes = 0;
	size_t huge = MLW_ALLOC_MAX_CLASS + 1;

	(void)state;
	before = stats_now();
	for (int i = 0; i < N; i++) {
		p[i] = mlw_alloc_malloc(sizes[i]);
		assert_non_null(p[i]);
		assert_true(aligned16(p[i]));
		assert_true(mlw__alloc_hdr_of(p[i])->cls < MLW_ALLOC_NCLASSES);
		memset(p[i], 0x5a, sizes[i]);
		fill(p[i], sizes[i], (uint64_t)i + 100);
		bytes += sizes[i];
		st = stats_now();
		/* At least its size is reserved, at most a class step (25%) more. */
		assert_true(st.bytes_reserved - before.bytes_reserved >= bytes);
		assert_true(st.bytes_reserved - before.bytes_reserved <= bytes + bytes / 4 + 16 * N);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(check_fill(p[i], sizes[i], (uint64_t)i + 100), sizes[i]);
	held = stats_now();
	assert_int_equal(held.objects_in_use, N);
	assert_int_equal(held.bytes_in_use, bytes);
	assert_int_equal(held.os_maps, before.os_maps);
	/* Free in a different order than allocated; the same sizes again get
	 * the same blocks, with no new memory. */
	mlw_alloc_free(p[1]);
	mlw_alloc_free(p[3]);
	mlw_alloc_free(p[0]);
	mlw_alloc_free(p[2]);
	for (int i = 0; i < N; i++) {
		q = mlw_alloc_malloc(sizes[i]);
		assert_ptr_equal(q, p[i]);
		mlw_alloc_free(q);
	}
	st = stats_now();
	assert_int_equal(st.bytes_reserved, held.bytes_reserved);
	assert_int_equal(st.os_maps, before.os_maps);
	assert_int_equal(st.os_unmaps, before.os_unmaps);

	/* Above the largest class: its own mapping, gone at free. */
	q = mlw_alloc_malloc(huge);
	assert_non_null(q);
	assert_int_equal(mlw__alloc_hdr_of(q)->cls, MLW_ALLOC_CLASS_LARGE);
	memset(q, 0x5a, huge);
	st = stats_now();
	assert_int_equal(st.os_maps, before.os_maps + 1);
	assert_true(st.bytes_reserved - held.bytes_reserved >= huge);
	mlw_alloc_free(q);
	st = stats_now();
	assert_int_equal(st.os_unmaps, before.os_unmaps + 1);
	assert_int_equal(st.bytes_reserved, held.bytes_reserved);
	assert_nothing_in_use();
}

static void test_calloc_zeroes(void **state)
{
	struct mlw_alloc_stats st;
	uint8_t *p, *q;
	size_t big = 200000;

	(void)state;
	/* Dirty a block, free it, and check calloc gets the same block back zeroed. */
	p = mlw_alloc_malloc(48 * 10);
	assert_non_null(p);
	memset(p, 0xaa, 48 * 10);
	mlw_alloc_free(p);
	q = mlw_alloc_calloc(10, 48);
	assert_ptr_equal(q, p);
	for (size_t i = 0; i < 480; i++)
		assert_int_equal(q[i], 0);
	mlw_alloc_free(q);

	q = mlw_alloc_calloc(big, 1);
	assert_non_null(q);
	for (size_t i = 0; i < big; i++)
		assert_int_equal(q[i], 0);
	st = stats_now();
	assert_int_equal(st.bytes_in_use, big);
	mlw_alloc_free(q);

	q = mlw_alloc_calloc(0, 16);
	assert_non_null(q);
	mlw_alloc_free(q);

	errno = 0;
	assert_null(mlw_alloc_calloc(SIZE_MAX / 2 + 1, 2));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(mlw_alloc_calloc(2, SIZE_MAX / 2 + 1));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(mlw_alloc_calloc(SIZE_MAX, SIZE_MAX));
	assert_int_equal(errno, ENOMEM);
	st = stats_now();
	assert_int_equal(st.failures, 3);
	assert_int_equal(st.allocs, 4);
	assert_nothing_in_use();
}

static void test_too_large(void **state)
{
	struct mlw_alloc_stats before, st;

	(void)state;
	before = stats_now();
	errno = 0;
	assert_null(mlw_alloc_malloc(SIZE_MAX));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(mlw_alloc_malloc(SIZE_MAX - 64));
	assert_int_equal(errno, ENOMEM);
	/* Representable, but beyond any user address space: mmap() refuses
	 * (15/16 of the address range: 3.75 GiB on a 32-bit target, where a
	 * process has at most 4 GiB with its own code and stack in it). */
	errno = 0;
	assert_null(mlw_alloc_malloc(SIZE_MAX / 16 * 15));
	assert_int_equal(errno, ENOMEM);
	st = stats_now();
	assert_int_equal(st.failures, before.failures + 3);
	assert_int_equal(st.allocs, before.allocs);
	assert_int_equal(st.bytes_reserved, before.bytes_reserved);
	assert_nothing_in_use();
}

static void test_malloc_zero(void **state)
{
	struct mlw_alloc_stats st;
	void *a, *b;

	(void)state;
	a = mlw_alloc_malloc(0);
	b = mlw_alloc_malloc(0);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_true(aligned16(a) && aligned16(b));
	st = stats_now();
	assert_int_equal(st.objects_in_use, 2);
	assert_int_equal(st.bytes_in_use, 0);
	mlw_alloc_free(a);
	mlw_alloc_free(b);
	assert_nothing_in_use();
}

static void test_reuse(void **state)
{
	struct mlw_alloc_stats st, before;
	void *p[64], *r[64], *q;

	(void)state;
	p[0] = mlw_alloc_malloc(200);
	assert_non_null(p[0]);
	before = stats_now();
	mlw_alloc_free(p[0]);
	q = mlw_alloc_malloc(200);
	assert_ptr_equal(q, p[0]);
	/* Another size of the same class (193..224) reuses the block too; a
	 * size of another class does not. */
	mlw_alloc_free(q);
	assert_int_equal(mlw__alloc_size_class(200), mlw__alloc_size_class(210));
	q = mlw_alloc_malloc(100);
	assert_ptr_not_equal(q, p[0]);
	mlw_alloc_free(q);
	q = mlw_alloc_malloc(210);
	assert_ptr_equal(q, p[0]);
	st = stats_now();
	assert_int_equal(st.allocs, 4);
	assert_int_equal(st.frees, 3);
	assert_int_equal(st.objects_in_use, 1);
	assert_int_equal(st.bytes_in_use, 210);
	assert_int_equal(st.bytes_reserved, before.bytes_reserved);
	mlw_alloc_free(q);

	/* 64 blocks freed and allocated again: the same set comes back, no new memory. */
	for (int i = 0; i < 64; i++)
		assert_non_null(p[i] = mlw_alloc_malloc(1000));
	before = stats_now();
	for (int i = 0; i < 64; i++)
		mlw_alloc_free(p[i]);
	for (int i = 0; i < 64; i++) {
		int found = 0;

		r[i] = mlw_alloc_malloc(1000);
		for (int j = 0; j < 64; j++)
			found += (r[i] == p[j]);
		for (int j = 0; j < i; j++)
			found += (r[i] == r[j]) * 100;
		assert_int_equal(found, 1);
	}
	st = stats_now();
	assert_int_equal(st.bytes_reserved, before.bytes_reserved);
	for (int i = 0; i < 64; i++)
		mlw_alloc_free(r[i]);
	assert_nothing_in_use();
}

/* Sizes for the stress test: mostly small, some medium, a few large. */
static size_t random_size(uint64_t *rs)
{
	uint64_t r = rnd_next(rs);

	switch (r % 1000) {
	case 0:
		return MLW_ALLOC_MAX_SMALL + (size_t)((r >> 10) % 100000);
	case 1 ... 49:
		return (size_t)((r >> 10) % (MLW_ALLOC_MAX_SMALL + 1));
	default:
		return (size_t)((r >> 10) % 513);
	}
}

static void test_many_random(void **state)
{
	enum { N = 200000 };
	const uint64_t seed = 0x6d6c7769702d616cull;
	uint64_t rs = seed, bytes = 0;
	struct mlw_alloc_stats st;
	uint32_t *order;
	size_t *sz;
	void **p;

	(void)state;
	print_message("seed 0x%llx\n", (unsigned long long)seed);
	p = malloc(N * sizeof(*p));
	sz = malloc(N * sizeof(*sz));
	order = malloc(N * sizeof(*order));
	assert_non_null(p);
	assert_non_null(sz);
	assert_non_null(order);

	for (uint32_t i = 0; i < N; i++) {
		sz[i] = random_size(&rs);
		p[i] = mlw_alloc_malloc(sz[i]);
		assert_non_null(p[i]);
		assert_true(aligned16(p[i]));
		fill(p[i], sz[i], i);
		bytes += sz[i];
		order[i] = i;
	}
	st = stats_now();
	assert_int_equal(st.objects_in_use, N);
	assert_int_equal(st.bytes_in_use, bytes);
	assert_int_equal(st.allocs, N);
	assert_true(st.bytes_reserved >= bytes);

	for (uint32_t i = N - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rnd_next(&rs) % (i + 1));
		uint32_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	/* Free half in random order, then allocate again into the holes while
	 * the rest is live, then free everything in random order. */
	for (uint32_t k = 0; k < N / 2; k++) {
		uint32_t i = order[k];

		if (check_fill(p[i], sz[i], i) != sz[i])
			fail_msg("block %u (%zu bytes) corrupted", i, sz[i]);
		mlw_alloc_free(p[i]);
	}
	for (uint32_t k = 0; k < N / 2; k++) {
		uint32_t i = order[k];

		sz[i] = random_size(&rs);
		p[i] = mlw_alloc_malloc(sz[i]);
		assert_non_null(p[i]);
		fill(p[i], sz[i], i + N);
	}
	for (uint32_t k = 0; k < N; k++) {
		uint32_t i = order[k];
		uint64_t tag = k < N / 2 ? (uint64_t)i + N : i;

		if (check_fill(p[i], sz[i], tag) != sz[i])
			fail_msg("block %u (%zu bytes) corrupted", i, sz[i]);
	}
	/* 7919 is prime and does not divide N: k * 7919 % N visits every index once. */
	for (uint32_t k = 0; k < N; k++)
		mlw_alloc_free(p[order[(k * 7919u) % N]]);
	assert_nothing_in_use();
	st = stats_now();
	assert_int_equal(st.allocs, N + N / 2);
	assert_int_equal(st.failures, 0);
	free(order);
	free(sz);
	free(p);
}

static void test_init_fini_errors(void **state)
{
	struct mlw_alloc_stats st;
	int max_node = numa_available() >= 0 ? numa_max_node() : 0;

	(void)state;
	assert_int_equal(mlw_alloc_stats(&st), -ENOENT);
	assert_int_equal(mlw_alloc_stats(NULL), -EINVAL);
	assert_int_equal(mlw_alloc_thread_fini(&st), -ENOENT);

	assert_int_equal(mlw_alloc_thread_init(-2), -EINVAL);
	assert_int_equal(mlw_alloc_thread_init(max_node + 1), -EINVAL);
	assert_int_equal(mlw_alloc_thread_init(1 << 20), -EINVAL);
	assert_int_equal(mlw_alloc_stats(&st), -ENOENT);

	assert_int_equal(mlw_alloc_thread_init(max_node), 0);
	assert_int_equal(mlw_alloc_thread_init(max_node), -EEXIST);
	assert_int_equal(mlw_alloc_thread_init(-1), -EEXIST);
	assert_int_equal(mlw_alloc_stats(NULL), -EINVAL);
	assert_int_equal(mlw_alloc_stats(&st), 0);
	assert_int_equal(mlw_alloc_thread_fini(&st), 0);
	assert_int_equal(mlw_alloc_thread_fini(&st), -ENOENT);

	/* After fini the thread can create a new heap. */
	assert_int_equal(mlw_alloc_thread_init(-1), 0);
	assert_int_equal(mlw_alloc_thread_fini(NULL), 0);
}

static void test_fini_busy(void **state)
{
	struct mlw_alloc_stats st;
	void *a, *b, *c;

	(void)state;
	assert_int_equal(mlw_alloc_thread_init(-1), 0);
	a = mlw_alloc_malloc(10);
	b = mlw_alloc_malloc(20);
	c = mlw_alloc_malloc(40000);
	assert_true(a && b && c);
	mlw_alloc_free(b);
	memset(&st, 0xff, sizeof(st));
	assert_int_equal(mlw_alloc_thread_fini(&st), -EBUSY);
	assert_int_equal(st.objects_in_use, 2);
	assert_int_equal(st.bytes_in_use, 40010);
	assert_int_equal(st.allocs, 3);
	assert_int_equal(st.frees, 1);
	assert_int_equal(st.failures, 0);
	assert_true(st.bytes_reserved >= MLW_ALLOC_CHUNK_SIZE + 40000);
	assert_int_equal(mlw_alloc_stats(&st), -ENOENT);

	/* leaked may be NULL. */
	assert_non_null(mlw_alloc_malloc(1));
	assert_int_equal(mlw_alloc_thread_fini(NULL), -EBUSY);
}

/* Without mlw_alloc_thread_init, the first malloc creates the heap. */
static void test_lazy_heap(void **state)
{
	struct mlw_alloc_stats st;
	void *p;

	(void)state;
	assert_int_equal(mlw_alloc_stats(&st), -ENOENT);
	mlw_alloc_free(NULL);
	assert_int_equal(mlw_alloc_stats(&st), -ENOENT);
	p = mlw_alloc_malloc(33);
	assert_non_null(p);
	st = stats_now();
	assert_int_equal(st.objects_in_use, 1);
	assert_int_equal(st.bytes_in_use, 33);
	mlw_alloc_free(p);
	assert_int_equal(mlw_alloc_thread_fini(NULL), 0);

	/* calloc creates it too, also when it fails. */
	assert_null(mlw_alloc_calloc(SIZE_MAX, 3));
	st = stats_now();
	assert_int_equal(st.failures, 1);
	assert_int_equal(mlw_alloc_thread_fini(NULL), 0);
}

/* Memory comes from the node the heap was created for. */
static void test_numa_placement(void **state)
{
	int node, max_node, got = -1;
	char *p;

	(void)state;
	if (numa_available() < 0) {
		print_message("libnuma reports no NUMA support: nothing to place\n");
		skip();
	}
	max_node = numa_max_node();
	for (node = max_node; node >= 0; node--)
		if (numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned int)node))
			break;
	assert_true(node >= 0);
	assert_int_equal(mlw_alloc_thread_init(node), 0);
	p = mlw_alloc_malloc(1000);
	assert_non_null(p);
	p[0] = 1;	/* fault the page in */
	if (get_mempolicy(&got, NULL, 0, p, MPOL_F_NODE | MPOL_F_ADDR) != 0) {
		int err = errno;

		mlw_alloc_free(p);
		assert_int_equal(mlw_alloc_thread_fini(NULL), 0);
		print_message("get_mempolicy: %s\n", strerror(err));
		skip();
	}
	assert_int_equal(got, node);
	mlw_alloc_free(p);
	assert_int_equal(mlw_alloc_thread_fini(NULL), 0);
}

struct worker {
	pthread_barrier_t *barrier;
	size_t size;
	int count;
	int iterations;
	uint64_t seed;
	/* results, checked by the main thread (cmocka asserts only work there) */
	int init_ret;
	int fini_ret;
	void *heap;
	struct mlw_alloc_stats live, after;
	int corrupted;
	int null_blocks;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	void **p = calloc((size_t)w->count, sizeof(*p));
	void *churn[64] = { 0 };
	size_t churn_sz[64] = { 0 };
	uint64_t rs = w->seed;

	w->init_ret = mlw_alloc_thread_init(-1);
	for (int i = 0; p && i < w->count; i++) {
		p[i] = mlw_alloc_malloc(w->size);
		if (!p[i]) {
			w->null_blocks++;
			continue;
		}
		fill(p[i], w->size, (uint64_t)i ^ w->seed);
	}
	if (p && p[0])
		w->heap = mlw__alloc_hdr_of(p[0])->owner;
	/* Both threads hold their blocks while both run the churn loop. */
	pthread_barrier_wait(w->barrier);
	for (int k = 0; k < w->iterations; k++) {
		int slot = (int)(rnd_next(&rs) % 64);

		if (churn[slot]) {
			if (check_fill(churn[slot], churn_sz[slot], (uint64_t)slot) != churn_sz[slot])
				w->corrupted++;
			mlw_alloc_free(churn[slot]);
			churn[slot] = NULL;
		} else {
			churn_sz[slot] = (size_t)(rnd_next(&rs) % 2048);
			churn[slot] = mlw_alloc_malloc(churn_sz[slot]);
			if (!churn[slot])
				w->null_blocks++;
			else
				fill(churn[slot], churn_sz[slot], (uint64_t)slot);
		}
	}
	for (int slot = 0; slot < 64; slot++) {
		mlw_alloc_free(churn[slot]);
		churn[slot] = NULL;
	}
	mlw_alloc_stats(&w->live);
	pthread_barrier_wait(w->barrier);
	for (int i = 0; p && i < w->count; i++) {
		if (p[i] && check_fill(p[i], w->size, (uint64_t)i ^ w->seed) != w->size)
			w->corrupted++;
		mlw_alloc_free(p[i]);
	}
	mlw_alloc_stats(&w->after);
	w->fini_ret = mlw_alloc_thread_fini(NULL);
	free(p);
	return NULL;
}

static void test_two_threads(void **state)
{
	pthread_barrier_t barrier;
	struct worker w[2] = {
		{ .barrier = &barrier, .size = 24, .count = 3000, .iterations = 100000, .seed = 11 },
		{ .barrier = &barrier, .size = 700, .count = 500, .iterations = 70000, .seed = 22 },
	};
	pthread_t t[2];
	struct mlw_alloc_stats st;
	void *mine;

	(void)state;
	/* The main thread's heap holds a block throughout; the workers must not
	 * change its counters. */
	mine = mlw_alloc_malloc(77);
	assert_non_null(mine);
	assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&barrier);

	for (int i = 0; i < 2; i++) {
		assert_int_equal(w[i].init_ret, 0);
		assert_int_equal(w[i].null_blocks, 0);
		assert_int_equal(w[i].corrupted, 0);
		assert_int_equal(w[i].live.objects_in_use, (uint64_t)w[i].count);
		assert_int_equal(w[i].live.bytes_in_use, (uint64_t)w[i].count * w[i].size);
		assert_int_equal(w[i].live.allocs - w[i].live.frees, (uint64_t)w[i].count);
		assert_int_equal(w[i].after.objects_in_use, 0);
		assert_int_equal(w[i].after.bytes_in_use, 0);
		assert_int_equal(w[i].fini_ret, 0);
		assert_non_null(w[i].heap);
		assert_ptr_not_equal(w[i].heap, mlw__alloc_hdr_of(mine)->owner);
	}
	assert_ptr_not_equal(w[0].heap, w[1].heap);

	st = stats_now();
	assert_int_equal(st.objects_in_use, 1);
	assert_int_equal(st.bytes_in_use, 77);
	assert_int_equal(st.allocs, 1);
	mlw_alloc_free(mine);
	assert_nothing_in_use();
}

/*
 * Run @p child_fn in a forked child with stderr captured. Returns the child's
 * wait status; the captured text (NUL-terminated, truncated to @p len - 1)
 * goes to @p out.
 */
static int run_child(void (*child_fn)(void), char *out, size_t len)
{
	int fds[2], status;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		/* The abort is expected: no core file. */
		setrlimit(RLIMIT_CORE, &no_core);
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		close(fds[1]);
		child_fn();
		_exit(0);
	}
	close(fds[1]);
	/* Read to EOF before waiting, so a chatty child cannot block on a full pipe. */
	while ((n = read(fds[0], out + used, len - 1 - used)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		used += (size_t)n;
		if (used == len - 1) {
			char sink[256];

			while ((n = read(fds[0], sink, sizeof(sink))) > 0 || (n < 0 && errno == EINTR))
				;
			break;
		}
	}
	out[used] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* "block=%p" line the child prints before the bad free, so the parent can
 * check that the abort message names that block. */
static void assert_aborted_naming_block(int status, const char *out, const char *what)
{
	char block[64], *nl;
	const char *at = strstr(out, "block=");

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("child did not die of SIGABRT (status 0x%x); stderr:\n%s", status, out);
	assert_non_null(at);
	snprintf(block, sizeof(block), "%s", at + strlen("block="));
	nl = strchr(block, '\n');
	assert_non_null(nl);
	*nl = '\0';
	if (!strstr(out, "mlw_alloc:") || !strstr(out, what))
		fail_msg("abort message lacks \"%s\":\n%s", what, out);
	/* Named once in our line, once more in the allocator's message. */
	assert_non_null(strstr(strstr(out, "mlw_alloc:"), block));
}

static void *free_elsewhere(void *arg)
{
	mlw_alloc_free(arg);
	return NULL;
}

static void *free_elsewhere_with_heap(void *arg)
{
	if (mlw_alloc_thread_init(-1) != 0)
		_exit(3);
	mlw_alloc_free(arg);
	return NULL;
}

static void wrong_thread_child(void *(*fn)(void *))
{
	pthread_t t;
	void *p = mlw_alloc_malloc(64);

	if (!p)
		_exit(2);
	fprintf(stderr, "block=%p\n", p);
	if (pthread_create(&t, NULL, fn, p) != 0)
		_exit(2);
	pthread_join(t, NULL);
}

static void child_free_no_heap(void)
{
	wrong_thread_child(free_elsewhere);
}

static void child_free_other_heap(void)
{
	wrong_thread_child(free_elsewhere_with_heap);
}

static void test_wrong_thread_free_aborts(void **state)
{
	char out[8192];
	int status;

	(void)state;
	if (!CHECKS) {
		print_message("built without MLW_ALLOC_DEBUG: no owner check to test\n");
		skip();
	}
	/* The freeing thread has a heap of its own. */
	status = run_child(child_free_other_heap, out, sizeof(out));
	assert_aborted_naming_block(status, out, "only the owning shard may free it");
	/* The freeing thread has no heap at all. */
	status = run_child(child_free_no_heap, out, sizeof(out));
	assert_aborted_naming_block(status, out, "whose heap is (nil)");
}

static void child_double_free(void)
{
	void *keep = mlw_alloc_malloc(100);
	void *p = mlw_alloc_malloc(100);

	if (!keep || !p)
		_exit(2);
	fprintf(stderr, "block=%p\n", p);
	mlw_alloc_free(p);
	mlw_alloc_free(p);
}

static void child_free_garbage(void)
{
	uint8_t buf[64] __attribute__((aligned(16)));

	memset(buf, 0x17, sizeof(buf));
	fprintf(stderr, "block=%p\n", (void *)(buf + 32));
	mlw_alloc_free(buf + 32);
}

static void test_double_free_aborts(void **state)
{
	char out[8192];
	int status;

	(void)state;
	if (!CHECKS) {
		print_message("built without MLW_ALLOC_DEBUG: no double-free check to test\n");
		skip();
	}
	status = run_child(child_double_free, out, sizeof(out));
	assert_aborted_naming_block(status, out, "double free");
	status = run_child(child_free_garbage, out, sizeof(out));
	assert_aborted_naming_block(status, out, "not a live mlw_alloc block");
}

/* Exit status of a child that cannot run its case here (test skipped). */
#define CHILD_SKIP 77

static __attribute__((noreturn)) void child_fail(const char *why)
{
	fprintf(stderr, "child: %s\n", why);
	_exit(1);
}

/* Virtual size of this process, from /proc/self/statm. */
static rlim_t vm_size(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages;
	int ok;

	if (!f)
		return 0;
	ok = fscanf(f, "%lu", &pages) == 1;
	fclose(f);
	return ok ? (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) : 0;
}

/* Running out of memory: NULL with ENOMEM, the failure counted, and the heap
 * still works afterwards. The address-space limit, set before the heap
 * reserves its arena, leaves room for about 40 chunks: the arena shrinks
 * to what fits, and the next one finds no room. */
static void child_oom(void)
{
	enum { CAP = 1 << 16 };
	struct mlw_alloc_stats st, last = { 0 };
	struct rlimit lim;
	void **held;
	size_t n = 0;

	if (mlw_alloc_stats(&st) != -ENOENT || getrlimit(RLIMIT_AS, &lim) != 0 || vm_size() == 0)
		child_fail("setup");
	lim.rlim_cur = vm_size() + 40 * MLW_ALLOC_CHUNK_SIZE;
	if (setrlimit(RLIMIT_AS, &lim) != 0)
		child_fail("setrlimit(RLIMIT_AS)");
	/* qemu-user accepts setrlimit(RLIMIT_AS) but applies it to nothing (the
	 * limit would bind the emulator itself), and getrlimit() still reports
	 * the old value: there is no limit to run out of. */
	{
		struct rlimit now;

		if (getrlimit(RLIMIT_AS, &now) != 0 || now.rlim_cur != lim.rlim_cur) {
			fprintf(stderr, "the address-space limit is not in force (getrlimit "
				"after setrlimit still reports the old value: an emulator "
				"such as qemu-user ignores RLIMIT_AS)\n");
			_exit(CHILD_SKIP);
		}
	}
	held = mlw_alloc_malloc(CAP * sizeof(*held));
	if (!held)
		child_fail("no heap under the limit");
	for (;;) {
		void *p;

		errno = 0;
		p = mlw_alloc_malloc(4000);
		if (!p)
			break;
		if (n == CAP)
			child_fail("the address-space limit did not stop the heap");
		held[n++] = p;
		mlw_alloc_stats(&last);
	}
	if (errno != ENOMEM)
		child_fail("errno is not ENOMEM");
	if (n == 0)
		child_fail("no allocation succeeded under the limit");
	if (mlw_alloc_stats(&st) != 0 || st.failures != 1 || st.objects_in_use != n + 1 ||
	    st.bytes_reserved != last.bytes_reserved || st.allocs != last.allocs)
		child_fail("counters wrong after the failure");
	mlw_alloc_free(held[--n]);
	if (!(held[n++] = mlw_alloc_malloc(4000)))
		child_fail("a freed block could not be allocated again");
	while (n)
		mlw_alloc_free(held[--n]);
	mlw_alloc_free(held);
	if (mlw_alloc_thread_fini(NULL) != 0)
		child_fail("fini reports blocks in use");
}

static void test_out_of_memory(void **state)
{
	char out[4096];
	int status;

	(void)state;
	status = run_child(child_oom, out, sizeof(out));
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_SKIP) {
		print_message("skipped: %s", out);
		skip();
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child status 0x%x (exit %d); stderr:\n%s", status,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
}

/* mlw_alloc_set_limit(): argument checks; the cap shows in the counters. */
static void test_limit_api(void **state)
{
	(void)state;
	assert_int_equal(mlw_alloc_set_limit(0), -ENOENT);
	assert_int_equal(mlw_alloc_set_limit(MLW_ALLOC_LIMIT_MIN), -ENOENT);
	assert_int_equal(mlw_alloc_thread_init(-1), 0);
	assert_int_equal(stats_now().bytes_limit, 0);
	assert_int_equal(mlw_alloc_set_limit(1), -EINVAL);
	assert_int_equal(mlw_alloc_set_limit(MLW_ALLOC_LIMIT_MIN - 1), -EINVAL);
	assert_int_equal(stats_now().bytes_limit, 0);
	assert_int_equal(mlw_alloc_set_limit(MLW_ALLOC_LIMIT_MIN), 0);
	assert_int_equal(stats_now().bytes_limit, MLW_ALLOC_LIMIT_MIN);
	assert_int_equal(mlw_alloc_set_limit(0), 0);
	assert_int_equal(stats_now().bytes_limit, 0);
	assert_int_equal(mlw_alloc_thread_fini(NULL), 0);
}

/*
 * A heap capped at four chunks: ordinary blocks stop one chunk below the
 * cap, large blocks too; at the cap a smaller request takes a freed bigger
 * block whole, and blocks of at most MLW_ALLOC_RESERVE_MAX bytes come from
 * the reserve chunk until the cap itself. Freeing everything leaves nothing
 * in use; removing the cap lets the heap grow again.
 */
static void test_limit_cap(void **state)
{
	enum { CAP = 4 * MLW_ALLOC_CHUNK_SIZE, MAXBLK = 1 << 14 };
	void **big = test_malloc(MAXBLK * sizeof(void *));
	void **mid = test_malloc(MAXBLK * sizeof(void *));
	void **tiny = test_malloc(MAXBLK * sizeof(void *));
	size_t nbig = 0, nmid = 0, ntiny = 0;
	struct mlw_alloc_stats st;
	void *p, *freed;

	(void)state;
	assert_int_equal(mlw_alloc_set_limit(CAP), 0);

	/* Ordinary blocks: until a new chunk would enter the reserve. */
	while ((p = mlw_alloc_malloc(4000)) != NULL) {
		assert_true(nbig < MAXBLK);
		fill(p, 4000, nbig);
		big[nbig++] = p;
	}
	assert_int_equal(errno, ENOMEM);
	st = stats_now();
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.bytes_reserved, CAP - MLW_ALLOC_CHUNK_SIZE);
	assert_int_equal(st.objects_in_use, nbig);
	/* Large blocks obey the same line; so do calloc and mid-size
	 * blocks once the free blocks of larger classes are used up. */
	errno = 0;
	assert_null(mlw_alloc_malloc(64 * 1024));
	assert_int_equal(errno, ENOMEM);
	assert_null(mlw_alloc_calloc(1, 5000));
	while ((p = mlw_alloc_malloc(1000)) != NULL) {
		assert_true(nmid < MAXBLK);
		mid[nmid++] = p;
	}
	/* The tails of the full chunks were cut into free blocks: at the
	 * cap, 1000-byte requests took them whole. */
	assert_true(nmid >= 1);
	st = stats_now();
	assert_int_equal(st.failures, 4);
	assert_int_equal(st.bytes_reserved, CAP - MLW_ALLOC_CHUNK_SIZE);

	/* A freed 4000-byte block serves a 1000-byte request, whole, and
	 * goes back to its own class when freed. */
	freed = big[--nbig];
	mlw_alloc_free(freed);
	p = mlw_alloc_malloc(1000);
	assert_ptr_equal(p, freed);
	fill(p, 1000, 77);
	mlw_alloc_free(p);
	p = mlw_alloc_malloc(4000);
	assert_ptr_equal(p, freed);
	fill(p, 4000, nbig);
	big[nbig++] = p;

	/* The reserve: small blocks only, up to the cap itself. Blocks just
	 * above its size take what free blocks are left, then fail. */
	while ((p = mlw_alloc_malloc(MLW_ALLOC_RESERVE_MAX + 1)) != NULL) {
		assert_true(nmid < MAXBLK);
		mid[nmid++] = p;
	}
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(stats_now().bytes_reserved, CAP - MLW_ALLOC_CHUNK_SIZE);
	while ((p = mlw_alloc_malloc(32)) != NULL) {
		assert_true(ntiny < MAXBLK);
		fill(p, 32, ntiny);
		tiny[ntiny++] = p;
	}
	assert_int_equal(errno, ENOMEM);
	st = stats_now();
	assert_int_equal(st.bytes_reserved, CAP);
	/* One chunk of 48-byte strides, less its header. */
	assert_int_equal(ntiny, (MLW_ALLOC_CHUNK_SIZE - 16) / 48);
	assert_null(mlw_alloc_malloc(MLW_ALLOC_RESERVE_MAX));

	/* Every block kept its contents through all of this. */
	for (size_t i = 0; i < nbig; i++)
		assert_int_equal(check_fill(big[i], 4000, i), 4000);
	for (size_t i = 0; i < ntiny; i++)
		assert_int_equal(check_fill(tiny[i], 32, i), 32);
	while (nbig)
		mlw_alloc_free(big[--nbig]);
	while (nmid)
		mlw_alloc_free(mid[--nmid]);
	while (ntiny)
		mlw_alloc_free(tiny[--ntiny]);
	assert_nothing_in_use();

	/* A cap below what is reserved: only reuse. */
	assert_int_equal(mlw_alloc_set_limit(MLW_ALLOC_LIMIT_MIN), 0);
	p = mlw_alloc_malloc(4000);
	assert_non_null(p);
	mlw_alloc_free(p);
	assert_null(mlw_alloc_malloc(64 * 1024));
	/* No cap: the heap grows again (and keeps the block for reuse). */
	assert_int_equal(mlw_alloc_set_limit(0), 0);
	p = mlw_alloc_malloc(64 * 1024);
	assert_non_null(p);
	mlw_alloc_free(p);
	st = stats_now();
	assert_int_equal(st.bytes_reserved, CAP + MLW_ALLOC_ALIGN + 64 * 1024);
	assert_nothing_in_use();
	test_free(big);
	test_free(mid);
	test_free(tiny);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic, setup_heap, teardown_heap),
		cmocka_unit_test(test_class_mapping),
		cmocka_unit_test_setup_teardown(test_class_boundaries, setup_heap, teardown_heap),
		cmocka_unit_test_setup_teardown(test_large, setup_heap, teardown_heap),
		cmocka_unit_test_setup_teardown(test_calloc_zeroes, setup_heap, teardown_heap),
		cmocka_unit_test_setup_teardown(test_too_large, setup_heap, teardown_heap),
		cmocka_unit_test_setup_teardown(test_malloc_zero, setup_heap, teardown_heap),
		cmocka_unit_test_setup_teardown(test_reuse, setup_heap, teardown_heap),
		cmocka_unit_test_setup_teardown(test_many_random, setup_heap, teardown_heap),
		cmocka_unit_test_teardown(test_init_fini_errors, teardown_no_heap),
		cmocka_unit_test_teardown(test_fini_busy, teardown_no_heap),
		cmocka_unit_test_teardown(test_lazy_heap, teardown_no_heap),
		cmocka_unit_test_teardown(test_numa_placement, teardown_no_heap),
		cmocka_unit_test_setup_teardown(test_two_threads, setup_heap, teardown_heap),
		cmocka_unit_test(test_wrong_thread_free_aborts),
		cmocka_unit_test(test_double_free_aborts),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test_teardown(test_limit_api, teardown_no_heap),
		cmocka_unit_test_setup_teardown(test_limit_cap, setup_heap, teardown_heap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
