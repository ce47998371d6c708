/* timing_cases.c - the cases of test_tcp_timing, each written once against struct tm_side: the peer's script (hand-built segments) and when the stack under test sends what.
 *
 * tm_run_cases -> iw_case, init_rto_case, min_rto_case, delack_case,
 * keepalive_case, zwp_case. Connections are opened by the peer with
 * peer_open() (a SYN with MSS 1460, window 65535 and no other option, so
 * neither stack scales windows or uses timestamps or SACK) and ended by a RST
 * from the peer. Times are test_now_us(); a segment's time is when it was
 * read off the wire (mlwip: right after the pass that sent it; Linux: the
 * kernel's receive timestamp on the peer's end of the veth pair).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "test_stack.h"
#include "timing.h"

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

#define MS 1000	/* microseconds */

const uint8_t tm_peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x63 };

/* The run in progress (one per process). */
static struct {
	const struct tm_side *sd;
	struct test_wire_log *log;
	uint8_t mac[6];
	struct tm_result *res;
} cx;

/* A connection between the stack's port lport (0: any) and the peer's pport. */
struct conn {
	uint16_t lport, pport;
	uint32_t iss;	/* the stack's initial sequence number */
	uint32_t snd;	/* the peer's next sequence number */
	int fd;		/* the stack's socket, -1: none */
};

/* What a segment of the stack on a connection must be to be waited for. */
struct want {
	uint8_t mask, flags;	/* flags under mask */
	bool data;		/* carries data */
	bool acks;		/* acknowledges at least... */
	uint32_t ack;		/* ...this */
	bool at;		/* carries data at... */
	uint32_t seq;		/* ...this sequence number */
};

/* A setup step failed: every figure after it is void. The first is kept. */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (cx.res->why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(cx.res->why, sizeof(cx.res->why), fmt, ap);
	va_end(ap);
}

static bool failed(void)
{
	return cx.res->why[0] != '\0';
}

static int64_t now(void)
{
	return test_now_us();
}

/* Let the stack run for @p us, whatever it sends. */
static void settle(int64_t us)
{
	int64_t until = now() + us;

	while (now() < until)
		cx.sd->run(until);
}

/* A segment from the peer on @p c at its next sequence number (a SYN
 * carries MSS 1460), @p payload bytes of data. */
static void peer_send(const struct conn *c, uint8_t flags, uint32_t ack, uint16_t wnd,
		      unsigned payload)
{
	static const uint8_t mss1460[4] = { 0x02, 0x04, 0x05, 0xb4 };
	uint8_t f[1600];
	unsigned len = test_tcp4_build(f, sizeof(f), cx.mac, tm_peer_mac, TM_PEER_IP, c->pport,
				       TM_STACK_IP, c->lport, flags, c->snd, ack, wnd, mss1460,
				       (flags & SYN) ? 4 : 0, payload);

	cx.sd->input(f, len);
}

static bool is_of(const struct test_seg *s, const struct conn *c)
{
	return (c->lport == 0 || s->sport == c->lport) && s->dport == c->pport;
}

static bool match(const struct test_seg *s, const struct conn *c, const struct want *w)
{
	return is_of(s, c) && (s->flags & w->mask) == w->flags && (!w->data || s->plen > 0) &&
	       (!w->acks || ((s->flags & ACK) && (int32_t)(s->ack - w->ack) >= 0)) &&
	       (!w->at || (s->seq == w->seq && s->plen > 0));
}

static const struct test_seg *find(unsigned from, const struct conn *c, const struct want *w)
{
	for (unsigned i = from; i < cx.log->n; i++)
		if (match(&cx.log->seg[i], c, w))
			return &cx.log->seg[i];
	return NULL;
}

/* Run the stack until it sent what @p w asks for on @p c (logged from
 * @p from on) or @p until; NULL then. */
static const struct test_seg *wait_for(unsigned from, const struct conn *c, const struct want *w,
				       int64_t until)
{
	const struct test_seg *s;

	while ((s = find(from, c, w)) == NULL && now() < until)
		cx.sd->run(until);
	return s;
}

/* The times of what @p w asks for on @p c, logged from @p from on. */
static void collect(struct tm_times *t, unsigned from, const struct conn *c, const struct want *w)
{
	t->n = 0;
	for (unsigned i = from; i < cx.log->n && t->n < TM_MAXT; i++)
		if (match(&cx.log->seg[i], c, w))
			t->t[t->n++] = cx.log->seg[i].t_us;
}

/* collect() while the stack runs, until @p n times or @p until. */
static void gather(struct tm_times *t, unsigned n, unsigned from, const struct conn *c,
		   const struct want *w, int64_t until)
{
	collect(t, from, c, w);
	while (t->n < n && now() < until) {
		cx.sd->run(until);
		collect(t, from, c, w);
	}
}

static int set_int(int fd, int level, int name, int v)
{
	return cx.sd->sock->setsockopt(fd, level, name, &v, sizeof(v));
}

static int listen_on(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = cx.sd->sock->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || cx.sd->sock->bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    cx.sd->sock->listen(fd, 8) != 0) {
		fail("listen on %u: %s", port, strerror(errno));
		if (fd >= 0)
			cx.sd->sock->close(fd);
		return -1;
	}
	return fd;
}

/* The peer opens @p c (SYN, the stack's SYN-ACK, ACK) and, with a listening
 * socket @p lfd, the stack accepts it into c->fd. */
static bool peer_open(struct conn *c, int lfd)
{
	unsigned from = cx.log->n;
	const struct test_seg *sa;
	int64_t until;

	c->fd = -1;
	c->snd = 1000;
	peer_send(c, SYN, 0, 0xffff, 0);
	sa = wait_for(from, c, &(struct want){ .mask = SYN | ACK, .flags = SYN | ACK }, now() + 500 * MS);
	if (sa == NULL) {
		fail("no SYN-ACK on port %u", c->lport);
		return false;
	}
	c->iss = sa->seq;
	c->snd = 1001;
	peer_send(c, ACK, c->iss + 1, 0xffff, 0);
	if (lfd < 0)
		return true;
	until = now() + 500 * MS;
	while ((c->fd = cx.sd->sock->accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0 && errno == EAGAIN &&
	       now() < until)
		cx.sd->run(now() + MS);
	if (c->fd < 0)
		fail("accept on port %u: %s", c->lport, strerror(errno));
	return c->fd >= 0;
}

/* The peer resets @p c (its RST at exactly the stack's rcv_nxt, which
 * both take), and the stack's socket is closed. */
static void peer_reset(struct conn *c)
{
	peer_send(c, RST, 0, 0, 0);
	if (c->fd >= 0)
		cx.sd->sock->close(c->fd);
	c->fd = -1;
	settle(10 * MS);
}

/* Write @p len bytes on @p c; the stack sends them, the peer acknowledges
 * them at once: RTT samples of a fast path. Returns the data segment. */
static const struct test_seg *send_acked(struct conn *c, unsigned len, uint16_t wnd)
{
	static const char buf[100];
	unsigned from = cx.log->n;
	const struct test_seg *s;

	if (cx.sd->sock->write(c->fd, buf, len) != (ssize_t)len) {
		fail("write on port %u: %s", c->lport, strerror(errno));
		return NULL;
	}
	s = wait_for(from, c, &(struct want){ .data = true }, now() + 300 * MS);
	if (s == NULL) {
		fail("no data on port %u", c->lport);
		return NULL;
	}
	peer_send(c, ACK, s->seq + s->plen, wnd, 0);
	return s;
}

static bool warm_up(struct conn *c)
{
	for (unsigned i = 0; i < 5; i++) {
		if (send_acked(c, 100, 0xffff) == NULL)
			return false;
		settle(2 * MS);
	}
	return true;
}

/* Initial window: 64 KiB written on a fresh connection whose peer never
 * acknowledges. The first flight is the new data sent back to back (each
 * segment within 1 ms of the one before), up to the first gap or
 * retransmission: what comes later (a retransmission timeout, a tail loss
 * probe) is not part of it. */
static void iw_case(void)
{
	static char buf[65536];
	struct conn c = { .lport = 7001, .pport = 5001, .fd = -1 };
	int lfd = listen_on(c.lport);
	int64_t last = 0;
	unsigned from;
	uint32_t next;

	if (lfd < 0 || !peer_open(&c, lfd))
		goto out;
	set_int(c.fd, SOL_SOCKET, SO_SNDBUF, 262144);
	from = cx.log->n;
	if (cx.sd->sock->write(c.fd, buf, sizeof(buf)) < 14600)
		fail("write of 64 KiB: %s", strerror(errno));
	settle(150 * MS);
	next = c.iss + 1;
	for (unsigned i = from; i < cx.log->n; i++) {
		const struct test_seg *s = &cx.log->seg[i];

		if (!is_of(s, &c) || s->plen == 0)
			continue;
		if (s->seq != next || (last != 0 && s->t_us - last > MS))
			break;
		cx.res->iw_frames++;
		cx.res->iw_bytes += s->plen;
		next += s->plen;
		last = s->t_us;
	}
	peer_reset(&c);
out:
	if (lfd >= 0)
		cx.sd->sock->close(lfd);
}

/* Initial RTO: a passive open whose peer never acknowledges the SYN-ACK and
 * an active open to a peer that never answers, at the same time; each
 * transmission's time, until three of each or 3.3 s (1 s + 2 s, with room). */
static void init_rto_case(void)
{
	struct conn p = { .lport = 7002, .pport = 5002, .fd = -1 }, syn = { .pport = 6002 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(6002) };
	struct tm_result *r = cx.res;
	int lfd = listen_on(p.lport), cfd;
	unsigned from = cx.log->n;
	int64_t until;

	if (lfd < 0)
		return;
	inet_pton(AF_INET, TM_PEER_IP, &a.sin_addr);
	p.snd = 1000;
	peer_send(&p, SYN, 0, 0xffff, 0);
	cfd = cx.sd->sock->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (cfd < 0 || (cx.sd->sock->connect(cfd, (struct sockaddr *)&a, sizeof(a)) != 0 &&
			errno != EINPROGRESS))
		fail("connect: %s", strerror(errno));
	until = now() + 3300 * MS;
	while (!failed() && (r->synack.n < 3 || r->syn.n < 3) && now() < until) {
		cx.sd->run(until);
		collect(&r->synack, from, &p, &(struct want){ .mask = SYN | ACK, .flags = SYN | ACK });
		collect(&r->syn, from, &syn, &(struct want){ .mask = SYN | ACK, .flags = SYN });
	}
	p.snd = 1001;
	peer_reset(&p);
	if (cfd >= 0)
		cx.sd->sock->close(cfd);
	cx.sd->sock->close(lfd);
	settle(10 * MS);
}

/* Minimum RTO: after five writes the peer acknowledged at once, 100 bytes
 * it never acknowledges; their transmissions until three or 1.6 s. */
static void min_rto_case(void)
{
	struct conn c = { .lport = 7003, .pport = 5003, .fd = -1 };
	int lfd = listen_on(c.lport);
	static const char buf[100];
	const struct test_seg *s;
	unsigned from;

	if (lfd < 0 || !peer_open(&c, lfd) || !warm_up(&c))
		goto out;
	from = cx.log->n;
	if (cx.sd->sock->write(c.fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		fail("write: %s", strerror(errno));
	s = wait_for(from, &c, &(struct want){ .data = true }, now() + 300 * MS);
	if (s == NULL) {
		fail("no data on port %u", c.lport);
		goto out;
	}
	gather(&cx.res->rto, 3, from, &c, &(struct want){ .at = true, .seq = s->seq },
	       s->t_us + 1600 * MS);
out:
	if (c.fd >= 0)
		peer_reset(&c);
	if (lfd >= 0)
		cx.sd->sock->close(lfd);
}

/* Delayed ACK: data segments of 100 bytes, each sent alone once the one
 * before was acknowledged and 45 ms more have passed (not a multiple of
 * any tick, and more than Linux's 40 ms minimum delayed-ACK time, which
 * its estimate of the inter-arrival time then keeps); the time to each ACK. */
static void delack_case(void)
{
	struct conn c = { .lport = 7004, .pport = 5004, .fd = -1 };
	int h = cx.sd->quiet_listen(c.lport);
	unsigned rounds = cx.sd->delack_rounds;

	if (h < 0) {
		fail("quiet listener on %u", c.lport);
		return;
	}
	if (!peer_open(&c, -1))
		goto out;
	settle(45 * MS);
	for (unsigned i = 0; i < rounds && i < TM_DELACK_MAX; i++) {
		unsigned from = cx.log->n;
		int64_t t = now();
		const struct test_seg *s;

		peer_send(&c, ACK | PSH, c.iss + 1, 0xffff, 100);
		c.snd += 100;
		s = wait_for(from, &c, &(struct want){ .acks = true, .ack = c.snd }, t + 400 * MS);
		cx.res->delack[cx.res->ndelack++] = s != NULL ? s->t_us - t : -1;
		if (s == NULL)
			break;
		settle(s->t_us + 45 * MS - now());
	}
	peer_reset(&c);
out:
	cx.sd->quiet_close(h);
}

/* Keepalive: SO_KEEPALIVE, TCP_KEEPIDLE 1 s, TCP_KEEPINTVL 1 s, TCP_KEEPCNT 2
 * on two connections whose last segments (10 bytes of data from the peer,
 * acknowledged) are 250 ms apart, so that no fixed timer phase can put both
 * probes in time; the peer stays silent. Probes and the end, until both
 * ended or 3.6 s after the second's data. */
static void keepalive_case(void)
{
	struct conn k[2] = { { .lport = 7005, .pport = 5005, .fd = -1 },
			     { .lport = 7005, .pport = 5006, .fd = -1 } };
	struct tm_keep *r = cx.res->keep;
	unsigned from[2];
	int lfd = listen_on(7005);
	int64_t until;
	char buf[16];

	if (lfd < 0)
		return;
	for (unsigned j = 0; j < 2; j++) {
		const struct test_seg *s;
		int64_t t;

		if (j == 1)
			settle(r[0].t0 + 250 * MS - now());
		if (!peer_open(&k[j], lfd))
			goto out;
		if (set_int(k[j].fd, SOL_SOCKET, SO_KEEPALIVE, 1) != 0 ||
		    set_int(k[j].fd, IPPROTO_TCP, TCP_KEEPIDLE, 1) != 0 ||
		    set_int(k[j].fd, IPPROTO_TCP, TCP_KEEPINTVL, 1) != 0 ||
		    set_int(k[j].fd, IPPROTO_TCP, TCP_KEEPCNT, 2) != 0) {
			fail("keepalive options: %s", strerror(errno));
			goto out;
		}
		from[j] = cx.log->n;
		r[j].t0 = now();
		peer_send(&k[j], ACK | PSH, k[j].iss + 1, 0xffff, 10);
		k[j].snd += 10;
		s = wait_for(from[j], &k[j], &(struct want){ .acks = true, .ack = k[j].snd },
			     now() + 200 * MS);
		if (s == NULL) {
			fail("no ACK of the data on port %u", k[j].pport);
			goto out;
		}
		from[j] = (unsigned)(s - cx.log->seg) + 1;
		for (t = now() + 100 * MS; cx.sd->sock->read(k[j].fd, buf, sizeof(buf)) != 10 && now() < t;)
			cx.sd->run(now() + MS);
	}
	until = r[1].t0 + 3600 * MS;
	while ((r[0].err == 0 || r[1].err == 0) && now() < until) {
		cx.sd->run(now() + 2 * MS < until ? now() + 2 * MS : until);
		for (unsigned j = 0; j < 2; j++) {
			const struct test_seg *rst;
			ssize_t n;

			if (r[j].err != 0)
				continue;
			collect(&r[j].probe, from[j], &k[j], &(struct want){ .mask = RST });
			rst = find(from[j], &k[j], &(struct want){ .mask = RST, .flags = RST });
			if (rst != NULL) {
				r[j].rst = true;
				r[j].end = rst->t_us;
			}
			n = cx.sd->sock->read(k[j].fd, buf, sizeof(buf));
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				r[j].err = n == 0 ? -1 : errno;	/* -1: end of file */
				if (!r[j].rst)
					r[j].end = now();
			}
		}
	}
out:
	for (unsigned j = 0; j < 2; j++)
		if (k[j].fd >= 0)
			peer_reset(&k[j]);
	cx.sd->sock->close(lfd);
}

/* Zero-window probes: after five writes the peer acknowledged at once,
 * 100 bytes acknowledged with window 0, then 100 more written; every segment
 * the stack sends after that write, until three or 1.6 s. The peer does not
 * answer them. */
static void zwp_case(void)
{
	static const char buf[100];
	struct conn c = { .lport = 7006, .pport = 5007, .fd = -1 };
	int lfd = listen_on(c.lport);
	unsigned from;

	if (lfd < 0 || !peer_open(&c, lfd) || !warm_up(&c) || send_acked(&c, 100, 0) == NULL)
		goto out;
	from = cx.log->n;
	if (cx.sd->sock->write(c.fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		fail("write into the closed window: %s", strerror(errno));
	cx.res->zwp_t0 = now();
	gather(&cx.res->zwp, 3, from, &c, &(struct want){ 0 }, cx.res->zwp_t0 + 1600 * MS);
out:
	if (c.fd >= 0)
		peer_reset(&c);
	if (lfd >= 0)
		cx.sd->sock->close(lfd);
}

void tm_run_cases(const struct tm_side *sd, struct test_wire_log *log, const uint8_t mac[6],
		  struct tm_result *res)
{
	void (*cases[])(void) = { iw_case, init_rto_case, min_rto_case, delack_case, keepalive_case,
				  zwp_case };

	cx.sd = sd;
	cx.log = log;
	memcpy(cx.mac, mac, 6);
	cx.res = res;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]) && !failed(); i++)
		cases[i]();
	res->ran = true;
}
