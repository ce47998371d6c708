/* test_tcp_options.c - TCP options on the wire, mlwip against Linux: MSS, window scale, SACK permitted and timestamps in SYN and SYN-ACK, timestamps echoed on data and ACKs, SACK blocks for out-of-order data, TCP_INFO's options, none of it for a peer that offers none.
 *
 * One scripted peer, 10.0.0.99, plays against each stack at 10.0.0.2:
 *   Linux: main -> linux_run(): a private network namespace of this thread
 *     (unshare, as sem_linux.c's), a TAP device mlwtap0 whose frames are
 *     the peer's, Linux's own sockets (sem_linux_ops) -> back to the host
 *     namespace. Needs root; otherwise the Linux checks are skipped.
 *   mlwip: main -> test_stack_run(one shard on net_ring0) -> mlwip_run()
 *     on the shard: the peer's frames go into lwIP's input, what the shard
 *     sends is read off the ring between passes, mlwip's sockets
 *     (sem_mlwip_ops).
 * scenario() is the same for both: an active open (the SYN), three passive
 * opens whose SYNs offer everything, MSS and window scale only, nothing
 * (the SYN-ACKs); on the first connection data both ways, TCP_INFO, then
 * two out-of-order segments and the two that fill the holes; on the second
 * the same without options. Each observation is a named number in a trace;
 * CMocka checks each trace against the expectations below and the two
 * traces against each other. Absolute values that legitimately differ
 * (Linux's window scale 7 against mlwip's 6, TSvals, ISNs) are not
 * recorded; TSecr is recorded as "echoes the peer's TSval it should".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
/* <netinet/tcp.h> defines TCP_MSS (536) as lwipopts.h does: lwIP's is meant. */
#undef TCP_MSS
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dpdk_netif.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "sem.h"
#include "test_frame.h"
#include "test_stack.h"

#define TS0 1000000u		/* the peer's first TSval */
#define WAIT_MS 1000		/* for each answer (Linux delays an ACK 200 ms at most) */
#define MAX_FRAME 1600
#define MAX_TRACE 128
#define AT_ONCE_MS 100		/* an answer "at once": Linux's delayed ACK is 40 ms at least, lwIP's 250 */

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x63 };

/* One stack's side of the link, as the peer sees it. */
struct wire {
	uint8_t stack_mac[6];
	void (*send)(const uint8_t *f, unsigned len);	/* a frame to the stack */
	bool (*next)(uint8_t *f, unsigned *len);	/* a frame the stack sent, if one waits */
	void (*run)(void);	/* let the stack work a little */
};

/* What a scenario saw: "name = value" lines. */
struct trace {
	bool ran;
	char why[256];
	unsigned n;
	struct {
		char name[40];
		long v;
	} e[MAX_TRACE];
};

static struct trace linux_trace, mlwip_trace;

static void rec(struct trace *t, const char *name, long v)
{
	if (t->n == MAX_TRACE)
		return;
	snprintf(t->e[t->n].name, sizeof(t->e[t->n].name), "%s", name);
	t->e[t->n++].v = v;
}

/* A segment the stack sent, with its options. */
struct seg {
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t seq, ack;
	unsigned plen, optlen;
	bool mss, ws, sackok, ts;
	uint16_t mssval;
	uint32_t tsval, tsecr;
	unsigned nsack;
	uint32_t sack[4][2];
};

static bool parse(const uint8_t *f, unsigned len, struct seg *s)
{
	const uint8_t *tcp = f + 34, *o;
	unsigned hlen;

	if (len < 54 || test_get16(f + 12) != 0x0800 || f[23] != 6 || (f[14] & 0xf) != 5)
		return false;
	hlen = (tcp[12] >> 4) * 4u;
	if (hlen < 20 || len < 34 + hlen)
		return false;
	memset(s, 0, sizeof(*s));
	s->sport = test_get16(tcp);
	s->dport = test_get16(tcp + 2);
	s->seq = test_get32(tcp + 4);
	s->ack = test_get32(tcp + 8);
	s->flags = tcp[13];
	s->plen = test_get16(f + 16) - 20u - hlen;
	s->optlen = hlen - 20;
	if ((o = test_tcp_opt(tcp, 2)) != NULL && o[1] == 4)
		s->mss = true, s->mssval = test_get16(o + 2);
	s->ws = test_tcp_opt(tcp, 3) != NULL;
	s->sackok = test_tcp_opt(tcp, 4) != NULL;
	if ((o = test_tcp_opt(tcp, 8)) != NULL && o[1] == 10)
		s->ts = true, s->tsval = test_get32(o + 2), s->tsecr = test_get32(o + 6);
	if ((o = test_tcp_opt(tcp, 5)) != NULL) {
		s->nsack = (o[1] - 2u) / 8u;
		for (unsigned i = 0; i < s->nsack && i < 4; i++) {
			s->sack[i][0] = test_get32(o + 2 + 8 * i);
			s->sack[i][1] = test_get32(o + 6 + 8 * i);
		}
	}
	return true;
}

/* Non-SYN segments seen from the stack's port 80 to peer port 5000 + i,
 * and how many of them carried timestamps. */
static unsigned segs[2], segs_ts[2];

/* The next segment from @p sport to @p dport whose flags under @p mask are
 * @p flags, whose ack number is @p ack (any if 0) and that carries data if
 * @p data, none if not; false after WAIT_MS. Other frames are passed over. */
static bool expect(const struct wire *w, uint16_t sport, uint16_t dport, uint8_t mask, uint8_t flags,
		   uint32_t ack, bool data, struct seg *s)
{
	int64_t end = test_now_ms() + WAIT_MS;
	uint8_t f[MAX_FRAME];
	unsigned len;

	while (test_now_ms() < end) {
		while (w->next(f, &len)) {
			if (!parse(f, len, s))
				continue;
			if (s->sport == 80 && s->dport - 5000u < 2 && !(s->flags & 0x02))
				segs[s->dport - 5000]++, segs_ts[s->dport - 5000] += s->ts;
			if (s->sport == sport && s->dport == dport && (s->flags & mask) == flags &&
			    (ack == 0 || s->ack == ack) && data == (s->plen > 0))
				return true;
		}
		w->run();
	}
	memset(s, 0, sizeof(*s));
	return false;
}

/* The peer sends a segment from 10.0.0.99:@p sport to 10.0.0.2:@p dport. */
static void peer(const struct wire *w, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
		 uint32_t ack, const uint8_t *opts, unsigned optlen, unsigned payload)
{
	uint8_t f[MAX_FRAME];

	w->send(f, test_tcp4_build(f, sizeof(f), w->stack_mac, peer_mac, "10.0.0.99", sport, "10.0.0.2", dport, flags,
				   seq, ack, 0xffff, opts, optlen, payload));
}

static int accept_wait(const struct sem_ops *o, const struct wire *w, int lfd)
{
	int64_t end = test_now_ms() + WAIT_MS;
	int fd;

	while ((fd = o->accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0 && errno == EAGAIN &&
	       test_now_ms() < end)
		w->run();
	return fd;
}

/* The SYN or SYN-ACK @p s: which options, the MSS, TSecr == @p tsecr. */
static void rec_syn(struct trace *t, const char *what, const struct seg *s, bool seen, uint32_t tsecr)
{
	char n[40];

	snprintf(n, sizeof(n), "%s.seen", what), rec(t, n, seen);
	snprintf(n, sizeof(n), "%s.mss", what), rec(t, n, s->mss ? s->mssval : 0);
	snprintf(n, sizeof(n), "%s.window_scale", what), rec(t, n, s->ws);
	snprintf(n, sizeof(n), "%s.sack_permitted", what), rec(t, n, s->sackok);
	snprintf(n, sizeof(n), "%s.timestamps", what), rec(t, n, s->ts);
	snprintf(n, sizeof(n), "%s.tsecr_echoes", what), rec(t, n, s->ts && s->tsecr == tsecr);
}

/* An ACK of out-of-order data: its ack number and SACK blocks relative to
 * @p base, its TSecr against @p tsecr. */
static void rec_sack(struct trace *t, const char *what, const struct seg *s, bool seen, uint32_t base,
		     uint32_t tsecr)
{
	char n[40];

	snprintf(n, sizeof(n), "%s.seen", what), rec(t, n, seen);
	snprintf(n, sizeof(n), "%s.ack", what), rec(t, n, (long)(s->ack - base));
	snprintf(n, sizeof(n), "%s.blocks", what), rec(t, n, s->nsack);
	for (unsigned i = 0; i < s->nsack && i < 2; i++) {
		snprintf(n, sizeof(n), "%s.block%u.left", what, i), rec(t, n, (long)(s->sack[i][0] - base));
		snprintf(n, sizeof(n), "%s.block%u.right", what, i), rec(t, n, (long)(s->sack[i][1] - base));
	}
	snprintf(n, sizeof(n), "%s.timestamps", what), rec(t, n, s->ts);
	snprintf(n, sizeof(n), "%s.tsecr_echoes", what), rec(t, n, s->ts && s->tsecr == tsecr);
}

/* TCP_INFO: the options in use and the data a segment carries. */
static void rec_info(const struct sem_ops *o, struct trace *t, const char *what, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	char n[40];

	memset(&ti, 0, sizeof(ti));
	o->getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	snprintf(n, sizeof(n), "%s.info.timestamps", what), rec(t, n, !!(ti.tcpi_options & TCPI_OPT_TIMESTAMPS));
	snprintf(n, sizeof(n), "%s.info.sack", what), rec(t, n, !!(ti.tcpi_options & TCPI_OPT_SACK));
	snprintf(n, sizeof(n), "%s.info.wscale", what), rec(t, n, !!(ti.tcpi_options & TCPI_OPT_WSCALE));
	snprintf(n, sizeof(n), "%s.info.snd_mss", what), rec(t, n, ti.tcpi_snd_mss);
}

/* The connect() SYN. */
static void active_open(const struct sem_ops *o, const struct wire *w, struct trace *t)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(6001) };
	int fd = o->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct seg s;
	bool seen;

	inet_pton(AF_INET, "10.0.0.99", &a.sin_addr);
	o->connect(fd, (struct sockaddr *)&a, sizeof(a));
	/* The SYN's source port is the stack's choice: look at any. */
	seen = false;
	for (int64_t end = test_now_ms() + WAIT_MS; !seen && test_now_ms() < end;) {
		uint8_t f[MAX_FRAME];
		unsigned len;

		while (!seen && w->next(f, &len))
			seen = parse(f, len, &s) && s.dport == 6001 && s.flags == 0x02;
		if (!seen)
			w->run();
	}
	if (!seen)
		memset(&s, 0, sizeof(s));
	rec_syn(t, "syn", &s, seen, 0);
	o->close(fd);
}

/* A connection the peer opens to port 80: its name in the trace, the
 * peer's port, whether it offers timestamps and SACK; the stack's ISN and
 * latest TSval. */
struct conn {
	const char *name;
	uint16_t port;
	bool opts;
	uint32_t isn, their_ts;
};

/* The peer sends on @p c: with a timestamps option (TSval @p tsval,
 * echoing the stack's latest) if @p c offered them. */
static void conn_send(const struct wire *w, const struct conn *c, uint8_t flags, uint32_t seq,
		      uint32_t ack, uint32_t tsval, unsigned payload)
{
	uint8_t o[12];
	unsigned optlen = c->opts ? test_tcp_ack_opts(o, true, tsval, c->their_ts, NULL, 0) : 0;

	peer(w, c->port, 80, flags, seq, ack, o, optlen, payload);
}

/* The stack's next pure ACK on @p c acknowledging @p ack, recorded as
 * @p what against @p base, with TSecr expected to be @p tsecr; the time
 * since @p t0 recorded as under AT_ONCE_MS if @p t0 is not 0. */
static void conn_ack(const struct wire *w, struct trace *t, struct conn *c, const char *what,
		     uint32_t ack, uint32_t base, uint32_t tsecr, int64_t t0)
{
	char n[40];
	struct seg s;
	bool seen = expect(w, 80, c->port, 0x10, 0x10, ack, false, &s);

	rec_sack(t, what, &s, seen, base, tsecr);
	if (t0 != 0) {
		snprintf(n, sizeof(n), "%s.at_once", what);
		rec(t, n, test_now_ms() - t0 < AT_ONCE_MS);
	}
	if (seen && s.ts)
		c->their_ts = s.tsval;
}

/*
 * The peer opens @p c (a SYN offering everything, or MSS and window scale
 * only): SYN-ACK; 100 bytes in (ACK), 50 out (data), acknowledged;
 * TCP_INFO; out of order 1000-1100 and 2000-2100 (relative to the next
 * byte expected), then 0-1000 and 1100-2000; everything read. Each segment's
 * TSval is one more than the last.
 */
static void conn_run(const struct sem_ops *o, const struct wire *w, struct trace *t, int lfd,
		     struct conn *c)
{
	static const uint8_t syn_all[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, TS0 >> 24, (TS0 >> 16) & 0xff,
					      (TS0 >> 8) & 0xff, TS0 & 0xff, 0, 0, 0, 0, 1, 3, 3, 7 };
	static const uint8_t syn_mss_ws[8] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };
	const uint32_t p = 1000u * c->port, base = p + 101;
	unsigned i = c->port - 5000u;
	struct seg s;
	char buf[4096], n[40];
	int fd;
	bool seen;
	long got = 0;

	if (c->opts)
		peer(w, c->port, 80, 0x02, p, 0, syn_all, sizeof(syn_all), 0);
	else
		peer(w, c->port, 80, 0x02, p, 0, syn_mss_ws, sizeof(syn_mss_ws), 0);
	seen = expect(w, 80, c->port, 0x12, 0x12, 0, false, &s);
	snprintf(n, sizeof(n), "%s.synack", c->name);
	rec_syn(t, n, &s, seen, TS0);
	if (!seen)
		return;
	c->isn = s.seq;
	c->their_ts = s.tsval;
	conn_send(w, c, 0x10, p + 1, c->isn + 1, TS0 + 1, 0);
	fd = accept_wait(o, w, lfd);
	snprintf(n, sizeof(n), "%s.accepted", c->name), rec(t, n, fd >= 0);
	if (fd < 0)
		return;
	conn_send(w, c, 0x18, p + 1, c->isn + 1, TS0 + 2, 100);
	snprintf(n, sizeof(n), "%s.ack", c->name);
	conn_ack(w, t, c, n, base, base, TS0 + 2, 0);
	memset(buf, 'd', 50);
	o->write(fd, buf, 50);
	seen = expect(w, 80, c->port, 0, 0, 0, true, &s);
	snprintf(n, sizeof(n), "%s.data.seen", c->name), rec(t, n, seen);
	snprintf(n, sizeof(n), "%s.data.bytes", c->name), rec(t, n, s.plen);
	snprintf(n, sizeof(n), "%s.data.timestamps", c->name), rec(t, n, s.ts);
	snprintf(n, sizeof(n), "%s.data.tsecr_echoes", c->name), rec(t, n, s.ts && s.tsecr == TS0 + 2);
	snprintf(n, sizeof(n), "%s.data.tsval_not_older", c->name);
	rec(t, n, s.ts && (int32_t)(s.tsval - c->their_ts) >= 0);
	if (seen && s.ts)
		c->their_ts = s.tsval;
	conn_send(w, c, 0x10, base, c->isn + 51, TS0 + 3, 0);
	rec_info(o, t, c->name, fd);
	/* Out of order: answered at once, echoing the TSval of the last
	 * segment in order (TS0 + 3), not theirs (RFC 7323 4.3). */
	snprintf(n, sizeof(n), "%s.ooo1", c->name);
	conn_send(w, c, 0x18, base + 1000, c->isn + 51, TS0 + 4, 100);
	conn_ack(w, t, c, n, base, base, TS0 + 3, test_now_ms());
	snprintf(n, sizeof(n), "%s.ooo2", c->name);
	conn_send(w, c, 0x18, base + 2000, c->isn + 51, TS0 + 5, 100);
	conn_ack(w, t, c, n, base, base, TS0 + 3, test_now_ms());
	/* The holes filled: in order again, so their TSvals are echoed. */
	snprintf(n, sizeof(n), "%s.fill1", c->name);
	conn_send(w, c, 0x18, base, c->isn + 51, TS0 + 6, 1000);
	conn_ack(w, t, c, n, base + 1100, base, TS0 + 6, 0);
	snprintf(n, sizeof(n), "%s.fill2", c->name);
	conn_send(w, c, 0x18, base + 1100, c->isn + 51, TS0 + 7, 900);
	conn_ack(w, t, c, n, base + 2100, base, TS0 + 7, 0);
	for (int64_t end = test_now_ms() + WAIT_MS; got < 2200 && test_now_ms() < end;) {
		ssize_t k = o->read(fd, buf, sizeof(buf));

		if (k > 0)
			got += k;
		else
			w->run();
	}
	snprintf(n, sizeof(n), "%s.bytes_read", c->name), rec(t, n, got);
	snprintf(n, sizeof(n), "%s.segments_all_timestamps", c->name);
	rec(t, n, segs[i] > 5 && segs_ts[i] == segs[i]);
	snprintf(n, sizeof(n), "%s.segments_no_timestamps", c->name), rec(t, n, segs_ts[i] == 0);
	o->close(fd);
	conn_send(w, c, 0x04, base + 2100, 0, TS0 + 8, 0);
}

/* Port 5002 offers nothing: the SYN-ACK has the MSS only. */
static void conn_bare(const struct wire *w, struct trace *t)
{
	struct seg sa;
	bool seen;

	peer(w, 5002, 80, 0x02, 9000, 0, NULL, 0, 0);
	seen = expect(w, 80, 5002, 0x12, 0x12, 0, false, &sa);
	rec_syn(t, "synack_bare", &sa, seen, 0);
	peer(w, 5002, 80, 0x04, 9001, 0, NULL, 0, 0);
}

static void scenario(const struct sem_ops *o, const struct wire *w, struct trace *t)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	int lfd = o->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	struct conn all = { "ts", 5000, true, 0, 0 }, plain = { "plain", 5001, false, 0, 0 };

	memset(segs, 0, sizeof(segs));
	memset(segs_ts, 0, sizeof(segs_ts));
	if (lfd < 0 || o->bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || o->listen(lfd, 8) != 0) {
		snprintf(t->why, sizeof(t->why), "%s: listen: %s", o->name, strerror(errno));
		return;
	}
	active_open(o, w, t);
	conn_run(o, w, t, lfd, &all);
	conn_run(o, w, t, lfd, &plain);
	conn_bare(w, t);
	o->close(lfd);
	for (int i = 0; i < 20; i++)
		w->run();
	t->ran = true;
}

/* ---- Linux: a TAP device in a private network namespace. ---- */

static int tap_fd = -1;

static void tap_send(const uint8_t *f, unsigned len)
{
	if (write(tap_fd, f, len) != (ssize_t)len)
		perror("tcp_options: write to mlwtap0");
}

static bool tap_next(uint8_t *f, unsigned *len)
{
	ssize_t n = read(tap_fd, f, MAX_FRAME);

	if (n <= 0)
		return false;
	*len = (unsigned)n;
	return true;
}

static void tap_run(void)
{
	usleep(1000);
}

static void linux_run(void)
{
	struct wire w = { { 0x02, 0, 0, 0, 0, 0x02 }, tap_send, tap_next, tap_run };
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int host = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (host < 0 || unshare(CLONE_NEWNET) != 0) {
		snprintf(linux_trace.why, sizeof(linux_trace.why),
			 "no private network namespace for the Linux run (%s; needs root)", strerror(errno));
		if (host >= 0)
			close(host);
		return;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "mlwtap0");
	tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap_fd < 0 || ioctl(tap_fd, TUNSETIFF, &ifr) != 0) {
		snprintf(linux_trace.why, sizeof(linux_trace.why), "no TAP device (%s)", strerror(errno));
	} else if (system("ip link set mlwtap0 address 02:00:00:00:00:02 mtu 1500 up && "
			  "ip addr add 10.0.0.2/24 dev mlwtap0 && "
			  "ip neigh replace 10.0.0.99 lladdr 02:00:00:00:00:63 nud permanent dev mlwtap0") != 0) {
		snprintf(linux_trace.why, sizeof(linux_trace.why), "could not set up mlwtap0 (ip failed)");
	} else {
		scenario(&sem_linux_ops, &w, &linux_trace);
	}
	if (tap_fd >= 0)
		close(tap_fd);
	if (setns(host, CLONE_NEWNET) != 0) {
		perror("tcp_options: setns back to the host namespace");
		abort();
	}
	close(host);
}

/* ---- mlwip: frames into lwIP's input, read off net_ring0 between passes. ---- */

static struct netif *nif;
static struct mlw_txq *txq;
static struct {
	unsigned head, n;
	uint16_t len[64];
	uint8_t f[64][MAX_FRAME];
} caught;

static void ring_send(const uint8_t *f, unsigned len)
{
	test_netif_receive(nif, f, len);
}

/* What the shard sent, off the ring (kept while there is room). */
static void ring_read(void)
{
	struct rte_mbuf *pkts[64];
	uint16_t n;

	while ((n = mlw__rx_burst(txq->port_id, txq->queue_id, pkts, 64)) > 0) {
		for (uint16_t i = 0; i < n; i++) {
			unsigned k = (caught.head + caught.n) % 64;

			if (caught.n < 64 && pkts[i]->data_len <= MAX_FRAME) {
				memcpy(caught.f[k], rte_pktmbuf_mtod(pkts[i], const uint8_t *), pkts[i]->data_len);
				caught.len[k] = pkts[i]->data_len;
				caught.n++;
			}
			rte_pktmbuf_free(pkts[i]);
		}
	}
}

static bool ring_next(uint8_t *f, unsigned *len)
{
	if (caught.n == 0) {
		mlw_socket_flush();
		ring_read();
	}
	if (caught.n == 0)
		return false;
	*len = caught.len[caught.head];
	memcpy(f, caught.f[caught.head], *len);
	caught.head = (caught.head + 1) % 64;
	caught.n--;
	return true;
}

/* One pass, the ring read before the shard's RX could take its frames. */
static void ring_run(void)
{
	mlw_socket_flush();
	ring_read();
	mlw_shard_poll();
	mlw_socket_flush();
	ring_read();
}

static void mlwip_run(void)
{
	struct wire w = { { 0 }, ring_send, ring_next, ring_run };
	uint8_t f[42];

	nif = test_dpdk_netif();
	if (nif == NULL) {
		snprintf(mlwip_trace.why, sizeof(mlwip_trace.why), "no DPDK netif");
		return;
	}
	memcpy(w.stack_mac, nif->hwaddr, 6);
	txq = ((struct mlw_netif_state *)nif->state)->txq;
	/* The peer asks for 10.0.0.2, so lwIP knows its address. */
	ring_send(f, test_arp_request(f, peer_mac, "10.0.0.99", "10.0.0.2"));
	for (int i = 0; i < 5; i++)
		ring_run();
	caught.n = 0;
	scenario(&sem_mlwip_ops, &w, &mlwip_trace);
	mlw_socket_close_all();
	for (int i = 0; i < 20; i++)
		ring_run();
}

/* ---- Checks. ---- */

/* What both must have seen. Linux's numbers (6.1 to 6.18), and RFC 7323 /
 * RFC 2018: every option offered in a SYN; a SYN-ACK answers only what the
 * peer offered; TSecr echoes the last in-order TSval; SACK blocks newest
 * first; MSS 1460 on a 1500-byte link. */
static const struct {
	const char *name;
	long v;
} want[] = {
	{ "syn.seen", 1 }, { "syn.mss", 1460 }, { "syn.window_scale", 1 }, { "syn.sack_permitted", 1 },
	{ "syn.timestamps", 1 }, { "syn.tsecr_echoes", 1 },
	{ "ts.synack.seen", 1 }, { "ts.synack.mss", 1460 }, { "ts.synack.window_scale", 1 },
	{ "ts.synack.sack_permitted", 1 }, { "ts.synack.timestamps", 1 }, { "ts.synack.tsecr_echoes", 1 },
	{ "ts.accepted", 1 },
	{ "ts.ack.seen", 1 }, { "ts.ack.ack", 0 }, { "ts.ack.blocks", 0 }, { "ts.ack.timestamps", 1 },
	{ "ts.ack.tsecr_echoes", 1 },
	{ "ts.data.seen", 1 }, { "ts.data.bytes", 50 }, { "ts.data.timestamps", 1 },
	{ "ts.data.tsecr_echoes", 1 }, { "ts.data.tsval_not_older", 1 },
	{ "ts.info.timestamps", 1 }, { "ts.info.sack", 1 }, { "ts.info.wscale", 1 },
	{ "ts.info.snd_mss", 1448 },
	{ "ts.ooo1.seen", 1 }, { "ts.ooo1.ack", 0 }, { "ts.ooo1.blocks", 1 },
	{ "ts.ooo1.block0.left", 1000 }, { "ts.ooo1.block0.right", 1100 },
	{ "ts.ooo1.timestamps", 1 }, { "ts.ooo1.tsecr_echoes", 1 }, { "ts.ooo1.at_once", 1 },
	{ "ts.ooo2.seen", 1 }, { "ts.ooo2.ack", 0 }, { "ts.ooo2.blocks", 2 },
	{ "ts.ooo2.block0.left", 2000 }, { "ts.ooo2.block0.right", 2100 },
	{ "ts.ooo2.block1.left", 1000 }, { "ts.ooo2.block1.right", 1100 },
	{ "ts.ooo2.timestamps", 1 }, { "ts.ooo2.tsecr_echoes", 1 }, { "ts.ooo2.at_once", 1 },
	{ "ts.fill1.seen", 1 }, { "ts.fill1.ack", 1100 }, { "ts.fill1.blocks", 1 },
	{ "ts.fill1.block0.left", 2000 }, { "ts.fill1.block0.right", 2100 },
	{ "ts.fill1.timestamps", 1 }, { "ts.fill1.tsecr_echoes", 1 },
	{ "ts.fill2.seen", 1 }, { "ts.fill2.ack", 2100 }, { "ts.fill2.blocks", 0 },
	{ "ts.fill2.timestamps", 1 }, { "ts.fill2.tsecr_echoes", 1 },
	{ "ts.bytes_read", 2200 }, { "ts.segments_all_timestamps", 1 },
	{ "ts.segments_no_timestamps", 0 },
	{ "plain.synack.seen", 1 }, { "plain.synack.mss", 1460 }, { "plain.synack.window_scale", 1 },
	{ "plain.synack.sack_permitted", 0 }, { "plain.synack.timestamps", 0 }, { "plain.synack.tsecr_echoes", 0 },
	{ "plain.accepted", 1 },
	{ "plain.ack.seen", 1 }, { "plain.ack.ack", 0 }, { "plain.ack.blocks", 0 }, { "plain.ack.timestamps", 0 },
	{ "plain.ack.tsecr_echoes", 0 },
	{ "plain.data.seen", 1 }, { "plain.data.bytes", 50 }, { "plain.data.timestamps", 0 },
	{ "plain.data.tsecr_echoes", 0 }, { "plain.data.tsval_not_older", 0 },
	{ "plain.info.timestamps", 0 }, { "plain.info.sack", 0 }, { "plain.info.wscale", 1 },
	{ "plain.info.snd_mss", 1460 },
	{ "plain.ooo1.seen", 1 }, { "plain.ooo1.ack", 0 }, { "plain.ooo1.blocks", 0 },
	{ "plain.ooo1.timestamps", 0 }, { "plain.ooo1.tsecr_echoes", 0 }, { "plain.ooo1.at_once", 1 },
	{ "plain.ooo2.seen", 1 }, { "plain.ooo2.ack", 0 }, { "plain.ooo2.blocks", 0 },
	{ "plain.ooo2.timestamps", 0 }, { "plain.ooo2.tsecr_echoes", 0 }, { "plain.ooo2.at_once", 1 },
	{ "plain.fill1.seen", 1 }, { "plain.fill1.ack", 1100 }, { "plain.fill1.blocks", 0 },
	{ "plain.fill1.timestamps", 0 }, { "plain.fill1.tsecr_echoes", 0 },
	{ "plain.fill2.seen", 1 }, { "plain.fill2.ack", 2100 }, { "plain.fill2.blocks", 0 },
	{ "plain.fill2.timestamps", 0 }, { "plain.fill2.tsecr_echoes", 0 },
	{ "plain.bytes_read", 2200 }, { "plain.segments_all_timestamps", 0 },
	{ "plain.segments_no_timestamps", 1 },
	{ "synack_bare.seen", 1 }, { "synack_bare.mss", 1460 }, { "synack_bare.window_scale", 0 },
	{ "synack_bare.sack_permitted", 0 }, { "synack_bare.timestamps", 0 }, { "synack_bare.tsecr_echoes", 0 },
};
#define NWANT (sizeof(want) / sizeof(want[0]))

static void print_trace(const char *who, const struct trace *t)
{
	print_message("%s:\n", who);
	for (unsigned i = 0; i < t->n; i++)
		print_message("  %-36s %ld\n", t->e[i].name, t->e[i].v);
}

/* Every expectation met, in order, and nothing else recorded. */
static void check_trace(const char *who, const struct trace *t)
{
	unsigned bad = 0;

	if (!t->ran)
		fail_msg("%s did not run: %s", who, t->why);
	for (unsigned i = 0; i < NWANT; i++) {
		bool ok = i < t->n && strcmp(t->e[i].name, want[i].name) == 0 && t->e[i].v == want[i].v;

		if (!ok) {
			print_message("%s: %s: %ld, want %ld\n", who, want[i].name, i < t->n ? t->e[i].v : -1L,
				      want[i].v);
			bad++;
		}
	}
	if (bad != 0 || t->n != NWANT) {
		print_trace(who, t);
		fail_msg("%s: %u of %zu expectations not met (%u recorded)", who, bad, NWANT, t->n);
	}
}

static unsigned bad_heaps;

static void test_mlwip_as_expected(void **state)
{
	(void)state;
	check_trace("mlwip", &mlwip_trace);
	assert_int_equal(bad_heaps, 0);
}

static void test_linux_as_expected(void **state)
{
	(void)state;
	if (!linux_trace.ran && linux_trace.why[0] != '\0') {
		print_message("SKIP: %s\n", linux_trace.why);
		skip();
	}
	check_trace("Linux", &linux_trace);
}

/* The two traces step by step: a difference names the step. */
static void test_mlwip_as_linux(void **state)
{
	(void)state;
	if (!linux_trace.ran) {
		print_message("SKIP: %s\n", linux_trace.why);
		skip();
	}
	assert_true(mlwip_trace.ran);
	for (unsigned i = 0; i < linux_trace.n || i < mlwip_trace.n; i++) {
		if (i >= linux_trace.n || i >= mlwip_trace.n ||
		    strcmp(linux_trace.e[i].name, mlwip_trace.e[i].name) != 0 ||
		    linux_trace.e[i].v != mlwip_trace.e[i].v) {
			print_trace("Linux", &linux_trace);
			print_trace("mlwip", &mlwip_trace);
			fail_msg("step %u differs", i);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mlwip_as_expected),
		cmocka_unit_test(test_linux_as_expected),
		cmocka_unit_test(test_mlwip_as_linux),
	};
	int rc;

	linux_run();
	rc = test_stack_run("mlwtcpopt", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", mlwip_run,
			    &bad_heaps);
	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("tcp_options", tests, NULL, NULL);
}
