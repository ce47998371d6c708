/* test_derive.c - the derivation makes every kind of mutable state per-thread
 * (globals, file and function statics, macro-declared buffers, address
 * tables, application state) and leaves read-only data alone. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"

#define NTHREADS 4

struct result {
	int rounds;
	int last_bump;
	int counter;
	unsigned char buf_first;
	int app_last;
	struct fx_node **table0, **table1;
	struct fx_node **addr_list;
	const int *readonly;
};

static void *worker(void *arg)
{
	struct result *r = arg;

	fx_init();
	/* Threads run concurrently and interleave; with shared state the
	 * counters below would mix. */
	for (int i = 0; i < r->rounds; i++) {
		r->last_bump = fx_bump();
		r->app_last = app_next();
		sched_yield();
	}
	r->counter = fx_counter;
	r->buf_first = fx_buf_first();
	r->table0 = fx_table_entry(0);
	r->table1 = fx_table_entry(1);
	r->addr_list = &fx_list;
	r->readonly = fx_readonly;
	return NULL;
}

static void state_is_per_thread(void **state)
{
	pthread_t t[NTHREADS];
	struct result r[NTHREADS] = { 0 };

	(void)state;
	for (int i = 0; i < NTHREADS; i++) {
		r[i].rounds = 1000 + 37 * i;
		assert_int_equal(pthread_create(&t[i], NULL, worker, &r[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(r[i].last_bump, r[i].rounds);          /* function static */
		assert_int_equal(r[i].counter, 10 * r[i].rounds);       /* global */
		assert_int_equal(r[i].buf_first, (unsigned char)r[i].rounds); /* macro buffer */
		assert_int_equal(r[i].app_last, r[i].rounds * 1000 + 10 * r[i].rounds); /* app */
		/* The address table holds this thread's own addresses. */
		assert_ptr_equal(r[i].table0, r[i].addr_list);
		assert_ptr_not_equal(r[i].table1, NULL);
		for (int j = 0; j < i; j++) {
			assert_ptr_not_equal(r[i].addr_list, r[j].addr_list);
			assert_ptr_not_equal(r[i].table1, r[j].table1);
			/* Read-only data stays one shared copy. */
			assert_ptr_equal(r[i].readonly, r[j].readonly);
		}
	}
	assert_int_equal(fx_readonly[2], 3);
}

static void main_thread_untouched(void **state)
{
	(void)state;
	/* The workers' updates never reach the main thread's copies. */
	assert_int_equal(fx_counter, 0);
	assert_null(fx_table_entry(0));  /* fx_init() not called on this thread */
	fx_init();
	assert_ptr_equal(fx_table_entry(0), &fx_list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_is_per_thread),
		cmocka_unit_test(main_thread_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
