/* test_limits.c - each [limits] bound (lwip-port/limits.c) holds when a peer feeds the shard ten times as much: the ND queue, the ARP queue, IPv4 and IPv6 reassembly (datagrams and fragments), one connection's out-of-order queue; what was refused is counted and the heap stays under a bound.
 *
 * main -> test_stack_run(one shard on net_ring0, small [limits]) -> run():
 * frames built here go into lwIP's input (test_netif_receive); lwIP's own
 * answers (echo replies waiting for neighbour discovery or ARP, SYN-ACKs)
 * go out on the ring. Each case records the most live objects of its memp
 * type seen after any frame (mlw__limits_live), the drops counted
 * (mlw__limits_stats) and the shard heap's growth; the CMocka tests check
 * them once the stack has stopped, and that every heap was empty then.
 * Also: a fragment header inside a reassembled IPv6 datagram
 * (lwip-port/ip6_reass.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "mlw_limits.h"
#include "mlwip/alloc.h"
#include "mlwip/config.h"
#include "mlwip/socket.h"
#include "test_peer.h"
#include "test_stack.h"

#define LIM_ND6 8
#define LIM_ARP 8
#define LIM_REASS 4
#define LIM_REASS_PBUFS 16
#define LIM_OOSEQ 16
#define FEED 10	/* times the limit fed */
#define LPORT 8080

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x63 };

struct lim_case {
	unsigned fed;		/* frames fed */
	uint32_t max_live;	/* most objects of the limited kind after any frame */
	uint64_t drops;		/* counted by the limit */
	int64_t heap_growth;	/* most heap bytes in use above the start */
	bool ran;
};

static struct lim_case nd6, arp, reass4, reass4_pbufs, reass6, ooseq;
static unsigned bad_heaps;

static uint64_t heap_bytes(void)
{
	struct mlw_alloc_stats s;

	mlw_alloc_stats(&s);
	return s.bytes_in_use;
}

static void note(struct lim_case *c, uint32_t live, uint64_t heap0)
{
	int64_t g = (int64_t)(heap_bytes() - heap0);

	if (live > c->max_live)
		c->max_live = live;
	if (g > c->heap_growth)
		c->heap_growth = g;
}

static unsigned eth(uint8_t *f, const struct netif *nif, uint16_t type)
{
	memcpy(f, nif->hwaddr, 6);
	memcpy(f + 6, peer_mac, 6);
	f[6] = 0x02, f[11] = (uint8_t)(0x40 + (type & 0x0f));	/* a MAC per source kind */
	test_put16(f + 12, type);
	return 14;
}

static void ip4_hdr(uint8_t *h, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t frag,
		    unsigned paylen)
{
	memset(h, 0, 20);
	h[0] = 0x45;
	test_put16(h + 2, (uint16_t)(20 + paylen));
	test_put16(h + 4, id);
	test_put16(h + 6, frag);
	h[8] = 64;
	h[9] = proto;
	test_put32(h + 12, src);
	test_put32(h + 16, dst);
	test_put16(h + 10, (uint16_t)~test_fold(test_sum16(h, 20, 0)));
}

/* An ICMP echo request from @p src to 10.0.0.2. */
static unsigned icmp4_echo(uint8_t *f, const struct netif *nif, uint32_t src, uint16_t seq)
{
	unsigned n = eth(f, nif, 0x0800);
	uint8_t *icmp = f + n + 20;

	memset(icmp, 0, 40);
	icmp[0] = 8;
	test_put16(icmp + 4, 0x4242);
	test_put16(icmp + 6, seq);
	test_put16(icmp + 2, (uint16_t)~test_fold(test_sum16(icmp, 40, 0)));
	ip4_hdr(f + n, src, 0x0a000002, 1, seq, 0, 40);
	return n + 20 + 40;
}

/* An IPv4 fragment of datagram @p id: @p len bytes at offset @p off8 * 8, more fragments. */
static unsigned frag4(uint8_t *f, const struct netif *nif, uint16_t id, uint16_t off8, unsigned len)
{
	unsigned n = eth(f, nif, 0x0800);

	memset(f + n + 20, 0xab, len);
	ip4_hdr(f + n, 0x0a000063, 0x0a000002, 17, id, (uint16_t)(0x2000 | off8), len);
	return n + 20 + len;
}

static void ip6_hdr(uint8_t *h, const uint8_t *src, uint8_t nh, unsigned paylen)
{
	static const uint8_t dst[16] = { 0xfd, 0, [15] = 2 };

	memset(h, 0, 40);
	h[0] = 0x60;
	test_put16(h + 4, (uint16_t)paylen);
	h[6] = nh;
	h[7] = 64;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
}

/* An ICMPv6 echo request from the on-link @p src (nobody answers its neighbour solicitation). */
static unsigned icmp6_echo(uint8_t *f, const struct netif *nif, const uint8_t *src, uint16_t seq)
{
	unsigned n = eth(f, nif, 0x86dd);
	uint8_t *ip = f + n, *icmp = ip + 40;
	uint32_t s;

	ip6_hdr(ip, src, 58, 40);
	memset(icmp, 0, 40);
	icmp[0] = 128;
	test_put16(icmp + 4, 0x4242);
	test_put16(icmp + 6, seq);
	s = test_sum16(ip + 8, 32, 0) + 40 + 58;
	test_put16(icmp + 2, (uint16_t)~test_fold(test_sum16(icmp, 40, s)));
	return n + 40 + 40;
}

/* A first IPv6 fragment (offset 0, more fragments) of datagram @p id. */
static unsigned frag6(uint8_t *f, const struct netif *nif, uint32_t id)
{
	static const uint8_t src[16] = { 0xfd, 0, [13] = 0x99, [15] = 0x63 };
	unsigned n = eth(f, nif, 0x86dd);
	uint8_t *fh = f + n + 40;

	ip6_hdr(f + n, src, 44, 8 + 256);
	fh[0] = 17, fh[1] = 0;
	test_put16(fh + 2, 1);	/* offset 0, M */
	test_put32(fh + 4, id);
	memset(fh + 8, 0xcd, 256);
	return n + 40 + 8 + 256;
}

static void nd6_case(struct netif *nif)
{
	uint8_t f[256], src[16] = { 0xfd, 0, [13] = 0x77 };
	uint64_t heap0 = heap_bytes();
	struct mlw__limits_stats s0, s1;

	mlw__limits_stats(&s0);
	/* Four sources that never answer, ten times the limit of packets. */
	for (unsigned i = 0; i < FEED * LIM_ND6; i++) {
		src[15] = (uint8_t)(1 + i % 4);
		test_netif_receive(nif, f, icmp6_echo(f, nif, src, (uint16_t)i));
		nd6.fed++;
		note(&nd6, mlw__limits_live(MEMP_ND6_QUEUE), heap0);
	}
	mlw__limits_stats(&s1);
	nd6.drops = s1.nd6_queue_drops - s0.nd6_queue_drops;
	nd6.ran = true;
}

static void arp_case(struct netif *nif)
{
	uint8_t f[256];
	uint64_t heap0 = heap_bytes();
	struct mlw__limits_stats s0, s1;

	mlw__limits_stats(&s0);
	/* Twenty unresolved sources, four packets each (lwIP keeps three per entry). */
	for (unsigned i = 0; i < FEED * LIM_ARP; i++) {
		test_netif_receive(nif, f, icmp4_echo(f, nif, 0x0a000032 + i % 20, (uint16_t)i));
		arp.fed++;
		note(&arp, mlw__limits_live(MEMP_ARP_QUEUE), heap0);
	}
	mlw__limits_stats(&s1);
	arp.drops = s1.arp_queue_drops - s0.arp_queue_drops;
	arp.ran = true;
}

static void reass4_case(struct netif *nif)
{
	uint8_t f[1600];
	uint64_t heap0 = heap_bytes();
	struct mlw__limits_stats s0, s1;

	mlw__limits_stats(&s0);
	for (unsigned i = 0; i < FEED * LIM_REASS; i++) {
		test_netif_receive(nif, f, frag4(f, nif, (uint16_t)(1000 + i), 0, 512));
		reass4.fed++;
		note(&reass4, mlw__limits_live(MEMP_REASSDATA), heap0);
	}
	mlw__limits_stats(&s1);
	reass4.drops = s1.reass_drops - s0.reass_drops;
	reass4.ran = true;
	/* One datagram in ten times as many fragments as may be held. */
	heap0 = heap_bytes();
	for (unsigned i = 0; i < FEED * LIM_REASS_PBUFS; i++) {
		test_netif_receive(nif, f, frag4(f, nif, 7777, (uint16_t)(i * 128), 1024));
		reass4_pbufs.fed++;
		note(&reass4_pbufs, mlw__limits_live(MEMP_REASSDATA), heap0);
	}
	reass4_pbufs.ran = true;
}

/* A datagram in two fragments whose payload starts with another fragment
 * header (first of a datagram): lwIP 2.1.3 reassembled the outer one and
 * then read the inner one against the last fragment's IPv6 header (its
 * assertion "not a valid pbuf" aborted the shard; lwip-port/ip6_reass.c). */
static bool nested_frag6_survived;

static unsigned frag6_nested(uint8_t *f, const struct netif *nif, unsigned part)
{
	static const uint8_t src[16] = { 0xfd, 0, [13] = 0x99, [15] = 0x63 };
	unsigned n = eth(f, nif, 0x86dd);
	uint8_t *fh = f + n + 40;

	ip6_hdr(f + n, src, 44, 16);
	fh[0] = 44, fh[1] = 0;		/* the datagram's payload: a fragment header */
	test_put16(fh + 2, part == 0 ? 1 : (uint16_t)(1 << 3));	/* offset 0 with M, then offset 8 */
	test_put32(fh + 4, 0x600d);
	memset(fh + 8, 0, 8);
	if (part == 0) {		/* the inner header: UDP, offset 0, M */
		fh[8] = 17;
		test_put16(fh + 10, 1);
		test_put32(fh + 12, 0xbad);
	} else {
		memset(fh + 8, 0xee, 8);
	}
	return n + 40 + 16;
}

static void reass6_case(struct netif *nif)
{
	uint8_t f[512];
	uint64_t heap0 = heap_bytes();
	struct mlw__limits_stats s0, s1;

	mlw__limits_stats(&s0);
	for (unsigned i = 0; i < FEED * LIM_REASS; i++) {
		test_netif_receive(nif, f, frag6(f, nif, 5000 + i));
		reass6.fed++;
		note(&reass6, mlw__limits_live(MEMP_IP6_REASSDATA), heap0);
	}
	mlw__limits_stats(&s1);
	reass6.drops = s1.reass_drops - s0.reass_drops;
	reass6.ran = true;
	test_netif_receive(nif, f, frag6_nested(f, nif, 0));
	test_netif_receive(nif, f, frag6_nested(f, nif, 1));
	nested_frag6_survived = true;
}

static uint32_t ooseq_pbufs(uint16_t pport)
{
	uint32_t n = 0;

	for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next)
		if (p->remote_port == pport)
			for (struct tcp_seg *s = p->ooseq; s != NULL; s = s->next)
				n += pbuf_clen(s->p);
	return n;
}

static void ooseq_case(void)
{
	const uint16_t pport = 40001;
	uint32_t isn, seq = 70000;
	uint64_t heap0;
	struct mlw__limits_stats s0, s1;
	unsigned from;
	int lfd, fd;

	lfd = test_peer_listen(LPORT);
	if (lfd < 0)
		return;
	test_peer_send(pport, LPORT, 0x02, seq, 0, 0xffff, NULL, 0, 0);
	from = test_peer_log.n;
	fd = test_peer_accept(lfd, LPORT, pport, from, seq, NULL, 0, &isn);
	if (fd < 0)
		return;
	seq++;
	heap0 = heap_bytes();
	mlw__limits_stats(&s0);
	/* 100-byte segments with a 100-byte hole before each: none is in order. */
	for (unsigned i = 0; i < FEED * LIM_OOSEQ; i++) {
		test_peer_send(pport, LPORT, 0x10, seq + 100 + 200 * i, isn + 1, 0xffff, NULL, 0, 100);
		ooseq.fed++;
		note(&ooseq, ooseq_pbufs(pport), heap0);
	}
	mlw__limits_stats(&s1);
	ooseq.drops = s1.ooseq_drops - s0.ooseq_drops;
	ooseq.ran = true;
	mlw_close(fd);
	mlw_close(lfd);
}

static void run(void)
{
	struct netif *nif;

	if (!test_peer_init("10.0.0.99", "10.0.0.2")) {
		test_peer_fail("no DPDK netif");
		return;
	}
	nif = test_dpdk_netif();
	nd6_case(nif);
	arp_case(nif);
	reass4_case(nif);
	reass6_case(nif);
	ooseq_case();
	test_pump_ms(50);
}

static void check(const struct lim_case *c, const char *what, uint32_t limit, uint64_t min_drops,
		  int64_t heap_bound)
{
	printf("%-13s fed %4u, most held %3u (limit %3u), drops %4llu, heap growth %7lld bytes "
	       "(bound %lld)\n", what, c->fed, (unsigned)c->max_live, (unsigned)limit,
	       (unsigned long long)c->drops, (long long)c->heap_growth, (long long)heap_bound);
	assert_true(c->ran);
	assert_true(c->max_live <= limit);
	assert_true(c->drops >= min_drops);
	assert_true(c->heap_growth <= heap_bound);
}

static void test_nd6_queue(void **state)
{
	(void)state;
	assert_string_equal(test_peer_failure(), "");
	/* Every packet beyond the limit drops one (the neighbour's oldest or
	 * itself); a held one costs its reply (~130 bytes) and the entry. */
	check(&nd6, "nd6_queue", LIM_ND6, FEED * LIM_ND6 - LIM_ND6, 16 * 1024);
	assert_int_equal(nd6.max_live, LIM_ND6);
}

static void test_arp_queue(void **state)
{
	(void)state;
	/* 20 entries x 3 would be 60 held: 52 refused at 8. */
	check(&arp, "arp_queue", LIM_ARP, 60 - LIM_ARP, 16 * 1024);
	assert_int_equal(arp.max_live, LIM_ARP);
}

static void test_reass4(void **state)
{
	(void)state;
	check(&reass4, "reass4", LIM_REASS, FEED * LIM_REASS - LIM_REASS, 16 * 1024);
	assert_int_equal(reass4.max_live, LIM_REASS);
}

static void test_reass4_pbufs(void **state)
{
	(void)state;
	/* One datagram (beside the four left by test_reass4): at most
	 * LIM_REASS_PBUFS fragments of ~1.1 KiB held, where 160 would take
	 * 170 KiB. */
	check(&reass4_pbufs, "reass4_pbufs", LIM_REASS, 0, LIM_REASS_PBUFS * 1400 + 4096);
}

static void test_reass6(void **state)
{
	(void)state;
	check(&reass6, "reass6", LIM_REASS, FEED * LIM_REASS - LIM_REASS, 16 * 1024);
	assert_int_equal(reass6.max_live, LIM_REASS);
}

static void test_reass6_nested(void **state)
{
	(void)state;
	assert_true(nested_frag6_survived);
}

static void test_ooseq(void **state)
{
	(void)state;
	assert_string_equal(test_peer_failure(), "");
	/* Every segment past the 16th cut the queue once. */
	check(&ooseq, "ooseq", LIM_OOSEQ, FEED * LIM_OOSEQ - LIM_OOSEQ, LIM_OOSEQ * 400 + 8192);
}

/* [limits]: defaults, a value set, out of range and unknown keys refused with the line. */
static void test_config_keys(void **state)
{
	static const char base[] = "[eal]\nargs = --no-huge\n[port0]\nipv4 = 10.0.0.2/24\n";
	struct mlw_config cfg;
	struct mlw_config_error err;
	char text[512];

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, base, &err), 0);
	assert_int_equal(cfg.limits.nd6_queue, 64);
	assert_int_equal(cfg.limits.arp_queue, 256);
	assert_int_equal(cfg.limits.reass_datagrams, 16);
	assert_int_equal(cfg.limits.reass_pbufs, 64);
	assert_int_equal(cfg.limits.ooseq_pbufs, 2048);
	assert_int_equal(cfg.limits.ooseq_bytes, 0);
	snprintf(text, sizeof(text), "%s[limits]\nnd6_queue = 5\nooseq_bytes = 65536\n", base);
	assert_int_equal(mlw_config_load_string(&cfg, text, &err), 0);
	assert_int_equal(cfg.limits.nd6_queue, 5);
	assert_int_equal(cfg.limits.ooseq_bytes, 65536);
	snprintf(text, sizeof(text), "%s[limits]\nnd6_queue = 256\n", base);
	assert_int_not_equal(mlw_config_load_string(&cfg, text, &err), 0);
	assert_string_equal(err.section, "limits");
	assert_string_equal(err.key, "nd6_queue");
	assert_int_equal(err.line, 6);
	snprintf(text, sizeof(text), "%s[limits]\nreass_pbufs = 1\n", base);
	assert_int_not_equal(mlw_config_load_string(&cfg, text, &err), 0);
	snprintf(text, sizeof(text), "%s[limits]\nsyn_queue = 1\n", base);
	assert_int_not_equal(mlw_config_load_string(&cfg, text, &err), 0);
	assert_non_null(strstr(err.message, "unknown key"));
	/* A struct filled by hand is checked too. */
	mlw_config_defaults(&cfg);
	assert_int_equal(mlw_config_load_string(&cfg, base, &err), 0);
	cfg.limits.arp_queue = 0;
	assert_int_not_equal(mlw_config_validate(&cfg, &err), 0);
	assert_string_equal(err.key, "arp_queue");
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nd6_queue),
		cmocka_unit_test(test_arp_queue),
		cmocka_unit_test(test_reass4),
		cmocka_unit_test(test_reass4_pbufs),
		cmocka_unit_test(test_reass6),
		cmocka_unit_test(test_reass6_nested),
		cmocka_unit_test(test_ooseq),
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test(test_no_leak),
	};
	int rc = test_stack_run("mlwlimits",
				"[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\nipv6 = fd00::2/64\n"
				"[limits]\nnd6_queue = 8\narp_queue = 8\nreass_datagrams = 4\n"
				"reass_pbufs = 16\nooseq_pbufs = 16\n",
				run, &bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("limits", tests, NULL, NULL);
}
