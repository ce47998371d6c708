/* test_icmp_errors.c - ICMP/ICMPv6 errors reach a connected UDP socket and a connecting TCP socket as Linux reports them, and malformed or foreign messages reach nobody.
 *
 * main -> test_stack_run(one shard on net_ring0, 10.0.0.2/24 and fd00::2/64)
 * -> run() on the shard: UDP sockets connected to 10.0.0.99:7000 and
 * [fd00::99]:7000 (nothing is sent; the peer never exists), and per TCP
 * case a non-blocking connect to port 7001 (its SYN waits for ARP/ND, so it
 * stays in SYN_SENT) -> one crafted message per case straight into
 * ip4_input()/ip6_input() -> SO_ERROR read after each -> CMocka compares
 * with what Linux 6.1 gives (UDP: hard errors, connected sockets only; TCP:
 * any error quoting the SYN ends the connect, path MTU messages aside).
 * test_semantics checks the same end to end against Linux over loopback.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "lwip/inet_chksum.h"
#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"	/* tcp_active_pcbs */
#include "lwip/tcp.h"
#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "test_stack.h"

enum bend {
	NONE = 0,
	BAD_IP_CSUM = 1 << 0,	/* outer IPv4 header checksum wrong */
	BAD_ICMP_CSUM = 1 << 1,
	NOT_OURS = 1 << 2,	/* outer destination is not the shard's address */
	OTHER_PORT = 1 << 3,	/* quoted destination port is not the socket's peer port */
	FRAGMENT = 1 << 4,	/* outer IPv4 header says "more fragments" */
	SHORT = 1 << 5,		/* quoted transport header cut to 4 bytes */
	OTHER_PROTO = 1 << 6,	/* quoted datagram is of the other transport */
	UNCONNECTED = 1 << 7,	/* UDP: aimed at the unconnected socket */
	BAD_SEQ = 1 << 8,	/* TCP: quoted sequence number is not the SYN's */
};

struct icmp_case {
	const char *name;
	int family;
	int proto;	/* IPPROTO_UDP: connected UDP socket; IPPROTO_TCP: a connect in SYN_SENT */
	uint8_t type, code;
	unsigned bend;
	int want;	/* SO_ERROR afterwards (0: nothing reported) */
};

#define U IPPROTO_UDP
#define T IPPROTO_TCP
static const struct icmp_case cases[] = {
	{ "udp v4 port unreachable", AF_INET, U, 3, 3, NONE, ECONNREFUSED },
	{ "udp v4 protocol unreachable", AF_INET, U, 3, 2, NONE, ENOPROTOOPT },
	{ "udp v4 host unreachable (soft)", AF_INET, U, 3, 1, NONE, 0 },
	{ "udp v4 fragmentation needed", AF_INET, U, 3, 4, NONE, EMSGSIZE },
	{ "udp v4 comm. prohibited", AF_INET, U, 3, 13, NONE, EHOSTUNREACH },
	{ "udp v4 host unknown", AF_INET, U, 3, 7, NONE, EHOSTDOWN },
	{ "udp v4 unknown code 16", AF_INET, U, 3, 16, NONE, 0 },
	{ "udp v4 parameter problem", AF_INET, U, 12, 0, NONE, EPROTO },
	{ "udp v4 time exceeded (soft)", AF_INET, U, 11, 0, NONE, 0 },
	{ "udp v4 redirect", AF_INET, U, 5, 1, NONE, 0 },
	{ "udp v4 bad IP checksum", AF_INET, U, 3, 3, BAD_IP_CSUM, 0 },
	{ "udp v4 bad ICMP checksum", AF_INET, U, 3, 3, BAD_ICMP_CSUM, 0 },
	{ "udp v4 not for us", AF_INET, U, 3, 3, NOT_OURS, 0 },
	{ "udp v4 other port", AF_INET, U, 3, 3, OTHER_PORT, 0 },
	{ "udp v4 fragment", AF_INET, U, 3, 3, FRAGMENT, 0 },
	{ "udp v4 short quote", AF_INET, U, 3, 3, SHORT, 0 },
	{ "udp v4 quotes TCP", AF_INET, U, 3, 3, OTHER_PROTO, 0 },
	{ "udp v4 unconnected socket", AF_INET, U, 3, 3, UNCONNECTED, 0 },
	{ "udp v4 port unreachable again", AF_INET, U, 3, 3, NONE, ECONNREFUSED },
	{ "udp v6 port unreachable", AF_INET6, U, 1, 4, NONE, ECONNREFUSED },
	{ "udp v6 admin. prohibited", AF_INET6, U, 1, 1, NONE, EACCES },
	{ "udp v6 no route (soft)", AF_INET6, U, 1, 0, NONE, 0 },
	{ "udp v6 address unreachable (soft)", AF_INET6, U, 1, 3, NONE, 0 },
	{ "udp v6 unknown code 7", AF_INET6, U, 1, 7, NONE, EPROTO },
	{ "udp v6 packet too big", AF_INET6, U, 2, 0, NONE, EMSGSIZE },
	{ "udp v6 parameter problem", AF_INET6, U, 4, 0, NONE, EPROTO },
	{ "udp v6 time exceeded (soft)", AF_INET6, U, 3, 0, NONE, 0 },
	{ "udp v6 bad checksum", AF_INET6, U, 1, 4, BAD_ICMP_CSUM, 0 },
	{ "udp v6 not for us", AF_INET6, U, 1, 4, NOT_OURS, 0 },
	{ "udp v6 other port", AF_INET6, U, 1, 4, OTHER_PORT, 0 },
	{ "udp v6 short quote", AF_INET6, U, 1, 4, SHORT, 0 },
	{ "udp v6 quotes TCP", AF_INET6, U, 1, 4, OTHER_PROTO, 0 },
	{ "udp v6 unconnected socket", AF_INET6, U, 1, 4, UNCONNECTED, 0 },
	{ "udp v6 port unreachable again", AF_INET6, U, 1, 4, NONE, ECONNREFUSED },
	{ "tcp v4 port unreachable", AF_INET, T, 3, 3, NONE, ECONNREFUSED },
	{ "tcp v4 host unreachable", AF_INET, T, 3, 1, NONE, EHOSTUNREACH },
	{ "tcp v4 net unreachable", AF_INET, T, 3, 0, NONE, ENETUNREACH },
	{ "tcp v4 time exceeded", AF_INET, T, 11, 0, NONE, EHOSTUNREACH },
	{ "tcp v4 reassembly time exceeded", AF_INET, T, 11, 1, NONE, 0 },
	{ "tcp v4 parameter problem", AF_INET, T, 12, 0, NONE, EPROTO },
	{ "tcp v4 fragmentation needed", AF_INET, T, 3, 4, NONE, 0 },
	{ "tcp v4 wrong sequence number", AF_INET, T, 3, 1, BAD_SEQ, 0 },
	{ "tcp v4 other port", AF_INET, T, 3, 1, OTHER_PORT, 0 },
	{ "tcp v4 quotes UDP", AF_INET, T, 3, 3, OTHER_PROTO, 0 },
	{ "tcp v4 bad ICMP checksum", AF_INET, T, 3, 1, BAD_ICMP_CSUM, 0 },
	{ "tcp v6 port unreachable", AF_INET6, T, 1, 4, NONE, ECONNREFUSED },
	{ "tcp v6 no route", AF_INET6, T, 1, 0, NONE, ENETUNREACH },
	{ "tcp v6 time exceeded", AF_INET6, T, 3, 0, NONE, EHOSTUNREACH },
	{ "tcp v6 packet too big", AF_INET6, T, 2, 0, NONE, 0 },
	{ "tcp v6 wrong sequence number", AF_INET6, T, 1, 4, BAD_SEQ, 0 },
};
#undef U
#undef T
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct {
	bool ran;
	char why[256];
	int got[NCASES];
	int injected[NCASES];	/* ip4_input/ip6_input's return */
	bool still_connecting[NCASES];	/* TCP: the PCB was left alone */
	bool epollerr_seen;	/* EPOLLERR reported while an error was pending */
} res;

static const uint8_t v4_us[4] = { 10, 0, 0, 2 }, v4_peer[4] = { 10, 0, 0, 99 },
		     v4_other[4] = { 10, 0, 0, 77 };
static const uint8_t v6_us[16] = { 0xfd, [15] = 2 }, v6_peer[16] = { 0xfd, [15] = 0x99 },
		     v6_other[16] = { 0xfd, [15] = 0x77 };
#define PEER_PORT 7000
#define TCP_PEER_PORT 7001

static struct {
	int conn, unconn;	/* descriptors */
	uint16_t conn_port, unconn_port;
} sk[2];	/* [0] IPv4, [1] IPv6 */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* The quoted datagram: what our socket would have sent to the peer (for
 * TCP, the SYN with sequence number @p seq). */
static unsigned quote(uint8_t *q, const struct icmp_case *c, uint16_t sport, uint32_t seq)
{
	unsigned hl = c->family == AF_INET ? 20 : 40;
	unsigned tl = (c->bend & SHORT) ? 4 : 8;
	int proto = c->proto;
	uint16_t dport = proto == IPPROTO_TCP ? TCP_PEER_PORT : PEER_PORT;

	if (c->bend & OTHER_PROTO)
		proto = proto == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
	if (c->family == AF_INET) {
		q[0] = 0x45;
		put16(q + 2, 20 + 20);
		q[8] = 64;
		q[9] = (uint8_t)proto;
		memcpy(q + 12, v4_us, 4);
		memcpy(q + 16, v4_peer, 4);
		put16(q + 10, inet_chksum(q, 20));	/* any value: nobody checks it */
	} else {
		q[0] = 0x60;
		put16(q + 4, 20);
		q[6] = (uint8_t)proto;
		q[7] = 64;
		memcpy(q + 8, v6_us, 16);
		memcpy(q + 24, v6_peer, 16);
	}
	put16(q + hl, sport);
	put16(q + hl + 2, (c->bend & OTHER_PORT) ? dport + 1 : dport);
	if (c->bend & BAD_SEQ)
		seq += 1000;
	put16(q + hl + 4, (uint16_t)(seq >> 16));
	put16(q + hl + 6, (uint16_t)seq);
	return hl + tl;
}

static struct pbuf *icmp4(const struct icmp_case *c, uint16_t sport, uint32_t seq)
{
	uint8_t m[20 + 8 + 20 + 8];
	unsigned len = 20 + 8, csum;
	struct pbuf *p;

	memset(m, 0, sizeof(m));
	len += quote(m + 28, c, sport, seq);
	m[0] = 0x45;
	put16(m + 2, (uint16_t)len);
	if (c->bend & FRAGMENT)
		m[6] = 0x20;
	m[8] = 64;
	m[9] = 1;
	memcpy(m + 12, v4_peer, 4);
	memcpy(m + 16, (c->bend & NOT_OURS) ? v4_other : v4_us, 4);
	csum = inet_chksum(m, 20);
	memcpy(m + 10, &csum, 2);
	if (c->bend & BAD_IP_CSUM)
		m[10] ^= 0x40;
	m[20] = c->type;
	m[21] = c->code;
	csum = inet_chksum(m + 20, (u16_t)(len - 20));
	memcpy(m + 22, &csum, 2);
	if (c->bend & BAD_ICMP_CSUM)
		m[22] ^= 0x40;
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (p != NULL)
		pbuf_take(p, m, (u16_t)len);
	return p;
}

static struct pbuf *icmp6(const struct icmp_case *c, uint16_t sport, uint32_t seq)
{
	uint8_t m[40 + 8 + 40 + 8];
	unsigned len = 40 + 8;
	ip6_addr_t src, dst;
	struct pbuf *p;
	u16_t csum;

	memset(m, 0, sizeof(m));
	len += quote(m + 48, c, sport, seq);
	m[0] = 0x60;
	put16(m + 4, (uint16_t)(len - 40));
	m[6] = 58;
	m[7] = 64;
	memcpy(m + 8, v6_peer, 16);
	memcpy(m + 24, (c->bend & NOT_OURS) ? v6_other : v6_us, 16);
	m[40] = c->type;
	m[41] = c->code;
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (p == NULL)
		return NULL;
	pbuf_take(p, m, (u16_t)len);
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	memcpy(src.addr, m + 8, 16);
	memcpy(dst.addr, m + 24, 16);
	pbuf_remove_header(p, 40);
	csum = ip6_chksum_pseudo(p, 58, (u16_t)(len - 40), &src, &dst);
	pbuf_add_header(p, 40);
	if (c->bend & BAD_ICMP_CSUM)
		csum ^= 0x40;
	memcpy((uint8_t *)p->payload + 42, &csum, 2);
	return p;
}

/* @p addr (4 or 16 bytes, by @p family) and @p port as a sockaddr. */
static socklen_t sockaddr_of(int family, const uint8_t *addr, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		memcpy(&a->sin_addr, addr, 4);
		return sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		memcpy(&a->sin6_addr, addr, 16);
		return sizeof(*a);
	}
}

/* A UDP socket connected to the peer, or bound to the shard's address (as
 * the connected one is) and not connected; *@p port its local port. */
static int udp_socket(int family, bool connect_it, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = mlw_socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (connect_it) {
		len = sockaddr_of(family, family == AF_INET ? v4_peer : v6_peer, PEER_PORT, &ss);
		if (mlw_connect(fd, (struct sockaddr *)&ss, len) != 0)
			return -1;
	} else {
		len = sockaddr_of(family, family == AF_INET ? v4_us : v6_us, 0, &ss);
		if (mlw_bind(fd, (struct sockaddr *)&ss, len) != 0)
			return -1;
	}
	len = sizeof(ss);
	if (mlw_getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* The PCB of the one connect in progress to TCP_PEER_PORT, or NULL. */
static struct tcp_pcb *connecting_pcb(void)
{
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next)
		if (pcb->remote_port == TCP_PEER_PORT && pcb->state == SYN_SENT)
			return pcb;
	return NULL;
}

/* A non-blocking connect to the peer that never answers: in SYN_SENT. */
static int tcp_connecting(int family)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(family, family == AF_INET ? v4_peer : v6_peer, TCP_PEER_PORT, &ss);
	int fd = mlw_socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (mlw_connect(fd, (struct sockaddr *)&ss, len) == 0 || errno != EINPROGRESS) {
		mlw_close(fd);
		return -1;
	}
	return fd;
}

/* One case: the socket, the message into lwIP's IP input, SO_ERROR. */
static bool run_case(size_t i, struct netif *nif)
{
	const struct icmp_case *c = &cases[i];
	int f = c->family == AF_INET ? 0 : 1, fd, v = -1;
	uint16_t port;
	uint32_t seq = 0;
	socklen_t vl = sizeof(int);
	struct pbuf *p;

	if (c->proto == IPPROTO_TCP) {
		struct tcp_pcb *pcb;

		fd = tcp_connecting(c->family);
		pcb = connecting_pcb();
		if (fd < 0 || pcb == NULL) {
			snprintf(res.why, sizeof(res.why), "%s: no connect in SYN_SENT (%s)", c->name,
				 strerror(errno));
			return false;
		}
		port = pcb->local_port;
		seq = pcb->snd_nxt - 1;	/* the SYN's */
	} else {
		bool unconn = (c->bend & UNCONNECTED) != 0;

		fd = unconn ? sk[f].unconn : sk[f].conn;
		port = unconn ? sk[f].unconn_port : sk[f].conn_port;
	}
	p = f == 0 ? icmp4(c, port, seq) : icmp6(c, port, seq);
	if (p == NULL) {
		snprintf(res.why, sizeof(res.why), "pbuf_alloc failed");
		return false;
	}
	res.injected[i] = f == 0 ? ip4_input(p, nif) : ip6_input(p, nif);
	test_pump();
	if (i == 0) {
		struct epoll_event ev;
		int ep = mlw_epoll_create1(0);

		res.epollerr_seen = ep >= 0 &&
				    mlw_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &(struct epoll_event){ .events = EPOLLIN }) == 0 &&
				    mlw_epoll_wait(ep, &ev, 1, 0) == 1 && (ev.events & EPOLLERR);
		mlw_close(ep);
	}
	res.got[i] = mlw_getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &vl) == 0 ? v : -1;
	if (c->proto == IPPROTO_TCP) {
		res.still_connecting[i] = connecting_pcb() != NULL;
		mlw_close(fd);
	}
	return true;
}

static void run(void)
{
	struct netif *nif;

	nif = test_dpdk_netif();
	if (nif == NULL) {
		snprintf(res.why, sizeof(res.why), "no DPDK netif");
		return;
	}
	for (int f = 0; f < 2; f++) {
		int family = f == 0 ? AF_INET : AF_INET6;

		sk[f].conn = udp_socket(family, true, &sk[f].conn_port);
		sk[f].unconn = udp_socket(family, false, &sk[f].unconn_port);
		if (sk[f].conn < 0 || sk[f].unconn < 0) {
			snprintf(res.why, sizeof(res.why), "UDP sockets (family %d): %s", family,
				 strerror(errno));
			return;
		}
	}
	for (size_t i = 0; i < NCASES; i++)
		if (!run_case(i, nif))
			return;
	for (int f = 0; f < 2; f++) {
		mlw_close(sk[f].conn);
		mlw_close(sk[f].unconn);
	}
	res.ran = true;
}

static void t_cases(void **state)
{
	unsigned bad = 0;

	(void)state;
	if (!res.ran)
		fail_msg("the shard did not run the cases: %s", res.why);
	for (size_t i = 0; i < NCASES; i++) {
		printf("  %-34s SO_ERROR %-14s (want %s)%s\n", cases[i].name,
		       res.got[i] ? strerror(res.got[i]) : "0", cases[i].want ? strerror(cases[i].want) : "0",
		       res.got[i] == cases[i].want ? "" : "  <-- WRONG");
		bad += res.got[i] != cases[i].want || res.injected[i] != ERR_OK;
		/* TCP: an error ends the connect; nothing else touches it. */
		if (cases[i].proto == IPPROTO_TCP && res.still_connecting[i] != (cases[i].want == 0)) {
			printf("  %-34s the connect was %s  <-- WRONG\n", cases[i].name,
			       res.still_connecting[i] ? "left in SYN_SENT" : "ended");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	assert_true(res.epollerr_seen);
}

int main(void)
{
	static const struct CMUnitTest tests[] = { cmocka_unit_test(t_cases) };
	unsigned bad_heaps = 0;
	int rc = test_stack_run("mlwicmp",
				"[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\nipv6 = fd00::2/64\n",
				run, &bad_heaps);

	if (rc != 0)
		return rc;
	if (bad_heaps != 0) {
		fprintf(stderr, "FAIL: %u shard heap(s) not empty at the end\n", bad_heaps);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
