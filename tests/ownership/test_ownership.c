/* test_ownership.c - a descriptor belongs to the shard that created it: another shard gets EBADF, a thread that is no shard gets EPERM, and the owner's socket is unharmed.
 *
 * Two shards on net_ring0. Shard 0 creates a listening TCP socket, a UDP
 * socket and an epoll instance and publishes their numbers; shard 1 uses
 * each with every kind of call and records errno; shard 0 then checks its
 * descriptors still work, closes them and stops the stack. main() (not a
 * shard thread) makes the same calls before and after the run. The only
 * state the shards share is this test's result struct, handed over with
 * release/acquire flags.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "test_stack.h"

#define NCALLS 12

struct handover {
	int tcp, udp, ep;		/* shard 0's descriptors */
	atomic_int published;		/* shard 0 -> shard 1 */
	atomic_int tried;		/* shard 1 -> shard 0 */
	int errs[NCALLS];		/* errno of each call from shard 1 (0: it succeeded) */
	int owner_ok;			/* shard 0's descriptors worked afterwards */
	int shard_of_fd;		/* mlw fd encodes its shard */
};

static struct handover h;
static struct mlw_stack *g_stack;

/* errno of a call that must fail, 0 if it succeeded. */
static int fails(long rc)
{
	return rc < 0 ? errno : 0;
}

/* Every kind of call on a descriptor of another shard. */
static void try_foreign(int *errs, int tcp, int udp, int ep)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct epoll_event ev = { .events = EPOLLIN };
	char buf[4];
	int v = 0, i = 0;

	errs[i++] = fails(mlw_read(tcp, buf, sizeof(buf)));
	errs[i++] = fails(mlw_write(tcp, "x", 1));
	errs[i++] = fails(mlw_accept4(tcp, NULL, NULL, SOCK_NONBLOCK));
	errs[i++] = fails(mlw_getsockname(tcp, (struct sockaddr *)&sa, &len));
	errs[i++] = fails(mlw_setsockopt(tcp, SOL_SOCKET, SO_KEEPALIVE, &(int){ 1 }, sizeof(int)));
	errs[i++] = fails(mlw_ioctl(tcp, FIONREAD, &v));
	errs[i++] = fails(mlw_sendto(udp, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa)));
	errs[i++] = fails(mlw_epoll_ctl(ep, EPOLL_CTL_ADD, tcp, &ev));
	errs[i++] = fails(mlw_epoll_wait(ep, &ev, 1, 0));
	errs[i++] = fails(mlw_shutdown(tcp, SHUT_RDWR));
	errs[i++] = fails(mlw_close(tcp));
	errs[i++] = fails(mlw_close(ep));
}

static int shard_main(unsigned shard, void *arg)
{
	(void)arg;
	if (shard == 1) {
		while (!atomic_load_explicit(&h.published, memory_order_acquire) && !mlw_shard_stopping())
			mlw_shard_poll();
		try_foreign(h.errs, h.tcp, h.udp, h.ep);
		atomic_store_explicit(&h.tried, 1, memory_order_release);
		return 0;
	}
	{
		struct sockaddr_in sa = { .sin_family = AF_INET };
		struct epoll_event ev = { .events = EPOLLIN };
		socklen_t len = sizeof(sa);
		int ok = 1;

		h.tcp = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		h.udp = mlw_socket(AF_INET, SOCK_DGRAM, 0);
		h.ep = mlw_epoll_create1(0);
		ok &= h.tcp >= 0 && h.udp >= 0 && h.ep >= 0;
		ok &= mlw_bind(h.tcp, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		ok &= mlw_listen(h.tcp, 4) == 0;
		h.shard_of_fd = h.tcp >> MLW_FD_SHARD_SHIFT;
		atomic_store_explicit(&h.published, 1, memory_order_release);
		while (!atomic_load_explicit(&h.tried, memory_order_acquire) && !mlw_shard_stopping())
			mlw_shard_poll();
		/* Still ours, still working. */
		ok &= mlw_getsockname(h.tcp, (struct sockaddr *)&sa, &len) == 0 && sa.sin_port != 0;
		ok &= mlw_accept4(h.tcp, NULL, NULL, 0) < 0 && errno == EAGAIN;
		ok &= mlw_epoll_ctl(h.ep, EPOLL_CTL_ADD, h.tcp, &ev) == 0;
		ok &= mlw_epoll_wait(h.ep, &ev, 1, 0) == 0;
		ok &= mlw_close(h.tcp) == 0 && mlw_close(h.udp) == 0 && mlw_close(h.ep) == 0;
		h.owner_ok = ok;
		mlw_stack_stop(g_stack);
	}
	return 0;
}

static const char *const call_names[NCALLS] = {
	"read", "write", "accept4", "getsockname", "setsockopt", "ioctl", "sendto (udp)",
	"epoll_ctl", "epoll_wait", "shutdown", "close", "close (epoll)",
};

static void test_other_shard_gets_ebadf(void **state)
{
	(void)state;
	assert_int_equal(h.shard_of_fd, 0);
	for (int i = 0; i < NCALLS; i++) {
		if (h.errs[i] != EBADF)
			print_error("shard 1 %s on shard 0's descriptor: %s\n", call_names[i],
				    h.errs[i] ? strerror(h.errs[i]) : "succeeded");
		assert_int_equal(h.errs[i], EBADF);
	}
}

static void test_owner_unharmed(void **state)
{
	(void)state;
	assert_true(h.owner_ok);
}

/* main() is no shard thread: every call says EPERM. */
static void test_non_shard_thread_gets_eperm(void **state)
{
	int errs[NCALLS];

	(void)state;
	assert_int_equal(mlw_socket(AF_INET, SOCK_STREAM, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(mlw_epoll_create1(0), -1);
	assert_int_equal(errno, EPERM);
	try_foreign(errs, h.tcp, h.udp, h.ep);
	for (int i = 0; i < NCALLS; i++) {
		if (errs[i] != EPERM)
			print_error("main thread %s: %s\n", call_names[i],
				    errs[i] ? strerror(errs[i]) : "succeeded");
		assert_int_equal(errs[i], EPERM);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_other_shard_gets_ebadf),
		cmocka_unit_test(test_owner_unharmed),
		cmocka_unit_test(test_non_shard_thread_gets_eperm),
	};
	char err[512];
	int rc;

	rc = test_stack_create(&g_stack, "mlwown",
			       "[stack]\nshards = 2\nidle = sleep\n[port0]\nipv4 = 10.0.0.2/24\n", err,
			       sizeof(err));
	if (rc != 0) {
		printf("SKIP: the stack did not start: %s\n", err);
		return 77;
	}
	rc = mlw_stack_run(g_stack, shard_main, NULL, NULL);
	if (rc != 0 || mlw_stack_check_heaps(g_stack, stderr) != 0) {
		fprintf(stderr, "ownership: run ended with %d or heaps not empty\n", rc);
		test_stack_destroy(g_stack, "mlwown");
		return 1;
	}
	test_stack_destroy(g_stack, "mlwown");
	return _cmocka_run_group_tests("ownership", tests, sizeof(tests) / sizeof(tests[0]), NULL,
				       NULL);
}
