/* test_time_wait.c - TIME-WAIT on one shard: ephemeral ports reused from TIME-WAIT when none is free (as Linux's net.ipv4.tcp_tw_reuse=1), and the [stack] max_time_wait cap.
 *
 * main(mode) -> mlw_stack_run(one shard on net_ring0) -> shard_init: a
 * listener on 127.0.0.1 (lwIP's loopback netif) and one connection after
 * the other, each: connect, accept, one byte each way, client closes first
 * (TIME-WAIT stays with the client), server reads EOF and closes ->
 * mlw_stack_stop -> CMocka asserts the outcome and the shard's counters.
 *
 * Modes (one stack per process, so one ctest test each):
 *  reuse  max_time_wait above the port range, 16384 + 3000 connections:
 *         without reuse the ones after the 16384th would fail with
 *         EADDRNOTAVAIL for 2 * TCP_MSL (60 s); with it the
 *         client waits at most about a second each time the ports run out;
 *  cap    max_time_wait = 100, 3000 connections: the shard keeps at most
 *         100 TIME-WAIT connections (PCBs and compact records, counted by
 *         the connection table), drops the rest;
 *         then simultaneous closes with the descriptors open (below).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "mlwip/config.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "mlw_tcp_table.h"
#include "test_stack.h"

#define EPHEMERAL	16384		/* lwIP's ports 0xc000-0xffff */
#define CAP		100		/* max_time_wait in the cap mode */
#define WAIT_MS		60000		/* any single wait; generous for TSan */
#define PORT_WAIT_MS	20000		/* all waits for a free port together */

static bool cap_mode;
static int total;			/* connections to make */

static struct {
	bool ran, ok;
	int time_wait_left;		/* lwIP's TIME-WAIT PCBs after the last trim */
	int sim_time_wait;		/* the same after the simultaneous closes */
	struct mlw_shard_stats mid;	/* the shard's published counters then */
	char why[320];
	int done;			/* connections completed */
	int no_port;			/* connects that said EADDRNOTAVAIL */
	int64_t port_wait_ms;		/* time spent waiting for a free port */
	int64_t run_ms;
} res;

static struct mlw_stack *g_stack;

#define CHECK(cond, ...)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			int e_ = errno;                                                   \
			snprintf(res.why, sizeof(res.why), "line %d: %s (errno %d %s) at "  \
				 "connection %d", __LINE__, __VA_ARGS__, e_, strerror(e_), \
				 res.done);                                               \
			return -1;                                                        \
		}                                                                         \
	} while (0)

/* Wait until @p ok(fd) or WAIT_MS passed. */
static bool wait_for(bool (*ok)(int fd, void *arg), int fd, void *arg)
{
	int64_t end = test_now_ms() + WAIT_MS;

	while (!ok(fd, arg)) {
		if (test_now_ms() > end)
			return false;
		test_pump();
	}
	return true;
}

static bool connected(int fd, void *arg)
{
	const struct sockaddr_in *to = arg;

	return mlw_connect(fd, (const struct sockaddr *)to, sizeof(*to)) == 0 ||
	       (errno != EALREADY && errno != EINPROGRESS);
}

static bool accepted(int lfd, void *arg)
{
	int *fd = arg;

	*fd = mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	return *fd >= 0 || errno != EAGAIN;
}

struct rd {
	char byte;
	ssize_t n;
};

static bool readable(int fd, void *arg)
{
	struct rd *r = arg;

	r->n = mlw_read(fd, &r->byte, 1);
	return r->n >= 0 || errno != EAGAIN;
}

/* One connection: connect (waiting for a port if none is free), one byte
 * each way, the client closes first, the server reads EOF and closes. */
static int one(int lfd, const struct sockaddr_in *to)
{
	int c, a = -1;
	struct rd r;

	for (;;) {
		c = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK(c >= 0, "client socket");
		if (mlw_connect(c, (const struct sockaddr *)to, sizeof(*to)) == -1 &&
		    errno == EINPROGRESS)
			break;
		CHECK(errno == EADDRNOTAVAIL, "connect");
		mlw_close(c);
		res.no_port++;
		{
			int64_t t0 = test_now_ms();

			test_pump_ms(50);
			res.port_wait_ms += test_now_ms() - t0;
		}
		CHECK(res.port_wait_ms <= PORT_WAIT_MS, "no free local port within PORT_WAIT_MS (20 s) in all");
	}
	CHECK(wait_for(connected, c, (void *)to), "handshake did not finish");
	CHECK(mlw_connect(c, (const struct sockaddr *)to, sizeof(*to)) == -1 && errno == EISCONN,
	      "handshake failed");
	CHECK(wait_for(accepted, lfd, &a) && a >= 0, "accept4");
	CHECK(mlw_write(c, "q", 1) == 1, "client write");
	CHECK(wait_for(readable, a, &r) && r.n == 1 && r.byte == 'q', "server read");
	CHECK(mlw_write(a, "a", 1) == 1, "server write");
	CHECK(wait_for(readable, c, &r) && r.n == 1 && r.byte == 'a', "client read");
	CHECK(mlw_close(c) == 0, "client close");
	CHECK(wait_for(readable, a, &r) && r.n == 0, "server did not see EOF");
	CHECK(mlw_close(a) == 0, "server close");
	return 0;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (mlw_getsockname(fd, (struct sockaddr *)&a, &len) != 0 || a.sin_family != AF_INET ||
	    a.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		return 0;
	return ntohs(a.sin_port);
}

/*
 * Simultaneous close with the descriptors still open: SIM pairs, each
 * side shuts down writing in the same pass, so both FINs cross and both
 * ends go FIN_WAIT_1 -> CLOSING -> TIME-WAIT (lwIP calls no callback on the
 * last step). The cap then drops most of those TIME-WAIT PCBs while the
 * sockets are open: the sockets must already have let go of them (reading
 * EOF, getsockname and close after that touch no freed PCB; AddressSanitizer
 * checks it in the address build), and still report their local address.
 */
#define SIM (2 * CAP)

static int simultaneous_close(int lfd, const struct sockaddr_in *to)
{
	static int c[SIM], a[SIM];
	static uint16_t cport[SIM];
	struct rd r;

	for (int i = 0; i < SIM; i++) {
		c[i] = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK(c[i] >= 0, "client socket");
		CHECK(mlw_connect(c[i], (const struct sockaddr *)to, sizeof(*to)) == -1 &&
		      errno == EINPROGRESS, "connect");
		CHECK(wait_for(connected, c[i], (void *)to), "handshake did not finish");
		CHECK(wait_for(accepted, lfd, &a[i]) && a[i] >= 0, "accept4");
		cport[i] = local_port(c[i]);
		CHECK(cport[i] != 0, "getsockname before the close");
	}
	for (int i = 0; i < SIM; i++) {
		CHECK(mlw_shutdown(c[i], SHUT_WR) == 0, "client shutdown");
		CHECK(mlw_shutdown(a[i], SHUT_WR) == 0, "server shutdown");
	}
	for (int i = 0; i < SIM; i++) {
		CHECK(wait_for(readable, c[i], &r) && r.n == 0, "client did not see EOF");
		CHECK(wait_for(readable, a[i], &r) && r.n == 0, "server did not see EOF");
	}
	test_pump_ms(50);	/* the ACKs of both FINs, then a trim */
	/* TIME-WAIT PCBs and compact records (lwip-port/tcp_table_tw.c). */
	res.sim_time_wait = (int)mlw__tcp_table_tw_count();
	for (int i = 0; i < SIM; i++) {
		CHECK(local_port(c[i]) == cport[i], "client getsockname after TIME-WAIT");
		CHECK(local_port(a[i]) == ntohs(to->sin_port), "server getsockname after TIME-WAIT");
		CHECK(wait_for(readable, c[i], &r) && r.n == 0, "client EOF after TIME-WAIT");
		CHECK(mlw_close(c[i]) == 0, "client close");
		CHECK(mlw_close(a[i]) == 0, "server close");
	}
	return 0;
}

static int run_connections(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(to);
	int lfd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int64_t t0 = test_now_ms();

	CHECK(lfd >= 0, "listener socket");
	CHECK(mlw_bind(lfd, (struct sockaddr *)&to, sizeof(to)) == 0, "bind 127.0.0.1:0");
	CHECK(mlw_listen(lfd, 16) == 0, "listen");
	CHECK(mlw_getsockname(lfd, (struct sockaddr *)&to, &len) == 0, "getsockname");
	for (res.done = 0; res.done < total; res.done++) {
		if (one(lfd, &to) != 0)
			return -1;
		if ((res.done + 1) % 2000 == 0)
			fprintf(stderr, "%d connections, %lld ms\n", res.done + 1,
				(long long)(test_now_ms() - t0));
	}
	res.run_ms = test_now_ms() - t0;
	/* The shard trims every 10 ms: after 50 ms the list is at the cap. */
	test_pump_ms(50);
	res.time_wait_left = (int)mlw__tcp_table_tw_count();
	/* The shard publishes its counters every ~100 ms; nothing changes in
	 * between (TIME-WAIT lasts 60 s). */
	test_pump_ms(150);
	mlw_stack_stats(g_stack, 0, &res.mid);
	if (cap_mode && simultaneous_close(lfd, &to) != 0)
		return -1;
	CHECK(mlw_close(lfd) == 0, "listener close");
	return 0;
}

static int shard_init(unsigned shard, void *arg)
{
	(void)shard;
	(void)arg;
	res.ran = true;
	res.ok = run_connections() == 0;
	mlw_stack_stop(g_stack);
	return 0;
}

static struct mlw_shard_stats final_stats;
static unsigned bad_heaps;
static int run_rc;
static char reason[600];

static int run_stack(void)
{
	char sections[128];
	int rc;

	snprintf(sections, sizeof(sections), "[stack]\nshards = 1\nmax_time_wait = %u\n"
		 "[port0]\nipv4 = 10.0.0.2/24\n", cap_mode ? CAP : MLW_CONFIG_MAX_TIME_WAIT_MAX);
	rc = test_stack_create(&g_stack, "mlwports", sections, reason, sizeof(reason));
	if (rc != 0)
		return rc;
	rc = mlw_stack_run(g_stack, shard_init, NULL, NULL);
	mlw_stack_stats(g_stack, 0, &final_stats);
	bad_heaps = mlw_stack_check_heaps(g_stack, stderr);
	mlw_stack_print_stats(g_stack, stdout);
	test_stack_destroy(g_stack, "mlwports");
	return rc;
}

static void test_connections(void **state)
{
	(void)state;
	assert_int_equal(run_rc, 0);
	assert_true(res.ran);
	if (!res.ok)
		fail_msg("%s", res.why);
	assert_int_equal(res.done, total);
	printf("%d connections in %lld ms; %d connects found no free port, %lld ms waited; "
	       "TIME-WAIT PCBs: %llu reused, %llu dropped at the cap, %d left\n", res.done,
	       (long long)res.run_ms, res.no_port, (long long)res.port_wait_ms,
	       (unsigned long long)final_stats.tcp_tw_reused,
	       (unsigned long long)final_stats.tcp_tw_dropped, res.time_wait_left);
	assert_int_equal(final_stats.tcp_active_opens, total + (cap_mode ? SIM : 0));
	/* The gauges: every connection closed, what the table holds in TIME-WAIT. */
	assert_int_equal(res.mid.tcp_time_wait, (uint64_t)res.time_wait_left);
	assert_int_equal(res.mid.tcp_conns, 0);
}

/* Every connection beyond the range needed a reused TIME-WAIT port (a few
 * may have found one whose TIME-WAIT ended on its own: only on a very slow
 * run, 2 * TCP_MSL after the first). */
static void test_time_wait_reused(void **state)
{
	(void)state;
	assert_true(res.ok);
	assert_in_range(final_stats.tcp_tw_reused, 1, total);
	/* 2 * TCP_MSL (60 s) after the first close, TIME-WAIT starts to end
	 * on its own (a ThreadSanitizer run takes ~70 s). */
	if (res.run_ms < 2 * TCP_MSL) {
		assert_true(final_stats.tcp_tw_reused >= (uint64_t)total - EPHEMERAL);
		assert_true(res.time_wait_left >= EPHEMERAL - 3000);
	}
	assert_int_equal(final_stats.tcp_tw_dropped, 0);
}

/* At most CAP kept; every other connection's TIME-WAIT was dropped (none
 * can have ended on its own within 2 * TCP_MSL, none needed reuse). */
static void test_time_wait_capped(void **state)
{
	(void)state;
	assert_true(res.ok);
	assert_int_equal(res.time_wait_left, CAP);
	assert_int_equal(res.sim_time_wait, CAP);
	/* Then both ends of each simultaneous close went TIME-WAIT. */
	assert_int_equal(final_stats.tcp_tw_dropped, total - CAP + 2 * SIM);
	assert_int_equal(final_stats.tcp_tw_reused, 0);
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_int_equal(bad_heaps, 0);
	assert_int_equal(final_stats.alloc_fini_rc, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest reuse_tests[] = {
		cmocka_unit_test(test_connections),
		cmocka_unit_test(test_time_wait_reused),
		cmocka_unit_test(test_no_leak),
	};
	const struct CMUnitTest cap_tests[] = {
		cmocka_unit_test(test_connections),
		cmocka_unit_test(test_time_wait_capped),
		cmocka_unit_test(test_no_leak),
	};

	if (argc != 2 || (strcmp(argv[1], "reuse") != 0 && strcmp(argv[1], "cap") != 0)) {
		fprintf(stderr, "usage: %s reuse|cap\n", argv[0]);
		return 2;
	}
	cap_mode = strcmp(argv[1], "cap") == 0;
	total = cap_mode ? 3000 : EPHEMERAL + 3000;
	run_rc = run_stack();
	if (run_rc != 0 && !res.ran) {
		printf("SKIP: the stack did not start: %s\n", reason);
		return 77;
	}
	if (cap_mode)
		return cmocka_run_group_tests_name("time_wait_cap", cap_tests, NULL, NULL);
	return cmocka_run_group_tests_name("time_wait_reuse", reuse_tests, NULL, NULL);
}
