/* test_small_window.c - a peer whose SYN-ACK offers window 0, then a small window, must not abort the shard (lwIP's "mss_local is too small" assertion in tcp_write, found by fuzz_input: tests/fuzz/repro/input-lwip-mss_local-assert; lwip-port/tcp_write_guard.c).
 *
 * main -> test_stack_run(one shard on net_ring0) -> run(): our socket
 * connects to the peer 10.0.0.99 (frames put into lwIP's input); the
 * SYN-ACK has window 0 and no MSS option (lwIP uses 536), the application
 * queues 2040 bytes, the peer opens a 792-byte window (lwIP's segment size
 * becomes 396, smaller than the queued 536-byte segments), the application
 * writes again: before the guard that write aborted the process. Then the
 * peer opens its window and acknowledges everything: every byte written
 * must have been sent once, in order, and the shard's heap end empty.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "test_frame.h"
#include "test_peer.h"
#include "test_stack.h"

#define PPORT 7100
#define FIRST 2040
#define SECOND 3000

static struct {
	bool ran;
	long w1, w2;		/* the two writes' results */
	int w2_errno;
	uint32_t bytes_seen;	/* distinct data bytes sent, from the ISN on */
	bool in_order;		/* every data segment started at or below the highest byte seen */
	bool all_acked;
} res;

static void run(void)
{
	static char buf[SECOND];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PPORT)};
	const struct test_seg *syn = NULL;
	uint32_t peer_seq = 90000, base, high;
	unsigned from;
	uint16_t lport;
	int fd;

	if (!test_peer_init("10.0.0.99", "10.0.0.2")) {
		test_peer_fail("no DPDK netif");
		return;
	}
	fd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	inet_pton(AF_INET, "10.0.0.99", &a.sin_addr);
	from = test_peer_log.n;
	if (fd < 0 || (mlw_connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS)) {
		test_peer_fail("socket/connect: %s", strerror(errno));
		return;
	}
	test_peer_passes(3);
	/* Our SYN (its source port is the one connect chose). */
	for (unsigned i = from; i < test_peer_log.n && syn == NULL; i++)
		if (test_peer_log.seg[i].dport == PPORT && test_peer_log.seg[i].flags == 0x02)
			syn = &test_peer_log.seg[i];
	if (syn == NULL) {
		test_peer_fail("no SYN");
		return;
	}
	lport = syn->sport;
	base = syn->seq + 1;
	/* SYN-ACK: window 0, no options. */
	test_peer_send(PPORT, lport, 0x12, peer_seq, base, 0, NULL, 0, 0);
	peer_seq++;
	test_peer_passes(3);
	memset(buf, 'y', sizeof(buf));
	res.w1 = mlw_write(fd, buf, FIRST);
	test_peer_passes(2);
	/* A small window: 792 bytes. */
	test_peer_send(PPORT, lport, 0x10, peer_seq, base, 792, NULL, 0, 0);
	test_peer_passes(2);
	res.w2 = mlw_write(fd, buf, SECOND);
	res.w2_errno = errno;
	test_peer_passes(2);
	/* Open the window; acknowledge what arrives until everything has. */
	high = base;
	res.in_order = true;
	from = 0;
	for (int round = 0; round < 200; round++) {
		for (unsigned i = from; i < test_peer_log.n; i++) {
			const struct test_seg *g = &test_peer_log.seg[i];

			if (g->sport != lport || g->dport != PPORT || g->plen == 0)
				continue;
			if ((int32_t)(g->seq - high) > 0)
				res.in_order = false;	/* a gap: bytes skipped */
			if ((int32_t)(g->seq + g->plen - high) > 0)
				high = g->seq + g->plen;
		}
		from = test_peer_log.n;
		test_peer_send(PPORT, lport, 0x10, peer_seq, high, 0xffff, NULL, 0, 0);
		test_peer_passes(1);
		if (high - base >= (uint32_t)(res.w1 + (res.w2 > 0 ? res.w2 : 0)) && test_peer_log.n == from)
			break;
	}
	res.bytes_seen = high - base;
	res.all_acked = true;
	for (unsigned i = from; i < test_peer_log.n; i++)
		if (test_peer_log.seg[i].sport == lport && test_peer_log.seg[i].plen > 0)
			res.all_acked = false;
	mlw_close(fd);
	test_peer_passes(2);
	res.ran = true;
}

static unsigned bad_heaps;

static void test_small_window_after_zero(void **state)
{
	(void)state;
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s", test_peer_failure());
	assert_true(res.ran);
	printf("writes %ld and %ld (errno %d), %u bytes sent in order: %s\n", res.w1, res.w2, res.w2 > 0 ? 0 : res.w2_errno,
	       res.bytes_seen, res.in_order ? "yes" : "no");
	assert_int_equal(res.w1, FIRST);
	assert_true(res.w2 > 0);
	assert_true(res.in_order);
	assert_int_equal(res.bytes_seen, (uint32_t)(res.w1 + res.w2));
	assert_true(res.all_acked);
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_window_after_zero),
	};
	int rc = test_stack_run("mlwsmallwnd", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", run, &bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("small_window", tests, NULL, NULL);
}
