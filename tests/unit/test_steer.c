/* test_steer.c - received-frame classification: TCP/UDP by their 4-tuple, ICMP/ICMPv6 errors to the owner of the flow they quote, ARP/ND to every shard, the rest local.
 *
 * Frames are built in memory and handed to mlw__steer_classify() in a
 * stack-allocated rte_mbuf (no EAL needed: only buf_addr, data_off and
 * data_len are read). For many random flows over 4 shards: the ICMP error
 * quoting a datagram we sent on a flow must land where a TCP/UDP frame of
 * that flow lands, whatever the owner is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <string.h>

#include <cmocka.h>

#include <rte_mbuf.h>

#include "../../sharding/steer.h"
#include "afp.h"
#include "mlwip/flow.h"

#define SHARDS 4
#define FLOWS 2000

static struct mlw_rss rss;
static uint8_t frame[256];

static int classify(unsigned len)
{
	struct rte_mbuf m;

	memset(&m, 0, sizeof(m));
	m.buf_addr = frame;
	m.data_off = 0;
	m.data_len = (uint16_t)len;
	m.pkt_len = len;
	return mlw__steer_classify(&rss, &m, false);
}

/* As classify(), for a frame that carries the NIC's RSS hash @p hash. */
static int classify_hw(unsigned len, uint32_t hash, bool hw_hash)
{
	struct rte_mbuf m;

	memset(&m, 0, sizeof(m));
	m.buf_addr = frame;
	m.data_len = (uint16_t)len;
	m.pkt_len = len;
	m.ol_flags = RTE_MBUF_F_RX_RSS_HASH;
	m.hash.rss = hash;
	return mlw__steer_classify(&rss, &m, hw_hash);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

struct flow {
	uint8_t peer[16], us[16];	/* IPv4 uses the first 4 bytes */
	uint16_t peer_port, our_port;
	uint8_t proto;
};

static void random_flow(struct flow *f)
{
	for (int i = 0; i < 16; i++) {
		f->peer[i] = (uint8_t)rand();
		f->us[i] = (uint8_t)rand();
	}
	f->peer_port = (uint16_t)rand();
	f->our_port = (uint16_t)rand();
	f->proto = rand() & 1 ? 6 : 17;
}

/* Ethernet header; returns the offset of the IP header. */
static unsigned eth(uint16_t type)
{
	memset(frame, 0, sizeof(frame));
	put16(frame + 12, type);
	return 14;
}

/* A TCP/UDP frame of the flow as received: from the peer to us. */
static unsigned rx4(const struct flow *f)
{
	unsigned o = eth(0x0800);

	frame[o] = 0x45;
	put16(frame + o + 2, 40);
	frame[o + 9] = f->proto;
	memcpy(frame + o + 12, f->peer, 4);
	memcpy(frame + o + 16, f->us, 4);
	put16(frame + o + 20, f->peer_port);
	put16(frame + o + 22, f->our_port);
	return o + 40;
}

/* An ICMP error from the peer (or a router) quoting our datagram. */
static unsigned icmp4(const struct flow *f, uint8_t type, bool fragment)
{
	unsigned o = eth(0x0800), q = o + 28;

	frame[o] = 0x45;
	put16(frame + o + 2, 20 + 8 + 20 + 8);
	if (fragment)
		frame[o + 6] = 0x20;
	frame[o + 9] = 1;
	memcpy(frame + o + 12, f->peer, 4);
	memcpy(frame + o + 16, f->us, 4);
	frame[o + 20] = type;
	frame[q] = 0x45;
	frame[q + 9] = f->proto;
	memcpy(frame + q + 12, f->us, 4);
	memcpy(frame + q + 16, f->peer, 4);
	put16(frame + q + 20, f->our_port);
	put16(frame + q + 22, f->peer_port);
	return q + 28;
}

static unsigned rx6(const struct flow *f)
{
	unsigned o = eth(0x86dd);

	frame[o] = 0x60;
	put16(frame + o + 4, 20);
	frame[o + 6] = f->proto;
	memcpy(frame + o + 8, f->peer, 16);
	memcpy(frame + o + 24, f->us, 16);
	put16(frame + o + 40, f->peer_port);
	put16(frame + o + 42, f->our_port);
	return o + 60;
}

static unsigned icmp6(const struct flow *f, uint8_t type)
{
	unsigned o = eth(0x86dd), q = o + 48;

	frame[o] = 0x60;
	put16(frame + o + 4, 8 + 40 + 8);
	frame[o + 6] = 58;
	memcpy(frame + o + 8, f->peer, 16);
	memcpy(frame + o + 24, f->us, 16);
	frame[o + 40] = type;
	frame[q] = 0x60;
	frame[q + 6] = f->proto;
	memcpy(frame + q + 8, f->us, 16);
	memcpy(frame + q + 24, f->peer, 16);
	put16(frame + q + 40, f->our_port);
	put16(frame + q + 42, f->peer_port);
	return q + 48;
}

static int setup(void **state)
{
	(void)state;
	srand(7);
	return mlw_rss_init(&rss, SHARDS, 128, NULL, 0);
}

static void t_icmp_errors_follow_their_flow(void **state)
{
	static const uint8_t types4[] = { 3, 11, 12 }, types6[] = { 1, 2, 3, 4 };
	unsigned seen[SHARDS] = { 0 };

	(void)state;
	for (int i = 0; i < FLOWS; i++) {
		struct flow f;
		int owner;

		random_flow(&f);
		owner = classify(rx4(&f));
		assert_in_range(owner, 0, SHARDS - 1);
		seen[owner]++;
		for (size_t t = 0; t < sizeof(types4); t++)
			assert_int_equal(classify(icmp4(&f, types4[t], false)), owner);
		owner = classify(rx6(&f));
		assert_in_range(owner, 0, SHARDS - 1);
		for (size_t t = 0; t < sizeof(types6); t++)
			assert_int_equal(classify(icmp6(&f, types6[t])), owner);
	}
	/* The flows really were spread (the ICMP checks compared real owners). */
	for (int s = 0; s < SHARDS; s++)
		assert_true(seen[s] > FLOWS / SHARDS / 2);
}

static void t_other_icmp_stays_local(void **state)
{
	struct flow f;
	unsigned len;

	(void)state;
	random_flow(&f);
	assert_int_equal(classify(icmp4(&f, 8, false)), MLW_STEER_LOCAL);	/* echo request */
	assert_int_equal(classify(icmp4(&f, 5, false)), MLW_STEER_LOCAL);	/* redirect */
	assert_int_equal(classify(icmp4(&f, 3, true)), MLW_STEER_LOCAL);	/* a fragment */
	len = icmp4(&f, 3, false);
	assert_int_equal(classify(14 + 20 + 8 + 20 + 3), MLW_STEER_LOCAL);	/* ports cut off */
	frame[14 + 28 + 9] = 1;						/* quotes ICMP */
	assert_int_equal(classify(len), MLW_STEER_LOCAL);
	assert_int_equal(classify(icmp6(&f, 128)), MLW_STEER_LOCAL);	/* echo request */
	assert_int_equal(classify(icmp6(&f, 135)), MLW_STEER_ALL);	/* neighbour solicitation */
	len = icmp6(&f, 1);
	assert_int_equal(classify(14 + 40 + 8 + 40 + 3), MLW_STEER_LOCAL);	/* ports cut off */
	frame[14 + 48 + 6] = 58;					/* quotes ICMPv6 */
	assert_int_equal(classify(len), MLW_STEER_LOCAL);
	eth(0x0806);
	assert_int_equal(classify(42), MLW_STEER_ALL);			/* ARP */
}

/* A port programmed with our key and RETA gives the hash it computed: TCP
 * and UDP frames are steered by it (no software Toeplitz), everything that
 * the NIC hashes otherwise (ICMP errors, ARP, fragments) as before. */
static void t_nic_hash_used(void **state)
{
	struct flow f;
	unsigned len;
	int sw;

	(void)state;
	for (int i = 0; i < 200; i++) {
		random_flow(&f);
		len = rx4(&f);
		sw = classify(len);
		/* The NIC's own hash agrees with the software one ... */
		{
			uint32_t peer, us;

			memcpy(&peer, f.peer, 4);
			memcpy(&us, f.us, 4);
			assert_int_equal(classify_hw(len, mlw_rss_hash_v4(&rss, peer, us, htons(f.peer_port),
									   htons(f.our_port)), true), sw);
		}
		/* ... and it is the one used: another hash, another owner. */
		assert_int_equal(classify_hw(len, (uint32_t)i, true), rss.reta[i & (rss.reta_size - 1)]);
		/* Not when the port's hash is not ours. */
		assert_int_equal(classify_hw(len, (uint32_t)i, false), sw);
		len = rx6(&f);
		assert_int_equal(classify_hw(len, (uint32_t)i, true), rss.reta[i & (rss.reta_size - 1)]);
		len = icmp4(&f, 3, false);
		assert_int_equal(classify_hw(len, (uint32_t)i, true), classify(len));
	}
}

/* A kernel engine port with steer = ports: TCP and UDP over IPv4 and IPv6
 * are owned by the queue the fanout program gives them
 * (mlw_afp_steer_ports(), afpacket-netif/afp.h), ICMP errors by the flow
 * they quote, the rest as on any port; a NIC hash on the frame is ignored. */
static int classify_ports(unsigned len)
{
	struct rte_mbuf m;

	memset(&m, 0, sizeof(m));
	m.buf_addr = frame;
	m.data_len = (uint16_t)len;
	m.pkt_len = len;
	m.ol_flags = RTE_MBUF_F_RX_RSS_HASH;
	m.hash.rss = 12345;
	return mlw__steer_owner(&rss, &m, MLW_STEER_HOW_PORTS);
}

static void t_afpacket_ports(void **state)
{
	unsigned seen[SHARDS] = { 0 }, differ = 0;

	(void)state;
	for (int i = 0; i < FLOWS; i++) {
		struct flow f;
		int owner;

		random_flow(&f);
		owner = classify_ports(rx4(&f));
		assert_int_equal(owner, (int)mlw_afp_steer_ports(f.peer_port, f.our_port, SHARDS));
		assert_int_equal(owner, (int)mlw_afp_steer_ports(f.our_port, f.peer_port, SHARDS));
		seen[owner]++;
		differ += owner != classify(rx4(&f));
		assert_int_equal(classify_ports(icmp4(&f, 3, false)), owner);
		assert_int_equal(classify_ports(rx6(&f)), owner);
		assert_int_equal(classify_ports(icmp6(&f, 1)), owner);
		assert_int_equal(classify_ports(icmp4(&f, 8, false)), MLW_STEER_LOCAL);
	}
	for (int s = 0; s < SHARDS; s++)
		assert_true(seen[s] > FLOWS / SHARDS / 2);
	/* Not the Toeplitz owner: the mode is really a different function. */
	assert_true(differ > FLOWS / 2);
	/* Linux's connect() takes even local ports: those still spread. */
	memset(seen, 0, sizeof(seen));
	for (unsigned p = 40000; p < 40000 + 2 * 400; p += 2)
		seen[mlw_afp_steer_ports((uint16_t)p, 80, SHARDS)]++;
	for (int s = 0; s < SHARDS; s++)
		assert_true(seen[s] > 400 / SHARDS / 2);
	eth(0x0806);
	assert_int_equal(classify_ports(42), MLW_STEER_ALL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_nic_hash_used),
		cmocka_unit_test(t_icmp_errors_follow_their_flow),
		cmocka_unit_test(t_other_icmp_stays_local),
		cmocka_unit_test(t_afpacket_ports),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
