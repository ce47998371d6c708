/* test_sockopts_wire.c - socket options seen on the wire, where Linux cannot be the oracle: TCP_MAXSEG and SO_RCVBUF in the SYN and SYN-ACK, the receive window SO_RCVBUF leaves, SO_SNDBUF's limit, TCP_CORK, TCP_INFO after a transfer, TCP_USER_TIMEOUT with a peer that stops acknowledging.
 *
 * main -> test_stack_run(one shard on net_ring0, whose TX ring loops back to
 * its RX ring) -> run(): the peer 10.0.0.99 is played by frames put into
 * lwIP's input (ARP request, SYN, ACK, data); what the shard sends is read
 * off the ring before the shard's RX sees it (pass()), and logged. Each case
 * records what it saw in res; the CMocka tests after the run assert it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
/* <netinet/tcp.h> defines TCP_MSS (536) as lwipopts.h does: lwIP's is meant. */
#undef TCP_MSS
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dpdk_netif.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "test_frame.h"
#include "test_stack.h"

#define MAX_LOG 4096

/* A TCP segment the shard sent. */
struct seg {
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t wnd;
	unsigned plen;
	uint16_t mss;	/* MSS option, 0: none */
};

static struct seg wire[MAX_LOG];
static unsigned nwire;
static uint8_t our_mac[6];
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x63 };
static struct netif *nif;
static struct mlw_txq *txq;

static struct {
	char why[256];		/* first failure of the run, if any */
	/* SYN of connect */
	uint16_t syn_mss, syn_mss_plain, syn_wnd, syn_wnd_plain;
	/* listener with TCP_MAXSEG 700, SO_RCVBUF 4000 */
	bool synack_seen;
	uint16_t synack_mss, synack_wnd;
	uint32_t rcv_acked;	/* bytes of 3 x 1460 the shard acknowledged unread */
	uint16_t rcv_last_wnd;	/* window of its last ACK then */
	int rcv_read;		/* bytes read afterwards */
	uint16_t rcv_update_wnd;	/* window update after the read (0: none) */
	int info_len;
	struct tcp_info info;	/* after the transfer */
	struct tcp_info info_sent;	/* with 1000 bytes unacknowledged */
	int info_short_len;
	uint8_t info_short_state;
	/* TCP_CORK */
	bool cork_ran;
	int cork_set;
	unsigned cork_held_frames;	/* data frames while 100 bytes were corked */
	unsigned cork_full_frames, cork_full_bytes;	/* after 3000 more */
	unsigned cork_after_ack_frames;
	unsigned cork_uncork_bytes;	/* the frame sent by uncorking */
	/* SO_SNDBUF */
	bool snd_ran;
	int snd_get;
	long snd_w1, snd_w2, snd_w3;
	int snd_w2_errno;
	/* TCP_USER_TIMEOUT */
	bool ut_ran;
	int ut_set, ut_get;
	long ut_elapsed_ms;
	int ut_errno;
	unsigned ut_rsts;
	bool ut_unacked_seen;
} res;

/* Setup that failed (no frame, no accept): every check after it is void. */
static void fail_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail_run(const char *fmt, ...)
{
	va_list ap;

	if (res.why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(res.why, sizeof(res.why), fmt, ap);
	va_end(ap);
}

/* Ethernet + IPv4 + TCP from the peer 10.0.0.99:@p sport to 10.0.0.2:@p
 * dport, an MSS option of 1460 on a SYN, @p payload bytes of data. */
static void peer_send(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seqno, uint32_t ackno,
		      uint16_t wnd, unsigned payload)
{
	static const uint8_t mss1460[4] = { 0x02, 0x04, 0x05, 0xb4 };
	struct pbuf *p = test_tcp4_frame(our_mac, peer_mac, "10.0.0.99", sport, "10.0.0.2", dport, flags,
					 seqno, ackno, wnd, mss1460, (flags & 0x02) ? 4 : 0, payload);

	if (p == NULL) {
		fail_run("no pbuf");
		return;
	}
	if (nif->input(p, nif) != ERR_OK)
		pbuf_free(p);
}

/* The peer asks for our address, so lwIP knows its MAC. */
static void peer_arp(void)
{
	uint8_t f[42];

	test_netif_receive(nif, f, test_arp_request_build(f, peer_mac, "10.0.0.99", "10.0.0.2"));
}

static void log_frame(const uint8_t *f, unsigned len)
{
	const uint8_t *tcp = f + 34;
	struct seg *s;
	unsigned hlen;

	if (len < 54 || test_get16(f + 12) != 0x0800 || f[23] != 6 || (f[14] & 0xf) != 5 ||
	    nwire == MAX_LOG)
		return;
	s = &wire[nwire++];
	hlen = (tcp[12] >> 4) * 4u;
	s->sport = test_get16(tcp);
	s->dport = test_get16(tcp + 2);
	s->seq = test_get32(tcp + 4);
	s->ack = test_get32(tcp + 8);
	s->flags = tcp[13];
	s->wnd = test_get16(tcp + 14);
	s->plen = test_get16(f + 16) - 20u - hlen;
	s->mss = hlen >= 24 && tcp[20] == 2 && tcp[21] == 4 ? test_get16(tcp + 22) : 0;
}

static void wire_read(void)
{
	struct rte_mbuf *pkts[64];
	uint16_t n;

	while ((n = mlw__rx_burst(txq->port_id, txq->queue_id, pkts, 64)) > 0) {
		for (uint16_t i = 0; i < n; i++) {
			log_frame(rte_pktmbuf_mtod(pkts[i], const uint8_t *), pkts[i]->data_len);
			rte_pktmbuf_free(pkts[i]);
		}
	}
}

/* One application pass, the ring read before the shard's RX could. */
static void pass(void)
{
	mlw_socket_flush();
	wire_read();
	mlw_shard_poll();
	mlw_socket_flush();
	wire_read();
}

static void passes(unsigned n)
{
	while (n-- > 0)
		pass();
}

/* The last segment logged from @p from on port @p sport to @p dport
 * matching @p flags under @p mask, NULL if none. */
static const struct seg *last_seg(unsigned from, uint16_t sport, uint16_t dport, uint8_t mask,
				  uint8_t flags)
{
	for (unsigned i = nwire; i-- > from;)
		if (wire[i].sport == sport && wire[i].dport == dport && (wire[i].flags & mask) == flags)
			return &wire[i];
	return NULL;
}

/* Data segments (and their bytes) from @p from on. */
static unsigned data_since(unsigned from, uint16_t sport, uint16_t dport, unsigned *bytes)
{
	unsigned n = 0;

	if (bytes != NULL)
		*bytes = 0;
	for (unsigned i = from; i < nwire; i++) {
		if (wire[i].sport == sport && wire[i].dport == dport && wire[i].plen > 0) {
			n++;
			if (bytes != NULL)
				*bytes += wire[i].plen;
		}
	}
	return n;
}

/* The peer acknowledges what the shard sent on @p lport -> @p pport, as it
 * arrives, until @p total bytes after @p isn are acknowledged (Nagle holds
 * a small last segment back until the ACK of the others). */
static void peer_ack_all(uint16_t lport, uint16_t pport, uint32_t isn, uint32_t pseq,
			 uint32_t total)
{
	uint32_t acked = 0;

	for (unsigned round = 0; round < 10 && acked < total; round++) {
		uint32_t end = acked;

		for (unsigned i = 0; i < nwire; i++) {
			const struct seg *s = &wire[i];

			if (s->sport == lport && s->dport == pport && s->plen > 0 &&
			    s->seq + s->plen - (isn + 1) > end && s->seq + s->plen - (isn + 1) <= total)
				end = s->seq + s->plen - (isn + 1);
		}
		if (end > acked) {
			acked = end;
			peer_send(pport, lport, 0x10, pseq, isn + 1 + acked, 0xffff, 0);
		}
		passes(3);
	}
	/* WIRE_DEBUG=1: the segments the shard sent, when this fails. */
	if (acked < total && getenv("WIRE_DEBUG") != NULL)
		for (unsigned i = 0; i < nwire; i++)
			printf("%u>%u f=%02x seq=%u ack=%u wnd=%u len=%u\n", wire[i].sport, wire[i].dport,
			       wire[i].flags, wire[i].seq - isn, wire[i].ack, wire[i].wnd, wire[i].plen);
	if (acked < total)	/* not fatal: the case's own checks fail */
		printf("port %u: only %u of %u bytes were sent\n", lport, acked, total);
}

static int listen_on(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || mlw_bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || mlw_listen(fd, 4) != 0) {
		fail_run("listen %u: %s", port, strerror(errno));
		return -1;
	}
	return fd;
}

/* The peer opens a connection from @p pport to @p lport; returns the
 * accepted descriptor and our ISN, or -1. */
static int peer_open(int lfd, uint16_t lport, uint16_t pport, uint32_t *isn)
{
	unsigned from = nwire;
	const struct seg *sa = NULL;
	int fd;

	peer_send(pport, lport, 0x02, 1000, 0, 0xffff, 0);
	for (unsigned i = 0; i < 50 && sa == NULL; i++) {
		pass();
		sa = last_seg(from, lport, pport, 0x12, 0x12);
	}
	if (sa == NULL) {
		fail_run("no SYN-ACK on port %u", lport);
		return -1;
	}
	*isn = sa->seq;
	peer_send(pport, lport, 0x10, 1001, *isn + 1, 0xffff, 0);
	pass();
	fd = mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	if (fd < 0)
		fail_run("accept on %u: %s", lport, strerror(errno));
	return fd;
}

static int set_int(int fd, int level, int name, int v)
{
	return mlw_setsockopt(fd, level, name, &v, sizeof(v));
}

/* TCP_MAXSEG and SO_RCVBUF in the SYN of connect (and without). */
static void syn_case(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	const struct seg *s;
	unsigned from = nwire;
	int fd1 = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int fd2 = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	inet_pton(AF_INET, "10.0.0.99", &a.sin_addr);
	if (set_int(fd1, IPPROTO_TCP, TCP_MAXSEG, 1000) != 0 ||
	    set_int(fd1, SOL_SOCKET, SO_RCVBUF, 3000) != 0)
		printf("setsockopt before connect: %s\n", strerror(errno));
	a.sin_port = htons(6001);
	mlw_connect(fd1, (struct sockaddr *)&a, sizeof(a));
	a.sin_port = htons(6002);
	mlw_connect(fd2, (struct sockaddr *)&a, sizeof(a));
	passes(5);
	for (unsigned i = from; i < nwire; i++) {
		if (wire[i].flags != 0x02)
			continue;
		if (wire[i].dport == 6001)
			res.syn_mss = wire[i].mss, res.syn_wnd = wire[i].wnd;
		else if (wire[i].dport == 6002)
			res.syn_mss_plain = wire[i].mss, res.syn_wnd_plain = wire[i].wnd;
	}
	(void)s;
	mlw_close(fd1);
	mlw_close(fd2);
	passes(3);
}

/* A listener with TCP_MAXSEG 700 and SO_RCVBUF 4000: its SYN-ACK, the
 * window with nothing read, TCP_INFO. */
static void listener_case(void)
{
	int lfd = listen_on(81), fd;
	const struct seg *s;
	uint32_t isn;
	unsigned from;
	char buf[8192];
	socklen_t len;

	if (lfd < 0)
		return;
	if (set_int(lfd, IPPROTO_TCP, TCP_MAXSEG, 700) != 0 ||
	    set_int(lfd, SOL_SOCKET, SO_RCVBUF, 4000) != 0)
		printf("setsockopt on the listener: %s\n", strerror(errno));
	from = nwire;
	fd = peer_open(lfd, 81, 5001, &isn);
	s = last_seg(from, 81, 5001, 0x12, 0x12);
	if (s != NULL) {
		res.synack_seen = true;
		res.synack_mss = s->mss;
		res.synack_wnd = s->wnd;
	}
	if (fd < 0)
		goto out;
	/* Three full segments, nothing read. */
	from = nwire;
	for (unsigned i = 0; i < 3; i++)
		peer_send(5001, 81, 0x10, 1001 + i * 1460, isn + 1, 0xffff, 1460);
	passes(5);
	s = last_seg(from, 81, 5001, 0x10, 0x10);
	if (s != NULL) {
		res.rcv_acked = s->ack - 1001;
		res.rcv_last_wnd = s->wnd;
	}
	from = nwire;
	res.rcv_read = (int)mlw_read(fd, buf, sizeof(buf));
	passes(3);
	s = last_seg(from, 81, 5001, 0x10, 0x10);
	res.rcv_update_wnd = s != NULL ? s->wnd : 0;
	/* Data out, acknowledged: TCP_INFO after a transfer. */
	memset(buf, 'x', 1000);
	if (mlw_write(fd, buf, 1000) != 1000)
		fail_run("write: %s", strerror(errno));
	passes(3);
	len = sizeof(res.info_sent);
	mlw_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &res.info_sent, &len);
	peer_ack_all(81, 5001, isn, 1001 + res.rcv_acked, 1000);
	len = sizeof(res.info);
	if (mlw_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &res.info, &len) == 0)
		res.info_len = (int)len;
	else
		res.info_len = -errno;
	len = 8;
	if (mlw_getsockopt(fd, IPPROTO_TCP, TCP_INFO, buf, &len) == 0) {
		res.info_short_len = (int)len;
		res.info_short_state = (uint8_t)buf[0];
	} else {
		res.info_short_len = -errno;
	}
	mlw_close(fd);
out:
	mlw_close(lfd);
	passes(3);
}

/* TCP_CORK: 100 bytes wait; 3000 more send two full segments; uncorking
 * sends the rest. */
static void cork_case(int lfd)
{
	uint32_t isn;
	unsigned from;
	char buf[3000];
	int fd = peer_open(lfd, 82, 5002, &isn);

	if (fd < 0)
		return;
	memset(buf, 'c', sizeof(buf));
	res.cork_set = set_int(fd, IPPROTO_TCP, TCP_CORK, 1);
	from = nwire;
	if (mlw_write(fd, buf, 100) != 100)
		fail_run("cork write: %s", strerror(errno));
	passes(20);
	res.cork_held_frames = data_since(from, 82, 5002, NULL);
	from = nwire;
	if (mlw_write(fd, buf, 3000) != 3000)
		fail_run("cork write 3000: %s", strerror(errno));
	passes(5);
	res.cork_full_frames = data_since(from, 82, 5002, &res.cork_full_bytes);
	/* The peer acknowledges both; 180 bytes stay corked. */
	from = nwire;
	peer_send(5002, 82, 0x10, 1001, isn + 1 + 2920, 0xffff, 0);
	passes(5);
	res.cork_after_ack_frames = data_since(from, 82, 5002, NULL);
	from = nwire;
	set_int(fd, IPPROTO_TCP, TCP_CORK, 0);
	passes(5);
	data_since(from, 82, 5002, &res.cork_uncork_bytes);
	res.cork_ran = true;
	peer_send(5002, 82, 0x10, 1001, isn + 1 + 3100, 0xffff, 0);
	passes(2);
	mlw_close(fd);
	passes(3);
}

/* SO_SNDBUF 3000: a non-blocking write takes 3000 bytes, then none until
 * the peer acknowledges them. */
static void sndbuf_case(int lfd)
{
	static char buf[20000];
	uint32_t isn;
	socklen_t len = sizeof(int);
	int fd = peer_open(lfd, 82, 5003, &isn);

	if (fd < 0)
		return;
	set_int(fd, SOL_SOCKET, SO_SNDBUF, 3000);
	mlw_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &res.snd_get, &len);
	res.snd_w1 = (long)mlw_write(fd, buf, sizeof(buf));
	passes(3);

	res.snd_w2 = (long)mlw_write(fd, buf, sizeof(buf));
	res.snd_w2_errno = errno;
	peer_ack_all(82, 5003, isn, 1001, 3000);
	res.snd_w3 = (long)mlw_write(fd, buf, sizeof(buf));
	res.snd_ran = true;
	mlw_close(fd);
	passes(3);
}

/* TCP_USER_TIMEOUT 1000 ms: 100 bytes never acknowledged. */
static void user_timeout_case(int lfd)
{
	uint32_t isn;
	int64_t t0;
	socklen_t len = sizeof(int);
	unsigned from;
	char buf[100];
	int fd = peer_open(lfd, 82, 5004, &isn);

	if (fd < 0)
		return;
	res.ut_set = set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 1000);
	mlw_getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &res.ut_get, &len);
	memset(buf, 'u', sizeof(buf));
	from = nwire;
	t0 = test_now_ms();
	if (mlw_write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		fail_run("user timeout write: %s", strerror(errno));
	pass();
	{
		struct tcp_info ti;

		len = sizeof(ti);
		if (mlw_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && ti.tcpi_unacked == 1)
			res.ut_unacked_seen = true;
	}
	res.ut_errno = 0;
	while (test_now_ms() - t0 < 6000) {
		ssize_t n = mlw_read(fd, buf, sizeof(buf));

		if (n < 0 && errno != EAGAIN) {
			res.ut_errno = errno;
			break;
		}
		pass();
	}
	res.ut_elapsed_ms = (long)(test_now_ms() - t0);
	passes(3);
	for (unsigned i = from; i < nwire; i++)
		if (wire[i].sport == 82 && wire[i].dport == 5004 && (wire[i].flags & 0x04))
			res.ut_rsts++;
	res.ut_ran = true;
	mlw_close(fd);
	passes(3);
}

static void run(void)
{
	int lfd;

	nif = test_dpdk_netif();
	if (nif == NULL) {
		fail_run("no DPDK netif");
		return;
	}
	memcpy(our_mac, nif->hwaddr, 6);
	txq = ((struct mlw_netif_state *)nif->state)->txq;
	peer_arp();
	passes(2);
	syn_case();
	listener_case();
	lfd = listen_on(82);
	if (lfd < 0)
		return;
	cork_case(lfd);
	sndbuf_case(lfd);
	user_timeout_case(lfd);
	mlw_close(lfd);
	passes(5);
}

static unsigned bad_heaps;

static void check_ran(void)
{
	if (res.why[0] != '\0')
		fail_msg("%s", res.why);
}

/* TCP_MAXSEG 1000 and SO_RCVBUF 3000 before connect: the SYN announces
 * them; without, lwIP's 1460 and 64 KiB. */
static void test_syn_announces_maxseg_and_rcvbuf(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.syn_mss_plain, 1460);
	assert_int_equal(res.syn_wnd_plain, 0xffff);
	assert_int_equal(res.syn_mss, 1000);
	assert_int_equal(res.syn_wnd, 3000);
}

static void test_synack_announces_maxseg_and_rcvbuf(void **state)
{
	(void)state;
	check_ran();
	assert_true(res.synack_seen);
	assert_int_equal(res.synack_mss, 700);
	assert_int_equal(res.synack_wnd, 4000);
}

/* Nothing read: no more than SO_RCVBUF's 4000 bytes are taken, the window
 * is then closed; reading opens it again, announced at once. */
static void test_rcvbuf_window(void **state)
{
	(void)state;
	check_ran();
	assert_int_equal(res.rcv_acked, 4000);
	assert_int_equal(res.rcv_last_wnd, 0);
	assert_int_equal(res.rcv_read, 4000);
	assert_int_equal(res.rcv_update_wnd, 4000);
}

static void test_tcp_info(void **state)
{
	const struct tcp_info *ti = &res.info;

	(void)state;
	check_ran();
	assert_int_equal(res.info_len, (int)sizeof(struct tcp_info));
	assert_int_equal(ti->tcpi_state, 1);	/* TCP_ESTABLISHED */
	assert_int_equal(ti->tcpi_snd_mss, 700);
	assert_int_equal(ti->tcpi_rcv_mss, 700);
	assert_int_equal(ti->tcpi_advmss, 700);
	assert_int_equal(ti->tcpi_unacked, 0);
	assert_int_equal(ti->tcpi_retransmits, 0);
	assert_int_equal(ti->tcpi_rcv_space, 4000);
	assert_true(ti->tcpi_snd_cwnd >= 1);
	assert_true(ti->tcpi_rto >= 200000 && ti->tcpi_rto <= 60000000);
	assert_true(ti->tcpi_rtt <= 1000000);
	/* 1000 bytes in flight: two segments (700 + 300) or one, Nagle's choice. */
	assert_in_range(res.info_sent.tcpi_unacked, 1, 2);
	assert_int_equal(res.info_short_len, 8);
	assert_int_equal(res.info_short_state, 1);
}

static void test_cork(void **state)
{
	(void)state;
	check_ran();
	assert_true(res.cork_ran);
	assert_int_equal(res.cork_set, 0);
	assert_int_equal(res.cork_held_frames, 0);
	assert_int_equal(res.cork_full_frames, 2);
	assert_int_equal(res.cork_full_bytes, 2920);
	assert_int_equal(res.cork_after_ack_frames, 0);
	assert_int_equal(res.cork_uncork_bytes, 180);
}

static void test_sndbuf_limit(void **state)
{
	(void)state;
	check_ran();
	assert_true(res.snd_ran);
	assert_int_equal(res.snd_get, 6000);
	assert_int_equal(res.snd_w1, 3000);
	assert_int_equal(res.snd_w2, -1);
	assert_int_equal(res.snd_w2_errno, EAGAIN);
	assert_int_equal(res.snd_w3, 3000);
}

/* Linux ends the connection between the timeout and its next RTO check;
 * mlwip checks at lwIP's 500 ms slow timer: 1000 to 1600 ms, and no RST. */
static void test_user_timeout(void **state)
{
	(void)state;
	check_ran();
	assert_true(res.ut_ran);
	assert_int_equal(res.ut_set, 0);
	assert_int_equal(res.ut_get, 1000);
	assert_true(res.ut_unacked_seen);
	print_message("user timeout: ended after %ld ms\n", res.ut_elapsed_ms);
	assert_int_equal(res.ut_errno, ETIMEDOUT);
	assert_in_range(res.ut_elapsed_ms, 1000, 1600);
	assert_int_equal(res.ut_rsts, 0);
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_announces_maxseg_and_rcvbuf),
		cmocka_unit_test(test_synack_announces_maxseg_and_rcvbuf),
		cmocka_unit_test(test_rcvbuf_window),
		cmocka_unit_test(test_tcp_info),
		cmocka_unit_test(test_cork),
		cmocka_unit_test(test_sndbuf_limit),
		cmocka_unit_test(test_user_timeout),
		cmocka_unit_test(test_no_leak),
	};
	int rc = test_stack_run("mlwsockopt", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n",
				run, &bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("sockopts_wire", tests, NULL, NULL);
}
