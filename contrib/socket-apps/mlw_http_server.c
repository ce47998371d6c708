/* mlw_http_server.c - an HTTP/1.1 server with one fixed response, on every shard, written only with mlwip's socket and epoll calls.
 *
 *   mlw_http_server CONFIG.ini [--port 8080] [--duration SECONDS]
 *
 * Every request gets "200 OK" with a short text body (HEAD: headers only).
 * Connections are kept alive by default in HTTP/1.1; "Connection: close"
 * is honoured (the response, then FIN). HTTP/1.0 keeps the connection only
 * with "Connection: keep-alive". Pipelined requests are answered in order.
 * A malformed request gets "400 Bad Request" and the connection is closed.
 *
 * Each shard's init function runs its own event loop: one listening socket
 * (AF_INET6, dual-stack; every shard listens on the same port and steering
 * gives each connection to one of them). Connections are edge-triggered,
 * registered once for EPOLLIN | EPOLLOUT: a connection is served until a
 * read or a write returns EAGAIN, so the next edge of either kind brings
 * it back, and the loop never calls mlw_epoll_ctl() per request (level-
 * triggered would need EPOLLOUT switched on and off around every blocked
 * response, or would report every idle writable connection on each pass).
 *
 * A connection parses requests only while its output buffer has room for
 * another response, so a client that pipelines faster than it reads is
 * slowed by TCP's window instead of growing a buffer. Closing after a
 * response is "lingering": shutdown(SHUT_WR) sends FIN after the response,
 * and the server reads (and drops) whatever the client still sends until
 * its FIN; closing with unread data would send RST and could destroy the
 * response before the client read it.
 *
 * Stops on SIGINT/SIGTERM or after --duration, prints per-shard counters,
 * and exits non-zero if a shard's heap did not end empty.
 */
#define _GNU_SOURCE	/* memmem */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mlwip/alloc.h"
#include "mlwip/config.h"
#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"

#define IN_SIZE 8192		/* the largest request head we accept */
#define OUT_SIZE 8192		/* responses queued while the send buffer is full */
#define MAX_EVENTS 64
#define BODY "Hello from mlwip.\n"

/* What one shard counted; each shard writes only its own entry. */
struct shard_result {
	uint64_t accepted, closed, requests, bad_requests, errors;
	uint64_t resets;	/* connections the peer reset (not our error) */
	int listen_error;
};

/* Shared by main() and every shard (the run argument). */
struct server {
	uint16_t port;
	struct shard_result res[MLW_MAX_SHARDS];
};

/* One connection; allocated on the shard heap and linked into the shard's
 * list, so that those still open at stop can be freed. */
struct conn {
	struct conn *prev, *next;
	int fd;
	int closing;		/* no more requests: send what is queued, then FIN */
	int fin_sent;		/* shutdown(SHUT_WR) done; dropping input until EOF */
	size_t in_len;		/* in[0..in_len) received, not yet parsed */
	size_t body_left;	/* request body bytes still to skip */
	size_t out_off, out_len; /* out[out_off..out_len) still to send */
	char in[IN_SIZE];
	char out[OUT_SIZE];
};

/* The responses, built once by main(); read-only afterwards. */
enum { R_KEEP, R_KEEP_10, R_CLOSE, R_BAD, R_COUNT };
static char g_resp[2][R_COUNT][256];	/* [is HEAD][kind] */
static size_t g_resp_len[2][R_COUNT];

/* The signal handler's only way to reach the stack. */
static struct mlw_stack *g_stack;

static void on_signal(int sig)
{
	(void)sig;
	mlw_stack_stop(g_stack);
}

static void build_responses(void)
{
	static const char *const status[R_COUNT] = { "200 OK", "200 OK", "200 OK", "400 Bad Request" };
	static const char *const conn[R_COUNT] = { "", "Connection: keep-alive\r\n",
						   "Connection: close\r\n", "Connection: close\r\n" };

	for (int head = 0; head < 2; head++) {
		for (int k = 0; k < R_COUNT; k++) {
			const char *body = k == R_BAD ? "bad request\n" : BODY;
			int n = snprintf(g_resp[head][k], sizeof(g_resp[head][k]),
					 "HTTP/1.1 %s\r\nServer: mlwip\r\nContent-Type: text/plain\r\n"
					 "Content-Length: %zu\r\n%s\r\n%s",
					 status[k], strlen(body), conn[k], head ? "" : body);

			g_resp_len[head][k] = (size_t)n;
		}
	}
}

/* Does a comma-separated header value contain @p tok (case-insensitive)? */
static int has_token(const char *v, const char *end, const char *tok)
{
	size_t tl = strlen(tok);

	while (v < end) {
		while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
			v++;
		const char *s = v;

		while (v < end && *v != ',')
			v++;
		const char *e = v;

		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) == tl && strncasecmp(s, tok, tl) == 0)
			return 1;
	}
	return 0;
}

/* What parse_request() found in one request head. */
struct request {
	int head;		/* HEAD: no body in the response */
	int keep_alive;
	int http10;
	size_t body_len;	/* Content-Length of the request */
};

/* Parse the head in[0..len) (ending with CRLF CRLF, which is not included).
 * Returns 0, or -1 if it is malformed. */
static int parse_request(const char *p, size_t len, struct request *rq)
{
	const char *end = p + len;
	const char *eol = memchr(p, '\r', len);
	const char *sp1, *sp2, *q;
	int conn_close = 0, conn_keep = 0, have_len = 0;

	memset(rq, 0, sizeof(*rq));
	if (eol == NULL)
		eol = end;
	/* Request line: METHOD SP TARGET SP HTTP/1.x */
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (sp1 == NULL || sp1 == p)
		return -1;
	for (q = p; q < sp1; q++)
		if (!isupper((unsigned char)*q))
			return -1;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (sp2 == NULL || sp2 == sp1 + 1 || eol - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -1;
	if (sp2[8] == '0')
		rq->http10 = 1;
	else if (sp2[8] != '1')
		return -1;
	rq->head = sp1 - p == 4 && memcmp(p, "HEAD", 4) == 0;
	/* Header lines: NAME ":" VALUE CRLF; continuation lines are obsolete
	 * (RFC 9112 5.2) and rejected, as is a body framed by chunks. */
	for (p = eol; p < end;) {
		const char *name, *colon, *v;

		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		name = p + 2;
		eol = memchr(name, '\r', (size_t)(end - name));
		if (eol == NULL)
			eol = end;
		colon = memchr(name, ':', (size_t)(eol - name));
		if (colon == NULL || colon == name || name[0] == ' ' || name[0] == '\t')
			return -1;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		size_t nl = (size_t)(colon - name);

		if (nl == 10 && strncasecmp(name, "Connection", 10) == 0) {
			conn_close |= has_token(v, eol, "close");
			conn_keep |= has_token(v, eol, "keep-alive");
		} else if (nl == 14 && strncasecmp(name, "Content-Length", 14) == 0) {
			char *e;
			unsigned long long n;

			if (have_len || v == eol || !isdigit((unsigned char)*v))
				return -1;
			n = strtoull(v, &e, 10);
			while (e < eol && (*e == ' ' || *e == '\t'))
				e++;
			if (e != eol || n > (1ull << 30))
				return -1;
			rq->body_len = (size_t)n;
			have_len = 1;
		} else if (nl == 17 && strncasecmp(name, "Transfer-Encoding", 17) == 0) {
			return -1;
		}
		p = eol;
	}
	rq->keep_alive = !conn_close && (rq->http10 ? conn_keep : 1);
	return 0;
}

static void queue_response(struct conn *c, int head, int kind)
{
	memcpy(c->out + c->out_len, g_resp[head][kind], g_resp_len[head][kind]);
	c->out_len += g_resp_len[head][kind];
}

/* Answer every complete request in c->in while there is room for the
 * answer; stop at the first one after which the connection closes. */
static void parse_requests(struct conn *c, struct shard_result *r)
{
	size_t off = 0;

	while (!c->closing) {
		struct request rq;
		const char *hend;

		if (c->body_left > 0) {
			size_t n = c->in_len - off < c->body_left ? c->in_len - off : c->body_left;

			off += n;
			c->body_left -= n;
			if (c->body_left > 0)
				break;
		}
		if (OUT_SIZE - c->out_len < sizeof(g_resp[0][0]))
			break;	/* the answers so far must go first */
		hend = memmem(c->in + off, c->in_len - off, "\r\n\r\n", 4);
		if (hend == NULL) {
			if (c->in_len - off == IN_SIZE) {
				/* A head larger than we accept. */
				r->bad_requests++;
				queue_response(c, 0, R_BAD);
				c->closing = 1;
			}
			break;
		}
		if (parse_request(c->in + off, (size_t)(hend - (c->in + off)), &rq) != 0) {
			r->bad_requests++;
			queue_response(c, 0, R_BAD);
			c->closing = 1;
			break;
		}
		r->requests++;
		queue_response(c, rq.head, !rq.keep_alive ? R_CLOSE : rq.http10 ? R_KEEP_10 : R_KEEP);
		c->closing = !rq.keep_alive;
		off = (size_t)(hend + 4 - c->in);
		c->body_left = rq.body_len;
	}
	/* Keep the unparsed tail at the start of the buffer. */
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

static void conn_close(struct conn **list, struct conn *c, struct shard_result *r)
{
	mlw_close(c->fd);	/* leaves the epoll set too */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		*list = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	mlw_alloc_free(c);
	r->closed++;
}

/* A client that closes with our answer unread resets the connection: its
 * business, not an error of ours. */
static void count_failure(struct shard_result *r, int err)
{
	if (err == ECONNRESET || err == EPIPE)
		r->resets++;
	else
		r->errors++;
}

/* Serve a connection until a read or a write would block (edge-triggered). */
static void conn_serve(struct conn **list, struct conn *c, struct shard_result *r)
{
	for (;;) {
		while (c->out_off < c->out_len) {
			ssize_t n = mlw_write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

			if (n < 0) {
				if (errno == EAGAIN)
					return;	/* EPOLLOUT brings us back */
				count_failure(r, errno);
				conn_close(list, c, r);
				return;
			}
			c->out_off += (size_t)n;
		}
		c->out_off = c->out_len = 0;
		if (c->closing && !c->fin_sent) {
			mlw_shutdown(c->fd, SHUT_WR);
			c->fin_sent = 1;
			c->in_len = 0;
		}
		if (!c->closing) {
			size_t before = c->out_len;

			parse_requests(c, r);
			if (c->out_len != before || c->closing)
				continue;	/* send the answers before reading more */
		}
		/* After FIN, input is read only to be dropped. */
		char *dst = c->fin_sent ? c->in : c->in + c->in_len;
		size_t room = c->fin_sent ? IN_SIZE : IN_SIZE - c->in_len;
		ssize_t n = mlw_read(c->fd, dst, room);

		if (n > 0) {
			if (!c->fin_sent)
				c->in_len += (size_t)n;
		} else if (n == 0) {
			/* The peer is done; an unfinished request is dropped. */
			conn_close(list, c, r);
			return;
		} else if (errno == EAGAIN) {
			return;
		} else {
			count_failure(r, errno);
			conn_close(list, c, r);
			return;
		}
	}
}

static void accept_all(int lfd, int ep, struct conn **list, struct shard_result *r)
{
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
		/* Responses are small and complete: send them at once. */
		mlw_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = c;
		if (mlw_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			mlw_close(fd);
			mlw_alloc_free(c);
			r->errors++;
			continue;
		}
		c->next = *list;
		if (*list != NULL)
			(*list)->prev = c;
		*list = c;
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
	    mlw_bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || mlw_listen(fd, 255) != 0) {
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
	struct epoll_event evs[MAX_EVENTS];
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	struct conn *list = NULL;
	int lfd, ep;

	lfd = listen_on(srv->port);
	ep = mlw_epoll_create1(0);
	if (lfd < 0 || ep < 0 || mlw_epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) != 0) {
		int e = errno;

		r->listen_error = e;
		fprintf(stderr, "shard %u: cannot listen on port %u: %s\n", shard, srv->port,
			strerror(e));
		mlw_socket_close_all();
		return -e;
	}
	printf("shard %u: http listening on port %u\n", shard, srv->port);
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
				accept_all(lfd, ep, &list, r);
			else
				conn_serve(&list, evs[i].data.ptr, r);
		}
	}
	/* Connections still open are reset; their memory is ours to free. */
	while (list != NULL)
		conn_close(&list, list, r);
	mlw_socket_close_all();
	return 0;
}

int main(int argc, char **argv)
{
	static struct server srv = { .port = 8080 };
	char msg[512];
	unsigned duration = 0;
	int rc, leaked;

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
	build_responses();
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
	printf("mlw_http_server: %u shards, port %u\n", mlw_stack_nshards(g_stack), srv.port);
	fflush(stdout);
	rc = mlw_stack_run(g_stack, shard_main, NULL, &srv);
	mlw_stack_print_stats(g_stack, stdout);
	for (unsigned i = 0; i < mlw_stack_nshards(g_stack); i++) {
		struct shard_result *r = &srv.res[i];

		printf("shard %u: http accepted %llu closed %llu requests %llu bad %llu errors %llu resets %llu\n",
		       i, (unsigned long long)r->accepted, (unsigned long long)r->closed,
		       (unsigned long long)r->requests, (unsigned long long)r->bad_requests,
		       (unsigned long long)r->errors, (unsigned long long)r->resets);
	}
	leaked = mlw_stack_check_heaps(g_stack, stdout) != 0;
	mlw_stack_destroy(g_stack);
	printf("mlwip: stopped (%s)\n", rc == 0 && !leaked ? "clean" : "with errors");
	return rc != 0 || leaked;
}
