/* test_fwd_hold.c - frames held for a full inter-shard ring (sharding/fwd_hold.c) against the shards' real ring (runtime.h, POSIX build): what does not fit waits instead of being dropped, goes once the owner drains, keeps each owner's order, and a frame for another owner is not held behind it.
 *
 * The put function is shard.c's shape: mlw__ring_put() on the owner's ring.
 * Frames are tagged pointers (owner << 16 | sequence), never dereferenced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fwd_hold.h"
#include "runtime.h"

#define RING_SIZE 256u	/* holds 255 */
#define OWNERS 3

static mlw__ring_t *rings[OWNERS];
static struct mlw__fwd_hold hold;

static void *tag(unsigned owner, unsigned seq)
{
	return (void *)(uintptr_t)((owner << 16 | seq) + 1);
}

static unsigned tag_owner(void *p)
{
	return (unsigned)(((uintptr_t)p - 1) >> 16);
}

static unsigned tag_seq(void *p)
{
	return (unsigned)(((uintptr_t)p - 1) & 0xffff);
}

static bool put(void *ctx, unsigned owner, void *frame)
{
	unsigned waiting;

	(void)ctx;
	return mlw__ring_put(rings[owner], frame, &waiting);
}

/* shard.c's forward(): the ring unless the owner is blocked, else hold. */
static bool forward(unsigned owner, void *frame)
{
	if (!mlw__fwd_hold_blocks(&hold, owner) && put(NULL, owner, frame))
		return true;
	return mlw__fwd_hold_add(&hold, owner, frame);
}

/* Take everything from @p owner's ring; check the sequence numbers follow
 * on from *@p next. Returns how many. */
static unsigned drain(unsigned owner, unsigned *next)
{
	void *objs[64];
	unsigned n, total = 0;

	while ((n = mlw__ring_take(rings[owner], objs, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(tag_owner(objs[i]), owner);
			assert_int_equal(tag_seq(objs[i]), *next);
			(*next)++;
		}
		total += n;
	}
	return total;
}

static int setup(void **state)
{
	(void)state;
	for (unsigned o = 0; o < OWNERS; o++) {
		rings[o] = mlw__ring_create(o == 0 ? "h0" : o == 1 ? "h1" : "h2", RING_SIZE, -1);
		if (rings[o] == NULL)
			return -1;
	}
	hold = (struct mlw__fwd_hold){ 0 };
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned o = 0; o < OWNERS; o++)
		mlw__ring_free(rings[o]);
	return 0;
}

/* A burst of 600 for owner 1 into a ring of 255: 255 on the ring, 345
 * held, none lost; as the owner drains, retries move the rest over, in
 * order, and the hold ends empty and unblocked. */
static void test_burst_waits_then_goes(void **state)
{
	unsigned next = 0, got = 0;
	uint64_t to = 0;

	(void)state;
	for (unsigned i = 0; i < 600; i++)
		assert_true(forward(1, tag(1, i)));
	assert_int_equal(mlw__ring_capacity(rings[1]), RING_SIZE - 1);
	assert_int_equal(hold.n, 600 - (RING_SIZE - 1));
	assert_true(mlw__fwd_hold_blocks(&hold, 1));
	assert_false(mlw__fwd_hold_blocks(&hold, 2));
	/* Nothing fits before the owner takes any. */
	assert_int_equal(mlw__fwd_hold_retry(&hold, put, NULL, &to), 0);
	assert_int_equal(to, 0);
	while (!mlw__fwd_hold_empty(&hold)) {
		unsigned before = hold.n;

		got += drain(1, &next);
		to = 0;
		assert_true(mlw__fwd_hold_retry(&hold, put, NULL, &to) > 0);
		assert_int_equal(to, UINT64_C(1) << 1);
		assert_true(hold.n < before);
	}
	got += drain(1, &next);
	assert_int_equal(got, 600);
	assert_false(mlw__fwd_hold_blocks(&hold, 1));
}

/* Once a frame for owner 1 is held, a later one for owner 1 waits behind
 * it even if the ring has room again (no reordering), while frames for
 * owner 2 still go straight to their ring. */
static void test_order_per_owner(void **state)
{
	unsigned next1 = 0, next2 = 0;
	void *one = NULL;
	uint64_t to = 0;

	(void)state;
	for (unsigned i = 0; i < RING_SIZE; i++)	/* 255 fit, #255 is held */
		assert_true(forward(1, tag(1, i)));
	assert_int_equal(hold.n, 1);
	/* The owner takes one: there is room, but #256 must not overtake #255. */
	assert_int_equal(mlw__ring_take(rings[1], &one, 1), 1);
	assert_int_equal(tag_seq(one), 0);
	next1 = 1;
	assert_true(forward(1, tag(1, RING_SIZE)));
	assert_int_equal(hold.n, 2);
	for (unsigned i = 0; i < 10; i++)
		assert_true(forward(2, tag(2, i)));
	assert_int_equal(hold.n, 2);	/* owner 2 not held */
	assert_int_equal(drain(2, &next2), 10);
	/* Room for one: #255 goes, #256 stays (the ring is full again). */
	assert_int_equal(mlw__fwd_hold_retry(&hold, put, NULL, &to), 1);
	assert_int_equal(hold.n, 1);
	assert_true(mlw__fwd_hold_blocks(&hold, 1));
	assert_int_equal(drain(1, &next1), RING_SIZE - 1);
	assert_int_equal(mlw__fwd_hold_retry(&hold, put, NULL, &to), 1);
	assert_int_equal(drain(1, &next1), 1);
	assert_int_equal(next1, RING_SIZE + 1);
	assert_true(mlw__fwd_hold_empty(&hold));
}

/* Two owners interleaved in the hold: one drains, the other does not;
 * the retry sends the first's and keeps the second's, in order. */
static void test_owners_independent(void **state)
{
	unsigned next1 = 0, next2 = 0;
	uint64_t to = 0;

	(void)state;
	for (unsigned i = 0; i < RING_SIZE + 20; i++) {
		assert_true(forward(1, tag(1, i)));
		assert_true(forward(2, tag(2, i)));
	}
	assert_int_equal(hold.n, 2 * (RING_SIZE + 20 - (RING_SIZE - 1)));
	assert_int_equal(drain(2, &next2), RING_SIZE - 1);
	assert_int_equal(mlw__fwd_hold_retry(&hold, put, NULL, &to), RING_SIZE + 20 - (RING_SIZE - 1));
	assert_int_equal(to, UINT64_C(1) << 2);
	assert_true(mlw__fwd_hold_blocks(&hold, 1));
	assert_false(mlw__fwd_hold_blocks(&hold, 2));
	assert_int_equal(drain(2, &next2), 21);
	assert_int_equal(drain(1, &next1), RING_SIZE - 1);
	(void)mlw__fwd_hold_retry(&hold, put, NULL, &to);
	assert_int_equal(drain(1, &next1), 21);
	assert_true(mlw__fwd_hold_empty(&hold));
}

static unsigned released[OWNERS];

static void release(void *ctx, unsigned owner, void *frame)
{
	(void)ctx;
	assert_int_equal(tag_owner(frame), owner);
	released[owner]++;
}

/* The bound: MLW_FWD_HOLD_MAX frames, then add refuses (the caller drops
 * and counts); flush gives every held frame back with its owner. */
static void test_bound_and_flush(void **state)
{
	(void)state;
	for (unsigned i = 0; i < RING_SIZE - 1; i++)
		assert_true(forward(0, tag(0, i)));
	for (unsigned i = 0; i < MLW_FWD_HOLD_MAX; i++)
		assert_true(forward(i % 2, tag(i % 2, i)));
	/* Owner 1's ring took 255 of its 512, so the hold has 512 + 257. */
	assert_int_equal(hold.n, MLW_FWD_HOLD_MAX / 2 + MLW_FWD_HOLD_MAX / 2 - (RING_SIZE - 1));
	while (hold.n < MLW_FWD_HOLD_MAX)
		assert_true(mlw__fwd_hold_add(&hold, 2, tag(2, hold.n)));
	assert_false(mlw__fwd_hold_add(&hold, 2, tag(2, 9999)));
	assert_false(forward(0, tag(0, 9999)));
	assert_int_equal(mlw__fwd_hold_flush(&hold, release, NULL), MLW_FWD_HOLD_MAX);
	assert_int_equal(released[0] + released[1] + released[2], MLW_FWD_HOLD_MAX);
	assert_int_equal(released[0], MLW_FWD_HOLD_MAX / 2);
	assert_true(mlw__fwd_hold_empty(&hold));
	assert_false(mlw__fwd_hold_blocks(&hold, 0));
	assert_false(mlw__fwd_hold_blocks(&hold, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_burst_waits_then_goes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_per_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owners_independent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_and_flush, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
