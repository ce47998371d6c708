/* bench_client.c - mlw_bench's clients: the rr, crr, stream and conns workloads.
 *
 *   client_run: loop: client_tick() (interval edges, connects, closes,
 *               the conns hold, stall check); epoll_wait -> client_event()
 *               -> connected() | rr_drive() | stream_drive() | fin_drive()
 *               | closing_drive()
 *
 * A worker keeps one slot per connection it runs at once; crr reuses a
 * slot for each new connection. Connections are edge-triggered, registered
 * once for EPOLLIN | EPOLLOUT, and driven until a call says EAGAIN.
 *
 * Data is checked byte for byte: a message is a window of a ramp
 * (ramp[i] = i & 0xff) starting at a seed that changes with every
 * transaction and every connection, so an answer that is stale, shifted,
 * duplicated or another connection's does not compare equal.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_work.h"

static void slot_open(struct worker *w, struct conn *c);

static bool may_issue(const struct worker *w)
{
	return !w->draining && (w->target == 0 || w->issued < w->target);
}

/*
 * Connects in flight at once. Until the first connection is up, only one:
 * it resolves the server's link-layer address, and lwIP keeps only 3
 * packets per unresolved address (ARP_QUEUE_LEN) and drops the rest, whose
 * SYNs would then wait for lwIP's 3 s SYN retransmission. (Linux queues
 * about 100; one connect first costs it nothing.)
 */
static unsigned connects_allowed(const struct worker *w)
{
	return w->r->established == 0 ? 1 : IN_FLIGHT;
}

/* Close a slot's socket (if any) at once and retire the slot. */
static void slot_finish(struct worker *w, struct conn *c)
{
	if (c->fd >= 0) {
		w->ops->close(c->fd);
		c->fd = -1;
		if (c->st == C_CONNECTING)
			w->connecting--;
		else
			w->r->established_now--;
		if (c->st == C_CLOSING)
			w->closing--;
	}
	c->st = C_IDLE;
	w->finished++;
}

static void slot_fail(struct worker *w, struct conn *c, const char *what, int err)
{
	worker_report(w, what, err);
	w->r->errors++;
	slot_finish(w, c);
}

/*
 * The graceful end of a connection whose work is done (rr, conns): queue
 * it to shut down its write side; the server answers the FIN with its
 * own, and the socket is closed once that came (closing_drive). At most
 * IN_FLIGHT at once, so thousands of FINs do not leave in one burst (an
 * mlwip port drops what its TX ring cannot take, and the shards would
 * stop with the handshakes unfinished). crr closes at once instead: its
 * transaction is "connect, request, answer, close".
 */
static void slot_end(struct worker *w, struct conn *c)
{
	if (c->fd < 0 || c->st == C_CONNECTING) {
		slot_finish(w, c);
		return;
	}
	c->st = C_CLOSEQ;
	w->closeq[w->ncloseq++] = c;
}

/* Closing: wait for the server's FIN (read gives 0). */
static void closing_drive(struct worker *w, struct conn *c)
{
	while (c->st == C_CLOSING) {
		ssize_t n = w->ops->read(c->fd, w->buf, BENCH_IO_CHUNK);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n != 0) {
			slot_fail(w, c, n > 0 ? "bytes from the server after the last answer" : "read",
				  n > 0 ? 0 : errno);
			return;
		}
		w->now = bench_now_ns();
		w->last_progress = w->now;
		if (w->o->workload == BENCH_CONNS)
			w->r->t_done_ns = w->now;	/* the last close so far */
		slot_finish(w, c);
	}
}

/* Start the shutdowns of queued slots, IN_FLIGHT at a time. */
static void close_some(struct worker *w)
{
	while (w->ncloseq > 0 && w->closing < IN_FLIGHT) {
		struct conn *c = w->closeq[--w->ncloseq];

		if (c->st != C_CLOSEQ)
			continue;	/* failed meanwhile */
		if (w->ops->shutdown(c->fd, SHUT_WR) != 0) {
			slot_fail(w, c, "shutdown", errno);
			continue;
		}
		c->st = C_CLOSING;
		w->closing++;
		closing_drive(w, c);
	}
}

static void request_start(struct conn *c, uint64_t t0)
{
	c->seed = (c->serial * 37u + c->ntx) & 0xff;
	c->hdr = !c->tag_sent;
	c->sent = 0;
	c->got = 0;
	c->t0 = t0;
	c->st = C_RR;
}

/* Write the rest of the request. 1 all written, 0 would block, -1 failed. */
static int rr_send(struct worker *w, struct conn *c)
{
	static const uint8_t tag = BENCH_TAG_ECHO;
	uint32_t unit = c->hdr + w->o->msg;

	while (c->sent < unit) {
		ssize_t n;

		if (c->sent < c->hdr) {
			/* The connection's first request carries the tag. */
			struct iovec iov[2] = { { (void *)&tag, 1 },
						{ w->ramp + c->seed, w->o->msg } };

			n = w->ops->writev(c->fd, iov, 2);
		} else {
			uint32_t off = c->sent - c->hdr;

			n = w->ops->write(c->fd, w->ramp + c->seed + off, w->o->msg - off);
		}
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			slot_fail(w, c, "write", errno);
			return -1;
		}
		c->sent += (uint32_t)n;
	}
	if (c->hdr)
		c->tag_sent = true;
	return 1;
}

/* Read and check the answer. 1 complete, 0 would block, -1 failed. */
static int rr_recv(struct worker *w, struct conn *c)
{
	uint32_t msg = w->o->msg;

	while (c->got < msg) {
		size_t want = msg - c->got < BENCH_IO_CHUNK ? msg - c->got : BENCH_IO_CHUNK;
		ssize_t n = w->ops->read(c->fd, w->buf, want);

		if (n == 0) {
			slot_fail(w, c, "the server closed the connection before the whole answer", 0);
			return -1;
		}
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			slot_fail(w, c, "read", errno);
			return -1;
		}
		if (memcmp(w->buf, w->ramp + c->seed + c->got, (size_t)n) != 0) {
			slot_fail(w, c, "the answer differs from the request", 0);
			return -1;
		}
		c->got += (uint32_t)n;
	}
	return 1;
}

static void transaction_done(struct worker *w, struct conn *c, uint64_t now)
{
	struct bench_result *r = w->r;

	r->transactions_all++;
	c->ntx++;
	/* Timed runs count what completes inside the interval; runs of a
	 * fixed number count everything. */
	if (w->target > 0 || (now >= w->b->t_measure && now < w->b->t_end)) {
		r->transactions++;
		bench_hist_add(&r->hist, now - c->t0);
	}
	r->t_done_ns = now;
	w->last_progress = now;
	/* Runs of a fixed size: when each tenth of the share was done, for
	 * the rate at the start against the rate at the end. */
	while (w->target > 0 && r->ntenth < 11 &&
	       (r->ntenth == 0 || r->transactions_all * 10 >= w->target * r->ntenth))
		r->tenth_ns[r->ntenth++] = now;
}

/* rr and crr: write the request, read and check the answer, then the
 * next request at once (rr) or close, the client first (crr); until a
 * call would block. */
static void rr_drive(struct worker *w, struct conn *c)
{
	for (;;) {
		int rc = rr_send(w, c);

		if (rc <= 0)
			return;
		rc = rr_recv(w, c);
		if (rc <= 0)
			return;
		uint64_t now = bench_now_ns();

		transaction_done(w, c, now);
		if (w->o->workload == BENCH_CRR) {
			/* An ordinary close: TIME-WAIT stays with the client. */
			w->ops->close(c->fd);
			c->fd = -1;
			c->st = C_IDLE;
			w->r->established_now--;
			w->now = now;
			if (!may_issue(w))
				w->finished++;
			else if (w->connecting < connects_allowed(w) && now >= w->open_after)
				slot_open(w, c);	/* the next transaction, at once */
			else
				w->openq[w->nopenq++] = c;
			return;
		}
		if (!may_issue(w)) {
			slot_end(w, c);
			return;
		}
		w->issued++;
		request_start(c, now);
	}
}

/* stream: write 64 KiB buffers until the socket takes no more. */
static void stream_drive(struct worker *w, struct conn *c)
{
	static const uint8_t tag = BENCH_TAG_SINK;

	while (c->st == C_STREAM) {
		ssize_t n;
		uint64_t data;

		if (!c->tag_sent) {
			struct iovec iov[2] = { { (void *)&tag, 1 }, { w->ramp, BENCH_IO_CHUNK } };

			n = w->ops->writev(c->fd, iov, 2);
		} else {
			n = w->ops->write(c->fd, w->ramp + (c->count & 0xff), BENCH_IO_CHUNK);
		}
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			slot_fail(w, c, "write", errno);
			return;
		}
		data = (uint64_t)n;
		if (!c->tag_sent && n > 0) {
			c->tag_sent = true;
			data--;
		}
		c->count += data;
		w->written += data;
		w->last_progress = w->now;
	}
}

/* stream, after the write side was shut: the server's count, then its FIN. */
static void fin_drive(struct worker *w, struct conn *c)
{
	struct bench_result *r = w->r;

	while (c->st == C_FIN) {
		ssize_t n = w->ops->read(c->fd, c->rep + c->got, sizeof(c->rep) - c->got);

		if (n == 0) {
			char m[128];

			snprintf(m, sizeof(m), "the server closed the connection without its count "
				 "(%u of 8 bytes came; %llu bytes written)", c->got, (unsigned long long)c->count);
			slot_fail(w, c, m, 0);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN)
				slot_fail(w, c, "read", errno);
			return;
		}
		c->got += (uint32_t)n;
		if (c->got < sizeof(c->rep))
			continue;
		uint64_t be, count;

		memcpy(&be, c->rep, sizeof(be));
		count = be64toh(be);
		if (count != c->count) {
			char m[128];

			snprintf(m, sizeof(m), "the server read %llu bytes, the client wrote %llu",
				 (unsigned long long)count, (unsigned long long)c->count);
			slot_fail(w, c, m, 0);
			return;
		}
		r->bytes_acked += count;
		r->bytes += c->count - c->count0;
		c->st = C_EOF;
	}
	while (c->st == C_EOF) {
		uint8_t x;
		ssize_t n = w->ops->read(c->fd, &x, 1);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n != 0) {
			slot_fail(w, c, n > 0 ? "bytes after the server's count" : "read", n > 0 ? 0 : errno);
			return;
		}
		w->now = bench_now_ns();
		r->t_done_ns = w->now;
		w->last_progress = w->now;
		slot_finish(w, c);
	}
}

/* A connect completed (or failed). */
static void connected(struct worker *w, struct conn *c)
{
	struct bench_result *r = w->r;
	int err = 0;
	socklen_t len = sizeof(err);

	if (w->ops->getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		r->connect_failures++;
		slot_fail(w, c, "connect", err);
		return;
	}
	w->connecting--;
	r->established++;
	worker_established_inc(w);
	w->now = bench_now_ns();
	w->last_progress = w->now;
	w->backoff = 0;
	switch (w->o->workload) {
	case BENCH_RR:
		if (!may_issue(w)) {
			slot_end(w, c);
			return;
		}
		w->issued++;
		request_start(c, w->now);
		rr_drive(w, c);
		break;
	case BENCH_CRR:
		request_start(c, c->t0);	/* the transaction began with the connect */
		rr_drive(w, c);
		break;
	case BENCH_STREAM:
		c->st = C_STREAM;
		stream_drive(w, c);
		break;
	case BENCH_CONNS:
		c->st = C_HOLD;
		r->t_established_ns = w->now;
		break;
	}
}

/* Start a connect on slot @p c. */
static void slot_open(struct worker *w, struct conn *c)
{
	const struct bench_opts *o = w->o;
	struct bench_result *r = w->r;
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr = o->server };
	struct epoll_event ev;
	int fd, rc;

	fd = w->ops->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r->connect_failures++;
		slot_fail(w, c, errno == EMFILE ? "socket: descriptor table full" : "socket", errno);
		return;
	}
	if (o->workload == BENCH_RR || o->workload == BENCH_CRR)
		worker_nodelay(w, fd);
	/* Spread over the server's ports: one 4-tuple space each. */
	dst.sin_port = htons((uint16_t)(o->port + w->next_port));
	w->next_port = (w->next_port + 1) % o->nports;
	c->t0 = bench_now_ns();
	rc = w->ops->connect(fd, (struct sockaddr *)&dst, sizeof(dst));
	if (rc != 0 && errno != EINPROGRESS) {
		int e = errno;

		w->ops->close(fd);
		if (e == EADDRNOTAVAIL && o->workload == BENCH_CRR) {
			/* Out of local ports, most likely all in TIME-WAIT
			 * (the crr client closes first). Counted and shown,
			 * and retried after a pause that doubles up to 1 s:
			 * the transaction rate then is what port reuse allows. */
			if (r->port_exhausted++ == 0)
				worker_report(w, "connect: no free local port (TIME-WAIT); retrying, "
				       "see port_exhausted in the result", e);
			w->openq[w->nopenq++] = c;
			w->backoff = w->backoff ? 2 * w->backoff : 1000000;
			if (w->backoff > BACKOFF_MAX_NS)
				w->backoff = BACKOFF_MAX_NS;
			w->open_after = w->now + w->backoff;
			return;
		}
		if (e == EADDRNOTAVAIL)
			r->port_exhausted++;
		r->connect_failures++;
		c->fd = -1;
		slot_fail(w, c, e == EADDRNOTAVAIL ? "connect: no free local port (spread over more "
			  "--nports or, mlwip, a wider [stack] local_ports)" : "connect", e);
		return;
	}
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (w->ops->epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		w->ops->close(fd);
		r->connect_failures++;
		slot_fail(w, c, "epoll_ctl", errno);
		return;
	}
	c->fd = fd;
	c->st = C_CONNECTING;
	c->serial = w->serial++;
	c->ntx = 0;
	c->tag_sent = false;
	c->count = c->count0 = 0;
	c->got = 0;
	w->connecting++;
	if (o->workload == BENCH_CRR)
		w->issued++;
	if (rc == 0)
		connected(w, c);
}

static void client_event(struct worker *w, struct conn *c, uint32_t events)
{
	switch (c->st) {
	case C_CONNECTING:
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			connected(w, c);
		break;
	case C_RR:
		rr_drive(w, c);
		break;
	case C_STREAM:
		stream_drive(w, c);
		break;
	case C_FIN:
	case C_EOF:
		fin_drive(w, c);
		break;
	case C_CLOSING:
		closing_drive(w, c);
		break;
	case C_HOLD:
		/* The server sends nothing on these; anything readable is
		 * its FIN or an error. */
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
			slot_fail(w, c, "the server closed an idle connection", 0);
		break;
	default:
		break;
	}
}

/* The end of a timed run: no new transactions; stream connections shut
 * their write side and wait for the server's count. */
static void start_drain(struct worker *w)
{
	w->draining = true;
	w->last_progress = w->now;
	for (unsigned i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];

		if (c->fd < 0)
			continue;
		if (c->st == C_CONNECTING) {
			slot_finish(w, c);	/* would not complete anything measured */
		} else if (c->st == C_STREAM) {
			if (w->ops->shutdown(c->fd, SHUT_WR) != 0) {
				slot_fail(w, c, "shutdown", errno);
				continue;
			}
			c->st = C_FIN;
			c->got = 0;
			fin_drive(w, c);
		}
	}
}

/* Nothing moved for a long time: the server or the network is gone, and
 * whatever is still open has failed. */
static void stall_check(struct worker *w)
{
	char m[64];

	if ((w->holding && !w->released) || w->now <= w->last_progress ||
	    w->now - w->last_progress <= (uint64_t)BENCH_STALL_S * 1000000000ull)
		return;
	snprintf(m, sizeof(m), "no progress for %d s: giving up", BENCH_STALL_S);
	for (unsigned i = 0; i < w->nconns; i++)
		if (w->conns[i].fd >= 0)
			slot_fail(w, &w->conns[i], m, 0);
}

/* How long the next wait may last: not past a connect that may start. */
static int wait_ms(const struct worker *w)
{
	if (w->ncloseq > 0 && w->closing < IN_FLIGHT)
		return 0;
	if (w->nopenq > 0 && w->connecting < connects_allowed(w))
		return w->open_after > w->now ? (int)((w->open_after - w->now) / 1000000u) + 1 : 0;
	return 10;
}

/* Time-driven work of one pass: interval edges, connects, the conns
 * hold, the stall check. */
static void client_tick(struct worker *w)
{
	const struct bench_opts *o = w->o;
	struct bench *b = w->b;

	if (!w->measuring && w->now >= b->t_measure) {
		w->measuring = true;
		for (unsigned i = 0; i < w->nconns; i++)
			w->conns[i].count0 = w->conns[i].count;
	}
	if (o->workload != BENCH_CONNS && w->target == 0 && !w->draining && w->now >= b->t_end)
		start_drain(w);
	if (o->workload != BENCH_CONNS && !may_issue(w)) {
		w->finished += w->nopenq;	/* never opened, or no transaction left */
		w->nopenq = 0;
	}
	while (w->nopenq > 0 && w->connecting < connects_allowed(w) && w->now >= w->open_after) {
		slot_open(w, w->openq[--w->nopenq]);
		if (w->nopenq == 0 || w->now < w->open_after)
			break;
		w->now = bench_now_ns();
	}
	close_some(w);
	if (o->workload == BENCH_CONNS) {
		if (!w->holding && w->nopenq == 0 && w->connecting == 0) {
			w->holding = true;
			worker_heap_sample(w, &w->r->heap_peak);
			w->hold_until = w->now + bench_s_to_ns(o->hold);
		}
		if (w->holding && !w->released && w->now >= w->hold_until) {
			/* The close queue is a stack: the newest go first. */
			w->released = true;
			w->r->t_release_ns = w->now;
			for (unsigned i = 0; i < w->nconns; i++)
				if (w->conns[i].fd >= 0)
					slot_end(w, &w->conns[i]);
		}
	}
	stall_check(w);
}

int client_run(struct worker *w)
{
	const struct bench_opts *o = w->o;
	struct bench *b = w->b;
	struct epoll_event evs[MAX_EVENTS];
	size_t ramp_len = 256 + (o->msg > BENCH_IO_CHUNK ? o->msg : BENCH_IO_CHUNK);
	uint64_t before = 0;
	int rc = 0;

	/* This worker's share of the connections, and of --transactions in
	 * proportion to them (so a worker without connections gets none). */
	w->nconns = o->conns / b->nworkers + (w->id < o->conns % b->nworkers);
	if (o->transactions > 0) {
		for (unsigned i = 0; i < w->id; i++)
			before += o->conns / b->nworkers + (i < o->conns % b->nworkers);
		w->target = o->transactions * (before + w->nconns) / o->conns -
			    o->transactions * before / o->conns;
		if (w->target == 0)
			w->nconns = 0;
	}
	w->ep = w->ops->epoll_create1(0);
	w->ramp = w->ops->calloc(1, ramp_len);
	w->buf = w->ops->calloc(1, BENCH_IO_CHUNK);
	w->conns = w->ops->calloc(w->nconns ? w->nconns : 1, sizeof(*w->conns));
	w->openq = w->ops->calloc(w->nconns ? w->nconns : 1, sizeof(*w->openq));
	w->closeq = w->ops->calloc(w->nconns ? w->nconns : 1, sizeof(*w->closeq));
	if (w->ep < 0 || w->ramp == NULL || w->buf == NULL || w->conns == NULL || w->openq == NULL ||
	    w->closeq == NULL) {
		worker_report(w, "no memory or no epoll instance", errno);
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < ramp_len; i++)
		w->ramp[i] = (uint8_t)i;
	/* Slot 0 is opened first. */
	for (unsigned i = 0; i < w->nconns; i++) {
		w->conns[i].kind = KIND_CONN;
		w->conns[i].fd = -1;
		w->openq[w->nconns - 1 - i] = &w->conns[i];
	}
	w->nopenq = w->nconns;
	/* The baseline includes this worker's own arrays. */
	worker_heap_sample(w, &w->r->heap_base);
	w->r->heap_peak = w->r->heap_base;
	bench_rss_base(w->b);
	atomic_fetch_add(&b->ready, 1);
	w->now = bench_now_ns();
	w->last_progress = w->now;
	while (w->finished < w->nconns) {
		client_tick(w);
		worker_publish(w);
		if (w->finished == w->nconns)
			break;
		if (worker_stopping(w))
			break;
		int n = w->ops->epoll_wait(w->ep, evs, MAX_EVENTS, wait_ms(w));

		if (n < 0 && errno != EINTR) {
			worker_report(w, "epoll_wait", errno);
			w->r->errors++;
			break;
		}
		w->now = bench_now_ns();
		for (int i = 0; i < n; i++)
			client_event(w, evs[i].data.ptr, evs[i].events);
	}
out:
	/* Newest first (see server_run). */
	for (unsigned i = w->nconns; w->conns != NULL && i-- > 0;)
		if (w->conns[i].fd >= 0)
			slot_finish(w, &w->conns[i]);
	w->now = bench_now_ns();
	w->next_publish = 0;
	worker_publish(w);
	/* The measured work is over: the last worker here takes the CPU
	 * time (runs of a fixed size, conns, or a timed run that ended early). */
	if (atomic_fetch_add(&b->work_done, 1) + 1 == b->nworkers &&
	    !atomic_exchange(&b->ru_end_taken, 1)) {
		getrusage(RUSAGE_SELF, &b->ru_end);
		fprintf(stderr, "progress: measured %s %.3fs\n", o->workload == BENCH_RR ? "rr" :
			o->workload == BENCH_CRR ? "crr" : o->workload == BENCH_STREAM ? "stream" : "conns",
			(double)(w->now - b->t_start) / 1e9);
	}
	if (w->ops->close_linger_ms > 0 && w->ep >= 0 && !worker_stopping(w))
		w->ops->epoll_wait(w->ep, evs, MAX_EVENTS, (int)w->ops->close_linger_ms);
	if (w->ep >= 0)
		w->ops->close(w->ep);
	w->ops->free(w->closeq);
	w->ops->free(w->openq);
	w->ops->free(w->conns);
	w->ops->free(w->buf);
	w->ops->free(w->ramp);
	return rc;
}
