/* mlw_http_load.c - an HTTP load client in the style of mTCP's epwget: many connections on every shard, every response checked; written only with mlwip's socket and epoll calls.
 *
 *   mlw_http_load CONFIG.ini --server A.B.C.D [--port 8080] [--conns N]
 *                 [--requests R] [--duration S] [--keepalive | --close]
 *
 * Each shard opens --conns connections (default 16) to the server. Each
 * connection sends "GET / HTTP/1.1", reads the whole response and checks
 * it: status 200, a Content-Length header, exactly that many body bytes
 * and nothing more; then sends the next request. With --keepalive (the
 * default) requests follow each other on one connection; with --close each
 * request says "Connection: close", and the client checks that the server
 * sends FIN after the response, then opens a new connection.
 *
 * --requests R is the total over all shards (each shard takes its share);
 * every one of them must be answered within --duration (default 60 s).
 * Without --requests, new requests are issued for --duration seconds
 * (default 5); then the requests in flight are answered (within 5 s) and
 * each connection is closed.
 * mlw_connect() picks local ports whose replies the steering gives back to
 * the calling shard, so no shard handles another's connections.
 *
 * A refused connect is counted apart and retried on another port, not
 * counted as an error: with --close the server closes first and keeps each
 * connection in TIME-WAIT, and when the client's random port choice meets
 * such a 4-tuple again within seconds, a server that keeps TIME-WAIT as
 * RFC 793 does (lwIP alone) resets a SYN inside the old receive window.
 * mlwip and Linux servers accept it when its sequence number is after the
 * old connection's (RFC 6528 numbers, a clock plus a hash of the 4-tuple,
 * nearly always are) and otherwise answer with an ACK.
 *
 * Connections are edge-triggered and registered once for EPOLLIN | EPOLLOUT:
 * each is driven until a call returns EAGAIN. Prints per-shard requests/s
 * and errors; exits 0 only if every response was valid, at least one was
 * received, every shard's heap ended empty, and in --requests mode all R
 * were answered.
 */
#define _GNU_SOURCE	/* memmem */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mlwip/alloc.h"
#include "mlwip/config.h"
#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"

#define RESP_MAX 4096		/* the largest response we accept */
#define MAX_EVENTS 64
#define MAX_REPORTED 5		/* error messages printed per shard */
#define DRAIN_S 5		/* --duration: seconds allowed for the last answers */

/* What one shard counted; each shard writes only its own entry. */
struct shard_result {
	uint64_t ok, errors, connects, bytes;
	uint64_t refused;	/* connects refused (see the file comment); retried */
	uint64_t target;	/* --requests mode: this shard's share */
	double seconds;		/* from the first connect to the last answer */
};

/* Shared by main() and every shard (the run argument). */
struct load {
	struct sockaddr_in server;
	unsigned conns;
	uint64_t requests;	/* 0: run for the duration */
	unsigned duration;
	int keepalive;
	char request[256];
	size_t request_len;
	atomic_uint shards_done;
	struct shard_result res[MLW_MAX_SHARDS];
};

enum state { CONNECTING, SENDING, READING, WAIT_EOF };

/* One client connection; an array of them per shard, on the shard heap. */
struct lconn {
	int fd;			/* -1: not open */
	enum state st;
	size_t sent;		/* bytes of the request written */
	size_t len;		/* buf[0..len) of the response received */
	char buf[RESP_MAX];
};

/* One shard's run. */
struct shard {
	unsigned id;
	struct load *ld;
	struct shard_result *r;
	int ep;
	uint64_t issued;	/* requests started */
	int draining;		/* --duration is over: finish what is in flight */
	unsigned reported;
};

static struct mlw_stack *g_stack;

static void on_signal(int sig)
{
	(void)sig;
	mlw_stack_stop(g_stack);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(struct shard *sh, const char *what, int err)
{
	if (sh->reported++ < MAX_REPORTED)
		fprintf(stderr, "shard %u: %s%s%s\n", sh->id, what, err ? ": " : "",
			err ? strerror(err) : "");
}

static void lconn_close(struct lconn *c)
{
	mlw_close(c->fd);	/* leaves the epoll set too */
	c->fd = -1;
}

/* Open a connection and start it; returns 0, or -1 (counted as an error). */
static int lconn_open(struct shard *sh, struct lconn *c)
{
	struct epoll_event ev;
	int one = 1;
	int fd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		report(sh, "socket", errno);
		sh->r->errors++;
		return -1;
	}
	mlw_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (mlw_connect(fd, (struct sockaddr *)&sh->ld->server, sizeof(sh->ld->server)) != 0 &&
	    errno != EINPROGRESS) {
		report(sh, "connect", errno);
		mlw_close(fd);
		sh->r->errors++;
		return -1;
	}
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (mlw_epoll_ctl(sh->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		report(sh, "epoll_ctl", errno);
		mlw_close(fd);
		sh->r->errors++;
		return -1;
	}
	c->fd = fd;
	c->st = CONNECTING;
	sh->r->connects++;
	return 0;
}

/* Check a complete-or-partial response in c->buf. Returns 1 complete and
 * valid, 0 incomplete, -1 invalid (with a message). */
static int check_response(struct shard *sh, struct lconn *c)
{
	const char *hend = memmem(c->buf, c->len, "\r\n\r\n", 4);
	const char *p, *end;
	long long clen = -1;
	int conn_close = 0;
	size_t total;

	if (hend == NULL) {
		if (c->len == RESP_MAX) {
			report(sh, "response head too large", 0);
			return -1;
		}
		return 0;
	}
	if (c->len < 13 || (memcmp(c->buf, "HTTP/1.1 200 ", 13) != 0 &&
			    memcmp(c->buf, "HTTP/1.0 200 ", 13) != 0)) {
		report(sh, "status is not 200", 0);
		return -1;
	}
	end = hend + 2;
	for (p = memchr(c->buf, '\n', (size_t)(end - c->buf)); p != NULL && p + 1 < end;) {
		const char *name = p + 1;
		const char *eol = memchr(name, '\r', (size_t)(end - name));
		const char *colon = memchr(name, ':', (size_t)(eol - name));

		if (colon == NULL) {
			report(sh, "header line without ':'", 0);
			return -1;
		}
		const char *v = colon + 1;

		while (*v == ' ')
			v++;
		if (colon - name == 14 && strncasecmp(name, "Content-Length", 14) == 0) {
			char *e;

			clen = strtoll(v, &e, 10);
			if (e != eol || clen < 0)
				clen = -2;
		} else if (colon - name == 10 && strncasecmp(name, "Connection", 10) == 0) {
			conn_close = eol - v == 5 && strncasecmp(v, "close", 5) == 0;
		}
		p = eol + 1;
	}
	if (clen < 0) {
		report(sh, clen == -1 ? "no Content-Length" : "bad Content-Length", 0);
		return -1;
	}
	total = (size_t)(hend + 4 - c->buf) + (size_t)clen;
	if (total > RESP_MAX) {
		report(sh, "response too large", 0);
		return -1;
	}
	if (c->len < total)
		return 0;
	if (c->len > total) {
		report(sh, "bytes after the response (none were asked for)", 0);
		return -1;
	}
	if (conn_close == sh->ld->keepalive) {
		report(sh, sh->ld->keepalive ? "server closes a keep-alive connection"
					     : "no 'Connection: close' in the answer", 0);
		return -1;
	}
	return 1;
}

/* Start the next request on @p c, or close it when the shard is done. */
static void next_request(struct shard *sh, struct lconn *c)
{
	if (sh->draining || (sh->r->target > 0 && sh->issued >= sh->r->target)) {
		lconn_close(c);
		return;
	}
	sh->issued++;
	c->st = SENDING;
	c->sent = 0;
	c->len = 0;
}

static void lconn_fail(struct shard *sh, struct lconn *c)
{
	sh->r->errors++;
	lconn_close(c);
}

/* Drive a connection until a call would block (edge-triggered). */
static void lconn_step(struct shard *sh, struct lconn *c)
{
	struct load *ld = sh->ld;

	while (c->fd >= 0) {
		switch (c->st) {
		case CONNECTING: {
			struct sockaddr_in peer;
			socklen_t sl = sizeof(peer);
			int err = 0;
			socklen_t el = sizeof(err);

			if (mlw_getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
			    err == ECONNREFUSED) {
				sh->r->refused++;
				lconn_close(c);	/* the main loop opens another */
				return;
			}
			if (err != 0) {
				report(sh, "connect", err);
				lconn_fail(sh, c);
				return;
			}
			if (mlw_getpeername(c->fd, (struct sockaddr *)&peer, &sl) != 0)
				return;	/* still connecting: EPOLLOUT brings us back */
			next_request(sh, c);
			break;
		}
		case SENDING: {
			ssize_t n = mlw_write(c->fd, ld->request + c->sent, ld->request_len - c->sent);

			if (n < 0) {
				if (errno == EAGAIN)
					return;
				report(sh, "write", errno);
				lconn_fail(sh, c);
				return;
			}
			c->sent += (size_t)n;
			if (c->sent == ld->request_len)
				c->st = READING;
			break;
		}
		case READING:
		case WAIT_EOF: {
			char *dst = c->buf + c->len;
			size_t room = RESP_MAX - c->len;
			char sink[64];

			/* While waiting for FIN, read into a scratch buffer: any
			 * byte is an error, but must be seen to be reported. */
			if (c->st == WAIT_EOF) {
				dst = sink;
				room = sizeof(sink);
			}
			ssize_t n = mlw_read(c->fd, dst, room);

			if (n < 0) {
				if (errno == EAGAIN)
					return;
				report(sh, "read", errno);
				lconn_fail(sh, c);
				return;
			}
			if (c->st == WAIT_EOF) {
				if (n > 0) {
					report(sh, "bytes after a 'Connection: close' response", 0);
					lconn_fail(sh, c);
					return;
				}
				lconn_close(c);
				if (!sh->draining && (sh->r->target == 0 || sh->issued < sh->r->target))
					lconn_open(sh, c);
				return;
			}
			if (n == 0) {
				report(sh, "connection closed before the whole response", 0);
				lconn_fail(sh, c);
				return;
			}
			c->len += (size_t)n;
			int v = check_response(sh, c);

			if (v < 0) {
				lconn_fail(sh, c);
				return;
			}
			if (v == 0)
				break;
			sh->r->ok++;
			sh->r->bytes += c->len;
			if (ld->keepalive) {
				next_request(sh, c);
			} else {
				c->st = WAIT_EOF;
			}
			break;
		}
		}
	}
}

static int shard_main(unsigned id, void *arg)
{
	struct load *ld = arg;
	struct shard sh = { .id = id, .ld = ld, .r = &ld->res[id] };
	struct epoll_event evs[MAX_EVENTS];
	struct lconn *conns;
	unsigned nshards = mlw_stack_nshards(g_stack);
	double start, deadline, last = 0;
	unsigned open;

	if (ld->requests > 0)
		sh.r->target = ld->requests / nshards + (id < ld->requests % nshards);
	conns = mlw_alloc_calloc(ld->conns, sizeof(*conns));
	sh.ep = mlw_epoll_create1(0);
	if (conns == NULL || sh.ep < 0) {
		fprintf(stderr, "shard %u: out of memory\n", id);
		mlw_alloc_free(conns);
		mlw_socket_close_all();
		return -ENOMEM;
	}
	start = now_s();
	deadline = start + ld->duration;
	for (unsigned i = 0; i < ld->conns; i++) {
		conns[i].fd = -1;
		if (ld->requests == 0 || i < sh.r->target)
			lconn_open(&sh, &conns[i]);
	}
	for (;;) {
		int n = mlw_epoll_wait(sh.ep, evs, MAX_EVENTS, 100);

		if (n < 0)
			break;	/* EINTR: the stack is stopping (a signal) */
		for (int i = 0; i < n; i++) {
			uint64_t before = sh.r->ok;

			lconn_step(&sh, evs[i].data.ptr);
			if (sh.r->ok != before)
				last = now_s();
		}
		if (sh.r->target == 0 && !sh.draining && now_s() >= deadline) {
			sh.draining = 1;
			for (unsigned i = 0; i < ld->conns; i++)
				if (conns[i].fd >= 0 && conns[i].st == CONNECTING)
					lconn_close(&conns[i]);
		}
		/* A connection that failed, or (--close) was not reopened, is
		 * replaced while requests remain to be issued. */
		open = 0;
		for (unsigned i = 0; i < ld->conns; i++) {
			if (conns[i].fd < 0 && !sh.draining &&
			    (sh.r->target == 0 || sh.issued < sh.r->target))
				lconn_open(&sh, &conns[i]);
			open += conns[i].fd >= 0;
		}
		if (open == 0)
			break;
		if (now_s() >= deadline + (sh.draining ? DRAIN_S : 0)) {
			if (sh.draining) {
				report(&sh, "answers still missing after the drain time", 0);
				sh.r->errors += open;
			}
			break;
		}
	}
	sh.r->seconds = (last > start ? last : now_s()) - start;
	for (unsigned i = 0; i < ld->conns; i++)
		if (conns[i].fd >= 0)
			lconn_close(&conns[i]);
	mlw_alloc_free(conns);
	/* Run the loop a little longer so that the FINs just sent are
	 * answered: connections still closing when the stack stops are reset
	 * (and, as of this writing, a shard that stops with connections in
	 * FIN_WAIT sometimes ends with 96 bytes left on its heap). */
	mlw_epoll_wait(sh.ep, evs, MAX_EVENTS, 200);
	mlw_close(sh.ep);
	if (mlw_socket_close_all() != 0)
		fprintf(stderr, "shard %u: descriptors left open\n", id);
	/* The last shard to finish stops the stack; the others keep running
	 * their loops so that their FINs are sent and answered. */
	if (atomic_fetch_add(&ld->shards_done, 1) + 1 == nshards)
		mlw_stack_stop(g_stack);
	return 0;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s CONFIG.ini --server A.B.C.D [--port 8080] [--conns N per shard]\n"
			"       [--requests R total] [--duration S] [--keepalive | --close]\n", prog);
}

int main(int argc, char **argv)
{
	static struct load ld = { .conns = 16, .keepalive = 1 };
	uint16_t port = 8080;
	const char *server = NULL;
	uint64_t ok = 0, errors = 0, target = 0, refused = 0;
	double secs = 0;
	char msg[512];
	int rc, leaked, pass;

	if (argc < 2 || argv[1][0] == '-') {
		usage(argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
			server = argv[++i];
		} else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			port = (uint16_t)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--conns") == 0 && i + 1 < argc) {
			ld.conns = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc) {
			ld.requests = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--duration") == 0 && i + 1 < argc) {
			ld.duration = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--keepalive") == 0) {
			ld.keepalive = 1;
		} else if (strcmp(argv[i], "--close") == 0) {
			ld.keepalive = 0;
		} else {
			fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[i]);
			usage(argv[0]);
			return 2;
		}
	}
	ld.server.sin_family = AF_INET;
	ld.server.sin_port = htons(port);
	if (server == NULL || inet_pton(AF_INET, server, &ld.server.sin_addr) != 1 || ld.conns == 0) {
		usage(argv[0]);
		return 2;
	}
	if (ld.duration == 0)
		ld.duration = ld.requests > 0 ? 60 : 5;
	rc = snprintf(ld.request, sizeof(ld.request),
		      "GET / HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: mlw_http_load\r\n%s\r\n", server, port,
		      ld.keepalive ? "" : "Connection: close\r\n");
	ld.request_len = (size_t)rc;
	rc = mlw_stack_create_from_file(&g_stack, argv[1], msg, sizeof(msg));
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], msg);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("mlw_http_load: %u shards x %u connections to %s:%u, %s, %s\n",
	       mlw_stack_nshards(g_stack), ld.conns, server, port,
	       ld.keepalive ? "keep-alive" : "Connection: close", "starting");
	fflush(stdout);
	rc = mlw_stack_run(g_stack, shard_main, NULL, &ld);
	mlw_stack_print_stats(g_stack, stdout);
	for (unsigned i = 0; i < mlw_stack_nshards(g_stack); i++) {
		struct shard_result *r = &ld.res[i];

		printf("shard %u: requests ok %llu errors %llu connects %llu refused %llu in %.2f s: %.0f requests/s\n",
		       i, (unsigned long long)r->ok, (unsigned long long)r->errors,
		       (unsigned long long)r->connects, (unsigned long long)r->refused, r->seconds,
		       r->seconds > 0 ? (double)r->ok / r->seconds : 0.0);
		ok += r->ok;
		errors += r->errors;
		target += r->target;
		refused += r->refused;
		if (r->seconds > secs)
			secs = r->seconds;
	}
	leaked = mlw_stack_check_heaps(g_stack, stdout) != 0;
	mlw_stack_destroy(g_stack);
	printf("total: requests ok %llu errors %llu refused connects %llu in %.2f s: %.0f requests/s\n",
	       (unsigned long long)ok, (unsigned long long)errors, (unsigned long long)refused, secs,
	       secs > 0 ? (double)ok / secs : 0.0);
	pass = rc == 0 && !leaked && errors == 0 && ok > 0 && (ld.requests == 0 || ok == target);
	if (ld.requests > 0 && ok != target)
		printf("only %llu of %llu requests answered\n", (unsigned long long)ok,
		       (unsigned long long)target);
	printf("mlwip: stopped (%s)\n", rc == 0 && !leaked ? "clean" : "with errors");
	printf("mlw_http_load: %s\n", pass ? "PASS" : "FAIL");
	return pass ? 0 : 1;
}
