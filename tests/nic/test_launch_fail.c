/* test_launch_fail.c - a shard whose lcore cannot be launched fails mlw_stack_run() with -EBUSY, and no application init (or fini) runs once the stack is stopping.
 *
 * main -> two-shard stack on net_null0 -> the test occupies lcore 1 itself
 * (rte_eal_remote_launch of a function that sleeps 300 ms) -> mlw_stack_run()
 * cannot launch shard 1 -> it must return -EBUSY, and shard 0, which runs
 * anyway to tear down, must not call init or fini -> CMocka asserts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_launch.h>
#include <rte_lcore.h>

#include "mlwip/stack.h"
#include "test_stack.h"

static struct mlw_stack *st;
static char create_err[600];
static int create_rc = -1, run_rc = 1, occupy_rc = -1;
static atomic_int inits, finis;

static int occupy(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	return 0;
}

static int on_init(unsigned shard, void *arg)
{
	(void)shard;
	(void)arg;
	atomic_fetch_add(&inits, 1);
	return 0;
}

static void on_fini(unsigned shard, void *arg)
{
	(void)shard;
	(void)arg;
	atomic_fetch_add(&finis, 1);
}

static void test_busy_lcore(void **state)
{
	(void)state;
	if (create_rc != 0)
		fail_msg("stack did not start: %s", create_err);
	assert_int_equal(occupy_rc, 0);
	assert_int_equal(run_rc, -EBUSY);
	assert_int_equal(atomic_load(&inits), 0);
	assert_int_equal(atomic_load(&finis), 0);
	/* Shard 0 still tore down cleanly. */
	assert_int_equal(mlw_stack_check_heaps(st, stderr), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busy_lcore),
	};
	int rc;

	create_rc = test_stack_create_eal(&st, "launchfail", "-m 512 --vdev=net_null0",
					  "[stack]\ncores = 0,1\n[port0]\nipv4 = 10.9.0.2/24\n",
					  create_err, sizeof(create_err));
	if (create_rc == 0) {
		occupy_rc = rte_eal_remote_launch(occupy, NULL, 1);
		run_rc = mlw_stack_run(st, on_init, on_fini, NULL);
	}
	rc = cmocka_run_group_tests_name("launch_fail", tests, NULL, NULL);
	if (create_rc == 0)
		test_stack_destroy(st, "launchfail");
	return rc;
}
