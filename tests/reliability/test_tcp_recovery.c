/* test_tcp_recovery.c - loss recovery on the wire (lwip-port/tcp_recovery.c): a peer that SACKs the segments after a hole gets the hole retransmitted in the same pass, not after the RTO, also on an active open whose SYN was lost; two holes in one window both within one round trip with cwnd halved once; without SACK, a partial ACK retransmits the next hole at once (RFC 6582).
 *
 * main -> test_stack_run(one shard on net_ring0) -> run(): the peer
 * 10.0.0.99 is played by frames put into lwIP's input (test_wire.c); the
 * shard's accepted socket writes ten segments, the peer answers with
 * crafted ACKs (SACK blocks, a window that changes on every ACK, as a
 * Linux receiver's does while it queues out-of-order data). What the shard
 * sends is read off the ring; each case records what it saw in res, the
 * CMocka tests after the run assert it. Before tcp_recovery.c lwIP ignored
 * the SACK blocks and did not count ACKs whose window changed as
 * duplicates: every hole waited for the retransmission timeout.
 *
 * The receiver's half: a duplicate data segment is reported in a D-SACK
 * block (RFC 2883) first in the ACK it gets, once (dsack_case).
 *
 * The peer's window: a data segment it sends again (older than the last
 * window taken) that acknowledges new data moves the right edge to where
 * its window says, not by what it acknowledged (stale_window_case). A
 * zero-window probe leaves our sequence number where a receiver with a
 * closed window accepts the ACKs that follow it, and carries timestamps
 * (closed_window_case).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "mlw_lwip_hooks.h"
#include "tcp_recovery_private.h"
#include "test_frame.h"
#include "test_peer.h"
#include "test_stack.h"

#define LPORT 80
#define NSEG 10
#define PEER_MSS 1012	/* 1000 data bytes with timestamps */
/* The peer answers a flight this long after it went out: RACK measures
 * that RTT, and the probe timeout (2 x RTT + 2 ms) is then longer than a
 * pass of the crafted exchange, also in the sanitizer builds (with an RTT
 * of 0, a slow pass let a probe fire between two of the peer's ACKs). */
#define PEER_RTT_MS 10
#define AGAIN_ROUNDS 4	/* rexmit_again_case: SACK rounds while the hole stays lost */
static int peer_rtt_ms = PEER_RTT_MS;

struct seen_case {
	bool ran;
	unsigned nseg;			/* data segments of the first flight */
	uint32_t seq[NSEG + 1];		/* their sequence numbers, seq[NSEG]: the end */
	unsigned rexmit[NSEG];		/* retransmissions of each, before the final ACK */
	unsigned rexmit_in_pass;	/* of the holes, in the pass of the ACK that showed them */
	int64_t rexmit_delay_ms;	/* from the revealing ACK to the last hole's retransmission */
	uint64_t rto_fired;		/* RTO timeouts during the case */
	uint64_t episodes;		/* recovery episodes */
	uint32_t cwnd_before, ssthresh_after, cwnd_after;
	uint64_t mib_rexmits;		/* lwIP's tcpretranssegs during the case */
	bool all_acked;			/* the final ACK emptied the queue */
	bool timer_armed;		/* reordering case: the recovery timer after the SACK */
	int64_t timer_in_ms;		/* its deadline, from the end of that pass */
	int64_t timer_bound_ms;		/* RACK's: an RTT plus a quarter (at least 1), at least 2 ms */
	int64_t one_seg_timer_ms;	/* tail case: the probe timer with one segment (no FIN) out */
	int64_t tail_probe_ms;		/* tail case: from the data and FIN to their probe, -1: none */
};

/* What the peer saw of our ACKs in the D-SACK case (sequence numbers
 * relative to the peer's first data byte). */
struct seen_ack {
	bool seen;
	uint32_t ack;
	unsigned nsack;
	uint32_t sack[4][2];
};

static struct {
	struct seen_case one, two, newreno, probe, syn, reo, tail, again;
	struct {
		unsigned rounds;		/* SACK rounds run */
		int64_t timer_ms[AGAIN_ROUNDS];	/* the armed timer after each round's SACK */
		int64_t rtt_ms[AGAIN_ROUNDS];	/* now - TSval of the newest SACKed segment then */
		bool later_sacked[AGAIN_ROUNDS];	/* data sent after the hole's last retransmission was SACKed */
		unsigned hole_rexmits;		/* of segment 0, over the case */
	} again_t;
	struct {
		bool ran;
		uint32_t first_end;	/* end of the first flight, relative to our ISN */
		uint32_t edge;		/* the right edge the old segment announced */
		uint32_t high_after_old;	/* highest end sent after it */
		uint32_t high_after_fresh;	/* after the peer opened the window again */
	} stale;
	struct {
		bool ran;
		unsigned probes;		/* segments sent into the closed window */
		unsigned probes_without_ts;	/* of them, without timestamps */
		unsigned probes_with_data;	/* of them, with data at or past the edge */
		bool acked;			/* the peer's data was acknowledged */
		uint32_t ack_seq;		/* that ACK's sequence number, relative to the window's edge */
		uint32_t sent_after_open;	/* data sent once the window opened (bytes from the edge) */
	} closed;
	struct {
		bool ran;
		struct seen_ack dup, ooseq, dup_ooseq, filled;
		uint64_t marked, sent;
	} dsack;
} res;

/* Our port in the case running: the listener's, or the connecting
 * socket's. */
static uint16_t lport = LPORT;

static struct tcp_pcb *pcb_of(uint16_t pport)
{
	for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next)
		if (p->remote_port == pport)
			return p;
	return NULL;
}

/* SYN options: MSS, (SACK permitted,) timestamps. */
static unsigned syn_opts(uint8_t o[20], bool sack)
{
	unsigned n = 0;

	o[n++] = 2, o[n++] = 4, o[n++] = PEER_MSS >> 8, o[n++] = PEER_MSS & 0xff;
	o[n++] = 1, o[n++] = 1;
	if (sack)
		o[n++] = 4, o[n++] = 2;
	else
		o[n++] = 1, o[n++] = 1;
	o[n++] = 1, o[n++] = 1, o[n++] = 8, o[n++] = 10;
	test_put32(o + n, 1000), n += 4;
	test_put32(o + n, 0), n += 4;
	return n;
}

static uint32_t peer_seq, peer_ts = 2000;

/* The peer's ACK of @p ack with window @p wnd and @p nsack SACK blocks. */
static void peer_ack(uint16_t pport, uint32_t ack, uint16_t wnd, const uint32_t (*sack)[2], unsigned nsack)
{
	uint8_t o[40];
	unsigned n = test_tcp_ack_opts(o, true, ++peer_ts, 0, sack, nsack);

	test_peer_send(pport, lport, 0x10, peer_seq, ack, wnd, o, n, 0);
}

/* The peer's data: @p len bytes at @p seq, acknowledging @p ack with
 * window @p wnd, timestamps on. */
static void peer_data(uint16_t pport, uint32_t seq, uint32_t ack, uint16_t wnd, unsigned len)
{
	uint8_t o[40];
	unsigned n = test_tcp_ack_opts(o, true, ++peer_ts, 0, NULL, 0);

	test_peer_send(pport, LPORT, 0x18, seq, ack, wnd, o, n, len);
}

static int send_flight(int fd, uint16_t pport, struct seen_case *c);

/* The peer connects from @p pport to the listener (its ISN @p seq, SACK
 * offered or not); our ISN into *@p isn. Returns the accepted descriptor,
 * peer_seq past the SYN, or -1. */
static int peer_open(int lfd, uint16_t pport, bool sack, uint32_t seq, uint32_t *isn)
{
	unsigned from;
	uint8_t o[40];
	int fd;

	lport = LPORT;
	peer_seq = seq;
	test_peer_send(pport, LPORT, 0x02, peer_seq, 0, 0xffff, o, syn_opts(o, sack), 0);
	from = test_peer_log.n;
	fd = test_peer_accept(lfd, LPORT, pport, from, peer_seq, o, test_tcp_ack_opts(o, true, ++peer_ts, 0, NULL, 0),
			      isn);
	if (fd >= 0)
		peer_seq++;
	return fd;
}

/* Connects from @p pport with SACK (ISN @p seq) and sets TCP_NODELAY on the
 * accepted descriptor; as peer_open(). */
static int open_nodelay(int lfd, uint16_t pport, uint32_t seq, uint32_t *isn)
{
	int one = 1, fd = peer_open(lfd, pport, true, seq, isn);

	if (fd >= 0 && mlw_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		test_peer_fail("TCP_NODELAY: %s", strerror(errno));
	return fd;
}

/* We close @p fd; the peer resets the connection from peer_seq rather than
 * leave our FIN to its retransmissions, which would count in the next
 * case's figures. */
static void close_reset(int fd, uint16_t pport)
{
	mlw_close(fd);
	test_peer_passes(2);
	test_peer_send(pport, lport, 0x04, peer_seq, 0, 0, NULL, 0, 0);
	test_peer_passes(1);
}

/* Connects from @p pport, writes NSEG segments; fills c->seq. Returns the
 * descriptor or -1. */
static int open_and_send(int lfd, uint16_t pport, bool sack, struct seen_case *c)
{
	uint32_t isn;
	int fd = peer_open(lfd, pport, sack, 50000, &isn);

	return fd < 0 ? -1 : send_flight(fd, pport, c);
}

/* Writes NSEG segments on the connected @p fd (peer port @p pport); fills
 * c->seq. Returns @p fd, or -1. */
static int send_flight(int fd, uint16_t pport, struct seen_case *c)
{
	static char buf[NSEG * 1000];
	unsigned from;
	int one = 1;

	/* Nagle would hold the last segment (lwIP compares it with the MSS
	 * before the timestamps option takes its 12 bytes). */
	if (mlw_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		test_peer_fail("TCP_NODELAY: %s", strerror(errno));
	test_peer_passes(2);
	memset(buf, 'x', sizeof(buf));
	from = test_peer_log.n;
	if (mlw_write(fd, buf, sizeof(buf)) != (long)sizeof(buf)) {
		test_peer_fail("write: %s", strerror(errno));
		return -1;
	}
	test_peer_passes(3);
	c->nseg = 0;
	for (unsigned i = from; i < test_peer_log.n && c->nseg < NSEG; i++) {
		const struct test_seg *g = &test_peer_log.seg[i];

		if (g->sport == lport && g->dport == pport && g->plen > 0)
			c->seq[c->nseg++] = g->seq;
		c->seq[c->nseg] = g->seq + g->plen;
	}
	test_pump_ms(peer_rtt_ms);
	if (c->nseg != NSEG) {
		test_peer_fail("port %u: %u segments in the first flight, not %u (last %u bytes)", pport,
			       c->nseg, NSEG, c->nseg ? c->seq[c->nseg] - c->seq[c->nseg - 1] : 0);
		return -1;
	}
	if (pcb_of(pport) != NULL)
		c->cwnd_before = pcb_of(pport)->cwnd;
	return fd;
}

/* Counts the retransmissions of the first flight's segments logged from
 * @p from on into c->rexmit; returns the time of the last one (us), 0 if none. */
static int64_t count_rexmits(struct seen_case *c, uint16_t pport, unsigned from)
{
	int64_t last = 0;

	for (unsigned i = from; i < test_peer_log.n; i++) {
		const struct test_seg *g = &test_peer_log.seg[i];

		if (g->sport != lport || g->dport != pport || g->plen == 0)
			continue;
		for (unsigned k = 0; k < NSEG; k++)
			if (g->seq == c->seq[k]) {
				c->rexmit[k]++;
				last = g->t_us;
			}
	}
	return last;
}

/* Passes for @p ms milliseconds: the shard runs and what it sends is
 * logged (test_pump_ms() does not read the ring). */
static void passes_ms(int ms)
{
	for (int64_t t0 = test_now_ms(); test_now_ms() - t0 < ms;)
		test_wire_pass();
}

static struct mlw_tcp_timer_stats tst0;
static struct mlw_tcp_recovery_stats rst0;
static uint64_t mib0;

static void case_begin(void)
{
	mlw__tcp_timer_stats(&tst0);
	mlw__tcp_recovery_stats(&rst0);
	mib0 = lwip_stats.mib2.tcpretranssegs;
}

static void case_end(struct seen_case *c, uint16_t pport, int fd)
{
	struct mlw_tcp_timer_stats tst;
	struct mlw_tcp_recovery_stats rst;
	struct tcp_pcb *p = pcb_of(pport);

	mlw__tcp_timer_stats(&tst);
	mlw__tcp_recovery_stats(&rst);
	c->rto_fired = tst.rto_fired - tst0.rto_fired;
	c->episodes = rst.episodes - rst0.episodes;
	c->mib_rexmits = lwip_stats.mib2.tcpretranssegs - mib0;
	if (p != NULL) {
		c->ssthresh_after = p->ssthresh;
		c->cwnd_after = p->cwnd;
	}
	/* Everything acknowledged: the queue empties. */
	peer_ack(pport, c->seq[NSEG], 0xffff, NULL, 0);
	test_peer_passes(2);
	p = pcb_of(pport);
	c->all_acked = p != NULL && p->unacked == NULL && p->unsent == NULL;
	close_reset(fd, pport);	/* lwIP's MIB is the shard's */
	c->ran = true;
}

/* The peer SACKs segments 1..9 of @p c's flight over three ACKs whose
 * window changes each time; records the retransmissions. */
static void sack_after_hole(struct seen_case *c, uint16_t pport)
{
	uint32_t blk[1][2];
	unsigned from;
	int64_t t0;

	case_begin();
	from = test_peer_log.n;
	t0 = test_now_ms();
	for (unsigned k = 2; k <= NSEG - 1; k += 3) {
		blk[0][0] = c->seq[1];
		blk[0][1] = c->seq[k + 1 > NSEG ? NSEG : k + 1];
		peer_ack(pport, c->seq[0], (uint16_t)(0xffff - 1000 * k), blk, 1);
		test_wire_pass();
	}
	count_rexmits(c, pport, from);
	c->rexmit_in_pass = c->rexmit[0] != 0;
	c->rexmit_delay_ms = test_now_ms() - t0;
}

/* One hole (segment 0): the peer SACKs 1..9 over three ACKs whose window
 * changes each time. */
static void one_hole_case(int lfd)
{
	struct seen_case *c = &res.one;
	const uint16_t pport = 6001;
	int fd = open_and_send(lfd, pport, true, c);

	if (fd < 0)
		return;
	sack_after_hole(c, pport);
	case_end(c, pport, fd);
}

/* A lost SYN: our connect's SYN goes unanswered, its retransmission (at
 * the 1 s initial RTO) gets the SYN-ACK; then the one-hole pattern. lwIP's
 * RTO of the SYN leaves TF_RTO set through the handshake (its SYN-SENT
 * path never clears it), and recovery must not take it for an RTO in
 * progress: before the fix the hole waited for the data's RTO (1.5 s in
 * the fault matrix's combined run). */
static void lost_syn_case(void)
{
	struct seen_case *c = &res.syn;
	const uint16_t pport = 7001;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(pport)};
	const struct test_seg *syn = NULL;
	unsigned from = test_peer_log.n, nsyn = 0;
	int fd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int64_t t0 = test_now_ms();
	uint8_t o[40];

	if (fd < 0) {
		test_peer_fail("socket: %s", strerror(errno));
		return;
	}
	inet_pton(AF_INET, "10.0.0.99", &a.sin_addr);
	if (mlw_connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno != EINPROGRESS) {
		test_peer_fail("connect: %s", strerror(errno));
		mlw_close(fd);
		return;
	}
	/* The first SYN is dropped; wait for its retransmission. */
	while (nsyn < 2 && test_now_ms() - t0 < 3000) {
		test_wire_pass();
		nsyn = 0;
		for (unsigned i = from; i < test_peer_log.n; i++)
			if (test_peer_log.seg[i].dport == pport && test_peer_log.seg[i].flags == 0x02)
				syn = &test_peer_log.seg[i], nsyn++;
	}
	if (nsyn < 2) {
		test_peer_fail("no SYN retransmission in 3 s (%u SYNs)", nsyn);
		mlw_close(fd);
		return;
	}
	lport = syn->sport;
	peer_seq = 70000;
	test_peer_send(pport, lport, 0x12, peer_seq, syn->seq + 1, 0xffff, o, syn_opts(o, true), 0);
	peer_seq++;
	test_peer_passes(2);
	if (send_flight(fd, pport, c) < 0) {
		mlw_close(fd);
		return;
	}
	sack_after_hole(c, pport);
	case_end(c, pport, fd);
}

/* Two holes (segments 0 and 4): SACKs of 1..3 and 5..9 arrive; both holes
 * must go out before any RTO, cwnd halved once. */
static void two_holes_case(int lfd)
{
	struct seen_case *c = &res.two;
	const uint16_t pport = 6002;
	int fd = open_and_send(lfd, pport, true, c);
	uint32_t blk[2][2];
	unsigned from;
	int64_t t0;

	if (fd < 0)
		return;
	case_begin();
	from = test_peer_log.n;
	t0 = test_now_ms();
	/* Segments 1, 2, 3 arrive: SACK [1, 4). */
	for (unsigned k = 1; k <= 3; k++) {
		blk[0][0] = c->seq[1];
		blk[0][1] = c->seq[k + 1];
		peer_ack(pport, c->seq[0], (uint16_t)(0xffff - 1000 * k), blk, 1);
		test_wire_pass();
	}
	/* Segments 5..9: the newest block first (RFC 2018). */
	for (unsigned k = 5; k <= 9; k++) {
		blk[0][0] = c->seq[5];
		blk[0][1] = c->seq[k + 1];
		blk[1][0] = c->seq[1];
		blk[1][1] = c->seq[4];
		peer_ack(pport, c->seq[0], (uint16_t)(0xffff - 1000 * k), blk, 2);
		test_wire_pass();
	}
	count_rexmits(c, pport, from);
	c->rexmit_in_pass = (c->rexmit[0] != 0) + (c->rexmit[4] != 0);
	c->rexmit_delay_ms = test_now_ms() - t0;
	case_end(c, pport, fd);
}

/* No SACK: three duplicates (lwIP's fast retransmit of segment 0), then a
 * partial ACK up to the second hole (segment 4): retransmitted at once. */
static void newreno_case(int lfd)
{
	struct seen_case *c = &res.newreno;
	const uint16_t pport = 6003;
	int fd = open_and_send(lfd, pport, false, c);
	unsigned from;
	int64_t t0;

	if (fd < 0)
		return;
	case_begin();
	from = test_peer_log.n;
	t0 = test_now_ms();
	for (unsigned k = 0; k < 3; k++) {
		peer_ack(pport, c->seq[0], 0xffff, NULL, 0);
		test_wire_pass();
	}
	/* Segment 0 arrives again: everything up to the second hole. */
	peer_ack(pport, c->seq[4], 0xffff, NULL, 0);
	test_wire_pass();
	count_rexmits(c, pport, from);
	c->rexmit_in_pass = (c->rexmit[0] != 0) + (c->rexmit[4] != 0);
	c->rexmit_delay_ms = test_now_ms() - t0;
	case_end(c, pport, fd);
}

/* The probe timer armed for the connection on @p pport, against Linux's
 * probe timeout, two RTTs (from the send time of the newest SACKed
 * segment, @p seq, to now) plus 2 ms: into c->timer_in_ms and
 * c->timer_bound_ms. */
static void probe_timer(struct seen_case *c, uint16_t pport, uint32_t seq)
{
	struct tcp_pcb *p = pcb_of(pport);
	uint32_t tsval = 0, due, now = sys_now();

	for (unsigned i = 0; i < test_peer_log.n; i++)
		if (test_peer_log.seg[i].dport == pport && test_peer_log.seg[i].seq == seq && test_peer_log.seg[i].ts)
			tsval = test_peer_log.seg[i].tsval;
	c->timer_armed = p != NULL && tsval != 0 && mlw__tcp_rec_deadline(p, &due);
	if (c->timer_armed) {
		c->timer_in_ms = (int32_t)(due - now);
		c->timer_bound_ms = 2 * (int64_t)(int32_t)(now - tsval) + 2;
	}
}

/* The hole's retransmission is lost too and the peer falls silent: the
 * probe timer (2 RTT, at least 10 ms) sends it again long before the RTO
 * (200 ms at least). */
static void lost_rexmit_case(int lfd)
{
	struct seen_case *c = &res.probe;
	const uint16_t pport = 6004;
	int fd;
	uint32_t blk[1][2];
	unsigned from;
	int64_t t0, t_last = 0;

	/* A short path: the probe timeout (2 x RTT + 2 ms) is then below the
	 * 10 ms floor it had. */
	peer_rtt_ms = 2;
	fd = open_and_send(lfd, pport, true, c);
	peer_rtt_ms = PEER_RTT_MS;
	if (fd < 0)
		return;
	case_begin();
	from = test_peer_log.n;
	t0 = test_now_ms();
	for (unsigned k = 3; k <= NSEG; k += 3) {
		blk[0][0] = c->seq[1];
		blk[0][1] = c->seq[k];
		peer_ack(pport, c->seq[0], 0xffff, blk, 1);
		test_wire_pass();
	}
	blk[0][1] = c->seq[NSEG];
	peer_ack(pport, c->seq[0], 0xffff, blk, 1);
	test_wire_pass();
	probe_timer(c, pport, c->seq[NSEG - 1]);
	count_rexmits(c, pport, from);
	c->rexmit_in_pass = c->rexmit[0];
	while (test_now_ms() - t0 < 120) {
		test_wire_pass();
		memset(c->rexmit, 0, sizeof(c->rexmit));
		t_last = count_rexmits(c, pport, from);
		if (c->rexmit[0] >= 2)
			break;
	}
	c->rexmit_delay_ms = c->rexmit[0] >= 2 ? t_last / 1000 - t0 : -1;
	case_end(c, pport, fd);
}

/* Reordering: only segment 1 is SACKed (below the duplicate threshold),
 * then the peer falls silent. Segment 0 is lost by RACK's rule an RTT plus
 * a quarter after it was sent: the timer is armed for that (at least 2 ms),
 * not for the 10 ms probe floor, and segment 0 goes once, before any RTO. */
static void reorder_case(int lfd)
{
	struct seen_case *c = &res.reo;
	const uint16_t pport = 6005;
	int fd = open_and_send(lfd, pport, true, c);
	uint32_t blk[1][2], tsval = 0, due, now;
	unsigned from;
	int64_t t0, t_last = 0;
	struct tcp_pcb *p;

	if (fd < 0)
		return;
	for (unsigned i = 0; i < test_peer_log.n; i++)
		if (test_peer_log.seg[i].dport == pport && test_peer_log.seg[i].seq == c->seq[1] &&
		    test_peer_log.seg[i].ts)
			tsval = test_peer_log.seg[i].tsval;
	case_begin();
	from = test_peer_log.n;
	t0 = test_now_ms();
	blk[0][0] = c->seq[1];
	blk[0][1] = c->seq[2];
	peer_ack(pport, c->seq[0], 0xffff, blk, 1);
	test_wire_pass();
	now = sys_now();
	p = pcb_of(pport);
	c->timer_armed = p != NULL && mlw__tcp_rec_deadline(p, &due);
	if (c->timer_armed) {
		/* The shard measured the RTT at or before now: bound it by ours. */
		int64_t rtt = (int32_t)(now - tsval);

		c->timer_in_ms = (int32_t)(due - now);
		c->timer_bound_ms = rtt + (rtt / 4 > 1 ? rtt / 4 : 1);
		if (c->timer_bound_ms < MLW_TCP_REC_REO_MIN_MS)
			c->timer_bound_ms = MLW_TCP_REC_REO_MIN_MS;
	}
	while (test_now_ms() - t0 < 150) {
		test_wire_pass();
		memset(c->rexmit, 0, sizeof(c->rexmit));
		t_last = count_rexmits(c, pport, from);
		if (c->rexmit[0] >= 1)
			break;
	}
	c->rexmit_delay_ms = c->rexmit[0] >= 1 ? t_last / 1000 - t0 : -1;
	case_end(c, pport, fd);
}

/* The last segment with data or FIN we sent to @p pport, logged from
 * @p from on; NULL if none. */
static const struct test_seg *last_sent(unsigned from, uint16_t pport)
{
	const struct test_seg *g = NULL;

	for (unsigned i = from; i < test_peer_log.n; i++) {
		const struct test_seg *h = &test_peer_log.seg[i];

		if (h->sport == lport && h->dport == pport && (h->plen > 0 || (h->flags & 0x01)))
			g = h;
	}
	return g;
}

/* A tail loss probe for data sent with nothing in flight: after a hole
 * (the connection has seen SACK blocks) everything is acknowledged; one
 * segment written then waits for the peer's delayed ACK as well
 * (MLW_TCP_REC_DELACK_MS); acknowledged, the last data and the FIN go out
 * and the peer falls silent (both lost): they are probed after two RTTs
 * plus MLW_TCP_REC_PTO_MIN_MS, not at the RTO (200 ms at least). Before,
 * only an ACK that left data in flight armed the probe. */
static void tail_case(int lfd)
{
	struct seen_case *c = &res.tail;
	const uint16_t pport = 6007;
	int fd = open_and_send(lfd, pport, true, c);
	const struct test_seg *g;
	uint32_t due, seq, now;
	struct tcp_pcb *p;
	unsigned from;
	int64_t t0;

	if (fd < 0)
		return;
	sack_after_hole(c, pport);
	peer_ack(pport, c->seq[NSEG], 0xffff, NULL, 0);
	test_peer_passes(2);
	case_begin();
	/* One segment, no FIN. */
	from = test_peer_log.n;
	if (mlw_write(fd, "0123456789", 10) != 10) {
		test_peer_fail("write: %s", strerror(errno));
		mlw_close(fd);
		return;
	}
	test_peer_passes(2);
	now = sys_now();
	p = pcb_of(pport);
	c->one_seg_timer_ms = p != NULL && mlw__tcp_rec_deadline(p, &due) ? (int32_t)(due - now) : -1;
	g = last_sent(from, pport);
	if (g == NULL || g->plen != 10) {
		test_peer_fail("the 10 bytes were not sent");
		mlw_close(fd);
		return;
	}
	peer_ack(pport, g->seq + g->plen, 0xffff, NULL, 0);
	test_peer_passes(2);
	/* The last data and the FIN, then silence. */
	from = test_peer_log.n;
	t0 = test_now_ms();
	if (mlw_write(fd, "abcdefghij", 10) != 10 || mlw_shutdown(fd, SHUT_WR) != 0) {
		test_peer_fail("write/shutdown: %s", strerror(errno));
		mlw_close(fd);
		return;
	}
	test_peer_passes(1);
	g = last_sent(from, pport);	/* the FIN, with the data or after them */
	seq = g != NULL ? g->seq : 0;
	c->tail_probe_ms = -1;
	while (g != NULL && test_now_ms() - t0 < 150 && c->tail_probe_ms < 0) {
		test_wire_pass();
		for (unsigned i = from; i < test_peer_log.n; i++) {
			const struct test_seg *h = &test_peer_log.seg[i];

			if (h->sport == lport && h->dport == pport && h != g && h->seq == seq && h->plen == g->plen &&
			    h->flags == g->flags)
				c->tail_probe_ms = h->t_us / 1000 - t0;
		}
	}
	{
		struct mlw_tcp_timer_stats tst;

		mlw__tcp_timer_stats(&tst);
		c->rto_fired = tst.rto_fired - tst0.rto_fired;
	}
	mlw_close(fd);
	test_peer_passes(2);
	c->ran = true;
}

/* The ACK we sent to @p pport logged from @p from on (the last one), relative
 * to @p base; seen false if none. */
static void last_ack(struct seen_ack *a, unsigned from, uint16_t pport, uint32_t base)
{
	const struct test_seg *g = test_peer_last(from, LPORT, pport, 0x10, 0x10);

	memset(a, 0, sizeof(*a));
	if (g == NULL)
		return;
	a->seen = true;
	a->ack = g->ack - base;
	a->nsack = g->nsack;
	for (unsigned i = 0; i < g->nsack && i < 4; i++) {
		a->sack[i][0] = g->sack[i][0] - base;
		a->sack[i][1] = g->sack[i][1] - base;
	}
}

/* D-SACK: the peer (SACK and timestamps) sends 1000 bytes at 0, the same
 * again (a duplicate: our ACK must carry [0, 1000) as its first block),
 * 1000 bytes at 2000 (a hole at 1000: one block [2000, 3000), the D-SACK
 * not repeated), 0..1000 once more ([0, 1000) first, then [2000, 3000)),
 * then the hole (ACK 3000, no block). Before, lwIP's ACKs carried no
 * block below the cumulative ACK: Linux senders never learnt that a
 * retransmission was spurious. */
static void dsack_case(int lfd)
{
	const uint16_t pport = 6008;
	uint32_t isn, base;
	struct mlw_tcp_recovery_stats r0, r1;
	unsigned from;
	int fd = peer_open(lfd, pport, true, 70000, &isn);

	if (fd < 0)
		return;
	base = peer_seq;
	mlw__tcp_recovery_stats(&r0);
#define DATA(off) (peer_data(pport, base + (off), isn + 1, 0xffff, 1000), test_peer_passes(2))
	DATA(0);
	from = test_peer_log.n;
	DATA(0);
	last_ack(&res.dsack.dup, from, pport, base);
	from = test_peer_log.n;
	DATA(2000);
	last_ack(&res.dsack.ooseq, from, pport, base);
	from = test_peer_log.n;
	DATA(0);
	last_ack(&res.dsack.dup_ooseq, from, pport, base);
	from = test_peer_log.n;
	DATA(1000);
	test_pump_ms(50);	/* past the delayed ACK */
	last_ack(&res.dsack.filled, from, pport, base);
#undef DATA
	mlw__tcp_recovery_stats(&r1);
	res.dsack.marked = r1.dsack_marked - r0.dsack_marked;
	res.dsack.sent = r1.dsack_sent - r0.dsack_sent;
	peer_seq = base + 3000;
	close_reset(fd, pport);
	res.dsack.ran = true;
}

/* Our data segments to @p pport logged from @p from on: the end of the
 * highest one, the newest TSval among those in [@p lo, @p hi) that are not
 * at @p skip (the hole), and how many were at @p skip. */
static void sent_scan(uint16_t pport, unsigned from, uint32_t skip, uint32_t lo, uint32_t hi, uint32_t *high,
		      uint32_t *newest_ts, unsigned *at_skip)
{
	*at_skip = 0;
	for (unsigned i = from; i < test_peer_log.n; i++) {
		const struct test_seg *g = &test_peer_log.seg[i];

		if (g->sport != lport || g->dport != pport || g->plen == 0)
			continue;
		if (g->seq == skip) {
			(*at_skip)++;
			continue;
		}
		if (high != NULL && (int32_t)(g->seq + g->plen - *high) > 0)
			*high = g->seq + g->plen;
		if (newest_ts != NULL && g->ts && (int32_t)(g->seq - lo) >= 0 && (int32_t)(g->seq + g->plen - hi) <= 0 &&
		    (int32_t)(g->tsval - *newest_ts) > 0)
			*newest_ts = g->tsval;
	}
}

/* The hole (segment 0) and each of its retransmissions are lost while the
 * peer SACKs the rest, new data included, on a fixed schedule: an ACK at
 * 0, 10, 40 and 50 ms (silent for 30 ms once, so that a probe fires).
 * - 10 ms: data sent with the hole's retransmission is SACKed: RACK will
 *   find that retransmission lost an RTT plus a quarter after it went, so
 *   the timer is armed for that, not for the probe timeout (2 RTT + 2 ms);
 * - 40 and 50 ms, after the probe fired: newly SACKed data restarts the
 *   probe timeout from its base; before, every ACK re-armed it doubled
 *   while snd_una stood still (the gaps of 2, 4, 8, 21 ms in the fault
 *   matrix's captures). */
static void rexmit_again_case(int lfd)
{
	static const int pause_ms[AGAIN_ROUNDS] = { 10, 30, 10, 30 };
	struct seen_case *c = &res.again;
	const uint16_t pport = 6009;
	static char more[NSEG * 1000];
	uint32_t blk[1][2], high, due;
	unsigned from, n;
	int fd = open_and_send(lfd, pport, true, c);

	if (fd < 0)
		return;
	memset(more, 'y', sizeof(more));
	if (mlw_write(fd, more, sizeof(more)) != (long)sizeof(more)) {
		test_peer_fail("write: %s", strerror(errno));
		return;
	}
	test_peer_passes(2);
	case_begin();
	from = test_peer_log.n;
	for (unsigned r = 0; r < AGAIN_ROUNDS; r++) {
		uint32_t newest = 0, rex_ts = 0;
		struct tcp_pcb *p;

		high = c->seq[NSEG];
		sent_scan(pport, 0, c->seq[0], 0, 0, &high, NULL, &n);
		/* The TSval of the hole's last retransmission, if any. */
		for (unsigned i = from; i < test_peer_log.n; i++)
			if (test_peer_log.seg[i].dport == pport && test_peer_log.seg[i].seq == c->seq[0] &&
			    test_peer_log.seg[i].plen > 0 && test_peer_log.seg[i].ts)
				rex_ts = test_peer_log.seg[i].tsval;
		blk[0][0] = c->seq[1];
		blk[0][1] = high;
		peer_ack(pport, c->seq[0], 0xffff, blk, 1);
		test_wire_pass();
		sent_scan(pport, 0, c->seq[0], c->seq[1], high, NULL, &newest, &n);
		p = pcb_of(pport);
		if (p == NULL || !mlw__tcp_rec_deadline(p, &due))
			break;
		res.again_t.timer_ms[r] = (int32_t)(due - sys_now());
		res.again_t.rtt_ms[r] = (int32_t)(sys_now() - newest);
		res.again_t.later_sacked[r] = rex_ts != 0 && (int32_t)(newest - rex_ts) >= 0;
		res.again_t.rounds = r + 1;
		/* The peer reads what arrives meanwhile (a frame left on the
		 * ring keeps its pbuf referenced, and a referenced segment is
		 * not sent again). */
		passes_ms(pause_ms[r]);
	}
	sent_scan(pport, from, c->seq[0], 0, 0, NULL, NULL, &res.again_t.hole_rexmits);
	/* The hole arrives at last: everything sent is acknowledged. */
	high = c->seq[NSEG];
	sent_scan(pport, 0, c->seq[0], 0, 0, &high, NULL, &n);
	c->seq[NSEG] = high;
	case_end(c, pport, fd);
}

/* The highest end of our data segments to @p pport logged from @p from on,
 * relative to @p base; 0 if none. */
static uint32_t sent_high(uint16_t pport, unsigned from, uint32_t base)
{
	uint32_t high = 0;

	for (unsigned i = from; i < test_peer_log.n; i++) {
		const struct test_seg *g = &test_peer_log.seg[i];

		if (g->sport == lport && g->dport == pport && g->plen > 0 && g->seq + g->plen - base > high)
			high = g->seq + g->plen - base;
	}
	return high;
}

/* The peer's window after a data segment it sent again. The peer sends
 * 500 bytes, then a pure ACK (its sequence number past them) with a window
 * of 4000; we send 4000. The peer then sends its 500 bytes again, as
 * Linux's recovery does, acknowledging 2000 with a window of 2000: the
 * right edge stays at 4000 and nothing new may go. lwIP took no window
 * from a segment older than the last one that gave it (snd_wl1) but
 * measures the window it has from the newest ACK, so it moved the edge to
 * 6000 and sent past the peer's window; Linux drops such segments without
 * reading their ACK, and the echo of the fault matrix (mlw_cli, 5% loss)
 * stalled until its timeout. Last, a pure ACK of 4000 with a window of
 * 4000 lets 4000 more go (the case can fail both ways). */
static void stale_window_case(int lfd)
{
	const uint16_t pport = 6010;
	static char buf[12000];
	uint32_t isn, base;
	unsigned from;
	int fd = open_nodelay(lfd, pport, 90000, &isn);

	if (fd < 0)
		return;
	base = peer_seq;
	peer_data(pport, base, isn + 1, 0xffff, 500);
	test_peer_passes(2);
	peer_seq = base + 500;
	peer_ack(pport, isn + 1, 4000, NULL, 0);
	test_peer_passes(2);
	memset(buf, 'w', sizeof(buf));
	from = test_peer_log.n;
	if (mlw_write(fd, buf, sizeof(buf)) != (long)sizeof(buf)) {
		test_peer_fail("write: %s", strerror(errno));
		return;
	}
	test_peer_passes(3);
	res.stale.first_end = sent_high(pport, from, isn + 1);
	/* The old segment: sequence number below the pure ACK's. */
	from = test_peer_log.n;
	peer_data(pport, base, isn + 1 + 2000, 2000, 500);
	test_peer_passes(3);
	res.stale.edge = 4000;
	res.stale.high_after_old = sent_high(pport, from, isn + 1);
	from = test_peer_log.n;
	peer_ack(pport, isn + 1 + 4000, 4000, NULL, 0);
	test_peer_passes(3);
	res.stale.high_after_fresh = sent_high(pport, from, isn + 1);
	close_reset(fd, pport);
	res.stale.ran = true;
}

/* Zero-window probes. We send 1000 bytes; the peer acknowledges them
 * with its window closed (as Linux does when its buffer is full); the
 * application writes 2000 more; the first probe is due after one RTO. The
 * peer then
 * sends 500 bytes with its window still closed, and our ACK of them must
 * carry the sequence number the peer expects (ISN + 1001): Linux accepts
 * nothing else into a closed window (RFC 9293 3.10.7.4) and drops the
 * segment without reading its ACK. lwIP's probe was a byte of data without
 * timestamps that moved snd_nxt past the window: every ACK after it was
 * dropped, and an echo whose peer waited for them to free its send buffer
 * (mlw_cli, 5% loss) stalled for good. Last the peer opens the window and
 * the 2000 bytes go. */
static void closed_window_case(int lfd)
{
	const uint16_t pport = 6011;
	static char buf[2000];
	uint32_t isn, base;
	unsigned from;
	int fd = open_nodelay(lfd, pport, 110000, &isn);
	const struct test_seg *a;

	if (fd < 0)
		return;
	base = peer_seq;
	memset(buf, 'z', sizeof(buf));
	if (mlw_write(fd, buf, 1000) != 1000)
		test_peer_fail("write: %s", strerror(errno));
	test_peer_passes(2);
	peer_ack(pport, isn + 1 + 1000, 0, NULL, 0);
	test_peer_passes(2);
	from = test_peer_log.n;
	if (mlw_write(fd, buf, sizeof(buf)) != (long)sizeof(buf)) {
		test_peer_fail("write: %s", strerror(errno));
		return;
	}
	/* Until the first probe (one RTO, 200 ms at least; about 560 ms on
	 * this connection's few RTT samples), at most 3 s. */
	for (int64_t t0 = test_now_ms(); test_now_ms() - t0 < 3000 && test_peer_last(from, lport, pport, 0, 0) == NULL;)
		test_wire_pass();
	for (unsigned i = from; i < test_peer_log.n; i++) {
		const struct test_seg *g = &test_peer_log.seg[i];

		if (g->sport != lport || g->dport != pport)
			continue;
		res.closed.probes++;
		res.closed.probes_without_ts += !g->ts;
		res.closed.probes_with_data += g->plen > 0;
	}
	from = test_peer_log.n;
	peer_data(pport, base, isn + 1 + 1000, 0, 500);
	peer_seq = base + 500;
	passes_ms(50);	/* past the delayed ACK */
	a = test_peer_last(from, lport, pport, 0x10, 0x10);
	if (a != NULL && a->ack == base + 500) {
		res.closed.acked = true;
		res.closed.ack_seq = a->seq - (isn + 1 + 1000);
	}
	from = test_peer_log.n;
	peer_ack(pport, isn + 1 + 1000, 4000, NULL, 0);
	test_peer_passes(3);
	res.closed.sent_after_open = sent_high(pport, from, isn + 1 + 1000);
	close_reset(fd, pport);
	res.closed.ran = true;
}

static void run(void)
{
	int lfd;

	if (!test_peer_init("10.0.0.99", "10.0.0.2")) {
		test_peer_fail("no DPDK netif");
		return;
	}
	lfd = test_peer_listen(LPORT);
	if (lfd < 0)
		return;
	one_hole_case(lfd);
	two_holes_case(lfd);
	newreno_case(lfd);
	lost_rexmit_case(lfd);
	lost_syn_case();
	reorder_case(lfd);
	tail_case(lfd);
	dsack_case(lfd);
	rexmit_again_case(lfd);
	stale_window_case(lfd);
	closed_window_case(lfd);
	mlw_close(lfd);
	test_pump_ms(50);
}

static unsigned bad_heaps;

static void check_ran(const struct seen_case *c)
{
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s", test_peer_failure());
	assert_true(c->ran);
}

static void print_case(const char *name, const struct seen_case *c)
{
	printf("%s: retransmissions", name);
	for (unsigned k = 0; k < NSEG; k++)
		printf(" %u", c->rexmit[k]);
	printf("; holes sent in %lld ms, rto %llu, episodes %llu, MIB %llu, cwnd %u -> %u (ssthresh %u)\n",
	       (long long)c->rexmit_delay_ms, (unsigned long long)c->rto_fired,
	       (unsigned long long)c->episodes, (unsigned long long)c->mib_rexmits, c->cwnd_before,
	       c->cwnd_after, c->ssthresh_after);
}

static void check_one_hole(const struct seen_case *c)
{
	assert_int_equal(c->rexmit[0], 1);	/* at once, once */
	for (unsigned k = 1; k < NSEG; k++)
		assert_int_equal(c->rexmit[k], 0);	/* SACKed: never again */
	assert_int_equal(c->rto_fired, 0);
	assert_true(c->rexmit_delay_ms < 150);	/* the RTO is 200 ms at least */
	assert_int_equal(c->episodes, 1);
	assert_int_equal(c->mib_rexmits, 1);
	assert_true(c->all_acked);
}

static void test_one_hole(void **state)
{
	(void)state;
	check_ran(&res.one);
	print_case("one hole", &res.one);
	check_one_hole(&res.one);
}

/* The same after a lost SYN on an active open. */
static void test_after_lost_syn(void **state)
{
	(void)state;
	check_ran(&res.syn);
	print_case("after a lost SYN", &res.syn);
	check_one_hole(&res.syn);
}

static void test_two_holes(void **state)
{
	const struct seen_case *c = &res.two;

	(void)state;
	check_ran(c);
	print_case("two holes", c);
	assert_int_equal(c->rexmit[0], 1);
	assert_int_equal(c->rexmit[4], 1);
	for (unsigned k = 1; k < NSEG; k++)
		if (k != 4)
			assert_int_equal(c->rexmit[k], 0);
	assert_int_equal(c->rto_fired, 0);
	assert_true(c->rexmit_delay_ms < 150);
	/* cwnd halved once for both holes: ssthresh is half the flight of
	 * ten segments, not a quarter. */
	assert_int_equal(c->episodes, 1);
	assert_true(c->ssthresh_after >= 4 * 1000 && c->ssthresh_after <= 6 * 1000);
	assert_int_equal(c->mib_rexmits, 2);
	assert_true(c->all_acked);
}

static void test_newreno_partial_ack(void **state)
{
	const struct seen_case *c = &res.newreno;

	(void)state;
	check_ran(c);
	print_case("newreno", c);
	assert_int_equal(c->rexmit[0], 1);	/* lwIP's fast retransmit */
	assert_int_equal(c->rexmit[4], 1);	/* the partial ACK's */
	for (unsigned k = 1; k < NSEG; k++)
		if (k != 4)
			assert_int_equal(c->rexmit[k], 0);
	assert_int_equal(c->rto_fired, 0);
	assert_true(c->rexmit_delay_ms < 150);
	assert_int_equal(c->episodes, 1);
	assert_true(c->ssthresh_after >= 4 * 1000 && c->ssthresh_after <= 6 * 1000);
	assert_int_equal(c->mib_rexmits, 2);
	assert_true(c->all_acked);
}

static void test_lost_rexmit_probe(void **state)
{
	const struct seen_case *c = &res.probe;

	(void)state;
	check_ran(c);
	print_case("lost retransmission", c);
	printf("lost retransmission: probe timer in %lld ms (Linux's 2 RTT + 2 ms: %lld ms)\n",
	       (long long)c->timer_in_ms, (long long)c->timer_bound_ms);
	/* At the SACKs, then at the probe timeout (a slow pass between the
	 * SACKs, in a sanitizer build, may let one more probe out). */
	assert_true(c->rexmit_in_pass >= 1);
	assert_true(c->rexmit[0] >= 2);
	for (unsigned k = 1; k < NSEG; k++)
		assert_int_equal(c->rexmit[k], 0);
	assert_int_equal(c->rto_fired, 0);
	assert_true(c->timer_armed);
	assert_true(c->timer_in_ms <= c->timer_bound_ms);	/* not the 10 ms floor it had */
	assert_true(c->rexmit_delay_ms >= MLW_TCP_REC_PTO_MIN_MS && c->rexmit_delay_ms < 150);
	assert_int_equal(c->episodes, 1);
	assert_true(c->all_acked);
}

static void test_reorder_timer(void **state)
{
	const struct seen_case *c = &res.reo;

	(void)state;
	check_ran(c);
	print_case("reordering", c);
	printf("reordering: timer in %lld ms (RACK bound %lld ms, probe floor %d ms)\n", (long long)c->timer_in_ms,
	       (long long)c->timer_bound_ms, MLW_TCP_REC_PTO_MIN_MS);
	assert_true(c->timer_armed);
	assert_true(c->timer_in_ms <= c->timer_bound_ms);
	assert_int_equal(c->rexmit[0], 1);
	for (unsigned k = 1; k < NSEG; k++)
		assert_int_equal(c->rexmit[k], 0);
	assert_int_equal(c->rto_fired, 0);
	assert_int_equal(c->episodes, 1);
	assert_true(c->all_acked);
}

static void test_tail_probe(void **state)
{
	const struct seen_case *c = &res.tail;

	(void)state;
	check_ran(c);
	printf("tail: one segment out: probe timer in %lld ms (delayed-ACK allowance %d ms); the data and FIN "
	       "probed after %lld ms, rto %llu\n",
	       (long long)c->one_seg_timer_ms, MLW_TCP_REC_DELACK_MS, (long long)c->tail_probe_ms,
	       (unsigned long long)c->rto_fired);
	assert_true(c->one_seg_timer_ms >= MLW_TCP_REC_DELACK_MS / 2);
	assert_true(c->tail_probe_ms >= 0 && c->tail_probe_ms < 150);
	assert_int_equal(c->rto_fired, 0);
}

static void print_ack(const char *what, const struct seen_ack *a)
{
	printf("dsack: %s: ack %u, blocks", what, a->ack);
	for (unsigned i = 0; i < a->nsack; i++)
		printf(" [%u, %u)", a->sack[i][0], a->sack[i][1]);
	printf("%s\n", a->seen ? "" : " (no ACK seen)");
}

static void test_dsack(void **state)
{
	(void)state;
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s", test_peer_failure());
	assert_true(res.dsack.ran);
	print_ack("duplicate", &res.dsack.dup);
	print_ack("out of order", &res.dsack.ooseq);
	print_ack("duplicate with a hole", &res.dsack.dup_ooseq);
	print_ack("hole filled", &res.dsack.filled);
	printf("dsack: marked %llu, sent %llu\n", (unsigned long long)res.dsack.marked,
	       (unsigned long long)res.dsack.sent);
	/* the duplicate: [0, 1000) below the cumulative ACK, first */
	assert_true(res.dsack.dup.seen);
	assert_int_equal(res.dsack.dup.ack, 1000);
	assert_int_equal(res.dsack.dup.nsack, 1);
	assert_int_equal(res.dsack.dup.sack[0][0], 0);
	assert_int_equal(res.dsack.dup.sack[0][1], 1000);
	/* reported once: the next ACK has the out-of-order block alone */
	assert_true(res.dsack.ooseq.seen);
	assert_int_equal(res.dsack.ooseq.ack, 1000);
	assert_int_equal(res.dsack.ooseq.nsack, 1);
	assert_int_equal(res.dsack.ooseq.sack[0][0], 2000);
	assert_int_equal(res.dsack.ooseq.sack[0][1], 3000);
	/* a duplicate while a hole is open: the D-SACK, then lwIP's block */
	assert_true(res.dsack.dup_ooseq.seen);
	assert_int_equal(res.dsack.dup_ooseq.ack, 1000);
	assert_int_equal(res.dsack.dup_ooseq.nsack, 2);
	assert_int_equal(res.dsack.dup_ooseq.sack[0][0], 0);
	assert_int_equal(res.dsack.dup_ooseq.sack[0][1], 1000);
	assert_int_equal(res.dsack.dup_ooseq.sack[1][0], 2000);
	assert_int_equal(res.dsack.dup_ooseq.sack[1][1], 3000);
	/* the hole filled: everything acknowledged, nothing left to SACK */
	assert_true(res.dsack.filled.seen);
	assert_int_equal(res.dsack.filled.ack, 3000);
	assert_int_equal(res.dsack.filled.nsack, 0);
	assert_int_equal(res.dsack.marked, 2);
	assert_int_equal(res.dsack.sent, 2);
}

static void test_rexmit_lost_again(void **state)
{
	const struct seen_case *c = &res.again;

	(void)state;
	check_ran(c);
	printf("lost again: %u retransmissions of the hole in %u rounds, rto %llu\n", res.again_t.hole_rexmits,
	       res.again_t.rounds, (unsigned long long)c->rto_fired);
	for (unsigned r = 0; r < res.again_t.rounds; r++)
		printf("lost again: round %u: timer in %lld ms, RTT %lld ms, data sent after the retransmission SACKed: %s\n",
		       r, (long long)res.again_t.timer_ms[r], (long long)res.again_t.rtt_ms[r],
		       res.again_t.later_sacked[r] ? "yes" : "no");
	assert_int_equal(res.again_t.rounds, AGAIN_ROUNDS);
	/* At the first ACK, then at the timers (in the silences). */
	assert_true(res.again_t.hole_rexmits >= 3);
	assert_int_equal(c->rto_fired, 0);
	/* 10 ms: the data sent with the retransmission is SACKed: RACK's
	 * reordering window, an RTT plus a quarter (at least 1 ms; one more
	 * for the clock's tick), not the probe timeout. */
	assert_true(res.again_t.later_sacked[1]);
	assert_true(res.again_t.timer_ms[1] <=
		    res.again_t.rtt_ms[1] + (res.again_t.rtt_ms[1] / 4 > 1 ? res.again_t.rtt_ms[1] / 4 : 1) + 1);
	/* After the probe: no backoff while data is newly SACKed. */
	for (unsigned r = 2; r < AGAIN_ROUNDS; r++)
		assert_true(res.again_t.timer_ms[r] <= 2 * res.again_t.rtt_ms[r] + MLW_TCP_REC_PTO_MIN_MS + 1);
	assert_true(c->all_acked);
}

static void test_stale_window(void **state)
{
	(void)state;
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s", test_peer_failure());
	assert_true(res.stale.ran);
	printf("stale window: first flight to %u, edge %u; after the old segment sent to %u, after the fresh ACK to %u\n",
	       res.stale.first_end, res.stale.edge, res.stale.high_after_old, res.stale.high_after_fresh);
	assert_int_equal(res.stale.first_end, 4000);	/* the peer's first window, all of it */
	assert_true(res.stale.high_after_old <= res.stale.edge);
	assert_int_equal(res.stale.high_after_fresh, 8000);
}

static void test_closed_window(void **state)
{
	(void)state;
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s", test_peer_failure());
	assert_true(res.closed.ran);
	printf("closed window: %u probes (%u without timestamps, %u with data); the ACK after them "
	       "%s at the edge + %u; %u bytes sent once the window opened\n",
	       res.closed.probes, res.closed.probes_without_ts, res.closed.probes_with_data,
	       res.closed.acked ? "seq" : "(none)", res.closed.ack_seq, res.closed.sent_after_open);
	assert_true(res.closed.probes >= 1);
	assert_int_equal(res.closed.probes_without_ts, 0);
	assert_true(res.closed.acked);
	assert_int_equal(res.closed.ack_seq, 0);
	assert_int_equal(res.closed.sent_after_open, 2000);
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_hole),
		cmocka_unit_test(test_two_holes),
		cmocka_unit_test(test_newreno_partial_ack),
		cmocka_unit_test(test_lost_rexmit_probe),
		cmocka_unit_test(test_after_lost_syn),
		cmocka_unit_test(test_reorder_timer),
		cmocka_unit_test(test_tail_probe),
		cmocka_unit_test(test_dsack),
		cmocka_unit_test(test_rexmit_lost_again),
		cmocka_unit_test(test_stale_window),
		cmocka_unit_test(test_closed_window),
		cmocka_unit_test(test_no_leak),
	};
	int rc = test_stack_run("mlwrecovery", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", run,
				&bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("tcp_recovery", tests, NULL, NULL);
}
