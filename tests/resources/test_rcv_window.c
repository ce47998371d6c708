/* test_rcv_window.c - the receive window a socket's SO_RCVBUF (or [stack] tcp_rcvbuf) leaves never ends left of the right edge already announced (RFC 9293 3.8.6.2.2), so a peer that keeps to the announced window, with its segments reordered, never meets lwIP's "tcp_receive: ooseq tcplen > rcv_wnd" assertion (issue 12).
 *
 * main -> test_stack_run(one shard on net_ring0) -> run(): the peer
 * 10.0.0.99 is played by frames put into lwIP's input (test_peer.c). It
 * learns the window from the shard's segments and sends full segments
 * inside it, each pair swapped (the second first, then the first: an
 * out-of-order segment reaches an empty ooseq queue each time), while the
 * application does not read; then the application reads all and the peer
 * goes on. What the shard sent is read off the ring. Two cases:
 *   open:       the peer's SYN offers window scaling and the stack's
 *               default tcp_rcvbuf (256 KiB) is below TCP_WND (2 MiB). lwIP
 *               recorded the SYN-ACK's right edge at TCP_WND though the
 *               segment offered 0xffff; the socket layer cut the window to
 *               256 KiB but kept announcing 2 MiB, and the pair that
 *               straddled 256 KiB crashed the shard.
 *   setsockopt: no window scaling (a 64 KiB window), then SO_RCVBUF 5000
 *               on the open connection: the window was cut to 5000 bytes
 *               at once, 60 KiB left of the edge already announced.
 *   overrun:    no cut at all: the peer sends a segment that straddles the
 *               announced right edge out of order, then the data before
 *               it (lwIP's own assertion, reached by a sender whose edge
 *               moved past ours; lwip-port/input_guard.c drops it).
 * Each case records what it saw in res; the CMocka tests after the run
 * assert it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "lwip/tcp.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "test_frame.h"
#include "test_stack.h"
#include "test_peer.h"

#define LPORT 80
#define SEG 1460	/* the peer's segments: the MSS, no timestamps */

struct flow {
	uint16_t pport;
	uint32_t base;		/* the peer's first data byte's sequence number */
	uint32_t isn;		/* ours */
	unsigned scale;		/* our window's shift, 0 without window scaling */
	uint32_t sent;		/* bytes the peer sent (all of them in order by now) */
	uint32_t read;		/* bytes the application read */
	uint32_t bad_bytes;	/* bytes read that differ from what was sent */
	int fd;
};

struct rcase {
	bool ran;
	uint16_t synack_wnd;
	uint32_t max_wnd;	/* the largest window the shard announced, bytes */
	uint32_t held_wnd;	/* the window announced once the application read all */
	uint32_t sent, read, bad_bytes, acked;
	unsigned edge_back;	/* segments whose right edge lay left of an earlier one's */
	unsigned edge_back_by;	/* by how many bytes, the most */
};

static struct {
	struct rcase open, sso;
	int sso_set;
	/* overrun */
	bool ovr_ran;
	uint32_t ovr_edge;	/* the window announced, bytes past the first data byte */
	uint32_t ovr_read, ovr_bad, ovr_acked;
} res;

/* The right edge of what the shard announced on @p f so far, and the
 * largest window, from log index @p from on; a SYN's window is never
 * scaled. Counts (in @p c) a segment whose edge lies left of an earlier
 * one's. */
static uint32_t edge_seen(const struct flow *f, struct rcase *c)
{
	uint32_t edge = 0;
	bool any = false;

	c->edge_back = 0;
	c->edge_back_by = 0;
	for (unsigned i = 0; i < test_peer_log.n; i++) {
		const struct test_seg *s = &test_peer_log.seg[i];
		uint32_t w, e;

		if (s->sport != LPORT || s->dport != f->pport || !(s->flags & 0x10))
			continue;
		w = (s->flags & 0x02) ? s->wnd : (uint32_t)s->wnd << f->scale;
		e = s->ack + w;
		if (w > c->max_wnd && !(s->flags & 0x02))
			c->max_wnd = w;
		/* A scaled window is announced rounded down to its unit
		 * (lwIP: rcv_ann_wnd >> rcv_scale), so a right edge held in
		 * place reads up to a unit less from one segment to the next:
		 * moving left by a whole unit or more is shrinking it. */
		if (any && (int32_t)(e - edge) < 0) {
			if (edge - e >= (1u << f->scale))
				c->edge_back++;
			if (edge - e > c->edge_back_by)
				c->edge_back_by = edge - e;
			continue;
		}
		edge = e;
		any = true;
	}
	return edge;
}

/* The peer sends full segments in the window it knows until @p upto bytes
 * are sent or the window is full, each pair second first. */
static void send_flight(struct flow *f, struct rcase *c, uint32_t upto)
{
	for (unsigned idle = 0; f->sent + SEG <= upto && idle < 3;) {
		uint32_t edge = edge_seen(f, c), next = f->base + f->sent;

		if ((int32_t)(edge - (next + SEG)) < 0) {
			/* A delayed ACK may still bring a larger window. */
			test_pump_ms(50);
			test_peer_passes(2);
			idle++;
			continue;
		}
		idle = 0;
		if ((int32_t)(edge - (next + 2 * SEG)) >= 0 && f->sent + 2 * SEG <= upto) {
			test_peer_send(f->pport, LPORT, 0x18, next + SEG, f->isn + 1, 0xffff, NULL, 0, SEG);
			test_peer_passes(1);
			test_peer_send(f->pport, LPORT, 0x18, next, f->isn + 1, 0xffff, NULL, 0, SEG);
			f->sent += 2 * SEG;
		} else {
			test_peer_send(f->pport, LPORT, 0x18, next, f->isn + 1, 0xffff, NULL, 0, SEG);
			f->sent += SEG;
		}
		test_peer_passes(2);
	}
}

/* The application reads all there is, checking each byte: the peer's
 * segments carry 0, 1, 2, ... from each segment's start. */
static void read_all(struct flow *f)
{
	uint8_t buf[4096];

	for (unsigned tries = 0; tries < 200 && f->read < f->sent; tries++) {
		ssize_t n = mlw_recv(f->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EAGAIN) {
			test_peer_passes(1);
			continue;
		}
		if (n <= 0) {
			test_peer_fail("port %u: recv %zd (%s) after %u bytes", f->pport, n, strerror(errno),
				       f->read);
			return;
		}
		for (ssize_t i = 0; i < n; i++)
			f->bad_bytes += buf[i] != (uint8_t)((f->read + (uint32_t)i) % SEG);
		f->read += (uint32_t)n;
	}
	test_peer_passes(3);
}

/* The peer's SYN (MSS 1460; window scale 7 if @p wscale) from @p pport,
 * the handshake's end, accepted. */
static bool open_flow(int lfd, struct flow *f, uint16_t pport, bool wscale, struct rcase *c)
{
	static const uint8_t syn_opts[8] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07 };
	unsigned from = test_peer_log.n;
	const struct test_seg *sa;
	const uint32_t seq = 70000u * pport;

	memset(f, 0, sizeof(*f));
	f->pport = pport;
	f->base = seq + 1;
	f->scale = wscale ? TCP_RCV_SCALE : 0;
	test_peer_send(pport, LPORT, 0x02, seq, 0, 0xffff, syn_opts, wscale ? 8 : 4, 0);
	f->fd = test_peer_accept(lfd, LPORT, pport, from, seq, NULL, 0, &f->isn);
	if (f->fd < 0)
		return false;
	sa = test_peer_last(from, LPORT, pport, 0x12, 0x12);
	c->synack_wnd = sa != NULL ? sa->wnd : 0;
	c->ran = true;
	return true;
}

static void finish(struct flow *f, struct rcase *c)
{
	const struct test_seg *last;

	read_all(f);
	test_pump_ms(50);
	test_peer_passes(2);
	last = test_peer_last(0, LPORT, f->pport, 0x10, 0x10);
	c->acked = last != NULL ? last->ack - f->base : 0;
	edge_seen(f, c);
	c->sent = f->sent;
	c->read = f->read;
	c->bad_bytes = f->bad_bytes;
	mlw_close(f->fd);
	/* The peer acknowledges our FIN and closes too. */
	test_peer_passes(2);
	test_peer_send(f->pport, LPORT, 0x11, f->base + f->sent, f->isn + 2, 0xffff, NULL, 0, 0);
	test_peer_passes(3);
}

/* Window scaling, tcp_rcvbuf's 256 KiB: the window the peer learns after
 * the first data, filled without reading; then all read and 200 KiB more. */
static void open_case(int lfd)
{
	struct rcase *c = &res.open;
	struct flow f;
	const struct test_seg *last;

	if (!open_flow(lfd, &f, 6001, true, c))
		return;
	send_flight(&f, c, 600 * SEG);
	read_all(&f);
	test_pump_ms(50);
	test_peer_passes(2);
	last = test_peer_last(0, LPORT, f.pport, 0x10, 0x10);
	c->held_wnd = last != NULL ? (uint32_t)last->wnd << f.scale : 0;
	send_flight(&f, c, f.sent + 140 * SEG);
	finish(&f, c);
}

/* No window scaling (64 KiB), two segments read, then SO_RCVBUF 5000: the
 * peer fills the window announced before, the application reads all, and
 * the peer goes on in the 5000 bytes left. */
static void setsockopt_case(int lfd)
{
	struct rcase *c = &res.sso;
	struct flow f;
	const struct test_seg *last;
	int v = 5000;

	if (!open_flow(lfd, &f, 6002, false, c))
		return;
	send_flight(&f, c, 2 * SEG);
	read_all(&f);
	res.sso_set = mlw_setsockopt(f.fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	send_flight(&f, c, 200 * SEG);
	read_all(&f);
	test_pump_ms(50);
	test_peer_passes(2);
	last = test_peer_last(0, LPORT, f.pport, 0x10, 0x10);
	c->held_wnd = last != NULL ? last->wnd : 0;
	send_flight(&f, c, f.sent + 20 * SEG);
	finish(&f, c);
}

/* No window scaling, nothing cut (64 KiB): the peer sends the segment
 * that straddles the announced right edge first, out of order (as an RFC
 * 793 sender whose SND.UNA moved without a window update may, or one that
 * misbehaves), then the data before it in order, then that segment again.
 * lwIP kept the first whole and asserted once the data before it came; the
 * input guard drops it, and lwIP cuts the second to the window. */
static void overrun_case(int lfd)
{
	struct rcase c = { 0 };
	struct flow f;
	const struct test_seg *last;
	uint32_t k, x;

	if (!open_flow(lfd, &f, 6003, false, &c))
		return;
	res.ovr_ran = true;
	res.ovr_edge = c.synack_wnd;
	x = res.ovr_edge / SEG * SEG;	/* the straddling segment's offset */
	test_peer_send(f.pport, LPORT, 0x18, f.base + x, f.isn + 1, 0xffff, NULL, 0, SEG);
	test_peer_passes(2);
	for (k = 0; k < x; k += SEG) {
		test_peer_send(f.pport, LPORT, 0x18, f.base + k, f.isn + 1, 0xffff, NULL, 0, SEG);
		test_peer_passes(1);
	}
	test_peer_send(f.pport, LPORT, 0x18, f.base + x, f.isn + 1, 0xffff, NULL, 0, SEG);
	test_peer_passes(2);
	f.sent = res.ovr_edge;
	read_all(&f);
	test_pump_ms(50);
	test_peer_passes(2);
	last = test_peer_last(0, LPORT, f.pport, 0x10, 0x10);
	res.ovr_acked = last != NULL ? last->ack - f.base : 0;
	res.ovr_read = f.read;
	res.ovr_bad = f.bad_bytes;
	/* The peer resets: its next bytes do not follow the pattern. */
	mlw_close(f.fd);
	test_peer_send(f.pport, LPORT, 0x04, f.base + f.read, 0, 0, NULL, 0, 0);
	test_peer_passes(2);
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
	open_case(lfd);
	setsockopt_case(lfd);
	overrun_case(lfd);
	mlw_close(lfd);
	test_pump_ms(50);
}

static unsigned bad_heaps;

static void check_ran(const struct rcase *c)
{
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s", test_peer_failure());
	assert_true(c->ran);
}

/* Everything the peer sent arrived, byte for byte, and was acknowledged;
 * the announced right edge never moved left. */
static void assert_transfer(const struct rcase *c, uint32_t at_least)
{
	printf("sent %u read %u acked %u, largest window %u, after the reads %u; edge moved left %u times (by %u at most)\n",
	       c->sent, c->read, c->acked, c->max_wnd, c->held_wnd, c->edge_back, c->edge_back_by);
	assert_true(c->sent >= at_least);
	assert_int_equal(c->read, c->sent);
	assert_int_equal(c->bad_bytes, 0);
	assert_int_equal(c->acked, c->sent);
	assert_int_equal(c->edge_back, 0);
}

static void test_open_window(void **state)
{
	(void)state;
	check_ran(&res.open);
	/* The SYN-ACK's window (unscaled) and then never more than the
	 * default tcp_rcvbuf (256 KiB), though TCP_WND is 2 MiB. */
	assert_int_equal(res.open.synack_wnd, 0xffff);
	assert_true(res.open.max_wnd <= 256u * 1024);
	assert_true(res.open.max_wnd >= 256u * 1024 - 4 * SEG);
	assert_true(res.open.held_wnd <= 256u * 1024);
	/* 600 segments were asked; the window held the first flight to 256 KiB. */
	assert_transfer(&res.open, 300 * SEG);
}

static void test_setsockopt_window(void **state)
{
	(void)state;
	check_ran(&res.sso);
	assert_int_equal(res.sso_set, 0);
	/* The 64 KiB announced before SO_RCVBUF was filled... */
	assert_true(res.sso.max_wnd >= 0xffff - 4 * SEG);
	/* ... and once read, the window is the 5000 bytes SO_RCVBUF left. */
	assert_true(res.sso.held_wnd > 0);
	assert_true(res.sso.held_wnd <= 5000);
	assert_transfer(&res.sso, 0xffff - 2 * SEG);
}

static void test_overrun_dropped(void **state)
{
	(void)state;
	if (test_peer_failure()[0] != '\0')
		fail_msg("%s", test_peer_failure());
	assert_true(res.ovr_ran);
	assert_int_equal(res.ovr_edge, 0xffff);
	/* All of the window, the straddling segment cut to it, byte-exact. */
	assert_int_equal(res.ovr_read, res.ovr_edge);
	assert_int_equal(res.ovr_bad, 0);
	assert_int_equal(res.ovr_acked, res.ovr_edge);
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_window),
		cmocka_unit_test(test_setsockopt_window),
		cmocka_unit_test(test_overrun_dropped),
		cmocka_unit_test(test_no_leak),
	};
	int rc;

	rc = test_stack_run("mlwrcvwnd", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", run,
			    &bad_heaps);
	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("rcv_window", tests, NULL, NULL);
}
