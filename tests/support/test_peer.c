/* test_peer.c - a peer played by hand-built frames against one shard on net_ring0 (see test_wire.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dpdk_netif.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "test_frame.h"
#include "test_stack.h"
#include "test_peer.h"

struct test_seg test_wire[TEST_WIRE_MAX_LOG];
unsigned test_nwire;

static uint8_t our_mac[6];
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x63 };
static char peer_addr[16], our_addr[16];
static struct netif *nif;
static struct mlw_txq *txq;

static char why[256];

void test_wire_fail(const char *fmt, ...)
{
	va_list ap;

	if (why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

const char *test_wire_failure(void)
{
	return why;
}

static void input(struct pbuf *p)
{
	if (nif->input(p, nif) != ERR_OK)
		pbuf_free(p);
}

bool test_wire_send(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seqno, uint32_t ackno,
		    uint16_t wnd, const uint8_t *opts, unsigned optlen, unsigned payload)
{
	struct pbuf *p = test_tcp4_frame(our_mac, peer_mac, peer_addr, sport, our_addr, dport, flags,
					 seqno, ackno, wnd, opts, optlen, payload);

	if (p == NULL) {
		test_wire_fail("no pbuf");
		return false;
	}
	input(p);
	return true;
}

/* The peer asks for our address, so lwIP knows its MAC. */
static void peer_arp(void)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, 42, PBUF_RAM);
	uint8_t *f;

	if (p == NULL)
		return;
	f = p->payload;
	memset(f, 0xff, 6);
	memcpy(f + 6, peer_mac, 6);
	test_put16(f + 12, 0x0806);
	memcpy(f + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(f + 22, peer_mac, 6);
	inet_pton(AF_INET, peer_addr, f + 28);
	memset(f + 32, 0, 6);
	inet_pton(AF_INET, our_addr, f + 38);
	input(p);
}

bool test_wire_init(const char *peer_ip, const char *our_ip)
{
	nif = test_dpdk_netif();
	if (nif == NULL)
		return false;
	memcpy(our_mac, nif->hwaddr, 6);
	txq = ((struct mlw_netif_state *)nif->state)->txq;
	snprintf(peer_addr, sizeof(peer_addr), "%s", peer_ip);
	snprintf(our_addr, sizeof(our_addr), "%s", our_ip);
	peer_arp();
	test_wire_passes(2);
	return true;
}

static void log_frame(const uint8_t *f, unsigned len)
{
	const uint8_t *tcp = f + 34;
	struct test_seg *s;
	unsigned hlen;

	if (len < 54 || test_get16(f + 12) != 0x0800 || f[23] != 6 || (f[14] & 0xf) != 5 ||
	    test_nwire == TEST_WIRE_MAX_LOG)
		return;
	s = &test_wire[test_nwire++];
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

void test_wire_pass(void)
{
	mlw_socket_flush();
	wire_read();
	mlw_shard_poll();
	mlw_socket_flush();
	wire_read();
}

void test_wire_passes(unsigned n)
{
	while (n-- > 0)
		test_wire_pass();
}

const struct test_seg *test_wire_last(unsigned from, uint16_t sport, uint16_t dport, uint8_t mask,
				      uint8_t flags)
{
	for (unsigned i = test_nwire; i-- > from;)
		if (test_wire[i].sport == sport && test_wire[i].dport == dport &&
		    (test_wire[i].flags & mask) == flags)
			return &test_wire[i];
	return NULL;
}

int test_wire_listen(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || mlw_bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || mlw_listen(fd, 4) != 0) {
		test_wire_fail("listen %u: %s", port, strerror(errno));
		return -1;
	}
	return fd;
}

int test_wire_accept(int lfd, uint16_t lport, uint16_t pport, unsigned from, uint32_t seq,
		     const uint8_t *opts, unsigned optlen, uint32_t *isn)
{
	const struct test_seg *sa = NULL;
	int fd;

	for (unsigned i = 0; i < 50 && sa == NULL; i++) {
		test_wire_pass();
		sa = test_wire_last(from, lport, pport, 0x12, 0x12);
	}
	if (sa == NULL) {
		test_wire_fail("no SYN-ACK on port %u from %u", lport, pport);
		return -1;
	}
	*isn = sa->seq;
	test_wire_send(pport, lport, 0x10, seq + 1, *isn + 1, 0xffff, opts, optlen, 0);
	test_wire_pass();
	fd = mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	if (fd < 0)
		test_wire_fail("accept on %u from %u: %s", lport, pport, strerror(errno));
	return fd;
}
