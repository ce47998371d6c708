/* test_neigh.c - every shard sees ARP requests and neighbour solicitations for the address they share, one shard answers: one reply on the wire per request, and the other shards still learn the asker's ARP address.
 *
 * main -> two shards on net_ring0 (each TX queue loops back to its RX queue)
 * -> on each shard: its netif's linkoutput wrapped to count ARP replies and
 * neighbour advertisements it sends -> shard 0, once both run: an ARP
 * request for 10.0.0.2 from 10.0.0.77 and a neighbour solicitation for
 * fd00::2 from fd00::77 out of its queue 0; they come back on RX queue 0 and
 * shard 0 copies them to shard 1 -> 300 ms of passes -> stop -> in fini each
 * shard records its counts and whether 10.0.0.77 is in its ARP table ->
 * CMocka asserts.
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

static void inject(struct netif *nif)
{
	static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	uint8_t arp[42] = { 0 }, ns[14 + 40 + 32] = { 0 };
	ip6_addr_t src, dst;
	struct pbuf *icmp;

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
	icmp = frame(ns + 54, 32);
	if (icmp != NULL) {
		u16_t ck = ip6_chksum_pseudo(icmp, 58, 32, &src, &dst);

		ns[56] = (uint8_t)(ck & 0xff), ns[57] = (uint8_t)(ck >> 8);	/* as stored by lwIP */
		pbuf_free(icmp);
	}
	send_raw(nif, ns, sizeof(ns));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_answer),
		cmocka_unit_test(test_all_learn),
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
