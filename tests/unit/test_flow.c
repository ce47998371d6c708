/* test_flow.c - CMocka tests of flow ownership (sharding/flow.c): Toeplitz vectors, symmetry, RETA, port choice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlwip/flow.h"
#include "../../sharding/flow_private.h"

/* The key of Microsoft's "Verifying the RSS Hash Calculation" suite. */
static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* That suite's TCP vectors: hash over (src addr, dst addr, src port, dst port). */
struct vec {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t hash;
};

static const struct vec ms_v4[] = {
	{ "66.9.149.187", "161.142.100.80", 2794, 1766, 0x51ccc178 },
	{ "199.92.111.2", "65.69.140.83", 14230, 4739, 0xc626b0ea },
	{ "24.19.198.95", "12.22.207.184", 12898, 38024, 0x5c2b394a },
	{ "38.27.205.30", "209.142.163.6", 48228, 2217, 0xafc7327f },
	{ "153.39.163.191", "202.188.127.2", 44251, 1303, 0x10e828a2 },
};

static const struct vec ms_v6[] = {
	{ "3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766, 0x40207d3d },
	{ "3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739, 0xdde51bbf },
	{ "3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 44251, 38024, 0x02d1feef },
};

/* xorshift64*: deterministic tuples; the seed is printed so a failure can be replayed. */
static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint32_t rnd32(uint64_t *s)
{
	return (uint32_t)(rnd_next(s) >> 32);
}

static uint32_t rand_cb(void *arg)
{
	return rnd32(arg);
}

static void rnd_bytes(uint64_t *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rnd_next(s) >> 56);
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void ip6(const char *s, uint8_t out[16])
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

/* RSS input built here, independently of flow.c's own input builders. */
static size_t build_v4(uint8_t in[12], uint32_t s, uint32_t d, uint16_t sp, uint16_t dp)
{
	memcpy(in, &s, 4);
	memcpy(in + 4, &d, 4);
	memcpy(in + 8, &sp, 2);
	memcpy(in + 10, &dp, 2);
	return 12;
}

static size_t build_v6(uint8_t in[36], const uint8_t s[16], const uint8_t d[16], uint16_t sp, uint16_t dp)
{
	memcpy(in, s, 16);
	memcpy(in + 16, d, 16);
	memcpy(in + 32, &sp, 2);
	memcpy(in + 34, &dp, 2);
	return 36;
}

static void check_impls(const struct mlw_rss *rss, const uint8_t *in, size_t len, uint32_t want)
{
	assert_int_equal(mlw__thash(rss, MLW__THASH_PORTABLE, in, len), want);
	if (mlw__thash_have(MLW__THASH_DPDK))
		assert_int_equal(mlw__thash(rss, MLW__THASH_DPDK, in, len), want);
}

static void test_published_vectors(void **state)
{
	struct mlw_rss rss;
	uint8_t in[MLW__RSS_INPUT_MAX];
	(void)state;

	assert_int_equal(mlw_rss_init(&rss, 1, 128, ms_key, sizeof(ms_key)), 0);
	for (size_t i = 0; i < sizeof(ms_v4) / sizeof(ms_v4[0]); i++) {
		const struct vec *v = &ms_v4[i];
		uint32_t s = ip4(v->src), d = ip4(v->dst);

		assert_int_equal(mlw_rss_hash_v4(&rss, s, d, htons(v->sport), htons(v->dport)), v->hash);
		check_impls(&rss, in, build_v4(in, s, d, htons(v->sport), htons(v->dport)), v->hash);
	}
	for (size_t i = 0; i < sizeof(ms_v6) / sizeof(ms_v6[0]); i++) {
		const struct vec *v = &ms_v6[i];
		uint8_t s[16], d[16];

		ip6(v->src, s);
		ip6(v->dst, d);
		assert_int_equal(mlw_rss_hash_v6(&rss, s, d, htons(v->sport), htons(v->dport)), v->hash);
		check_impls(&rss, in, build_v6(in, s, d, htons(v->sport), htons(v->dport)), v->hash);
	}
}

static void test_init_defaults(void **state)
{
	struct mlw_rss rss;
	(void)state;

	assert_int_equal(mlw_rss_init(&rss, 3, 128, NULL, 0), 0);
	assert_int_equal(rss.key_len, MLW_RSS_KEY_LEN_DEFAULT);
	assert_int_equal(rss.reta_size, 128);
	assert_int_equal(rss.nshards, 3);
	for (unsigned i = 0; i < MLW_RSS_KEY_LEN_MAX; i++)
		assert_int_equal(rss.key[i], i >= rss.key_len ? 0 : (i % 2 ? 0x5a : 0x6d));
	for (unsigned i = 0; i < rss.reta_size; i++)
		assert_int_equal(rss.reta[i], i % 3);

	/* A longer symmetric key on request (i40e/ice take 52 bytes). */
	assert_int_equal(mlw_rss_init(&rss, 8, 512, NULL, 52), 0);
	assert_int_equal(rss.key_len, 52);
	assert_int_equal(rss.key[50], 0x6d);
	assert_int_equal(rss.key[51], 0x5a);
	assert_int_equal(rss.reta[511], 511 % 8);

	/* A given key is copied as is and zero-extended. */
	assert_int_equal(mlw_rss_init(&rss, 1, 1, ms_key, 16), 0);
	assert_memory_equal(rss.key, ms_key, 16);
	assert_int_equal(rss.key[16], 0);

	/* Re-initialising with the struct's own key (another RETA size or
	 * shard count, same key) keeps the key: the stack did this for ports
	 * with RSS and got an all-zero key, so every flow hashed to 0. */
	assert_int_equal(mlw_rss_init(&rss, 2, 128, NULL, 40), 0);
	assert_int_equal(mlw_rss_init(&rss, 4, 64, rss.key, rss.key_len), 0);
	assert_int_equal(rss.key_len, 40);
	for (unsigned i = 0; i < 40; i++)
		assert_int_equal(rss.key[i], i % 2 ? 0x5a : 0x6d);
	assert_int_equal(rss.reta_size, 64);
	assert_int_equal(rss.reta[63], 3);
	assert_int_not_equal(mlw_rss_hash_v4(&rss, 0x0100000a, 0x0200000a, htons(1234), htons(80)), 0);
}

static void test_init_errors(void **state)
{
	struct mlw_rss rss, before;
	(void)state;

	assert_int_equal(mlw_rss_init(&rss, 2, 128, NULL, 0), 0);
	before = rss;
	assert_int_equal(mlw_rss_init(NULL, 2, 128, NULL, 0), -EINVAL);
	assert_int_equal(mlw_rss_init(&rss, 0, 128, NULL, 0), -EINVAL);
	assert_int_equal(mlw_rss_init(&rss, 129, 128, NULL, 0), -EINVAL);
	assert_int_equal(mlw_rss_init(&rss, 1, 0, NULL, 0), -EINVAL);
	assert_int_equal(mlw_rss_init(&rss, 2, 96, NULL, 0), -EINVAL);
	assert_int_equal(mlw_rss_init(&rss, 2, 1024, NULL, 0), -EINVAL);
	assert_int_equal(mlw_rss_init(&rss, 2, 128, ms_key, 0), -EINVAL);
	assert_int_equal(mlw_rss_init(&rss, 2, 128, ms_key, 12), -EINVAL);
	assert_int_equal(mlw_rss_init(&rss, 2, 128, ms_key, 38), -EINVAL);
	assert_int_equal(mlw_rss_init(&rss, 2, 128, NULL, 56), -EINVAL);
	assert_int_equal(mlw_rss_init(&rss, 2, 128, NULL, 18), -EINVAL);
	assert_memory_equal(&rss, &before, sizeof(rss));

	/* The limits themselves are fine. */
	assert_int_equal(mlw_rss_init(&rss, 512, 512, NULL, 52), 0);
	assert_int_equal(mlw_rss_init(&rss, 1, 1, ms_key, 16), 0);
}

static void test_reta_fill(void **state)
{
	struct mlw_rss rss, before;
	uint16_t reta[MLW_RSS_RETA_SIZE_MAX];
	uint64_t seed = 0x5eed0001;
	(void)state;

	assert_int_equal(mlw_rss_init(&rss, 4, 128, NULL, 0), 0);
	/* A NIC's table: reversed and with 64 entries. */
	for (unsigned i = 0; i < 64; i++)
		reta[i] = (uint16_t)(3 - i % 4);
	assert_int_equal(mlw_rss_reta_fill(&rss, reta, 64), 0);
	assert_int_equal(rss.reta_size, 64);
	assert_memory_equal(rss.reta, reta, 64 * sizeof(reta[0]));

	/* The owner is the new table's entry at the hash's low 6 bits. */
	for (int i = 0; i < 10000; i++) {
		uint32_t s = rnd32(&seed), d = rnd32(&seed), p = rnd32(&seed);
		uint16_t sp = (uint16_t)p, dp = (uint16_t)(p >> 16);
		uint32_t h = mlw_rss_hash_v4(&rss, s, d, sp, dp);

		assert_int_equal(mlw_rss_owner_v4(&rss, s, d, sp, dp), reta[h & 63]);
	}

	before = rss;
	reta[5] = 4;	/* not a shard */
	assert_int_equal(mlw_rss_reta_fill(&rss, reta, 64), -EINVAL);
	reta[5] = 0;
	assert_int_equal(mlw_rss_reta_fill(&rss, reta, 0), -EINVAL);
	assert_int_equal(mlw_rss_reta_fill(&rss, reta, 48), -EINVAL);
	assert_int_equal(mlw_rss_reta_fill(&rss, reta, 1024), -EINVAL);
	assert_int_equal(mlw_rss_reta_fill(&rss, NULL, 64), -EINVAL);
	assert_int_equal(mlw_rss_reta_fill(NULL, reta, 64), -EINVAL);
	assert_memory_equal(&rss, &before, sizeof(rss));
}

/* Count the tuples (of @p n random ones) whose reverse direction hashes
 * alike, for IPv4 and IPv6. */
static unsigned count_symmetric(const struct mlw_rss *rss, unsigned n, uint64_t seed)
{
	unsigned same = 0;

	print_message("seed 0x%llx\n", (unsigned long long)seed);
	for (unsigned i = 0; i < n; i++) {
		uint32_t s = rnd32(&seed), d = rnd32(&seed), p = rnd32(&seed);
		uint16_t sp = (uint16_t)p, dp = (uint16_t)(p >> 16);
		uint8_t s6[16], d6[16];

		rnd_bytes(&seed, s6, 16);
		rnd_bytes(&seed, d6, 16);
		same += mlw_rss_hash_v4(rss, s, d, sp, dp) == mlw_rss_hash_v4(rss, d, s, dp, sp);
		same += mlw_rss_hash_v6(rss, s6, d6, sp, dp) == mlw_rss_hash_v6(rss, d6, s6, dp, sp);
	}
	return same;
}

static void test_symmetry(void **state)
{
	struct mlw_rss rss;
	const unsigned n = 50000;
	(void)state;

	assert_int_equal(mlw_rss_init(&rss, 4, 128, NULL, 0), 0);
	assert_int_equal(count_symmetric(&rss, n, 0x5eed0002), 2 * n);

	/* The Microsoft key is not symmetric: the check above would catch a
	 * key that is not. Random agreement has odds of 2^-32 per tuple. */
	assert_int_equal(mlw_rss_init(&rss, 4, 128, ms_key, sizeof(ms_key)), 0);
	assert_true(count_symmetric(&rss, n, 0x5eed0003) < 10);
}

static void check_distribution(unsigned nshards, bool v6, uint64_t seed)
{
	struct mlw_rss rss;
	const unsigned n = 100000;
	unsigned count[8] = { 0 }, entries[8] = { 0 };

	assert_true(nshards <= 8);
	assert_int_equal(mlw_rss_init(&rss, nshards, 128, NULL, 0), 0);
	for (unsigned i = 0; i < rss.reta_size; i++)
		entries[rss.reta[i]]++;
	for (unsigned i = 0; i < n; i++) {
		uint32_t s = rnd32(&seed), d = rnd32(&seed), p = rnd32(&seed);
		uint16_t sp = (uint16_t)p, dp = (uint16_t)(p >> 16);
		unsigned o;

		if (v6) {
			uint8_t s6[16], d6[16];

			rnd_bytes(&seed, s6, 16);
			rnd_bytes(&seed, d6, 16);
			o = mlw_rss_owner_v6(&rss, s6, d6, sp, dp);
		} else {
			o = mlw_rss_owner_v4(&rss, s, d, sp, dp);
		}
		assert_true(o < nshards);
		count[o]++;
	}
	/* Fair share: the shard's part of the RETA (128 % 3 != 0). */
	for (unsigned sh = 0; sh < nshards; sh++) {
		double fair = (double)n * entries[sh] / rss.reta_size;

		if (count[sh] < fair * 0.95 || count[sh] > fair * 1.05)
			fail_msg("%s, %u shards: shard %u got %u flows, fair share %.0f",
				 v6 ? "IPv6" : "IPv4", nshards, sh, count[sh], fair);
	}
}

static void test_distribution(void **state)
{
	static const unsigned shards[] = { 2, 3, 4, 8 };
	(void)state;

	for (unsigned i = 0; i < sizeof(shards) / sizeof(shards[0]); i++) {
		check_distribution(shards[i], false, 0x5eed0100 + i);
		check_distribution(shards[i], true, 0x5eed0200 + i);
	}
}

static void test_impls_agree(void **state)
{
	struct mlw_rss rss;
	uint64_t seed = 0x5eed0004;
	uint8_t key[MLW_RSS_KEY_LEN_MAX], in[MLW__RSS_INPUT_MAX];
	(void)state;

	if (!mlw__thash_have(MLW__THASH_DPDK))
		skip();	/* cmocka reports it as skipped: a build without DPDK has one implementation */
	print_message("seed 0x%llx\n", (unsigned long long)seed);
	for (int i = 0; i < 20000; i++) {
		size_t key_len = 16 + 4 * (rnd32(&seed) % 10);	/* 16..52 */
		size_t len = 4 * (1 + rnd32(&seed) % (MLW__RSS_INPUT_MAX / 4));

		rnd_bytes(&seed, key, key_len);
		rnd_bytes(&seed, in, len);
		assert_int_equal(mlw_rss_init(&rss, 1, 1, key, key_len), 0);
		assert_int_equal(mlw__thash(&rss, MLW__THASH_PORTABLE, in, len),
				 mlw__thash(&rss, MLW__THASH_DPDK, in, len));
	}
}

/* The test's record of ports in use: set by the test, read by flow.c. */
struct ports {
	uint8_t used[65536 / 8];
	unsigned calls;
};

static bool port_used(uint16_t port, void *arg)
{
	struct ports *p = arg;

	p->calls++;
	return p->used[port / 8] & (1u << (port % 8));
}

static void port_take(struct ports *p, uint16_t port)
{
	assert_false(port_used(port, p));	/* a collision */
	p->used[port / 8] |= (uint8_t)(1u << (port % 8));
}

/* One connection's addresses, for either family. */
struct conn {
	bool v6;
	uint32_t l4, r4;
	uint8_t l6[16], r6[16];
	uint16_t rport_be;
};

static int pick(const struct mlw_rss *rss, const struct conn *c, unsigned shard, uint16_t lo, uint16_t hi,
		uint64_t *seed, struct ports *p)
{
	if (c->v6)
		return mlw_rss_pick_port_v6(rss, shard, c->l6, c->r6, c->rport_be, lo, hi, rand_cb, seed,
					    port_used, p);
	return mlw_rss_pick_port_v4(rss, shard, c->l4, c->r4, c->rport_be, lo, hi, rand_cb, seed,
				    port_used, p);
}

/* The owner of packets received on the connection (src = remote, dst =
 * local), computed from an input built here with the portable Toeplitz. */
static unsigned rx_owner(const struct mlw_rss *rss, const struct conn *c, uint16_t lport)
{
	uint8_t in[MLW__RSS_INPUT_MAX];
	size_t len = c->v6 ? build_v6(in, c->r6, c->l6, c->rport_be, htons(lport))
			   : build_v4(in, c->r4, c->l4, c->rport_be, htons(lport));

	return rss->reta[mlw__thash(rss, MLW__THASH_PORTABLE, in, len) & (rss->reta_size - 1)];
}

static unsigned tx_owner(const struct mlw_rss *rss, const struct conn *c, uint16_t lport)
{
	if (c->v6)
		return mlw_rss_owner_v6(rss, c->l6, c->r6, htons(lport), c->rport_be);
	return mlw_rss_owner_v4(rss, c->l4, c->r4, htons(lport), c->rport_be);
}

static void make_conn(struct conn *c, bool v6)
{
	memset(c, 0, sizeof(*c));
	c->v6 = v6;
	c->l4 = ip4("10.0.0.1");
	c->r4 = ip4("10.0.0.2");
	ip6("fd00::1", c->l6);
	ip6("fd00::2", c->r6);
	c->rport_be = htons(80);
}

/*
 * @p nconn connects from shards 0, 1, ... in turn to one remote addr:port:
 * every port is in range, maps back to its shard on the receive direction,
 * and is never handed out twice. Then a small range is exhausted for shard 0:
 * exactly the ports of that range that shard 0 owns come out, then
 * -EADDRNOTAVAIL, while shard 1 still gets ports.
 */
static void check_pick(const struct mlw_rss *rss, bool v6, unsigned nconn, uint64_t seed)
{
	struct ports *p = calloc(1, sizeof(*p));
	struct conn c;
	unsigned per_shard[MLW_RSS_RETA_SIZE_MAX] = { 0 };
	const uint16_t lo = 1024, hi = 65535, xlo = 40000, xhi = 41023;
	unsigned owned = 0, got = 0;
	int port;

	assert_non_null(p);
	make_conn(&c, v6);
	print_message("%s, %u shards, seed 0x%llx\n", v6 ? "IPv6" : "IPv4", rss->nshards,
		      (unsigned long long)seed);
	for (unsigned i = 0; i < nconn; i++) {
		unsigned shard = i % rss->nshards;

		port = pick(rss, &c, shard, lo, hi, &seed, p);
		assert_in_range(port, lo, hi);
		assert_int_equal(rx_owner(rss, &c, (uint16_t)port), shard);
		port_take(p, (uint16_t)port);
		per_shard[shard]++;
	}
	for (unsigned sh = 0; sh < rss->nshards; sh++)
		assert_int_equal(per_shard[sh], nconn / rss->nshards + (sh < nconn % rss->nshards));

	/* Exhaustion in [xlo, xhi] (ports taken above count as in use). */
	memset(p, 0, sizeof(*p));
	for (uint32_t port_h = xlo; port_h <= xhi; port_h++)
		owned += rx_owner(rss, &c, (uint16_t)port_h) == 0;
	assert_true(owned > 0);
	while ((port = pick(rss, &c, 0, xlo, xhi, &seed, p)) > 0) {
		assert_in_range(port, xlo, xhi);
		assert_int_equal(rx_owner(rss, &c, (uint16_t)port), 0);
		port_take(p, (uint16_t)port);
		got++;
		assert_true(got <= owned);
	}
	assert_int_equal(port, -EADDRNOTAVAIL);
	assert_int_equal(got, owned);
	port = pick(rss, &c, 1, xlo, xhi, &seed, p);
	assert_in_range(port, xlo, xhi);
	assert_int_equal(rx_owner(rss, &c, (uint16_t)port), 1);
	free(p);
}

static void test_pick_port(void **state)
{
	struct mlw_rss rss;
	(void)state;

	for (unsigned n = 2; n <= 4; n += 2) {
		assert_int_equal(mlw_rss_init(&rss, n, 128, NULL, 0), 0);
		check_pick(&rss, false, 6000, 0x5eed0300 + n);
		check_pick(&rss, true, 6000, 0x5eed0400 + n);
	}
	/* A NIC's 512-entry table, with an uneven share per shard. */
	uint16_t reta[512];
	uint64_t seed = 0x5eed0500;
	assert_int_equal(mlw_rss_init(&rss, 3, 128, NULL, 0), 0);
	for (unsigned i = 0; i < 512; i++)
		reta[i] = (uint16_t)(rnd32(&seed) % 3);
	assert_int_equal(mlw_rss_reta_fill(&rss, reta, 512), 0);
	check_pick(&rss, false, 5000, 0x5eed0501);
}

/* With a non-symmetric key only the receive direction is right; the test
 * tells the two apart, so computing on the send direction would fail it. */
static void test_pick_port_receive_direction(void **state)
{
	struct mlw_rss rss;
	struct ports *p = calloc(1, sizeof(*p));
	uint64_t seed = 0x5eed0006;
	unsigned tx_wrong = 0;
	(void)state;

	assert_non_null(p);
	assert_int_equal(mlw_rss_init(&rss, 4, 128, ms_key, sizeof(ms_key)), 0);
	for (int v6 = 0; v6 <= 1; v6++) {
		struct conn c;

		make_conn(&c, v6);
		for (unsigned i = 0; i < 2000; i++) {
			unsigned shard = i % 4;
			int port = pick(&rss, &c, shard, 1024, 65535, &seed, p);

			assert_in_range(port, 1024, 65535);
			assert_int_equal(rx_owner(&rss, &c, (uint16_t)port), shard);
			if (v6)
				assert_int_equal(mlw_rss_owner_v6(&rss, c.r6, c.l6, c.rport_be, htons((uint16_t)port)), shard);
			else
				assert_int_equal(mlw_rss_owner_v4(&rss, c.r4, c.l4, c.rport_be, htons((uint16_t)port)), shard);
			tx_wrong += tx_owner(&rss, &c, (uint16_t)port) != shard;
		}
	}
	/* About 3/4 would be expected by chance. */
	assert_true(tx_wrong > 1000);
	free(p);
}

/* Ports are spread over the range, not the first free one every time. */
static void test_pick_port_random_start(void **state)
{
	struct mlw_rss rss;
	struct conn c;
	struct ports *seen = calloc(1, sizeof(*seen));
	uint64_t seed = 0x5eed0007;
	unsigned distinct = 0;
	int lowest = 65536, highest = 0;
	(void)state;

	assert_non_null(seen);
	assert_int_equal(mlw_rss_init(&rss, 4, 128, NULL, 0), 0);
	make_conn(&c, false);
	for (int i = 0; i < 200; i++) {
		int port = mlw_rss_pick_port_v4(&rss, 2, c.l4, c.r4, c.rport_be, 1024, 65535, rand_cb, &seed,
						NULL, NULL);

		assert_in_range(port, 1024, 65535);
		if (!port_used((uint16_t)port, seen)) {
			port_take(seen, (uint16_t)port);
			distinct++;
		}
		lowest = port < lowest ? port : lowest;
		highest = port > highest ? port : highest;
	}
	assert_true(distinct > 190);
	assert_true(lowest < 10000 && highest > 55000);
	free(seen);
}

static void test_pick_port_unowned_shard(void **state)
{
	struct mlw_rss rss;
	uint16_t reta[64] = { 0 };	/* shard 1 of 2 owns nothing */
	uint64_t seed = 0x5eed0008;
	struct ports *p = calloc(1, sizeof(*p));
	struct conn c;
	(void)state;

	assert_non_null(p);
	make_conn(&c, false);
	assert_int_equal(mlw_rss_init(&rss, 2, 64, NULL, 0), 0);
	assert_int_equal(mlw_rss_reta_fill(&rss, reta, 64), 0);
	assert_int_equal(pick(&rss, &c, 1, 1024, 65535, &seed, p), -EADDRNOTAVAIL);
	assert_int_equal(p->calls, 0);
	assert_in_range(pick(&rss, &c, 0, 1024, 65535, &seed, p), 1024, 65535);

	/* One-port range: it is the answer, or none is. */
	assert_int_equal(mlw_rss_init(&rss, 2, 64, NULL, 0), 0);
	int port = pick(&rss, &c, 0, 5000, 5000, &seed, p);
	if (rx_owner(&rss, &c, 5000) == 0)
		assert_int_equal(port, 5000);
	else
		assert_int_equal(port, -EADDRNOTAVAIL);
	free(p);
}

static void test_pick_port_errors(void **state)
{
	struct mlw_rss rss, zero;
	uint64_t seed = 1;
	uint8_t a6[16] = { 0 };
	(void)state;

	memset(&zero, 0, sizeof(zero));
	assert_int_equal(mlw_rss_init(&rss, 2, 128, NULL, 0), 0);
	assert_int_equal(mlw_rss_pick_port_v4(NULL, 0, 1, 2, 3, 1024, 2048, rand_cb, &seed, NULL, NULL), -EINVAL);
	assert_int_equal(mlw_rss_pick_port_v4(&zero, 0, 1, 2, 3, 1024, 2048, rand_cb, &seed, NULL, NULL), -EINVAL);
	assert_int_equal(mlw_rss_pick_port_v4(&rss, 2, 1, 2, 3, 1024, 2048, rand_cb, &seed, NULL, NULL), -EINVAL);
	assert_int_equal(mlw_rss_pick_port_v4(&rss, 0, 1, 2, 3, 0, 2048, rand_cb, &seed, NULL, NULL), -EINVAL);
	assert_int_equal(mlw_rss_pick_port_v4(&rss, 0, 1, 2, 3, 2049, 2048, rand_cb, &seed, NULL, NULL), -EINVAL);
	assert_int_equal(mlw_rss_pick_port_v4(&rss, 0, 1, 2, 3, 1024, 2048, NULL, &seed, NULL, NULL), -EINVAL);
	assert_int_equal(mlw_rss_pick_port_v6(&rss, 0, NULL, a6, 3, 1024, 2048, rand_cb, &seed, NULL, NULL), -EINVAL);
	assert_int_equal(mlw_rss_pick_port_v6(&rss, 0, a6, NULL, 3, 1024, 2048, rand_cb, &seed, NULL, NULL), -EINVAL);
	assert_int_equal(mlw_rss_pick_port_v6(&rss, 2, a6, a6, 3, 1024, 2048, rand_cb, &seed, NULL, NULL), -EINVAL);
	assert_int_equal(mlw_rss_pick_port_v6(&rss, 0, a6, a6, 3, 0, 2048, rand_cb, &seed, NULL, NULL), -EINVAL);
	/* The same arguments, made valid, succeed. */
	assert_in_range(mlw_rss_pick_port_v4(&rss, 1, 1, 2, 3, 1024, 2048, rand_cb, &seed, NULL, NULL), 1024, 2048);
	assert_in_range(mlw_rss_pick_port_v6(&rss, 1, a6, a6, 3, 1024, 2048, rand_cb, &seed, NULL, NULL), 1024, 2048);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_vectors),
		cmocka_unit_test(test_init_defaults),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_reta_fill),
		cmocka_unit_test(test_symmetry),
		cmocka_unit_test(test_distribution),
		cmocka_unit_test(test_impls_agree),
		cmocka_unit_test(test_pick_port),
		cmocka_unit_test(test_pick_port_receive_direction),
		cmocka_unit_test(test_pick_port_random_start),
		cmocka_unit_test(test_pick_port_unowned_shard),
		cmocka_unit_test(test_pick_port_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
