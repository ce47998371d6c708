/* test_epoll_scale.c - the socket layer's bookkeeping at 10 and at 10,000 sockets on one shard: EPOLL_CTL_ADD/MOD/DEL, close, ready-list removal, dirty-list removal and descriptor allocation take the same number of list steps at both sizes, and growing to 10,000 sockets maps no memory.
 *
 * main -> test_stack_run(one shard on net_ring0) -> body: a listener on
 * 127.0.0.1 (lwIP's loopback netif) and one epoll instance; SMALL pairs of
 * connected sockets, every socket registered (EPOLLIN), the operations
 * below measured with the socket layer's step counter (mlw__sock_steps:
 * one step per list or table entry looked at), everything closed; then
 * the same with LARGE pairs; the heap's OS mappings and minor page faults
 * counted while the LARGE pairs are opened; all closed -> the stack stops
 * with every heap empty -> CMocka asserts.
 *
 * Each operation picks the socket that a singly linked list would reach
 * last: the one registered (or written) first.
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
#include <sys/resource.h>

#include <cmocka.h>

#include "mlwip/alloc.h"
#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "sock_private.h"
#include "test_stack.h"

#define SMALL		5	/* pairs: 10 sockets */
#define LARGE		5000	/* pairs: 10,000 sockets */
#define WAIT_MS		30000

enum op { OP_ADD, OP_MOD, OP_DEL, OP_CLOSE, OP_WAIT_ONE, OP_DEL_READY, OP_CLOSE_READY,
	  OP_CLOSE_DIRTY, OP_FD_ALLOC, OP_N };

static const char *const op_name[OP_N] = {
	"EPOLL_CTL_ADD", "EPOLL_CTL_MOD", "EPOLL_CTL_DEL", "close (registered)",
	"epoll_wait, one ready", "EPOLL_CTL_DEL (on the ready list)",
	"close (on the ready list)", "close (first on the dirty list)", "socket (fd reuse)",
};

static struct {
	bool ran;
	char why[256];
	uint64_t steps[2][OP_N];	/* [0] SMALL, [1] LARGE */
	uint64_t maps, unmaps;		/* heap mappings while LARGE pairs were opened */
	long minflt;			/* minor page faults in the same time */
	uint64_t grown;			/* heap bytes_reserved added in the same time */
	int open;
} res;

static int cfd[LARGE], afd[LARGE];

static int failed_at(int line, const char *what)
{
	snprintf(res.why, sizeof(res.why), "line %d: %s (errno %d)", line, what, errno);
	return -1;
}

#define CHECK(cond, what)                       \
	do {                                    \
		if (!(cond))                    \
			return failed_at(__LINE__, what); \
	} while (0)

static int open_pairs(int lfd, const struct sockaddr_in *to, int n)
{
	const char *why = NULL;

	res.open = test_tcp_pairs(lfd, to, cfd, afd, 0, n, WAIT_MS, &why);
	CHECK(res.open == n, why);
	return 0;
}

static int add(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return mlw_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Steps the socket layer takes in @p call. */
#define STEPS(call, out)                                                            \
	do {                                                                        \
		uint64_t s0_ = mlw__sock_steps();                                   \
		call;                                                               \
		(out) = mlw__sock_steps() - s0_;                                    \
	} while (0)

/* Register all 2n sockets, then measure each operation on the socket a
 * singly linked list reaches last; close everything. */
static int measure(int ep, int lfd, const struct sockaddr_in *to, int n, uint64_t *steps)
{
	struct epoll_event evs[8], ev = { .events = EPOLLIN | EPOLLET };
	int rc = 0, fd, holes[3];
	char c = 'x';

	if (open_pairs(lfd, to, n) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		CHECK(add(ep, cfd[i]) == 0, "ADD client");
		CHECK(add(ep, afd[i]) == 0, "ADD server");
	}
	/* ADD puts every entry on the ready list; the first wait drops the
	 * ones with nothing to report (all of them: no data yet). */
	CHECK(mlw_epoll_wait(ep, evs, 8, 0) == 0, "nothing ready");

	/* The first registered entry: DEL, ADD again, MOD. */
	STEPS(rc = mlw_epoll_ctl(ep, EPOLL_CTL_DEL, cfd[0], NULL), steps[OP_DEL]);
	CHECK(rc == 0, "DEL");
	STEPS(rc = add(ep, cfd[0]), steps[OP_ADD]);
	CHECK(rc == 0, "ADD");
	ev.data.fd = afd[0];
	STEPS(rc = mlw_epoll_ctl(ep, EPOLL_CTL_MOD, afd[0], &ev), steps[OP_MOD]);
	CHECK(rc == 0, "MOD");
	CHECK(mlw_epoll_wait(ep, evs, 8, 0) == 0, "nothing ready after MOD");

	/* One socket ready among them all: afd[1] gets a byte. */
	CHECK(mlw_write(cfd[1], &c, 1) == 1, "write");
	for (int64_t end = test_now_ms() + WAIT_MS; mlw_recv(afd[1], &c, 1, MSG_PEEK) != 1;) {
		CHECK(errno == EAGAIN && test_now_ms() < end, "byte arrives");
		test_pump();
	}
	test_pump_ms(20);	/* the ACK, too: nothing moves any more */
	CHECK(mlw_epoll_wait(ep, evs, 8, 0) == 1 && evs[0].data.fd == afd[1], "one event");
	/* Level-triggered: afd[1] alone stays on the ready list. */
	STEPS(rc = mlw_epoll_wait(ep, evs, 8, 0), steps[OP_WAIT_ONE]);
	CHECK(rc == 1 && evs[0].data.fd == afd[1], "one event again");
	STEPS(rc = mlw_epoll_ctl(ep, EPOLL_CTL_DEL, afd[1], NULL), steps[OP_DEL_READY]);
	CHECK(rc == 0, "DEL ready");
	CHECK(add(ep, afd[1]) == 0, "ADD again (on the ready list)");
	STEPS(rc = mlw_close(afd[1]), steps[OP_CLOSE_READY]);
	CHECK(rc == 0, "close ready");
	afd[1] = -1;

	/* The first registered socket that is still open. */
	STEPS(rc = mlw_close(afd[0]), steps[OP_CLOSE]);
	CHECK(rc == 0, "close");
	afd[0] = -1;

	/* Every client from 2 on writes a byte, no pass in between: all on the
	 * dirty list, cfd[2] marked first. */
	for (int i = 2; i < n; i++)
		CHECK(mlw_write(cfd[i], &c, 1) == 1, "write all");
	STEPS(rc = mlw_close(cfd[2]), steps[OP_CLOSE_DIRTY]);
	CHECK(rc == 0, "close dirty");
	cfd[2] = -1;

	/* Descriptors: three low numbers are free (afd[0], afd[1], cfd[2]);
	 * three sockets take them, the fourth gets the number after all the
	 * open ones (POSIX: the lowest free). */
	for (int i = 0; i < 3; i++) {
		holes[i] = mlw_socket(AF_INET, SOCK_DGRAM, 0);
		CHECK(holes[i] >= 0 && holes[i] < cfd[n - 1], "UDP socket in a hole");
	}
	STEPS(fd = mlw_socket(AF_INET, SOCK_DGRAM, 0), steps[OP_FD_ALLOC]);
	CHECK(fd > afd[n - 1], "UDP socket after the others");
	mlw_close(fd);
	for (int i = 0; i < 3; i++)
		mlw_close(holes[i]);

	for (int i = 0; i < n; i++) {
		if (cfd[i] >= 0)
			mlw_close(cfd[i]);
		if (afd[i] >= 0)
			mlw_close(afd[i]);
	}
	test_pump_ms(100);
	return 0;
}

static int run(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7200),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct mlw_alloc_stats a, b;
	struct rusage ra, rb;
	int lfd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int ep = mlw_epoll_create1(0);

	CHECK(lfd >= 0 && ep >= 0, "listen socket and epoll");
	CHECK(mlw_bind(lfd, (const struct sockaddr *)&to, sizeof(to)) == 0, "bind");
	CHECK(mlw_listen(lfd, 255) == 0, "listen");
	if (measure(ep, lfd, &to, SMALL, res.steps[0]) != 0)
		return -1;

	/* Growth: the descriptor table and the heap's classes grow from a
	 * handful of sockets to 10,000 (the connections' PCBs, sockets,
	 * epoll entries, segments). */
	/* What idle passes of mlw_epoll_wait do: the heap ahead made resident. */
	while (mlw_alloc_prefault() != 0)
		;
	CHECK(mlw_alloc_stats(&a) == 0 && getrusage(RUSAGE_THREAD, &ra) == 0, "stats");
	if (open_pairs(lfd, &to, LARGE) != 0)
		return -1;
	CHECK(mlw_alloc_stats(&b) == 0 && getrusage(RUSAGE_THREAD, &rb) == 0, "stats");
	res.maps = b.os_maps - a.os_maps;
	res.unmaps = b.os_unmaps - a.os_unmaps;
	res.minflt = rb.ru_minflt - ra.ru_minflt;
	res.grown = b.bytes_reserved - a.bytes_reserved;
	for (int i = 0; i < LARGE; i++) {
		mlw_close(cfd[i]);
		mlw_close(afd[i]);
	}
	test_pump_ms(100);

	return measure(ep, lfd, &to, LARGE, res.steps[1]);
}

static void body(void)
{
	res.ran = true;
	if (run() != 0)
		fprintf(stderr, "test_epoll_scale: %s\n", res.why);
	/* The listener and the epoll instance (or what a failure left). */
	mlw_socket_close_all();
	test_pump_ms(200);
}

/* The body ran to its end (each test asks first). */
static void ran_through(void)
{
	assert_true(res.ran);
	if (res.why[0] != '\0')
		fail_msg("%s", res.why);
	assert_int_equal(res.open, LARGE);
}

/* Every operation costs the same at 10 and at 10,000 sockets. */
static void test_same_cost(void **state)
{
	bool same = true;

	(void)state;
	ran_through();
	for (int k = 0; k < OP_N; k++) {
		printf("%-36s steps: %d sockets %llu, %d sockets %llu\n", op_name[k], 2 * SMALL,
		       (unsigned long long)res.steps[0][k], 2 * LARGE,
		       (unsigned long long)res.steps[1][k]);
		same = same && res.steps[0][k] == res.steps[1][k];
	}
	assert_true(same);
}

/* Growing to 10,000 sockets takes no memory from the OS (no mmap or
 * munmap; the heap's reservation serves it). */
static void test_no_maps(void **state)
{
	(void)state;
	ran_through();
	printf("growth to %d sockets: heap +%llu KiB, %llu mmap, %llu munmap, %ld minor page "
	       "faults (the whole thread)\n", 2 * LARGE, (unsigned long long)res.grown / 1024,
	       (unsigned long long)res.maps, (unsigned long long)res.unmaps, res.minflt);
	assert_int_equal(res.maps, 0);
	assert_int_equal(res.unmaps, 0);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_cost),
		cmocka_unit_test(test_no_maps),
	};
	unsigned bad_heaps = 0;
	int rc = test_stack_run("epoll_scale", "[stack]\nshards = 1\nmax_sockets = 16384\n"
				"[port0]\nipv4 = 10.0.0.2/24\n", body, &bad_heaps);

	if (rc == 0 && bad_heaps != 0) {
		fprintf(stderr, "test_epoll_scale: %u shard heap(s) not empty at stop\n", bad_heaps);
		rc = 1;
	}
	return rc != 0 ? rc : cmocka_run_group_tests(tests, NULL, NULL);
}
