/* test_stop_states.c - a stack stopped while the application still holds connections in every TCP state (and listeners, UDP sockets, epoll instances, queued and unread data) ends with its heap empty: the stop closes what the application left open (sharding/shard.c, close_left_open) and says how many.
 *
 *   test_stop_states STATE
 *
 * main(STATE) -> a one-shard stack on net_ring0 -> on the shard: a listener
 * on port 80, then the peer 10.0.0.99, played by frames put into lwIP's
 * input (test_peer.c), brings connections into STATE; the body checks that
 * they got there (lwIP's own state of the PCB, its queues, the compact
 * TIME-WAIT record) and returns without closing anything. The stack stops:
 * it aborts the connections, runs no fini, closes the descriptors left
 * open, tears lwIP down. The CMocka tests then assert: the state was
 * reached, the shard heap ended empty (alloc_fini_rc, bytes and objects in
 * use), fds_closed_at_stop is the number of descriptors the body left open,
 * and stderr carried the line "shard 0: closed N descriptors the
 * application left open" exactly once (none when nothing was left). One
 * process per state (DPDK's EAL starts once per process), so a failure
 * names the state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
/* <netinet/tcp.h> defines TCP_MSS (536) as lwipopts.h does: lwIP's is meant. */
#undef TCP_MSS
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "mlw_tcp_table.h"
#include "test_frame.h"
#include "test_peer.h"
#include "test_stack.h"

#define LPORT 80
#define TEST_NAME "mlwstop"

/* What the body found and left open. */
static struct {
	int left_open;		/* descriptors the body did not close */
	char reached[512];	/* what was checked, for the log */
} res;

static const char *state_name;

/* ---- the peer's side ---- */

static unsigned peer_opts(uint8_t o[4], uint8_t flags)
{
	static const uint8_t mss[4] = { 0x02, 0x04, 0x05, 0xb4 };

	if (!(flags & 0x02))
		return 0;
	memcpy(o, mss, 4);
	return 4;
}

static void peer(uint16_t pport, uint8_t flags, uint32_t seq, uint32_t ack, unsigned payload)
{
	uint8_t o[4];

	test_peer_send(pport, LPORT, flags, seq, ack, 0xffff, o, peer_opts(o, flags), payload);
}

/* A connection: the peer's SYN from @p pport with sequence number @p seq,
 * the handshake and accept. Returns the descriptor and our ISN in *isn. */
static int established(int lfd, uint16_t pport, uint32_t seq, uint32_t *isn)
{
	unsigned from = test_peer_log.n;

	peer(pport, 0x02, seq, 0, 0);
	return test_peer_accept(lfd, LPORT, pport, from, seq, NULL, 0, isn);
}

/* lwIP's PCB of the connection with the peer's port @p pport (active or
 * TIME-WAIT list), NULL if none. */
static struct tcp_pcb *pcb_of(uint16_t pport)
{
	for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next)
		if (p->remote_port == pport)
			return p;
	for (struct tcp_pcb *p = tcp_tw_pcbs; p != NULL; p = p->next)
		if (p->remote_port == pport)
			return p;
	return NULL;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	size_t n = strlen(res.reached);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res.reached + n, sizeof(res.reached) - n, fmt, ap);
	va_end(ap);
}

/* The PCB of @p pport must be in @p state; recorded as a failure if not. */
static bool expect_state(uint16_t pport, enum tcp_state state)
{
	struct tcp_pcb *p = pcb_of(pport);

	if (p == NULL || p->state != state) {
		test_peer_fail("port %u: PCB %s, expected %s", pport,
			       p == NULL ? "gone" : tcp_debug_state_str(p->state), tcp_debug_state_str(state));
		return false;
	}
	note("%u:%s ", pport, tcp_debug_state_str(state));
	return true;
}

/* ---- the states; each returns the descriptors it left open ---- */

static int st_syn_received(int lfd, uint16_t pport)
{
	unsigned from = test_peer_log.n;

	(void)lfd;
	peer(pport, 0x02, 7000, 0, 0);
	test_peer_passes(3);
	if (test_peer_last(from, LPORT, pport, 0x12, 0x12) == NULL)
		test_peer_fail("no SYN-ACK to %u", pport);
	expect_state(pport, SYN_RCVD);
	return 0;
}

/* The handshake completed, the connection never accepted: it waits in the
 * listener's queue with a socket but no descriptor. */
static int st_accept_queue(int lfd, uint16_t pport)
{
	unsigned from = test_peer_log.n;
	const struct test_seg *sa = NULL;

	(void)lfd;
	peer(pport, 0x02, 7000, 0, 0);
	for (unsigned i = 0; i < 50 && sa == NULL; i++) {
		test_peer_passes(1);
		sa = test_peer_last(from, LPORT, pport, 0x12, 0x12);
	}
	if (sa == NULL) {
		test_peer_fail("no SYN-ACK to %u", pport);
		return 0;
	}
	peer(pport, 0x18, 7001, sa->seq + 1, 300);	/* the ACK, with data */
	test_peer_passes(3);
	expect_state(pport, ESTABLISHED);
	return 0;
}

/* An active open to the peer, which never answers. */
static int st_syn_sent(int lfd, uint16_t pport)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(pport) };
	int fd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct tcp_pcb *p = NULL;

	(void)lfd;
	inet_pton(AF_INET, "10.0.0.99", &to.sin_addr);
	if (fd < 0 || mlw_connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 || errno != EINPROGRESS) {
		test_peer_fail("connect to %u: %s", pport, strerror(errno));
		return fd >= 0;
	}
	test_peer_passes(3);
	for (struct tcp_pcb *q = tcp_active_pcbs; q != NULL; q = q->next)
		if (q->remote_port == pport)
			p = q;
	if (p == NULL || p->state != SYN_SENT)
		test_peer_fail("port %u: not in SYN-SENT", pport);
	else
		note("%u:SYN_SENT ", pport);
	return 1;
}

static int st_established(int lfd, uint16_t pport)
{
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);

	if (fd < 0)
		return 0;
	test_peer_passes(2);
	expect_state(pport, ESTABLISHED);
	return 1;
}

/* The peer's FIN; the application reads nothing and closes nothing. */
static int st_close_wait(int lfd, uint16_t pport)
{
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);

	if (fd < 0)
		return 0;
	peer(pport, 0x11, 1001, isn + 1, 0);
	test_peer_passes(3);
	expect_state(pport, CLOSE_WAIT);
	return 1;
}

/* The peer's FIN, then ours (shutdown), which the peer never ACKs. */
static int st_last_ack(int lfd, uint16_t pport)
{
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);

	if (fd < 0)
		return 0;
	peer(pport, 0x11, 1001, isn + 1, 0);
	test_peer_passes(3);
	if (mlw_shutdown(fd, SHUT_WR) != 0)
		test_peer_fail("shutdown: %s", strerror(errno));
	test_peer_passes(3);
	expect_state(pport, LAST_ACK);
	return 1;
}

/* Our FIN (shutdown, the descriptor kept), not ACKed. */
static int st_fin_wait_1(int lfd, uint16_t pport)
{
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);

	if (fd < 0)
		return 0;
	if (mlw_shutdown(fd, SHUT_WR) != 0)
		test_peer_fail("shutdown: %s", strerror(errno));
	test_peer_passes(3);
	expect_state(pport, FIN_WAIT_1);
	return 1;
}

/* Our FIN, ACKed; the peer keeps its side open (half-closed). */
static int st_fin_wait_2(int lfd, uint16_t pport)
{
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);

	if (fd < 0)
		return 0;
	mlw_shutdown(fd, SHUT_WR);
	test_peer_passes(3);
	peer(pport, 0x10, 1001, isn + 2, 0);
	test_peer_passes(3);
	expect_state(pport, FIN_WAIT_2);
	return 1;
}

/* Both FINs cross: the peer's does not ACK ours. */
static int st_closing(int lfd, uint16_t pport)
{
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);

	if (fd < 0)
		return 0;
	mlw_shutdown(fd, SHUT_WR);
	test_peer_passes(3);
	peer(pport, 0x11, 1001, isn + 1, 0);
	test_peer_passes(3);
	expect_state(pport, CLOSING);
	return 1;
}

/* TIME-WAIT with the descriptor still open: a whole PCB (nobody closed it). */
static int st_time_wait_pcb(int lfd, uint16_t pport)
{
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);

	if (fd < 0)
		return 0;
	mlw_shutdown(fd, SHUT_WR);
	test_peer_passes(3);
	peer(pport, 0x11, 1001, isn + 2, 0);
	test_peer_passes(3);
	test_pump_ms(30);	/* the 10 ms settle would compact a closed one */
	expect_state(pport, TIME_WAIT);
	return 1;
}

/* TIME-WAIT after close: a compact record (no PCB at all). */
static int st_time_wait_record(int lfd, uint16_t pport)
{
	uint32_t isn;
	uint32_t before = mlw__tcp_table_tw_records();
	int fd = established(lfd, pport, 1000, &isn);

	if (fd < 0)
		return 0;
	mlw_close(fd);
	test_peer_passes(3);
	peer(pport, 0x11, 1001, isn + 2, 0);
	test_peer_passes(3);
	test_pump_ms(30);
	if (mlw__tcp_table_tw_records() != before + 1 || pcb_of(pport) != NULL)
		test_peer_fail("port %u: no compact TIME-WAIT record (%u records, PCB %p)", pport,
			       (unsigned)mlw__tcp_table_tw_records(), (void *)pcb_of(pport));
	else
		note("%u:TIME_WAIT(record) ", pport);
	return 0;
}

/* Closed by the application with its FIN unacknowledged: a PCB nobody
 * holds (lwIP keeps it to retransmit the FIN). */
static int st_fin_wait_1_closed(int lfd, uint16_t pport)
{
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);

	if (fd < 0)
		return 0;
	mlw_close(fd);
	test_peer_passes(3);
	expect_state(pport, FIN_WAIT_1);
	return 0;
}

/* Data written beyond what the peer's window (64 KiB, no scaling) takes:
 * some in flight (unacked), the rest unsent. */
static int st_unsent(int lfd, uint16_t pport)
{
	static char buf[200000];
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);
	struct tcp_pcb *p;
	ssize_t n;

	if (fd < 0)
		return 0;
	n = mlw_write(fd, buf, sizeof(buf));
	test_peer_passes(3);
	p = pcb_of(pport);
	if (n <= 0 || p == NULL || p->unsent == NULL || p->unacked == NULL)
		test_peer_fail("port %u: wrote %zd, unsent %p unacked %p", pport, n,
			       p ? (void *)p->unsent : NULL, p ? (void *)p->unacked : NULL);
	else
		note("%u:unsent+unacked(%zd bytes) ", pport, n);
	return 1;
}

/* Data sent and never acknowledged: all of it in flight. */
static int st_unacked(int lfd, uint16_t pport)
{
	static char buf[2000];	/* within the initial window; no Nagle */
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);
	struct tcp_pcb *p;
	int one = 1;
	ssize_t n;

	if (fd < 0)
		return 0;
	mlw_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	n = mlw_write(fd, buf, sizeof(buf));
	test_peer_passes(3);
	p = pcb_of(pport);
	if (n != (ssize_t)sizeof(buf) || p == NULL || p->unacked == NULL || p->unsent != NULL)
		test_peer_fail("port %u: wrote %zd, unacked %p unsent %p", pport, n,
			       p ? (void *)p->unacked : NULL, p ? (void *)p->unsent : NULL);
	else
		note("%u:unacked ", pport);
	return 1;
}

/* A segment past a hole: held out of order. */
static int st_ooseq(int lfd, uint16_t pport)
{
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);
	struct tcp_pcb *p;

	if (fd < 0)
		return 0;
	peer(pport, 0x18, 1001 + 1000, isn + 1, 500);
	test_peer_passes(3);
	p = pcb_of(pport);
	if (p == NULL || p->ooseq == NULL)
		test_peer_fail("port %u: nothing held out of order", pport);
	else
		note("%u:ooseq ", pport);
	return 1;
}

/* Data received, never read. */
static int st_unread(int lfd, uint16_t pport)
{
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);
	int avail = 0;

	if (fd < 0)
		return 0;
	peer(pport, 0x18, 1001, isn + 1, 1000);
	peer(pport, 0x18, 2001, isn + 1, 1000);
	test_peer_passes(3);
	if (mlw_ioctl(fd, FIONREAD, &avail) != 0 || avail != 2000)
		test_peer_fail("port %u: %d bytes unread, expected 2000", pport, avail);
	else
		note("%u:unread(2000) ", pport);
	return 1;
}

/* A bound UDP socket and a connected one. */
static int st_udp(int lfd, uint16_t pport)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5353) };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(pport) };
	int u1 = mlw_socket(AF_INET, SOCK_DGRAM, 0), u2 = mlw_socket(AF_INET, SOCK_DGRAM, 0);

	(void)lfd;
	inet_pton(AF_INET, "10.0.0.99", &to.sin_addr);
	if (u1 < 0 || u2 < 0 || mlw_bind(u1, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    mlw_connect(u2, (struct sockaddr *)&to, sizeof(to)) != 0)
		test_peer_fail("udp: %s", strerror(errno));
	else
		note("udp:bound+connected ");
	return (u1 >= 0) + (u2 >= 0);
}

/* An epoll instance watching the listener and a connection, and one
 * watching nothing. */
static int st_epoll(int lfd, uint16_t pport)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);
	int ep = mlw_epoll_create1(0), ep2 = mlw_epoll_create1(0);

	if (fd < 0 || ep < 0 || ep2 < 0 || mlw_epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0 ||
	    mlw_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		test_peer_fail("epoll: %s", strerror(errno));
	else
		note("epoll(2) ");
	return (fd >= 0) + (ep >= 0) + (ep2 >= 0);
}

/* Nothing left: the application closes every descriptor itself (a
 * connection, the listener): nothing to close at the stop, no line. */
static int st_none(int lfd, uint16_t pport)
{
	uint32_t isn;
	int fd = established(lfd, pport, 1000, &isn);

	if (fd >= 0)
		mlw_close(fd);
	mlw_close(lfd);
	test_peer_passes(3);
	note("none ");
	return -1;	/* the listener too */
}

struct state {
	const char *name;
	int (*fn)(int lfd, uint16_t pport);
};

static const struct state states[] = {
	{ "listen", NULL },
	{ "syn_received", st_syn_received },
	{ "syn_sent", st_syn_sent },
	{ "established", st_established },
	{ "close_wait", st_close_wait },
	{ "last_ack", st_last_ack },
	{ "fin_wait_1", st_fin_wait_1 },
	{ "fin_wait_2", st_fin_wait_2 },
	{ "closing", st_closing },
	{ "time_wait_pcb", st_time_wait_pcb },
	{ "time_wait_record", st_time_wait_record },
	{ "fin_wait_1_closed", st_fin_wait_1_closed },
	{ "unsent", st_unsent },
	{ "unacked", st_unacked },
	{ "ooseq", st_ooseq },
	{ "unread", st_unread },
	{ "udp", st_udp },
	{ "epoll", st_epoll },
	/* After every state that accepts ("all" runs them in this order): an
	 * accept takes the oldest queued connection. */
	{ "accept_queue", st_accept_queue },
	{ "none", st_none },
};
#define NSTATES (sizeof(states) / sizeof(states[0]))

static const struct state *find_state(const char *name)
{
	for (size_t i = 0; i < NSTATES; i++)
		if (strcmp(states[i].name, name) == 0)
			return &states[i];
	return NULL;
}

/* ---- the shard's body ---- */

static struct mlw_stack *stack;

static int body(unsigned shard, void *arg)
{
	const struct state *st = arg;
	int lfd;

	(void)shard;
	if (!test_peer_init("10.0.0.99", "10.0.0.2")) {
		test_peer_fail("no DPDK netif");
		goto out;
	}
	lfd = test_peer_listen(LPORT);
	if (lfd < 0)
		goto out;
	res.left_open = 1;
	note("listen ");
	if (strcmp(st->name, "all") == 0) {
		/* Every state at once, each on a peer port of its own. */
		for (size_t i = 1; i < NSTATES; i++)
			if (strcmp(states[i].name, "none") != 0)
				res.left_open += states[i].fn(lfd, (uint16_t)(6000 + i));
	} else if (st->fn != NULL) {
		res.left_open += st->fn(lfd, 6000);
	}
out:
	mlw_stack_stop(stack);
	return 0;	/* nothing closed: the stack's stop must clean up */
}

/* ---- the run, with stderr captured ---- */

static struct {
	int ran, run_rc, stats_rc;
	struct mlw_shard_stats s;
	unsigned bad_heaps;
	char err[8192];
} out;

static int run_stack(const struct state *st)
{
	char reason[600];
	char path[] = "/tmp/test_stop_states.XXXXXX";
	int tmp = mkstemp(path), saved = dup(2);
	ssize_t n;
	int rc;

	if (tmp < 0 || saved < 0) {
		perror("test_stop_states: stderr capture");
		return 1;
	}
	unlink(path);
	rc = test_stack_create(&stack, TEST_NAME, "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n",
			       reason, sizeof(reason));
	if (rc != 0) {
		printf("SKIP: the stack did not start: %s\n", reason);
		return 77;
	}
	fflush(stderr);
	dup2(tmp, 2);
	out.run_rc = mlw_stack_run(stack, body, NULL, (void *)st);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	out.stats_rc = mlw_stack_stats(stack, 0, &out.s);
	out.bad_heaps = mlw_stack_check_heaps(stack, stderr);
	mlw_stack_print_stats(stack, stdout);
	test_stack_destroy(stack, TEST_NAME);
	n = pread(tmp, out.err, sizeof(out.err) - 1, 0);
	out.err[n > 0 ? n : 0] = '\0';
	close(tmp);
	fputs(out.err, stderr);	/* the run's stderr, as it was */
	printf("%s: reached %s; left open %d\n", st->name, res.reached, res.left_open);
	out.ran = 1;
	return 0;
}

/* ---- the checks ---- */

static void test_state_reached(void **state)
{
	(void)state;
	assert_int_equal(out.ran, 1);
	assert_int_equal(out.run_rc, 0);
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s: %s", state_name, test_peer_failure());
}

static void test_heap_empty(void **state)
{
	(void)state;
	assert_int_equal(out.stats_rc, 0);
	assert_int_equal(out.bad_heaps, 0);
	assert_int_equal(out.s.alloc_fini_rc, 0);
	assert_int_equal(out.s.alloc.bytes_in_use, 0);
	assert_int_equal(out.s.alloc.objects_in_use, 0);
}

static void test_descriptors_closed_and_logged(void **state)
{
	char line[128];
	const char *at;
	int lines = 0;

	(void)state;
	assert_true(res.left_open >= 0);
	assert_int_equal(out.s.fds_closed_at_stop, (uint64_t)res.left_open);
	for (at = out.err; (at = strstr(at, "the application left open")) != NULL; at++)
		lines++;
	if (res.left_open == 0) {
		assert_int_equal(lines, 0);
		return;
	}
	snprintf(line, sizeof(line), "shard 0: closed %d descriptor%s the application left open\n",
		 res.left_open, res.left_open == 1 ? "" : "s");
	assert_int_equal(lines, 1);
	assert_non_null(strstr(out.err, line));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_reached),
		cmocka_unit_test(test_heap_empty),
		cmocka_unit_test(test_descriptors_closed_and_logged),
	};
	static const struct state all = { "all", NULL };
	const struct state *st;
	char group[64];
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s STATE (all", argv[0]);
		for (size_t i = 0; i < NSTATES; i++)
			fprintf(stderr, " | %s", states[i].name);
		fprintf(stderr, ")\n");
		return 2;
	}
	st = strcmp(argv[1], "all") == 0 ? &all : find_state(argv[1]);
	if (st == NULL) {
		fprintf(stderr, "%s: no state '%s'\n", argv[0], argv[1]);
		return 2;
	}
	state_name = st->name;
	rc = run_stack(st);
	if (rc != 0)
		return rc;
	snprintf(group, sizeof(group), "stop_states_%s", st->name);
	return cmocka_run_group_tests_name(group, tests, NULL, NULL);
}
