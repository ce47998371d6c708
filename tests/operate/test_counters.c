/* test_counters.c - the TCP counters of struct mlw_shard_stats mean what they say, and a connection listing taken through conns.c shows the shard's PCBs.
 *
 * main -> test_stack_run(one shard on net_ring0) -> run(): a scripted peer
 * (test_peer.h, 10.0.0.99) against a listener on port 80:
 *   1. a SYN that is never completed: tcp_half_open +1, tcp_accepts +0;
 *   2. a listing asked from another thread (as the telemetry thread asks)
 *      while the shard runs its passes: the listener in LISTEN with its
 *      backlog, the half-open PCB in SYN_RCVD, with the right ports;
 *      asked while the shard runs no pass: -ETIMEDOUT, no hang;
 *   3. a completed handshake: tcp_accepts +1, tcp_half_open +1;
 *   4. data the peer never acknowledges: after the retransmission timeout
 *      tcp_rto_retrans and tcp_rto_timeouts >= 1, tcp_fast_retrans 0,
 *      tcp_retrans their sum;
 *   5. three duplicate ACKs on another connection: tcp_fast_retrans +1;
 *   6. a connection our side closed first, the peer's FIN acknowledged:
 *      a listing shows it in TIME-WAIT as a compact record, with its ports.
 * Counters are read as published (mlw_stack_stats(), every 100 ms); the
 * CMocka tests after the run assert what run() recorded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "stack_private.h"
#include "test_frame.h"
#include "test_peer.h"
#include "test_stack.h"

#define LPORT 80
#define P_HALF 5001	/* the SYN never completed */
#define P_RTO 5002	/* data never acknowledged */
#define P_FAST 5003	/* three duplicate ACKs */
#define P_TW 5004	/* closed here first: TIME-WAIT */

static struct {
	struct mlw_shard_stats s0, s_half, s_acc, s_rto, s_fast;
	bool rto_seen;
	/* the listing */
	int take_rc, stuck_rc;
	uint32_t n;
	bool listen_ok, half_ok;
	unsigned listen_backlog;
	int tw_rc;
	bool tw_compact_ok;
} res;

static const uint8_t mss1460[4] = { 0x02, 0x04, 0x05, 0xb4 };

static void stats(struct mlw_shard_stats *s)
{
	test_pump_ms(250);	/* published every 100 ms */
	mlw_stack_stats(test_stack_current(), 0, s);
}

struct taker {
	struct mlw_shard *sh;
	unsigned timeout_ms;
	int rc;
	unsigned snap;
	volatile bool done;
};

static void *take(void *arg)
{
	struct taker *t = arg;

	t->snap = 0;
	t->rc = mlw__conns_take(t->sh, &t->snap, t->timeout_ms);
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Shard side: pump until the reader thread has its listing. */
static int take_listing(struct taker *t)
{
	pthread_t th;

	t->done = false;
	if (pthread_create(&th, NULL, take, t) != 0)
		return -1;
	for (int64_t end = test_now_ms() + 3000;
	     !__atomic_load_n(&t->done, __ATOMIC_ACQUIRE) && test_now_ms() < end;)
		test_pump();
	pthread_join(th, NULL);
	return t->rc;
}

/* 6: our side in TIME-WAIT (a compact record) for the peer's port P_TW. */
static void time_wait_listing(int lfd)
{
	struct mlw_shard *sh = test_stack_current()->shards[0];
	struct taker t = { .sh = sh, .timeout_ms = 1000 };
	unsigned from = test_peer_log.n;
	uint32_t isn;
	int fd;

	test_peer_send(P_TW, LPORT, 0x02, 4000, 0, 0xffff, mss1460, 4, 0);
	fd = test_peer_accept(lfd, LPORT, P_TW, from, 4000, NULL, 0, &isn);
	if (fd < 0)
		return;
	from = test_peer_log.n;
	mlw_close(fd);
	test_peer_passes(3);
	if (test_peer_last(from, LPORT, P_TW, 0x01, 0x01) == NULL) {
		test_peer_fail("no FIN to %u", P_TW);
		return;
	}
	/* The peer acknowledges our FIN and sends its own. */
	test_peer_send(P_TW, LPORT, 0x11, 4001, isn + 2, 0xffff, NULL, 0, 0);
	test_peer_passes(3);
	res.tw_rc = take_listing(&t);
	if (res.tw_rc != 0)
		return;
	for (uint32_t i = 0; i < sh->conns.n; i++) {
		const struct mlw__conn *c = &sh->conns.e[i];

		if (c->proto == MLW_CONN_TCP && c->state == TIME_WAIT && c->lport == LPORT && c->rport == P_TW &&
		    (c->flags & MLW_CONN_COMPACT))
			res.tw_compact_ok = true;
	}
	mlw__conns_release(sh);
}

static void listing(void)
{
	struct mlw_shard *sh = test_stack_current()->shards[0];
	struct taker t = { .sh = sh, .timeout_ms = 1000 };
	pthread_t th;

	if (pthread_create(&th, NULL, take, &t) != 0) {
		test_peer_fail("pthread_create");
		return;
	}
	for (int64_t end = test_now_ms() + 3000;
	     !__atomic_load_n(&t.done, __ATOMIC_ACQUIRE) && test_now_ms() < end;)
		test_pump();
	pthread_join(th, NULL);
	res.take_rc = t.rc;
	if (t.rc == 0) {
		res.n = sh->conns.n;
		for (uint32_t i = 0; i < sh->conns.n; i++) {
			const struct mlw__conn *c = &sh->conns.e[i];
			const uint8_t ours[4] = { 10, 0, 0, 2 }, peer[4] = { 10, 0, 0, 99 };

			if (c->proto == MLW_CONN_TCP && c->state == LISTEN && c->lport == LPORT) {
				res.listen_ok = true;
				res.listen_backlog = c->send_q;
			}
			if (c->proto == MLW_CONN_TCP && c->state == SYN_RCVD && c->lport == LPORT &&
			    c->rport == P_HALF && memcmp(c->laddr, ours, 4) == 0 && memcmp(c->raddr, peer, 4) == 0)
				res.half_ok = true;
		}
		mlw__conns_release(sh);
	}
	/* The shard runs no pass while this thread waits: the reader gives
	 * up after its timeout. */
	t.timeout_ms = 100;
	t.done = false;
	if (pthread_create(&th, NULL, take, &t) != 0) {
		test_peer_fail("pthread_create");
		return;
	}
	pthread_join(th, NULL);
	res.stuck_rc = t.rc;
	test_pump();	/* answers the request that timed out */
}

static void run(void)
{
	unsigned from;
	uint32_t isn;
	int lfd, fd, fd2;
	char buf[4000];

	memset(buf, 'x', sizeof(buf));
	if (test_dpdk_netif() == NULL || !test_peer_init("10.0.0.99", "10.0.0.2")) {
		test_peer_fail("no DPDK netif");
		return;
	}
	lfd = test_peer_listen(LPORT);
	if (lfd < 0)
		return;
	stats(&res.s0);

	/* 1. A SYN, never completed. */
	from = test_peer_log.n;
	test_peer_send(P_HALF, LPORT, 0x02, 1000, 0, 0xffff, mss1460, 4, 0);
	test_peer_passes(2);
	if (test_peer_last(from, LPORT, P_HALF, 0x12, 0x12) == NULL)
		test_peer_fail("no SYN-ACK to port %u", P_HALF);
	stats(&res.s_half);

	/* 2. The listing, then the half-open connection reset. */
	listing();
	test_peer_send(P_HALF, LPORT, 0x04, 1001, 0, 0, NULL, 0, 0);
	test_peer_passes(2);

	/* 3. A completed handshake. */
	from = test_peer_log.n;
	test_peer_send(P_RTO, LPORT, 0x02, 2000, 0, 0xffff, mss1460, 4, 0);
	fd = test_peer_accept(lfd, LPORT, P_RTO, from, 2000, NULL, 0, &isn);
	if (fd < 0)
		return;
	stats(&res.s_acc);

	/* 4. 100 bytes the peer never acknowledges: the initial RTO is 1 s. */
	if (mlw_send(fd, buf, 100, 0) != 100)
		test_peer_fail("send: %s", strerror(errno));
	for (int i = 0; i < 30 && !res.rto_seen; i++) {
		stats(&res.s_rto);
		res.rto_seen = res.s_rto.tcp_rto_retrans > res.s_acc.tcp_rto_retrans;
	}

	/* 5. Another connection: 3 segments out, 3 duplicate ACKs back. */
	from = test_peer_log.n;
	test_peer_send(P_FAST, LPORT, 0x02, 3000, 0, 0xffff, mss1460, 4, 0);
	fd2 = test_peer_accept(lfd, LPORT, P_FAST, from, 3000, NULL, 0, &isn);
	if (fd2 < 0)
		return;
	if (mlw_send(fd2, buf, 4000, 0) != 4000)
		test_peer_fail("send: %s", strerror(errno));
	test_peer_passes(3);
	stats(&res.s_fast);	/* before the dupacks: the baseline */
	for (int i = 0; i < 3; i++) {
		test_peer_send(P_FAST, LPORT, 0x10, 3001, isn + 1, 0xffff, NULL, 0, 0);
		test_peer_passes(1);
	}
	{
		struct mlw_shard_stats base = res.s_fast;

		stats(&res.s_fast);
		res.s_fast.tcp_fast_retrans -= base.tcp_fast_retrans;
	}
	mlw_close(fd2);
	mlw_close(fd);

	/* 6. TIME-WAIT in the listing. */
	time_wait_listing(lfd);
	mlw_close(lfd);
	test_pump_ms(50);
}

static unsigned bad_heaps;

static void check_ran(void)
{
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s", test_peer_failure());
}

static void test_half_open_not_accepted(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.s_half.tcp_half_open - res.s0.tcp_half_open, 1);
	assert_int_equal(res.s_half.tcp_accepts - res.s0.tcp_accepts, 0);
	assert_int_equal(res.s_half.tcp_passive_opens - res.s0.tcp_passive_opens, 1);
}

static void test_listing(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.take_rc, 0);
	assert_true(res.listen_ok);
	assert_true(res.listen_backlog >= 1);
	assert_true(res.half_ok);
	assert_int_equal(res.n, 2);	/* the listener and the half-open connection */
	assert_int_equal(res.stuck_rc, -ETIMEDOUT);
}

static void test_accepted(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.s_acc.tcp_accepts - res.s_half.tcp_accepts, 1);
	assert_int_equal(res.s_acc.tcp_half_open - res.s_half.tcp_half_open, 1);
}

static void test_rto(void **state)
{
	(void)state;
	check_ran();
	assert_true(res.rto_seen);
	/* One data segment outstanding: resent once per timeout. */
	assert_true(res.s_rto.tcp_rto_retrans - res.s_acc.tcp_rto_retrans >= 1);
	assert_true(res.s_rto.tcp_rto_timeouts - res.s_acc.tcp_rto_timeouts >= 1);
	assert_int_equal(res.s_rto.tcp_fast_retrans, res.s0.tcp_fast_retrans);
	assert_int_equal(res.s_rto.tcp_retrans, res.s_rto.tcp_fast_retrans + res.s_rto.tcp_rto_retrans);
}

static void test_fast(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.s_fast.tcp_fast_retrans, 1);
}

static void test_time_wait_listed(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.tw_rc, 0);
	assert_true(res.tw_compact_ok);
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_half_open_not_accepted),
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_rto),
		cmocka_unit_test(test_fast),
		cmocka_unit_test(test_time_wait_listed),
		cmocka_unit_test(test_no_leak),
	};
	int rc = test_stack_run("mlwcounters", "[stack]\nshards = 1\n"
			       "[port0]\nipv4 = 10.0.0.2/24\ngateway = 10.0.0.99\n", run, &bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("counters", tests, NULL, NULL);
}
