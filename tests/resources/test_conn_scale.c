/* test_conn_scale.c - 60,000 connections from one client shard to one server address and port, the server on the same shard (120,000 PCBs over loopback): established, data byte-exact on all of them and 32 KiB each way on a sample, closed, the shard stopped with every heap empty.
 *
 * main -> test_stack_run(one shard on net_ring0, [stack] local_ports =
 * 1024-65535) -> body (on the shard, lwIP's raw API through
 * tests/support/test_loop.c): a listener on 127.0.0.1:7001; N clients
 * connect to it in batches within the listen backlog -> every client and
 * server end sends 16 bytes, every SAMPLE-th 32 KiB more, each checked
 * against its pattern on receipt -> clients close first (TIME-WAIT, cut to
 * [stack] max_time_wait by the shard) -> the rest aborted -> the stack
 * stops -> CMocka asserts.
 *
 * Client and server share the shard (a memif pair of processes would need
 * two stacks' start-up for the same table code). Without ports taken by
 * 4-tuple the client would stop at the 16,384 ports of lwIP's range (the
 * range here holds 64,512; a 4-tuple, not a port, must be unique, and the
 * server's port 7001 is the listener's, left out). Memory per connection
 * is reported from the shard heap. Sanitizer builds run fewer connections
 * (the same code paths) to stay within the time bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "mlw_tcp_table.h"
#include "mlwip/alloc.h"
#include "mlwip/stack.h"
#include "test_loop.h"
#include "test_stack.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define N		15000
#else
#define N		60000
#endif
#define SERVER_PORT	7001
#define SMALL		16		/* bytes each way on every connection */
#define SAMPLE		60		/* every SAMPLE-th connection also sends BIG */
#define BIG		(32 * 1024)
#define BATCH		200		/* within the listen backlog (255) */
#define BUDGET_MS	55000		/* the whole run */

static struct tl_conn cli[N], srv[N];
static struct tl_listener l;

static struct {
	bool ran, ok;
	char why[300];
	int established;
	int64_t establish_ms, data_ms, close_ms, run_ms;
	uint64_t heap_idle;		/* shard heap in use with N idle connections */
	uint64_t heap_before;
	unsigned distinct_ports;
	uint64_t bytes_checked, bad;
	uint32_t time_wait_after;
	struct mlw_tcp_table_stats tab;
	int verify;
} res;

static int64_t t_start;

#define CHECK(cond, ...) TL_CHECK(res.why, cond, __VA_ARGS__)

#define PUMP_UNTIL(cond)                                                                  \
	do {                                                                              \
		while (!(cond)) {                                                         \
			CHECK(test_now_ms() - t_start < BUDGET_MS, "over the time budget waiting for " #cond); \
			test_pump();                                                      \
		}                                                                         \
	} while (0)

static uint64_t heap_in_use(void)
{
	struct mlw_alloc_stats st;

	return mlw_alloc_stats(&st) == 0 ? st.bytes_in_use : 0;
}

static int establish(void)
{
	static uint8_t seen[65536];

	for (int i = 0; i < N; i += BATCH) {
		int end = i + BATCH < N ? i + BATCH : N;

		for (int k = i; k < end; k++)
			CHECK(tl_connect(&cli[k], SERVER_PORT) == ERR_OK, "connect %d: no local port", k);
		PUMP_UNTIL(l.n >= (size_t)end);
		for (int k = i; k < end; k++)
			PUMP_UNTIL(cli[k].connected);
		res.established = end;
	}
	for (int i = 0; i < N; i++) {
		u16_t p = cli[i].pcb->local_port;

		res.distinct_ports += !seen[p];
		seen[p] = 1;
		CHECK(srv[i].seed == cli[i].seed, "server end %d is another client's", i);
	}
	return 0;
}

static bool all_received(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++)
		if (cli[i].rx != srv[i].tx || srv[i].rx != cli[i].tx)
			return false;
	return true;
}

static int data(void)
{
	for (int i = 0; i < N; i++) {
		size_t want = SMALL + (i % SAMPLE == 0 ? BIG : 0);

		CHECK(tl_write(&cli[i], want) == want && tl_write(&srv[i], want) == want, "write %d", i);
		if (i % BATCH == 0)
			test_pump();
	}
	CHECK(tl_pump_until(all_received, NULL, (int)(BUDGET_MS - (test_now_ms() - t_start))),
	      "not everything arrived");
	for (int i = 0; i < N; i++) {
		res.bytes_checked += cli[i].rx + srv[i].rx;
		res.bad += cli[i].bad + srv[i].bad;
	}
	return 0;
}

static int close_all(void)
{
	/* Clients close first: they keep TIME-WAIT, the shard cuts it to
	 * max_time_wait. Half close, half abort (resets). */
	for (int i = 0; i < N; i++) {
		if (i % 2 == 0)
			CHECK(tl_close(&cli[i]), "close %d", i);
		else
			tl_abort(&cli[i]);
		if (i % BATCH == 0)
			test_pump();
	}
	for (int i = 0; i < N; i += 2) {
		PUMP_UNTIL(srv[i].eof);
		CHECK(tl_close(&srv[i]), "close %d", i);
	}
	PUMP_UNTIL(mlw__tcp_table_active_count() == 0);
	test_pump_ms(50);	/* a trim */
	res.time_wait_after = mlw__tcp_table_tw_count();
	while (mlw__tcp_table_tw_drop_oldest())
		;
	tl_listener_close(&l);
	return 0;
}

static int run(void)
{
	int64_t t;

	t_start = test_now_ms();
	res.heap_before = heap_in_use();
	CHECK(tl_listen(&l, SERVER_PORT, srv, N) == ERR_OK, "listen");
	t = test_now_ms();
	if (establish() != 0)
		return -1;
	res.establish_ms = test_now_ms() - t;
	test_pump_ms(100);	/* the last ACKs */
	res.heap_idle = heap_in_use() - res.heap_before;
	res.verify = mlw__tcp_table_verify();
	CHECK(res.verify == 0, "table check failed at tcp_table.c line %d", -res.verify);
	mlw__tcp_table_stats(&res.tab);
	t = test_now_ms();
	if (data() != 0)
		return -1;
	res.data_ms = test_now_ms() - t;
	t = test_now_ms();
	if (close_all() != 0)
		return -1;
	res.close_ms = test_now_ms() - t;
	res.verify = mlw__tcp_table_verify();
	CHECK(res.verify == 0, "table check failed at tcp_table.c line %d", -res.verify);
	res.run_ms = test_now_ms() - t_start;
	return 0;
}

static void body(void)
{
	res.ran = true;
	res.ok = run() == 0;
}

static unsigned bad_heaps;

static void test_connections(void **state)
{
	(void)state;
	assert_true(res.ran);
	printf("%d connections (%d PCBs) on one shard: established in %lld ms, data %lld ms, closed in "
	       "%lld ms, %lld ms in all\n", res.established, 2 * res.established,
	       (long long)res.establish_ms, (long long)res.data_ms, (long long)res.close_ms,
	       (long long)res.run_ms);
	printf("heap with %d idle connections: %llu bytes, %llu per connection per side; table: %u buckets, "
	       "%u entries, %llu lookups, %.2f chain steps per lookup\n", res.established,
	       (unsigned long long)res.heap_idle,
	       (unsigned long long)(res.established ? res.heap_idle / (2u * (unsigned)res.established) : 0),
	       res.tab.buckets, res.tab.entries, (unsigned long long)res.tab.lookups,
	       res.tab.lookups ? (double)res.tab.chain_steps / (double)res.tab.lookups : 0.0);
	printf("client local ports: %u distinct for %d connections to 127.0.0.1:%d; %llu bytes checked, "
	       "%llu wrong; %u TIME-WAIT left after the trim\n", res.distinct_ports, res.established,
	       SERVER_PORT, (unsigned long long)res.bytes_checked, (unsigned long long)res.bad,
	       res.time_wait_after);
	if (!res.ok)
		fail_msg("%s", res.why);
	assert_int_equal(res.established, N);
	assert_int_equal(res.distinct_ports, N);
	assert_int_equal(res.bad, 0);
	assert_true(res.bytes_checked >= 2ull * N * SMALL + 2ull * (N / SAMPLE) * BIG);
	/* The default max_time_wait (131072) keeps every closed one, as
	 * compact records. */
	assert_true(res.time_wait_after > 0 && res.time_wait_after <= 131072);
	assert_true(res.run_ms < 60000);
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connections),
		cmocka_unit_test(test_no_leak),
	};
	int rc = test_stack_run("mlwscale", "[stack]\nshards = 1\nlocal_ports = 1024-65535\n"
				"[port0]\nipv4 = 10.0.0.2/24\n", body, &bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
