/* mlw_http_server.c - an HTTP/1.1 server with one fixed response, on every shard, written only with mlwip's socket and epoll calls.
 *
 *   mlw_http_server CONFIG.ini [--port 8080] [--duration SECONDS]
 *                   [--header-timeout SECONDS] [--keepalive-timeout SECONDS]
 *                   [--max-conns N]
 *
 * Every request gets "200 OK" with a short text body (HEAD: headers only).
 * Connections are kept alive by default in HTTP/1.1; "Connection: close"
 * is honoured (the response, then FIN). HTTP/1.0 keeps the connection only
 * with "Connection: keep-alive". Pipelined requests are answered in order.
 *
 * Requests are parsed strictly (RFC 9112), and anything else gets an error
 * response and the connection is closed: "400 Bad Request" for a byte
 * outside the grammar (the method: upper-case letters; the target: visible
 * ASCII, 0x21-0x7e, so no NUL, 0xff or control byte; header names: RFC
 * 9110 tokens; header values: no control byte but tab, no DEL, no 0xff),
 * a bare CR or LF, an HTTP/1.1 request without exactly one Host header, a
 * second Content-Length, Transfer-Encoding (no chunked bodies here);
 * "414 URI Too Long" for a request line over 8 KiB, "431 Request Header
 * Fields Too Large" for a head (request line and headers) over 8 KiB.
 *
 * Timeouts, as nginx's: a request head must arrive whole within
 * --header-timeout seconds of its first byte (of the connection, for the
 * first request; default 60, nginx's client_header_timeout), a body must
 * keep coming (no gap over the same value, as nginx's
 * client_body_timeout), and a connection idle between requests, or
 * lingering after our FIN for the client's, is closed after
 * --keepalive-timeout seconds (default 75, nginx's keepalive_timeout).
 * Fractions of a second are accepted (the tests use them). A client that
 * trickles a head a byte at a time (slowloris) is closed at the header
 * timeout however often it sends.
 *
 * Memory: a connection costs its struct conn (16.5 KiB of the shard heap:
 * an 8 KiB input and an 8 KiB output buffer) plus its socket and what TCP
 * holds for it; each shard keeps at most --max-conns connections (default
 * 10000, so at most ~165 MiB of connection structs per shard); a
 * connection accepted beyond it is closed at once (counted as "refused").
 * The header timeout bounds how long a slow client holds its share.
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
#include <time.h>
#include <unistd.h>

#include "mlwip/alloc.h"
#include "mlwip/config.h"
#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"

#define IN_SIZE 8192		/* the largest request head (and line) we accept */
#define OUT_SIZE 8192		/* responses queued while the send buffer is full */
#define MAX_EVENTS 64
#define BODY "Hello from mlwip.\n"

/* What one shard counted; each shard writes only its own entry. */
struct shard_result {
	uint64_t accepted, closed, requests, bad_requests, errors;
	uint64_t resets;	/* connections the peer reset (not our error) */
	uint64_t timeouts;	/* connections closed by a header or keep-alive timeout */
	uint64_t refused;	/* connections closed at once: --max-conns open */
	int listen_error;
};

/* Shared by main() and every shard (the run argument); read-only once
 * the shards run, but for each shard's own res entry. */
struct server {
	uint16_t port;
	int64_t header_timeout_ms, keepalive_timeout_ms;
	uint64_t max_conns;
	struct shard_result res[MLW_MAX_SHARDS];
};

/* What a connection waits for, which decides its timeout. */
enum wait { W_HEAD, W_BODY, W_IDLE, W_LINGER };

/* One connection; allocated on the shard heap and linked into the shard's
 * list, so that those still open at stop can be freed. */
struct conn {
	struct conn *prev, *next;
	int fd;
	int closing;		/* no more requests: send what is queued, then FIN */
	int fin_sent;		/* shutdown(SHUT_WR) done; dropping input until EOF */
	int wait;		/* enum wait: what the connection waits for since wait_start */
	int64_t wait_start;	/* ms (CLOCK_MONOTONIC) */
	uint64_t served;	/* requests answered, to see a new one begin */
	size_t in_len;		/* in[0..in_len) received, not yet parsed */
	size_t body_left;	/* request body bytes still to skip */
	size_t out_off, out_len; /* out[out_off..out_len) still to send */
	char in[IN_SIZE];
	char out[OUT_SIZE];
};

/* One shard's event loop: its counters, its connections, the settings. */
struct shard {
	const struct server *srv;
	struct shard_result *r;
	struct conn *list;	/* every open connection */
	uint64_t nconns;
	int64_t now_ms;		/* read once per loop pass */
	int64_t next_sweep_ms;
};

/* The responses, built once by main(); read-only afterwards. */
enum { R_KEEP, R_KEEP_10, R_CLOSE, R_BAD, R_URI_LONG, R_HEAD_LARGE, R_COUNT };
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
	static const char *const status[R_COUNT] = { "200 OK", "200 OK", "200 OK", "400 Bad Request",
						     "414 URI Too Long",
						     "431 Request Header Fields Too Large" };
	static const char *const conn[R_COUNT] = { "", "Connection: keep-alive\r\n",
						   "Connection: close\r\n", "Connection: close\r\n",
						   "Connection: close\r\n", "Connection: close\r\n" };
	static const char *const bodies[R_COUNT] = { BODY, BODY, BODY, "bad request\n",
						     "request line too long\n",
						     "request head too large\n" };

	for (int head = 0; head < 2; head++) {
		for (int k = 0; k < R_COUNT; k++) {
			const char *body = bodies[k];
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

/* RFC 9110 5.6.2 tchar: the bytes of a header name. */
static int is_tchar(unsigned char ch)
{
	return isalnum(ch) || (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* A byte allowed in a header value: visible ASCII, space, tab, and
 * obs-text (0x80-0xfe) as RFC 9110 5.5 allows, but not 0xff (never in
 * UTF-8 nor in any charset a header uses). No other control byte: NUL, a
 * bare CR or LF, DEL. */
static int is_value_byte(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f && ch != 0xff);
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
	int conn_close = 0, conn_keep = 0, have_len = 0, hosts = 0;

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
	/* The target: visible ASCII only (RFC 9112 3.2, RFC 3986). */
	for (q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q < 0x21 || (unsigned char)*q > 0x7e)
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
		if (colon == NULL || colon == name)
			return -1;
		/* No space before the colon (RFC 9112 5.1), no folding. */
		for (q = name; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				return -1;
		for (q = colon + 1; q < eol; q++)
			if (!is_value_byte((unsigned char)*q))
				return -1;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		size_t nl = (size_t)(colon - name);

		if (nl == 4 && strncasecmp(name, "Host", 4) == 0) {
			hosts++;
		} else if (nl == 10 && strncasecmp(name, "Connection", 10) == 0) {
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
	/* HTTP/1.1 needs exactly one Host (RFC 9112 3.2); 1.0 may have none. */
	if (hosts > 1 || (!rq->http10 && hosts == 0))
		return -1;
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
				/* A head larger than we accept: a request
				 * line that alone fills the buffer, or the
				 * headers. */
				int line = memchr(c->in + off, '\n', IN_SIZE) == NULL;

				r->bad_requests++;
				queue_response(c, 0, line ? R_URI_LONG : R_HEAD_LARGE);
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
		c->served++;
		queue_response(c, rq.head, !rq.keep_alive ? R_CLOSE : rq.http10 ? R_KEEP_10 : R_KEEP);
		c->closing = !rq.keep_alive;
		off = (size_t)(hend + 4 - c->in);
		c->body_left = rq.body_len;
	}
	/* Keep the unparsed tail at the start of the buffer. */
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void conn_close(struct shard *sh, struct conn *c)
{
	mlw_close(c->fd);	/* leaves the epoll set too */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		sh->list = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	mlw_alloc_free(c);
	sh->nconns--;
	sh->r->closed++;
}

/*
 * After the connection was served: what it waits for now, and since when.
 * A head's clock starts with its first byte and does not restart while
 * more bytes trickle in; a body's restarts with every read (a gap, not the
 * whole body, is limited); idle and lingering start when they begin.
 */
static void conn_wait_update(struct shard *sh, struct conn *c, uint64_t served_before)
{
	/* Before its first request a connection waits for a head, as nginx
	 * applies client_header_timeout there, not keepalive_timeout. */
	int w = c->fin_sent ? W_LINGER : c->body_left > 0 ? W_BODY :
		c->in_len > 0 || c->served == 0 ? W_HEAD : W_IDLE;

	if (w != c->wait || w == W_BODY || c->served != served_before) {
		c->wait = w;
		c->wait_start = sh->now_ms;
	}
}

/* Close every connection past its timeout. Connections are few enough to
 * walk (at most --max-conns) and this runs a few times a second. */
static void sweep_timeouts(struct shard *sh)
{
	const struct server *srv = sh->srv;
	struct conn *c, *next;

	for (c = sh->list; c != NULL; c = next) {
		int64_t limit = c->wait == W_HEAD || c->wait == W_BODY ? srv->header_timeout_ms :
									srv->keepalive_timeout_ms;

		next = c->next;
		if (sh->now_ms - c->wait_start >= limit) {
			sh->r->timeouts++;
			conn_close(sh, c);
		}
	}
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
static void conn_serve(struct shard *sh, struct conn *c)
{
	struct shard_result *r = sh->r;

	for (;;) {
		while (c->out_off < c->out_len) {
			ssize_t n = mlw_write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

			if (n < 0) {
				if (errno == EAGAIN)
					return;	/* EPOLLOUT brings us back */
				count_failure(r, errno);
				conn_close(sh, c);
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
			conn_close(sh, c);
			return;
		} else if (errno == EAGAIN) {
			return;
		} else {
			count_failure(r, errno);
			conn_close(sh, c);
			return;
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
		if (sh->nconns >= sh->srv->max_conns) {
			/* At the cap: the client learns at once (FIN) rather
			 * than waiting in the accept queue. */
			mlw_close(fd);
			r->refused++;
			continue;
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
		c->wait = W_HEAD;	/* the first request: the header timeout */
		c->wait_start = sh->now_ms;
		c->next = sh->list;
		if (sh->list != NULL)
			sh->list->prev = c;
		sh->list = c;
		sh->nconns++;
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
	struct shard sh = { .srv = srv, .r = r };
	int64_t sweep_every = srv->header_timeout_ms < srv->keepalive_timeout_ms ?
				      srv->header_timeout_ms : srv->keepalive_timeout_ms;
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
	/* Timeouts are looked at four times per the shortest (so one ends
	 * at most a quarter late), between 10 ms and 1 s. */
	sweep_every /= 4;
	sweep_every = sweep_every < 10 ? 10 : sweep_every > 1000 ? 1000 : sweep_every;
	sh.now_ms = now_ms();
	sh.next_sweep_ms = sh.now_ms + sweep_every;
	while (!mlw_shard_stopping()) {
		int n = mlw_epoll_wait(ep, evs, MAX_EVENTS, (int)sweep_every);

		if (n < 0) {
			if (errno != EINTR)
				r->errors++;
			break;
		}
		sh.now_ms = now_ms();
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c == NULL) {
				accept_all(lfd, ep, &sh);
			} else {
				uint64_t served = c->served;
				uint64_t closed = r->closed;

				conn_serve(&sh, c);
				if (r->closed == closed)	/* still open */
					conn_wait_update(&sh, c, served);
			}
		}
		if (sh.now_ms >= sh.next_sweep_ms) {
			sweep_timeouts(&sh);
			sh.next_sweep_ms = sh.now_ms + sweep_every;
		}
	}
	/* Every connection still open is closed and its memory freed (the
	 * stack resets those that do not finish), then the listener and the
	 * epoll instance: the shard leaves nothing for the stack to close. */
	while (sh.list != NULL)
		conn_close(&sh, sh.list);
	mlw_close(ep);
	mlw_close(lfd);
	return 0;
}

int main(int argc, char **argv)
{
	static struct server srv = { .port = 8080, .header_timeout_ms = 60000,
				     .keepalive_timeout_ms = 75000, .max_conns = 10000 };
	char msg[512];
	unsigned duration = 0;
	int rc, leaked;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s CONFIG.ini [--port N] [--duration SECONDS] "
			"[--header-timeout SECONDS] [--keepalive-timeout SECONDS] [--max-conns N]\n",
			argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			srv.port = (uint16_t)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--duration") == 0 && i + 1 < argc) {
			duration = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if ((strcmp(argv[i], "--header-timeout") == 0 ||
			    strcmp(argv[i], "--keepalive-timeout") == 0) && i + 1 < argc) {
			double sec = strtod(argv[i + 1], NULL);

			if (!(sec > 0 && sec <= 86400)) {
				fprintf(stderr, "%s: %s takes seconds in (0, 86400]\n", argv[0], argv[i]);
				return 2;
			}
			*(argv[i][2] == 'h' ? &srv.header_timeout_ms : &srv.keepalive_timeout_ms) =
				(int64_t)(sec * 1000 + 0.5) > 0 ? (int64_t)(sec * 1000 + 0.5) : 1;
			i++;
		} else if (strcmp(argv[i], "--max-conns") == 0 && i + 1 < argc) {
			srv.max_conns = strtoull(argv[++i], NULL, 10);
			if (srv.max_conns == 0) {
				fprintf(stderr, "%s: --max-conns takes a number >= 1\n", argv[0]);
				return 2;
			}
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

		printf("shard %u: http accepted %llu closed %llu requests %llu bad %llu errors %llu resets %llu "
		       "timeouts %llu refused %llu\n",
		       i, (unsigned long long)r->accepted, (unsigned long long)r->closed,
		       (unsigned long long)r->requests, (unsigned long long)r->bad_requests,
		       (unsigned long long)r->errors, (unsigned long long)r->resets,
		       (unsigned long long)r->timeouts, (unsigned long long)r->refused);
	}
	leaked = mlw_stack_check_heaps(g_stack, stdout) != 0;
	mlw_stack_destroy(g_stack);
	printf("mlwip: stopped (%s)\n", rc == 0 && !leaked ? "clean" : "with errors");
	return rc != 0 || leaked;
}
