/* test_resources.c - resource exhaustion on one shard: the heap cap (ENOMEM, EAGAIN) and the descriptor limit (EMFILE), with existing connections served throughout, recovery afterwards, and nothing leaked.
 *
 * main -> mlw_stack_run(one shard on net_ring0, [stack] max_sockets = 64,
 * heap_limit_mb = 4, from INI text) -> shard_init runs the phases over
 * 127.0.0.1 (lwIP's loopback netif) and records each one's outcome ->
 * mlw_stack_stop -> CMocka tests assert the outcomes, the shard's final
 * counters and that its heap ended empty.
 *
 * Phases, in order:
 *  baseline  a listener and PAIRS connections, byte-exact echo on each;
 *  memory    HOGS connections whose receivers do not read fill the heap
 *            until allocations fail; then mlw_socket() gives ENOMEM and a
 *            write on an idle connection EAGAIN; reading the hogs frees
 *            the memory, everything written arrives byte-exact, new
 *            sockets and connections work again;
 *  fds       sockets until EMFILE (also UDP, epoll, accept4); echo still
 *            works; a connection that completes while the table is full
 *            stays queued (accept4 EMFILE) and is accepted after a close;
 *  close     everything closed by the test itself.
 * The memory phase runs before the descriptor one: sockets closed there
 * would leave free blocks of exactly the sizes a new socket needs, so the
 * memory phase could not exhaust them within 64 descriptors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mlwip/alloc.h"
#include "mlwip/config.h"
#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "test_stack.h"

#define MAX_SOCKETS	64
#define HEAP_MB		4
#define PAIRS		4		/* baseline connections */
#define HOGS		8		/* connections that fill the heap (256 KiB window and send buffer each) */
#define ECHO_LEN	(64 * 1024)
#define STUCK_LEN	(256 * 1024)	/* written to an idle connection at the cap */
#define WAIT_MS		60000		/* any single wait; generous for TSan */

enum { PH_BASELINE, PH_MEMORY, PH_FDS, PH_CLOSE, NPHASES };

static const char *const phase_names[NPHASES] = { "baseline", "memory", "fds", "close" };

/* What the shard saw; read by the CMocka tests after mlw_stack_run(). */
static struct {
	bool ran[NPHASES], ok[NPHASES];
	char why[NPHASES][320];
	bool saw_enomem, saw_emfile, saw_write_eagain;
	struct mlw_alloc_stats at_cap;	/* the heap when mlw_socket() said ENOMEM */
	unsigned socks_at_cap;		/* sockets mlw_socket() still gave at the cap */
	int left_open;			/* descriptors mlw_socket_close_all() found */
	bool started;
} res;

static int cur_phase;
static struct mlw_stack *g_stack;

static void failed(int line, const char *expr, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(res.why[cur_phase], sizeof(res.why[cur_phase]), "line %d: %s: %s (errno %s)", line,
		 expr, msg, strerrorname_np(e) ? strerrorname_np(e) : "0");
}

/* A failed check ends the phase; the phase's CMocka test reports why. */
#define CHECK(cond, ...)                                           \
	do {                                                       \
		if (!(cond)) {                                     \
			failed(__LINE__, #cond, __VA_ARGS__);      \
			return -1;                                 \
		}                                                  \
	} while (0)

static uint8_t pat(uint32_t seed, size_t off)
{
	return (uint8_t)(seed * 131u + off * 7u + (off >> 9));
}

static void fill(uint8_t *b, size_t len, uint32_t seed, size_t off)
{
	for (size_t i = 0; i < len; i++)
		b[i] = pat(seed, off + i);
}

/* Offset of the first byte that is not the pattern, or @p len. */
static size_t check_pat(const uint8_t *b, size_t len, uint32_t seed, size_t off)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] != pat(seed, off + i))
			return i;
	return len;
}

static struct sockaddr_in loop4(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int listen_port;

static int make_listener(int *lfd)
{
	struct sockaddr_in a = loop4(0);
	socklen_t len = sizeof(a);

	*lfd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(*lfd >= 0, "listener socket");
	CHECK(mlw_bind(*lfd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind 127.0.0.1:0");
	CHECK(mlw_listen(*lfd, 16) == 0, "listen");
	CHECK(mlw_getsockname(*lfd, (struct sockaddr *)&a, &len) == 0, "getsockname");
	listen_port = ntohs(a.sin_port);
	return 0;
}

/* Start a non-blocking connect of @p c to the listener. */
static int start_connect(int c)
{
	struct sockaddr_in a = loop4((uint16_t)listen_port);

	CHECK(mlw_connect(c, (struct sockaddr *)&a, sizeof(a)) == -1 && errno == EINPROGRESS,
	      "non-blocking connect");
	return 0;
}

/* Wait until @p c's non-blocking connect reports success. */
static int finish_connect(int c)
{
	struct sockaddr_in a = loop4((uint16_t)listen_port);
	int64_t end = test_now_ms() + WAIT_MS;

	for (;;) {
		if (mlw_connect(c, (struct sockaddr *)&a, sizeof(a)) == 0)
			return 0;
		CHECK(errno == EALREADY, "connect in progress");
		CHECK(test_now_ms() < end, "handshake did not complete");
		test_pump();
	}
}

/* A connection to the listener: client @p c, accepted end @p a. */
static int connect_pair(int lfd, int *c, int *a)
{
	int64_t end = test_now_ms() + WAIT_MS;

	*c = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(*c >= 0, "client socket");
	if (start_connect(*c) < 0 || finish_connect(*c) < 0)
		return -1;
	while ((*a = mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0) {
		CHECK(errno == EAGAIN, "accept4");
		CHECK(test_now_ms() < end, "no connection to accept");
		test_pump();
	}
	return 0;
}

/* Read what is there into @p buf + *@p got (at most @p want in all); false on a real error. */
static bool read_some(int fd, uint8_t *buf, size_t *got, size_t want)
{
	ssize_t n;

	if (*got == want)
		return true;
	n = mlw_read(fd, buf + *got, want - *got);
	if (n > 0)
		*got += (size_t)n;
	return n > 0 || (n < 0 && errno == EAGAIN);
}

static bool write_some(int fd, const uint8_t *buf, size_t *done, size_t want)
{
	ssize_t n;

	if (*done == want)
		return true;
	n = mlw_write(fd, buf + *done, want - *done);
	if (n > 0)
		*done += (size_t)n;
	return n > 0 || (n < 0 && errno == EAGAIN);
}

static uint8_t out_buf[ECHO_LEN], srv_buf[ECHO_LEN], in_buf[STUCK_LEN];

/* @p c sends ECHO_LEN bytes, @p a sends them back as they come; byte-exact. */
static int echo(int c, int a, uint32_t seed)
{
	size_t sent = 0, got = 0, echoed = 0, back = 0, bad;
	int64_t end = test_now_ms() + WAIT_MS;

	fill(out_buf, ECHO_LEN, seed, 0);
	while (back < ECHO_LEN) {
		CHECK(write_some(c, out_buf, &sent, ECHO_LEN), "client write");
		CHECK(read_some(a, srv_buf, &got, ECHO_LEN), "server read");
		CHECK(write_some(a, srv_buf, &echoed, got), "server write");
		CHECK(read_some(c, in_buf, &back, ECHO_LEN), "client read");
		CHECK(test_now_ms() < end, "echo stalled at %zu of %d bytes", back, ECHO_LEN);
		test_pump();
	}
	bad = check_pat(in_buf, ECHO_LEN, seed, 0);
	CHECK(bad == ECHO_LEN, "echoed byte %zu differs", bad);
	return 0;
}

static int lfd = -1, pc[PAIRS], pa[PAIRS];

static int phase_baseline(void)
{
	struct mlw_alloc_stats st;

	CHECK(mlw_shard_max_sockets() == MAX_SOCKETS, "[stack] max_sockets reached the shard");
	CHECK(mlw_alloc_stats(&st) == 0 && st.bytes_limit == (uint64_t)HEAP_MB << 20,
	      "[stack] heap_limit_mb reached the heap (limit %llu)", (unsigned long long)st.bytes_limit);
	if (make_listener(&lfd) < 0)
		return -1;
	for (int i = 0; i < PAIRS; i++)
		if (connect_pair(lfd, &pc[i], &pa[i]) < 0 || echo(pc[i], pa[i], (uint32_t)i) < 0)
			return -1;
	return 0;
}

/* Write as much as the hog takes now; false on a real error. */
static bool hog_write(int fd, uint32_t seed, size_t *sent)
{
	static uint8_t chunk[32 * 1024];

	for (;;) {
		ssize_t n;

		fill(chunk, sizeof(chunk), seed, *sent);
		n = mlw_write(fd, chunk, sizeof(chunk));
		if (n < 0)
			return errno == EAGAIN;
		*sent += (size_t)n;
	}
}

/* Read everything a hog sent, checking the pattern as it comes. */
static int hog_drain(int fd, uint32_t seed, size_t *got, size_t total)
{
	int64_t end = test_now_ms() + WAIT_MS;

	while (*got < total) {
		size_t want = total - *got, n = 0, bad;

		if (want > STUCK_LEN)
			want = STUCK_LEN;
		CHECK(read_some(fd, in_buf, &n, want), "hog read");
		bad = check_pat(in_buf, n, seed, *got);
		CHECK(bad == n, "hog byte %zu differs", *got + bad);
		*got += n;
		CHECK(test_now_ms() < end, "hog stalled at %zu of %zu bytes", *got, total);
		test_pump();
	}
	return 0;
}

static int phase_memory(void)
{
	int hc[HOGS], ha[HOGS], extra[MAX_SOCKETS];
	size_t hsent[HOGS] = { 0 }, hgot[HOGS] = { 0 }, stuck = 0, stuck_got = 0, bad;
	unsigned nextra = 0, quiet = 0;
	struct mlw_alloc_stats st0, st;
	int64_t end;
	int c, a;

	mlw_alloc_stats(&st0);
	for (int i = 0; i < HOGS; i++)
		if (connect_pair(lfd, &hc[i], &ha[i]) < 0)
			return -1;

	/* Fill: the receivers never read, so their queues and the senders'
	 * unacknowledged data grow until the heap refuses; then wait until
	 * no write makes progress for a while. */
	end = test_now_ms() + WAIT_MS;
	for (;;) {
		bool moved = false;

		for (int i = 0; i < HOGS; i++) {
			size_t before = hsent[i];

			CHECK(hog_write(hc[i], 100u + (uint32_t)i, &hsent[i]), "hog write");
			moved |= hsent[i] != before;
		}
		test_pump();
		mlw_alloc_stats(&st);
		quiet = moved ? 0 : quiet + 1;
		if (st.failures > st0.failures && quiet >= 200)
			break;
		CHECK(test_now_ms() < end, "the heap did not fill (%llu bytes reserved, %llu failures)",
		      (unsigned long long)st.bytes_reserved, (unsigned long long)st.failures);
	}
	CHECK(st.bytes_reserved <= st.bytes_limit, "heap beyond its cap: %llu > %llu",
	      (unsigned long long)st.bytes_reserved, (unsigned long long)st.bytes_limit);

	/* At the cap: new sockets fail with ENOMEM, within the descriptor limit. */
	for (;;) {
		int fd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (fd < 0)
			break;
		CHECK(nextra < MAX_SOCKETS, "too many sockets");
		extra[nextra++] = fd;
	}
	CHECK(errno == ENOMEM, "mlw_socket at the cap: ENOMEM expected");
	res.saw_enomem = true;
	res.socks_at_cap = nextra;
	mlw_alloc_stats(&res.at_cap);

	/* An idle connection takes what memory allows, then EAGAIN (as
	 * Linux under memory pressure), far below its 2 MiB send buffer. */
	fill(out_buf, sizeof(out_buf), 7, 0);
	for (;;) {
		ssize_t n = mlw_write(pc[0], out_buf, sizeof(out_buf));

		if (n < 0)
			break;
		stuck += (size_t)n;
		fill(out_buf, sizeof(out_buf), 7, stuck);
		CHECK(stuck < STUCK_LEN, "wrote %zu bytes into a full heap", stuck);
	}
	CHECK(errno == EAGAIN, "write at the cap: EAGAIN expected");
	res.saw_write_eagain = true;

	/* The stack keeps running at the cap: timers, retransmissions. */
	test_pump_ms(300);

	/* Recovery: free the sockets, read the hogs; every byte arrives. */
	for (unsigned i = 0; i < nextra; i++)
		CHECK(mlw_close(extra[i]) == 0, "close");
	for (int i = 0; i < HOGS; i++)
		if (hog_drain(ha[i], 100u + (uint32_t)i, &hgot[i], hsent[i]) < 0)
			return -1;
	end = test_now_ms() + WAIT_MS;
	while (stuck_got < stuck) {
		CHECK(read_some(pa[0], in_buf, &stuck_got, stuck), "read");
		CHECK(test_now_ms() < end, "stuck data stalled at %zu of %zu", stuck_got, stuck);
		test_pump();
	}
	bad = check_pat(in_buf, stuck, 7, 0);
	CHECK(bad == stuck, "byte %zu written at the cap differs", bad);

	/* New sockets and connections again; the old ones still echo. */
	if (connect_pair(lfd, &c, &a) < 0 || echo(c, a, 40) < 0)
		return -1;
	for (int i = 0; i < PAIRS; i++)
		if (echo(pc[i], pa[i], 50u + (uint32_t)i) < 0)
			return -1;
	CHECK(mlw_close(c) == 0 && mlw_close(a) == 0, "close");
	for (int i = 0; i < HOGS; i++)
		CHECK(mlw_close(hc[i]) == 0 && mlw_close(ha[i]) == 0, "close");
	mlw_alloc_stats(&st);
	CHECK(st.failures > st0.failures, "no allocation failed");
	return 0;
}

static int phase_fds(void)
{
	int fill_fd[MAX_SOCKETS], nfill = 0, open_now = 1 + 2 * PAIRS, c, a;
	int64_t end;

	for (;;) {
		int fd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (fd < 0)
			break;
		fill_fd[nfill++] = fd;
		CHECK(nfill <= MAX_SOCKETS, "more sockets than max_sockets");
	}
	CHECK(errno == EMFILE, "mlw_socket with a full table: EMFILE expected");
	CHECK(open_now + nfill == MAX_SOCKETS, "%d descriptors open at EMFILE", open_now + nfill);
	res.saw_emfile = true;
	CHECK(mlw_socket(AF_INET, SOCK_DGRAM, 0) == -1 && errno == EMFILE, "UDP socket");
	CHECK(mlw_epoll_create1(0) == -1 && errno == EMFILE, "epoll_create1");
	/* As Linux: EMFILE before looking for a connection. */
	CHECK(mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK) == -1 && errno == EMFILE, "accept4");

	for (int i = 0; i < PAIRS; i++)
		if (echo(pc[i], pa[i], 60u + (uint32_t)i) < 0)
			return -1;

	/* A connection completes while the table is full: it waits. */
	CHECK(mlw_close(fill_fd[--nfill]) == 0, "close");
	c = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(c >= 0, "socket after a close");
	if (start_connect(c) < 0 || finish_connect(c) < 0)
		return -1;
	test_pump_ms(20);
	CHECK(mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK) == -1 && errno == EMFILE,
	      "accept4 with a connection pending");
	CHECK(mlw_close(fill_fd[--nfill]) == 0, "close");
	end = test_now_ms() + WAIT_MS;
	while ((a = mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0) {
		CHECK(errno == EAGAIN, "accept4 after a close");
		CHECK(test_now_ms() < end, "the queued connection was lost");
		test_pump();
	}
	if (echo(c, a, 70) < 0)
		return -1;

	/* Back below the limit: sockets again. */
	CHECK(mlw_close(fill_fd[--nfill]) == 0, "close");
	fill_fd[nfill] = mlw_socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(fill_fd[nfill] >= 0, "socket below the limit");
	nfill++;
	while (nfill > 0)
		CHECK(mlw_close(fill_fd[--nfill]) == 0, "close");
	CHECK(mlw_close(c) == 0 && mlw_close(a) == 0, "close");
	return 0;
}

static int phase_close(void)
{
	for (int i = 0; i < PAIRS; i++)
		CHECK(mlw_close(pc[i]) == 0 && mlw_close(pa[i]) == 0, "close");
	CHECK(mlw_close(lfd) == 0, "close listener");
	/* Let the FIN exchanges finish before the stop aborts what is left. */
	test_pump_ms(50);
	return 0;
}

static int (*const phases[NPHASES])(void) = { phase_baseline, phase_memory, phase_fds, phase_close };

static int shard_init(unsigned shard, void *arg)
{
	(void)shard;
	(void)arg;
	res.started = true;
	for (int i = 0; i < NPHASES; i++) {
		cur_phase = i;
		res.ran[i] = true;
		res.ok[i] = phases[i]() == 0;
		if (!res.ok[i])
			break;
	}
	mlw_stack_stop(g_stack);
	return 0;
}

static void shard_fini(unsigned shard, void *arg)
{
	(void)shard;
	(void)arg;
	res.left_open = mlw_socket_close_all();
}

static struct mlw_shard_stats final_stats;
static unsigned bad_heaps;
static bool created;
static char reason[600];

static int run_stack(void)
{
	char sections[256];
	int rc;

	snprintf(sections, sizeof(sections),
		 "[stack]\nshards = 1\nmax_sockets = %d\nheap_limit_mb = %d\n"
		 "[port0]\nipv4 = 10.0.0.2/24\n", MAX_SOCKETS, HEAP_MB);
	rc = test_stack_create(&g_stack, "mlwres", sections, reason, sizeof(reason));
	if (rc != 0)
		return rc;
	created = true;
	rc = mlw_stack_run(g_stack, shard_init, shard_fini, NULL);
	mlw_stack_stats(g_stack, 0, &final_stats);
	bad_heaps = mlw_stack_check_heaps(g_stack, stderr);
	mlw_stack_print_stats(g_stack, stdout);
	test_stack_destroy(g_stack, "mlwres");
	return rc;
}

static void assert_phase(int i)
{
	if (!res.ran[i])
		fail_msg("phase %s did not run (an earlier one failed)", phase_names[i]);
	if (!res.ok[i])
		fail_msg("phase %s: %s", phase_names[i], res.why[i]);
}

static void test_baseline_echo(void **state)
{
	(void)state;
	assert_phase(PH_BASELINE);
}

static void test_heap_cap(void **state)
{
	(void)state;
	assert_phase(PH_MEMORY);
	assert_true(res.saw_enomem);
	assert_true(res.saw_write_eagain);
	print_message("at the cap: %llu of %llu bytes reserved, %llu in use, %llu failures, "
		      "%u sockets still created\n", (unsigned long long)res.at_cap.bytes_reserved,
		      (unsigned long long)res.at_cap.bytes_limit,
		      (unsigned long long)res.at_cap.bytes_in_use,
		      (unsigned long long)res.at_cap.failures, res.socks_at_cap);
	assert_true(res.at_cap.bytes_reserved <= res.at_cap.bytes_limit);
	/* The shard's own counters saw the refusals too. */
	assert_true(final_stats.alloc.failures > 0);
	assert_true(final_stats.alloc.failures >= res.at_cap.failures);
}

static void test_descriptor_limit(void **state)
{
	(void)state;
	assert_phase(PH_FDS);
	assert_true(res.saw_emfile);
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_phase(PH_CLOSE);
	assert_int_equal(res.left_open, 0);
	assert_int_equal(bad_heaps, 0);
	assert_int_equal(final_stats.alloc_fini_rc, 0);
	assert_int_equal(final_stats.alloc.objects_in_use, 0);
	assert_int_equal(final_stats.alloc.bytes_in_use, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_echo),
		cmocka_unit_test(test_heap_cap),
		cmocka_unit_test(test_descriptor_limit),
		cmocka_unit_test(test_no_leak),
	};
	int rc = run_stack();

	/* Only an environment without DPDK's virtual devices skips; a
	 * configuration or start refused because of the limits fails. */
	if (!created && rc != -EINVAL) {
		printf("SKIP: the mlwip stack could not be created (%s, rc %d)\n", reason, rc);
		return 77;
	}
	if (!res.started) {
		fprintf(stderr, "resources: the shard did not start (%s, rc %d)\n", reason, rc);
		return 1;
	}
	if (rc != 0)
		fprintf(stderr, "resources: mlw_stack_run returned %d\n", rc);
	return cmocka_run_group_tests(tests, NULL, NULL) != 0 || rc != 0;
}
