/* imp_echo_client.c - one timed echo transfer from mlwip's socket API, for the fault matrix:
 * shard 0 connects to an echo server, writes BYTES of a known pattern, half-closes, and reads
 * until EOF, checking every byte that comes back. Other shards only run their loop.
 *
 *   imp_echo_client CONFIG.ini --server A.B.C.D [--port 7] --bytes N [--timeout S]
 *
 * Prints "imp_echo_client: PASS bytes N seconds T" (T from connect() to EOF after the last
 * byte) or "imp_echo_client: FAIL ...", then the stack's stats, and exits 0 only on PASS with
 * every shard's heap empty.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mlwip/config.h"
#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"

#define CHUNK 16384

struct job {
	struct sockaddr_in srv;
	uint64_t bytes;
	/* results, written by shard 0 */
	int ok;
	uint64_t sent, verified, mismatch_at;
	double seconds;
	char why[160];
};

static struct mlw_stack *g_stack;
static volatile sig_atomic_t g_timed_out;

static void on_signal(int sig)
{
	if (sig == SIGALRM)
		g_timed_out = 1;
	mlw_stack_stop(g_stack);
}

static uint8_t pat(uint64_t o)
{
	uint64_t x = o / 8 * 0x9e3779b97f4a7c15ULL;

	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (o % 8)));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void transfer(struct job *j)
{
	static uint8_t out[CHUNK], in[65536];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT }, evs[4];
	int fd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int ep = mlw_epoll_create1(0);
	int wr_closed = 0;
	double t0;

	if (fd < 0 || ep < 0) {
		snprintf(j->why, sizeof(j->why), "socket/epoll: %s", strerror(errno));
		return;
	}
	t0 = now_s();
	if (mlw_connect(fd, (struct sockaddr *)&j->srv, sizeof(j->srv)) != 0 && errno != EINPROGRESS) {
		snprintf(j->why, sizeof(j->why), "connect: %s", strerror(errno));
		return;
	}
	ev.data.fd = fd;
	mlw_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	while (!mlw_shard_stopping()) {
		int n = mlw_epoll_wait(ep, evs, 4, 100);

		if (n < 0 && errno != EINTR) {
			snprintf(j->why, sizeof(j->why), "epoll_wait: %s", strerror(errno));
			return;
		}
		if (n <= 0)
			continue;
		if (evs[0].events & EPOLLERR) {
			int e = 0;
			socklen_t l = sizeof(e);

			mlw_getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
			snprintf(j->why, sizeof(j->why), "socket error: %s after %llu sent, %llu verified",
				 strerror(e), (unsigned long long)j->sent, (unsigned long long)j->verified);
			return;
		}
		while (j->sent < j->bytes) {
			size_t len = j->bytes - j->sent < CHUNK ? (size_t)(j->bytes - j->sent) : CHUNK;
			ssize_t w;

			for (size_t i = 0; i < len; i++)
				out[i] = pat(j->sent + i);
			w = mlw_write(fd, out, len);
			if (w <= 0)
				break;
			j->sent += (uint64_t)w;
		}
		if (j->sent == j->bytes && !wr_closed) {
			mlw_shutdown(fd, SHUT_WR);
			wr_closed = 1;
			ev.events = EPOLLIN;
			mlw_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
		}
		for (;;) {
			ssize_t r = mlw_read(fd, in, sizeof(in));

			if (r > 0) {
				for (ssize_t i = 0; i < r; i++) {
					if (in[i] != pat(j->verified + (uint64_t)i)) {
						j->mismatch_at = j->verified + (uint64_t)i;
						snprintf(j->why, sizeof(j->why), "mismatch at byte %llu",
							 (unsigned long long)j->mismatch_at);
						return;
					}
				}
				j->verified += (uint64_t)r;
				if (j->verified > j->bytes) {
					snprintf(j->why, sizeof(j->why), "more bytes than sent");
					return;
				}
				continue;
			}
			if (r == 0) {
				j->seconds = now_s() - t0;
				if (j->verified == j->bytes)
					j->ok = 1;
				else
					snprintf(j->why, sizeof(j->why), "EOF after %llu of %llu bytes",
						 (unsigned long long)j->verified, (unsigned long long)j->bytes);
				return;
			}
			if (errno != EAGAIN) {
				snprintf(j->why, sizeof(j->why), "read: %s after %llu verified", strerror(errno),
					 (unsigned long long)j->verified);
				return;
			}
			break;
		}
	}
	snprintf(j->why, sizeof(j->why), "%s after %llu sent, %llu verified in %.1f s",
		 g_timed_out ? "timed out" : "stopped", (unsigned long long)j->sent,
		 (unsigned long long)j->verified, now_s() - t0);
}

static int shard_main(unsigned shard, void *arg)
{
	struct job *j = arg;

	if (shard != 0)
		return 0;
	transfer(j);
	mlw_socket_close_all();
	mlw_stack_stop(g_stack);
	return 0;
}

int main(int argc, char **argv)
{
	static struct job j = { .srv = { .sin_family = AF_INET, .sin_port = 0 } };
	unsigned port = 7, timeout = 60;
	char msg[512];
	int rc, leaked;

	if (argc < 2 || argv[1][0] == '-')
		goto usage;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--server") == 0 && inet_pton(AF_INET, argv[i + 1], &j.srv.sin_addr) == 1)
			continue;
		if (strcmp(argv[i], "--port") == 0)
			port = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--bytes") == 0)
			j.bytes = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--timeout") == 0)
			timeout = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else
			goto usage;
	}
	if (j.srv.sin_addr.s_addr == 0 || j.bytes == 0 || port == 0 || port > 65535)
		goto usage;
	j.srv.sin_port = htons((uint16_t)port);
	rc = mlw_stack_create_from_file(&g_stack, argv[1], msg, sizeof(msg));
	if (rc != 0) {
		fprintf(stderr, "imp_echo_client: %s\n", msg);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	alarm(timeout);
	rc = mlw_stack_run(g_stack, shard_main, NULL, &j);
	alarm(0);
	if (j.ok)
		printf("imp_echo_client: PASS bytes %llu seconds %.3f\n", (unsigned long long)j.bytes, j.seconds);
	else
		printf("imp_echo_client: FAIL %s\n", j.why);
	mlw_stack_print_stats(g_stack, stdout);
	leaked = mlw_stack_check_heaps(g_stack, stdout) != 0;
	mlw_stack_destroy(g_stack);
	printf("mlwip: stopped (%s)\n", rc == 0 && !leaked ? "clean" : "with errors");
	return !(j.ok && rc == 0 && !leaked);

usage:
	fprintf(stderr, "usage: %s CONFIG.ini --server A.B.C.D [--port 7] --bytes N [--timeout S]\n", argv[0]);
	return 2;
}
