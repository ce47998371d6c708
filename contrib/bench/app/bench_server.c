/* bench_server.c - mlw_bench's server: listens on every port, echoes ('E') or counts ('S') what each connection sends.
 *
 *   server_run: listen_all(); loop: epoll_wait -> accept_all() | serve()
 *
 * Connections are edge-triggered, registered once for EPOLLIN | EPOLLOUT
 * and served until a call says EAGAIN. Their state comes from a pool that
 * grows in blocks (the bench's own memory, counted apart from the stack's).
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_work.h"

static struct conn *conn_get(struct worker *w)
{
	struct conn *c;

	if (w->free_conns == NULL) {
		struct conn *blk;

		if (w->nchunks == w->chunks_cap) {
			unsigned ncap = w->chunks_cap ? 2 * w->chunks_cap : 16;
			struct conn **nc = w->ops->calloc(ncap, sizeof(*nc));

			if (nc == NULL)
				return NULL;
			if (w->nchunks > 0)
				memcpy(nc, w->chunks, w->nchunks * sizeof(*nc));
			w->ops->free(w->chunks);
			w->chunks = nc;
			w->app_bytes += (uint64_t)(ncap - w->chunks_cap) * sizeof(*nc);
			w->chunks_cap = ncap;
		}
		blk = w->ops->calloc(POOL_CHUNK, sizeof(*blk));
		if (blk == NULL)
			return NULL;
		w->chunks[w->nchunks++] = blk;
		w->app_bytes += POOL_CHUNK * sizeof(*blk);
		for (unsigned i = POOL_CHUNK; i-- > 0;) {
			blk[i].kind = KIND_CONN;
			blk[i].fd = -1;
			blk[i].next = w->free_conns;
			w->free_conns = &blk[i];
		}
	}
	c = w->free_conns;
	w->free_conns = c->next;
	memset(c, 0, sizeof(*c));
	c->kind = KIND_CONN;
	c->fd = -1;
	return c;
}

static void server_close(struct worker *w, struct conn *c)
{
	w->ops->close(c->fd);	/* leaves the epoll set too */
	c->fd = -1;
	w->r->established_now--;
	w->ops->free(c->pend);
	c->pend = NULL;
	c->next = w->free_conns;
	w->free_conns = c;
}

/* A write failed: the peer went away (counted apart) or something broke. */
static void server_write_failed(struct worker *w, struct conn *c, int err)
{
	if (err == EPIPE || err == ECONNRESET)
		w->r->resets++;
	else {
		worker_report(w, "write", err);
		w->r->errors++;
	}
	server_close(w, c);
}

/* Keep bytes the socket did not take; they go before anything else, and
 * nothing more is read meanwhile (a slow reader slows its writer). Only
 * when the send buffer is full, never in a plain request/response. */
static int server_keep(struct worker *w, struct conn *c, const uint8_t *p, size_t len)
{
	c->pend = w->ops->calloc(1, len);
	if (c->pend == NULL) {
		worker_report(w, "out of memory for unsent bytes", 0);
		w->r->errors++;
		server_close(w, c);
		return -1;
	}
	memcpy(c->pend, p, len);
	c->pend_off = 0;
	c->pend_len = (uint32_t)len;
	return 0;
}

/* Serve one connection until a call would block (edge-triggered). */
static void serve(struct worker *w, struct conn *c)
{
	struct bench_result *r = w->r;

	for (;;) {
		if (c->pend != NULL) {
			ssize_t n = w->ops->write(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off);

			if (n < 0) {
				if (errno != EAGAIN)
					server_write_failed(w, c, errno);
				return;	/* EAGAIN: EPOLLOUT brings us back */
			}
			if (c->mode == BENCH_TAG_ECHO)
				r->bytes_out += (uint64_t)n;
			c->pend_off += (uint32_t)n;
			if (c->pend_off < c->pend_len)
				continue;
			w->ops->free(c->pend);
			c->pend = NULL;
		}
		if (c->eof) {
			if (c->mode == BENCH_TAG_SINK && !c->replied) {
				uint64_t be = htobe64(c->count);
				ssize_t n;

				memcpy(c->rep, &be, sizeof(be));
				c->replied = true;
				n = w->ops->write(c->fd, c->rep, sizeof(c->rep));
				if (n < 0 && errno != EAGAIN) {
					server_write_failed(w, c, errno);
					return;
				}
				if (n < (ssize_t)sizeof(c->rep) &&
				    server_keep(w, c, c->rep + (n > 0 ? n : 0),
						sizeof(c->rep) - (size_t)(n > 0 ? n : 0)) != 0)
					return;
				continue;
			}
			server_close(w, c);	/* FIN after what we sent */
			return;
		}
		ssize_t n = w->ops->read(c->fd, w->buf, BENCH_IO_CHUNK);

		if (n == 0) {
			c->eof = true;
			continue;
		}
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			if (errno == ECONNRESET)
				r->resets++;
			else {
				worker_report(w, "read", errno);
				r->errors++;
			}
			server_close(w, c);
			return;
		}
		r->bytes += (uint64_t)n;
		const uint8_t *p = w->buf;
		size_t len = (size_t)n;

		if (c->mode == 0) {
			if (p[0] != BENCH_TAG_ECHO && p[0] != BENCH_TAG_SINK) {
				worker_report(w, "a connection began with an unknown tag", 0);
				r->errors++;
				server_close(w, c);
				return;
			}
			c->mode = p[0];
			p++;
			len--;
		}
		if (c->mode == BENCH_TAG_SINK) {
			c->count += len;
			continue;
		}
		if (len == 0)
			continue;
		ssize_t m = w->ops->write(c->fd, p, len);

		if (m < 0) {
			if (errno != EAGAIN) {
				server_write_failed(w, c, errno);
				return;
			}
			m = 0;
		}
		r->bytes_out += (uint64_t)m;
		if ((size_t)m < len && server_keep(w, c, p + m, len - (size_t)m) != 0)
			return;
	}
}

static void accept_all(struct worker *w, struct listener *l)
{
	struct bench_result *r = w->r;

	for (;;) {
		struct epoll_event ev;
		struct conn *c;
		int fd = w->ops->accept4(l->fd, NULL, NULL, SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (errno == ECONNABORTED)
				continue;
			worker_report(w, errno == EMFILE ? "accept: descriptor table full (linux: RLIMIT_NOFILE; "
				  "mlwip: MLW_FD_MAX_PER_SHARD descriptors per shard)" : "accept", errno);
			r->errors++;
			return;
		}
		c = conn_get(w);
		if (c == NULL) {
			worker_report(w, "out of memory for a connection", 0);
			r->errors++;
			w->ops->close(fd);
			continue;
		}
		/* The server does not know the workload: no Nagle for anyone
		 * (the stream workload only gets an 8-byte count back). */
		worker_nodelay(w, fd);
		c->fd = fd;
		c->st = S_OPEN;
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = c;
		if (w->ops->epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			worker_report(w, "epoll_ctl", errno);
			r->errors++;
			w->ops->close(fd);
			c->fd = -1;
			c->next = w->free_conns;
			w->free_conns = c;
			continue;
		}
		r->accepted++;
		worker_established_inc(w);
	}
}

static int listen_all(struct worker *w)
{
	const struct bench_opts *o = w->o;
	int one = 1;

	for (unsigned i = 0; i < o->nports; i++) {
		struct listener *l = &w->lis[i];
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = o->bind,
					 .sin_port = htons((uint16_t)(o->port + i)) };
		struct epoll_event ev = { .events = EPOLLIN };
		int fd = w->ops->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (fd < 0) {
			worker_report(w, "socket", errno);
			return -1;
		}
		l->kind = KIND_LISTENER;
		l->fd = fd;
		l->port = (uint16_t)(o->port + i);
		w->nlis++;
		/* Every worker listens on every port: Linux spreads connections
		 * over the SO_REUSEPORT group, mlwip's steering over the shards
		 * (where the option is accepted and means nothing). */
		if (w->ops->setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
		    w->ops->setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
			worker_report(w, "setsockopt(SO_REUSEADDR/SO_REUSEPORT)", errno);
			return -1;
		}
		if (w->ops->bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			char addr[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &o->bind, addr, sizeof(addr));
			fprintf(stderr, "mlw_bench: cannot bind %s:%u: %s\n", addr, l->port, strerror(errno));
			return -1;
		}
		if (w->ops->listen(fd, 4096) != 0) {
			worker_report(w, "listen", errno);
			return -1;
		}
		ev.data.ptr = l;
		if (w->ops->epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			worker_report(w, "epoll_ctl", errno);
			return -1;
		}
	}
	return 0;
}

int server_run(struct worker *w)
{
	struct epoll_event evs[MAX_EVENTS];
	int rc = 0;

	w->buf = w->ops->calloc(1, BENCH_IO_CHUNK);
	w->ep = w->ops->epoll_create1(0);
	if (w->buf == NULL || w->ep < 0) {
		worker_report(w, "no memory or no epoll instance", errno);
		rc = -1;
		goto out;
	}
	if (listen_all(w) != 0) {
		rc = -1;
		goto out;
	}
	worker_heap_sample(w, &w->r->heap_base);
	w->r->heap_peak = w->r->heap_base;
	bench_rss_base(w->b);
	atomic_fetch_add(&w->b->ready, 1);
	while (!worker_stopping(w)) {
		int n = w->ops->epoll_wait(w->ep, evs, MAX_EVENTS, 100);

		if (n < 0) {
			if (errno == EINTR)
				continue;	/* a signal, or mlwip stopping: see the loop test */
			worker_report(w, "epoll_wait", errno);
			w->r->errors++;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint8_t *kind = evs[i].data.ptr;

			if (*kind == KIND_LISTENER)
				accept_all(w, evs[i].data.ptr);
			else
				serve(w, evs[i].data.ptr);
		}
		w->now = bench_now_ns();
		worker_publish(w);
	}
	worker_heap_sample(w, &w->r->heap_end);
out:
	/* Newest first: mlwip's epoll interest list is singly linked with
	 * the newest entry at its head, so this order makes each close O(1). */
	for (unsigned k = w->nchunks; k-- > 0;)
		for (unsigned i = POOL_CHUNK; i-- > 0;)
			if (w->chunks[k][i].fd >= 0)
				server_close(w, &w->chunks[k][i]);
	for (unsigned i = w->nlis; i-- > 0;)
		w->ops->close(w->lis[i].fd);
	if (w->ep >= 0)
		w->ops->close(w->ep);
	for (unsigned k = 0; k < w->nchunks; k++)
		w->ops->free(w->chunks[k]);
	w->ops->free(w->chunks);
	w->ops->free(w->buf);
	return rc;
}
