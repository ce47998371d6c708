/* test_tcp_timer.c - the TCP timer wheel (lwip-port/tcp_timer.c) at 10 and at 4,000 connections: idle connections cost one visit per wheel lap, not one per tick; keepalive fires on time; every timer node is freed with its connection.
 *
 * main -> test_stack_run(one shard on net_ring0) -> body: a listener on
 * 127.0.0.1 (lwIP's loopback netif) and FEW connected pairs, all idle; the
 * wheel's visits over MEASURE_MS are counted (mlw__tcp_timer_stats);
 * then MANY pairs and the same count; then one pair with SO_KEEPALIVE
 * (TCP_KEEPIDLE 1 s), idle: the probes counted; all closed -> the stack
 * stops with every heap empty -> CMocka asserts.
 *
 * lwIP's own tcp_tmr() would look at every connection every 2 ms
 * (TCP_TMR_INTERVAL) here: 2 x MANY x 500 visits a second. The wheel looks
 * at an idle connection once per lap (4096 ms): in a window of a little
 * over one lap, at most twice.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#undef TCP_MSS
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mlw_lwip_hooks.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "test_stack.h"

#define FEW		5
#define MANY		2000
#define MEASURE_MS	4500	/* a little over one lap of the wheel */
#define WAIT_MS		20000

static struct {
	bool ran;
	char why[256];
	int open;			/* pairs connected */
	uint64_t visits_few, visits_many;	/* wheel visits in MEASURE_MS, idle */
	uint64_t ka_probes;		/* keepalive probes in KA_MS */
	uint64_t ka_expected;
} res;

static int cfd[MANY], afd[MANY];

#define CHECK(cond, what)                                                          \
	do {                                                                       \
		if (!(cond)) {                                                     \
			snprintf(res.why, sizeof(res.why), "line %d: %s (errno %d)", \
				 __LINE__, what, errno);                           \
			return -1;                                                 \
		}                                                                  \
	} while (0)

/* Connect pairs [from, to) to the listener; accept each. */
static int open_pairs(int lfd, const struct sockaddr_in *to, int from, int upto)
{
	const char *why = NULL;

	res.open = test_tcp_pairs(lfd, to, cfd, afd, from, upto, WAIT_MS, &why);
	CHECK(res.open == upto, why);
	return 0;
}

/* Wheel visits in MEASURE_MS while nothing is sent. */
static uint64_t idle_visits(void)
{
	struct mlw_tcp_timer_stats a, b;

	test_pump_ms(100);	/* the last handshakes' ACKs */
	mlw__tcp_timer_stats(&a);
	test_pump_ms(MEASURE_MS);
	mlw__tcp_timer_stats(&b);
	return b.visits - a.visits;
}

static int keepalive(void)
{
	struct mlw_tcp_timer_stats a, b;
	int on = 1, idle = 1, intvl = 1;

	CHECK(mlw_setsockopt(cfd[0], SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == 0, "SO_KEEPALIVE");
	CHECK(mlw_setsockopt(cfd[0], IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) == 0, "TCP_KEEPIDLE");
	CHECK(mlw_setsockopt(cfd[0], IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) == 0, "TCP_KEEPINTVL");
	/* A byte each way starts the idle time now. */
	CHECK(mlw_write(cfd[0], "k", 1) == 1, "write");
	test_pump_ms(20);
	{
		char c;

		CHECK(mlw_read(afd[0], &c, 1) == 1, "read");
	}
	mlw__tcp_timer_stats(&a);
	/* The peer answers each probe, which starts the idle time again: a
	 * probe at ~1 s and one at ~2 s after the last segment. */
	test_pump_ms(2500);
	mlw__tcp_timer_stats(&b);
	res.ka_probes = b.keepalive_probes - a.keepalive_probes;
	res.ka_expected = 2;
	return 0;
}

static int run(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7100),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lfd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	CHECK(lfd >= 0, "listen socket");
	CHECK(mlw_bind(lfd, (const struct sockaddr *)&to, sizeof(to)) == 0, "bind");
	CHECK(mlw_listen(lfd, 4096) == 0, "listen");
	if (open_pairs(lfd, &to, 0, FEW) != 0)
		return -1;
	res.visits_few = idle_visits();
	if (open_pairs(lfd, &to, FEW, MANY) != 0)
		return -1;
	res.visits_many = idle_visits();
	if (keepalive() != 0)
		return -1;
	for (int i = 0; i < res.open; i++) {
		mlw_close(cfd[i]);
		mlw_close(afd[i]);
	}
	mlw_close(lfd);
	test_pump_ms(200);
	return 0;
}

static void body(void)
{
	res.ran = true;
	if (run() != 0)
		fprintf(stderr, "test_tcp_timer: %s\n", res.why);
}

static void test_ran(void **state)
{
	(void)state;
	assert_true(res.ran);
	if (res.why[0] != '\0')
		fail_msg("%s", res.why);
	assert_int_equal(res.open, MANY);
}

/* Idle connections: at most two visits each in a window of one lap, at
 * both sizes (lwIP's walk: every connection, 500 times a second). */
static void test_idle_cost(void **state)
{
	(void)state;
	printf("wheel visits in %d ms, idle: %d connections %llu; %d connections %llu "
	       "(lwIP's walk: %d)\n", MEASURE_MS, 2 * FEW, (unsigned long long)res.visits_few,
	       2 * MANY, (unsigned long long)res.visits_many, 2 * MANY * MEASURE_MS / 2);
	assert_true(res.visits_few <= 2 * 2 * FEW);
	assert_true(res.visits_many <= 2 * 2 * MANY);
}

static void test_keepalive(void **state)
{
	(void)state;
	printf("keepalive probes in 2.5 s with TCP_KEEPIDLE 1 s: %llu\n",
	       (unsigned long long)res.ka_probes);
	assert_int_equal(res.ka_probes, res.ka_expected);
}

int main(void)
{
	unsigned bad_heaps = 0;
	int rc = test_stack_run("tcp_timer", "[stack]\nshards = 1\nmax_sockets = 8192\n"
				"[port0]\nipv4 = 10.0.0.2/24\n", body, &bad_heaps);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ran),
		cmocka_unit_test(test_idle_cost),
		cmocka_unit_test(test_keepalive),
	};

	if (rc != 0)
		return rc;
	if (bad_heaps != 0) {
		fprintf(stderr, "test_tcp_timer: %u shard heap(s) not empty at stop\n", bad_heaps);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
