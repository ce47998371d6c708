/* test_neigh.c - every shard sees ARP requests and neighbour solicitations for the address they share, one shard answers: one reply on the wire per request, and the other shards still learn the asker's ARP address; a router advertisement adds no address to any shard.
 *
 * main -> two shards on net_ring0 (each TX queue loops back to its RX queue)
 * -> on each shard: its netif's linkoutput wrapped to count ARP replies and
 * neighbour advertisements it sends -> shard 0, once both run: an ARP
 * request for 10.0.0.2 from 10.0.0.77 and a neighbour solicitation for
 * fd00::2 from fd00::77 and a router advertisement of 2001:db8:1::/64 (on
 * link, autonomous) out of its queue 0; they come back on RX queue 0 and
 * shard 0 copies them to shard 1 -> 300 ms of passes -> stop -> in fini each
 * shard records its counts, whether 10.0.0.77 is in its ARP table and
 * whether it has an address in 2001:db8:1::/64 -> CMocka asserts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "mlwip/stack.h"
#include "test_stack.h"

#define SHARDS 2

static struct mlw_stack *st;
static char create_err[600];
static int create_rc = -1, run_rc = 1;
static atomic_uint ready;
static atomic_bool injected;

static struct {
	unsigned arp_replies, neigh_adverts;
	bool learned;		/* 10.0.0.77 in the shard's ARP table at stop */
	bool slaac;		/* an address in the advertised prefix at stop */
	bool wrapped;
} res[SHARDS];

/* Per shard thread: the port's real linkoutput and what it sent. */
static _Thread_local netif_linkoutput_fn real_out;
static _Thread_local unsigned arp_replies, neigh_adverts;

static err_t counting_out(struct netif *nif, struct pbuf *p)
{
	uint8_t f[14 + 41];
	u16_t n = pbuf_copy_partial(p, f, sizeof(f), 0);

	/* Replies to 10.0.0.77 (the shards' own gratuitous requests come
	 * back over the looped ring and get answered too: not counted). */
	if (n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[14 + 6] == 0 && f[14 + 7] == 2 &&
	    memcmp(f + 38, "\x0a\x00\x00\x4d", 4) == 0)
		arp_replies++;
	if (n == sizeof(f) && f[12] == 0x86 && f[13] == 0xdd && f[14 + 6] == 58 && f[14 + 40] == 136)
		neigh_adverts++;
	return real_out(nif, p);
}

static struct pbuf *frame(const uint8_t *bytes, unsigned len)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);

	if (p != NULL)
		memcpy(p->payload, bytes, len);
	return p;
}

static void send_raw(struct netif *nif, const uint8_t *bytes, unsigned len)
{
	struct pbuf *p = frame(bytes, len);

	if (p != NULL) {
		real_out(nif, p);
		pbuf_free(p);
	}
}

/* Store the ICMPv6 checksum of the message at f + 54 (len bytes). */
static void icmp6_checksum(uint8_t *f, unsigned len, const ip6_addr_t *src, const ip6_addr_t *dst)
{
	struct pbuf *icmp = frame(f + 54, len);

	if (icmp != NULL) {
		u16_t ck = ip6_chksum_pseudo(icmp, 58, (u16_t)len, src, dst);

		f[56] = (uint8_t)(ck & 0xff), f[57] = (uint8_t)(ck >> 8);	/* as stored by lwIP */
		pbuf_free(icmp);
	}
}

/* Router advertisement from fe80::1 to all nodes: 2001:db8:1::/64, on link
 * and autonomous (a host doing stateless autoconfiguration takes an address
 * in it). Shards take addresses from the configuration only: lwIP 2.2.1's
 * netif_add() turns autoconfiguration on, mlwip turns it off. */
static void send_ra(struct netif *nif)
{
	uint8_t ra[14 + 40 + 48] = { 0 };
	ip6_addr_t src, dst;

	memcpy(ra, "\x33\x33\x00\x00\x00\x01", 6);
	memcpy(ra + 6, "\x02\x00\x00\x00\x00\x01", 6);
	ra[12] = 0x86, ra[13] = 0xdd;
	ra[14] = 0x60, ra[19] = 48, ra[20] = 58, ra[21] = 255;
	ra[22] = 0xfe, ra[23] = 0x80, ra[37] = 0x01;		/* fe80::1 */
	ra[38] = 0xff, ra[39] = 0x02, ra[53] = 0x01;		/* ff02::1 */
	ra[54] = 134, ra[58] = 64, ra[60] = 0x07, ra[61] = 0x08;	/* lifetime 1800 s */
	ra[70] = 3, ra[71] = 4, ra[72] = 64, ra[73] = 0xc0;	/* prefix, /64, L and A */
	memcpy(ra + 74, "\x00\x01\x51\x80\x00\x00\x38\x40", 8);	/* valid 1 d, preferred 4 h */
	memcpy(ra + 86, "\x20\x01\x0d\xb8\x00\x01", 6);		/* 2001:db8:1:: */
	IP6_ADDR(&src, PP_HTONL(0xfe800000), 0, 0, PP_HTONL(0x01));
	IP6_ADDR(&dst, PP_HTONL(0xff020000), 0, 0, PP_HTONL(0x01));
	icmp6_checksum(ra, 48, &src, &dst);
	send_raw(nif, ra, sizeof(ra));
}

static void inject(struct netif *nif)
{
	static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	uint8_t arp[42] = { 0 }, ns[14 + 40 + 32] = { 0 };
	ip6_addr_t src, dst;

	/* ARP request, broadcast: who has 10.0.0.2? tell 10.0.0.77. */
	memset(arp, 0xff, 6);
	memcpy(arp + 6, peer_mac, 6);
	arp[12] = 0x08, arp[13] = 0x06;
	arp[15] = 1, arp[16] = 0x08, arp[18] = 6, arp[19] = 4, arp[21] = 1;
	memcpy(arp + 22, peer_mac, 6);
	memcpy(arp + 28, "\x0a\x00\x00\x4d", 4);
	memcpy(arp + 38, "\x0a\x00\x00\x02", 4);
	send_raw(nif, arp, sizeof(arp));

	/* Neighbour solicitation for fd00::2 from fe80::77 (on-link whatever
	 * lwIP knows of prefixes, so the answer needs no resolution of its
	 * own), sent to our MAC as a peer checking reachability does, with
	 * its link address. */
	memcpy(ns, nif->hwaddr, 6);
	memcpy(ns + 6, peer_mac, 6);
	ns[12] = 0x86, ns[13] = 0xdd;
	ns[14] = 0x60, ns[19] = 32, ns[20] = 58, ns[21] = 255;
	ns[22] = 0xfe, ns[23] = 0x80, ns[37] = 0x77;		/* fe80::77 */
	ns[38] = 0xfd, ns[53] = 0x02;				/* fd00::2 */
	ns[54] = 135;
	ns[62] = 0xfd, ns[77] = 0x02;				/* target fd00::2 */
	ns[78] = 1, ns[79] = 1;					/* source link-layer address */
	memcpy(ns + 80, peer_mac, 6);
	IP6_ADDR(&src, PP_HTONL(0xfe800000), 0, 0, PP_HTONL(0x77));
	IP6_ADDR(&dst, PP_HTONL(0xfd000000), 0, 0, PP_HTONL(0x02));
	icmp6_checksum(ns, 32, &src, &dst);
	send_raw(nif, ns, sizeof(ns));
	send_ra(nif);
}

static int on_init(unsigned shard, void *arg)
{
	struct netif *nif = test_dpdk_netif();

	(void)arg;
	if (nif == NULL)
		return -1;
	real_out = nif->linkoutput;
	nif->linkoutput = counting_out;
	res[shard].wrapped = true;
	atomic_fetch_add(&ready, 1);
	if (shard != 0)
		return 0;
	/* Shard 0 waits for shard 1 to have wrapped its netif, then asks. */
	for (int64_t end = test_now_ms() + 5000; atomic_load(&ready) < SHARDS && test_now_ms() < end;)
		test_pump();
	inject(nif);
	atomic_store(&injected, true);
	test_pump_ms(300);
	mlw_stack_stop(st);
	return 0;
}

static void on_fini(unsigned shard, void *arg)
{
	struct netif *nif = test_dpdk_netif();
	ip4_addr_t peer;
	struct eth_addr *mac;
	const ip4_addr_t *ip;

	(void)arg;
	IP4_ADDR(&peer, 10, 0, 0, 77);
	res[shard].arp_replies = arp_replies;
	res[shard].neigh_adverts = neigh_adverts;
	res[shard].learned = nif != NULL && etharp_find_addr(nif, &peer, &mac, &ip) >= 0;
	for (int i = 0; nif != NULL && i < LWIP_IPV6_NUM_ADDRESSES; i++)
		if (!ip6_addr_isinvalid(netif_ip6_addr_state(nif, i)) &&
		    netif_ip6_addr(nif, i)->addr[0] == PP_HTONL(0x20010db8) &&
		    netif_ip6_addr(nif, i)->addr[1] == PP_HTONL(0x00010000))
			res[shard].slaac = true;
}

static void test_one_answer(void **state)
{
	(void)state;
	if (create_rc != 0)
		fail_msg("stack did not start: %s", create_err);
	assert_int_equal(run_rc, 0);
	assert_true(atomic_load(&injected));
	assert_true(res[0].wrapped && res[1].wrapped);
	/* Shard 0 owns RETA entry 0: it answers, shard 1 stays quiet. */
	assert_int_equal(res[0].arp_replies, 1);
	assert_int_equal(res[0].neigh_adverts, 1);
	assert_int_equal(res[1].arp_replies, 0);
	assert_int_equal(res[1].neigh_adverts, 0);
}

static void test_all_learn(void **state)
{
	(void)state;
	if (create_rc != 0)
		skip();
	assert_true(res[0].learned);
	assert_true(res[1].learned);
}

static void test_no_autoconfig(void **state)
{
	(void)state;
	if (create_rc != 0)
		skip();
	assert_false(res[0].slaac);
	assert_false(res[1].slaac);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_answer),
		cmocka_unit_test(test_all_learn),
		cmocka_unit_test(test_no_autoconfig),
	};
	int rc;

	create_rc = test_stack_create_eal(&st, "neigh", "-m 512 --vdev=net_ring0",
					  "[stack]\ncores = 0,1\n[port0]\nipv4 = 10.0.0.2/24\nipv6 = fd00::2/64\n",
					  create_err, sizeof(create_err));
	if (create_rc == 0) {
		run_rc = mlw_stack_run(st, on_init, on_fini, NULL);
		mlw_stack_print_stats(st, stdout);
	}
	rc = cmocka_run_group_tests_name("neigh", tests, NULL, NULL);
	if (create_rc == 0)
		test_stack_destroy(st, "neigh");
	return rc;
}
