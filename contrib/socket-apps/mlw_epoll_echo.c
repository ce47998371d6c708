/* mlw_epoll_echo.c - an epoll echo server (TCP port 7007, IPv4 and IPv6) on every shard, written only with mlwip's socket and epoll calls.
 *
 *   mlw_epoll_echo CONFIG.ini [--port N] [--duration SECONDS]
 *
 * Each shard's init function runs its own event loop: one listening socket
 * (AF_INET6, dual-stack; every shard listens on the same port and steering
 * gives each connection to one of them), connections edge-triggered. A
 * connection reads only while its previous data has been echoed, so a slow
 * reader slows its writer (the receive window closes) instead of growing a
 * buffer. At the peer's FIN the server echoes what is left, then closes.
 * Each shard keeps its connections on a list of its own: epoll reports an
 * edge-triggered connection only when something happens on it, so at the
 * stop an idle one would be found by nothing else; the shard closes every
 * connection on the list and frees it before its loop returns.
 * Stops on SIGINT/SIGTERM or after --duration, prints per-shard stats, and
 * exits non-zero if a shard's heap did not end empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlwip/alloc.h"
#include "mlwip/config.h"
#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"

#define BUF_SIZE 16384
#define MAX_EVENTS 64

/* What one shard counted; each shard writes only its own entry. */
struct shard_result {
	uint64_t accepted, closed, bytes, errors;
	int listen_error;
};

/* Shared by main() and every shard (the run argument). */
struct server {
	uint16_t port;
	struct shard_result res[MLW_MAX_SHARDS];
};

/* One connection; allocated on the shard heap, on its shard's list. */
struct conn {
	struct conn *prev, *next;
	int fd;
	int eof;		/* the peer sent FIN */
	size_t off, len;	/* buf[off..len) still to be echoed */
	char buf[BUF_SIZE];
};

/* One shard's event loop: its counters and its open connections. Lives
 * on the shard thread's stack for the whole loop. */
struct shard {
	struct shard_result *r;
	struct conn *conns;	/* every open connection, newest first */
};

/* The signal handler's only way to reach the stack. */
static struct mlw_stack *g_stack;

static void on_signal(int sig)
{
	(void)sig;
	mlw_stack_stop(g_stack);
}

static void conn_close(struct conn *c, struct shard *sh)
{
	mlw_close(c->fd);	/* leaves the epoll set too */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		sh->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	mlw_alloc_free(c);
	sh->r->closed++;
}

/* Echo what can be echoed; edge-triggered, so work until EAGAIN.
 * Returns 0 to keep the connection, -1 once it was closed. */
static int conn_serve(struct conn *c, struct shard *sh)
{
	struct shard_result *r = sh->r;

	for (;;) {
		while (c->off < c->len) {
			ssize_t n = mlw_write(c->fd, c->buf + c->off, c->len - c->off);

			if (n < 0) {
				if (errno == EAGAIN)
					return 0;	/* EPOLLOUT will bring us back */
				r->errors++;
				conn_close(c, sh);
				return -1;
			}
			c->off += (size_t)n;
			r->bytes += (uint64_t)n;
		}
		if (c->eof) {
			conn_close(c, sh);	/* FIN after the echoed data */
			return -1;
		}
		ssize_t n = mlw_read(c->fd, c->buf, sizeof(c->buf));

		if (n > 0) {
			c->off = 0;
			c->len = (size_t)n;
		} else if (n == 0) {
			c->eof = 1;
		} else if (errno == EAGAIN) {
			return 0;
		} else {
			r->errors++;
			conn_close(c, sh);
			return -1;
		}
	}
}

static void accept_all(int lfd, int ep, struct shard *sh)
{
	struct shard_result *r = sh->r;

	for (;;) {
		struct epoll_event ev;
		struct conn *c;
		int one = 1;
		int fd = mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN)
				r->errors++;
			return;
		}
		c = mlw_alloc_calloc(1, sizeof(*c));
		if (c == NULL) {
			mlw_close(fd);
			r->errors++;
			continue;
		}
		c->fd = fd;
		mlw_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = c;
		if (mlw_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			mlw_close(fd);
			mlw_alloc_free(c);
			r->errors++;
			continue;
		}
		c->next = sh->conns;
		if (sh->conns != NULL)
			sh->conns->prev = c;
		sh->conns = c;
		r->accepted++;
	}
}

static int listen_on(uint16_t port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				  .sin6_addr = IN6ADDR_ANY_INIT };
	int one = 1;
	int fd = mlw_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (mlw_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    mlw_bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || mlw_listen(fd, 128) != 0) {
		int e = errno;

		mlw_close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The shard's whole life: runs its event loop until the stack stops. */
static int shard_main(unsigned shard, void *arg)
{
	struct server *srv = arg;
	struct shard_result *r = &srv->res[shard];
	struct shard sh = { .r = r, .conns = NULL };
	struct epoll_event evs[MAX_EVENTS];
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	int lfd, ep;

	lfd = listen_on(srv->port);
	ep = mlw_epoll_create1(0);
	if (lfd < 0 || ep < 0 || mlw_epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) != 0) {
		r->listen_error = errno;
		fprintf(stderr, "shard %u: cannot listen on port %u: %s\n", shard, srv->port,
			strerror(errno));
		mlw_socket_close_all();
		return -errno;
	}
	printf("shard %u: echo listening on port %u\n", shard, srv->port);
	fflush(stdout);
	while (!mlw_shard_stopping()) {
		int n = mlw_epoll_wait(ep, evs, MAX_EVENTS, 100);

		if (n < 0) {
			if (errno != EINTR)
				r->errors++;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				accept_all(lfd, ep, &sh);
			else
				conn_serve(evs[i].data.ptr, &sh);
		}
	}
	/* Every connection still open, idle ones included (epoll would
	 * never report them), is closed here and its memory freed; the stack
	 * then resets what did not finish. */
	while (sh.conns != NULL)
		conn_close(sh.conns, &sh);
	mlw_close(ep);
	mlw_close(lfd);
	return 0;
}

int main(int argc, char **argv)
{
	static struct server srv = { .port = 7007 };
	char msg[512];
	unsigned duration = 0;
	int rc, leaked = 0;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s CONFIG.ini [--port N] [--duration SECONDS]\n", argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			srv.port = (uint16_t)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--duration") == 0 && i + 1 < argc) {
			duration = (unsigned)strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[i]);
			return 2;
		}
	}
	rc = mlw_stack_create_from_file(&g_stack, argv[1], msg, sizeof(msg));
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], msg);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	if (duration > 0)
		alarm(duration);
	printf("mlw_epoll_echo: %u shards, port %u\n", mlw_stack_nshards(g_stack), srv.port);
	fflush(stdout);
	rc = mlw_stack_run(g_stack, shard_main, NULL, &srv);
	mlw_stack_print_stats(g_stack, stdout);
	for (unsigned i = 0; i < mlw_stack_nshards(g_stack); i++) {
		struct shard_result *r = &srv.res[i];

		printf("shard %u: echo accepted %llu closed %llu bytes %llu errors %llu\n", i,
		       (unsigned long long)r->accepted, (unsigned long long)r->closed,
		       (unsigned long long)r->bytes, (unsigned long long)r->errors);
	}
	leaked = mlw_stack_check_heaps(g_stack, stdout) != 0;
	mlw_stack_destroy(g_stack);
	printf("mlwip: stopped (%s)\n", rc == 0 && !leaked ? "clean" : "with errors");
	return rc != 0 || leaked;
}
