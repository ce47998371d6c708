/* flow.c - flow ownership: Toeplitz RSS hash (DPDK's or portable), RETA lookup, RSS-aware local ports. */
/*
 * Call chains:
 *   mlw_rss_owner_v4/_v6 -> mlw_rss_hash_v4/_v6 -> toeplitz() -> rte_softrss() | toeplitz_portable()
 *   mlw_rss_pick_port_v4/_v6 -> pick_port() -> toeplitz() per candidate port
 * All state lives in the caller's struct mlw_rss; this file has no writable
 * globals.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(MLW_HAVE_DPDK) && MLW_HAVE_DPDK
#include <rte_thash.h>
#define MLW_FLOW_DPDK 1
#else
#define MLW_FLOW_DPDK 0
#endif

#include "mlwip/flow.h"
#include "flow_private.h"

/* rte_softrss() reads the key as 32-bit words, and reads one word past the
 * input length; the key array must be aligned for that and long enough for
 * the longest input plus one word (the zero padding stands in for key bits a
 * short key does not have). */
_Static_assert(offsetof(struct mlw_rss, key) % 4 == 0, "RSS key must be 4-byte aligned");
_Static_assert(MLW_RSS_KEY_LEN_MAX >= MLW__RSS_INPUT_MAX + 4, "key array too short for IPv6 input");
_Static_assert(MLW_RSS_KEY_LEN_MIN >= 12 + 4, "minimum key too short for IPv4 input");
_Static_assert(MLW_RSS_RETA_SIZE_MAX <= UINT16_MAX, "RETA entries and sizes are 16-bit");

/* Byte offsets of the ports in the RSS input. */
#define V4_INPUT_LEN	12u
#define V4_DPORT_OFF	10u
#define V6_INPUT_LEN	36u
#define V6_DPORT_OFF	34u

static bool is_pow2(unsigned x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Bit-serial Toeplitz: for every set input bit at position p (0 = most
 * significant bit of the first byte), XOR in the 32 key bits [p, p + 32).
 * @p win holds that window and shifts in one key bit per input bit. The key
 * must be readable (zero-padded) up to len + 4 bytes.
 */
static uint32_t toeplitz_portable(const uint8_t *key, const uint8_t *input, size_t len)
{
	uint32_t hash = 0;
	uint32_t win = load_be32(key);

	for (size_t i = 0; i < len; i++) {
		uint8_t next = key[i + 4];

		for (int b = 7; b >= 0; b--) {
			if (input[i] & (1u << b))
				hash ^= win;
			win = win << 1 | ((uint32_t)next >> b & 1u);
		}
	}
	return hash;
}

#if MLW_FLOW_DPDK
/* rte_softrss() wants the input as 32-bit words in host byte order (it
 * treats bit 31 of word 0 as the first bit on the wire), and the key as
 * bytes in wire order. */
static uint32_t toeplitz_dpdk(const uint8_t *key, const uint8_t *input, size_t len)
{
	uint32_t words[MLW__RSS_INPUT_MAX / 4];

	for (size_t i = 0; i < len / 4; i++)
		words[i] = load_be32(input + 4 * i);
	return rte_softrss(words, (uint32_t)(len / 4), key);
}
#endif

static uint32_t toeplitz(const struct mlw_rss *rss, const uint8_t *input, size_t len)
{
#if MLW_FLOW_DPDK
	return toeplitz_dpdk(rss->key, input, len);
#else
	return toeplitz_portable(rss->key, input, len);
#endif
}

bool mlw__thash_have(enum mlw__thash_impl impl)
{
	return impl == MLW__THASH_PORTABLE || (impl == MLW__THASH_DPDK && MLW_FLOW_DPDK);
}

uint32_t mlw__thash(const struct mlw_rss *rss, enum mlw__thash_impl impl, const uint8_t *input, size_t len)
{
	assert(len % 4 == 0 && len <= MLW__RSS_INPUT_MAX);
	assert(mlw__thash_have(impl));
	(void)impl;	/* without DPDK and with NDEBUG, only the assertion reads it */
#if MLW_FLOW_DPDK
	if (impl == MLW__THASH_DPDK)
		return toeplitz_dpdk(rss->key, input, len);
#endif
	return toeplitz_portable(rss->key, input, len);
}

/* The symmetric key of Woo & Park is the byte pair 0x6d, 0x5a repeated.
 * Because it repeats every 16 bits, the hash depends only on the XOR of the
 * input's 16-bit pieces, and swapping source and destination (addresses 32
 * bits apart, ports 16) does not change that XOR. */
static void symmetric_key(uint8_t *key, size_t len)
{
	for (size_t i = 0; i < len; i++)
		key[i] = i % 2 == 0 ? 0x6d : 0x5a;
}

int mlw_rss_init(struct mlw_rss *rss, unsigned nshards, unsigned reta_size,
		 const uint8_t *key, size_t key_len)
{
	if (rss == NULL)
		return -EINVAL;
	if (reta_size == 0 || reta_size > MLW_RSS_RETA_SIZE_MAX || !is_pow2(reta_size))
		return -EINVAL;
	if (nshards == 0 || nshards > reta_size)
		return -EINVAL;
	if (key == NULL && key_len == 0)
		key_len = MLW_RSS_KEY_LEN_DEFAULT;
	if (key_len % 4 != 0 || key_len < MLW_RSS_KEY_LEN_MIN || key_len > MLW_RSS_KEY_LEN_MAX)
		return -EINVAL;

	/* The key may be rss->key itself (re-initialising with the key in
	 * use): take it before the struct is cleared. */
	uint8_t k[MLW_RSS_KEY_LEN_MAX];

	if (key != NULL)
		memmove(k, key, key_len);
	else
		symmetric_key(k, key_len);
	memset(rss, 0, sizeof(*rss));
	memcpy(rss->key, k, key_len);
	rss->key_len = (unsigned)key_len;
	rss->reta_size = reta_size;
	rss->nshards = nshards;
	for (unsigned i = 0; i < reta_size; i++)
		rss->reta[i] = (uint16_t)(i % nshards);
	return 0;
}

int mlw_rss_reta_fill(struct mlw_rss *rss, const uint16_t *reta, unsigned n)
{
	if (rss == NULL || reta == NULL)
		return -EINVAL;
	if (n == 0 || n > MLW_RSS_RETA_SIZE_MAX || !is_pow2(n))
		return -EINVAL;
	/* Check every entry before changing anything, so a bad table leaves
	 * the old one in place. */
	for (unsigned i = 0; i < n; i++)
		if (reta[i] >= rss->nshards)
			return -EINVAL;

	memcpy(rss->reta, reta, n * sizeof(reta[0]));
	memset(rss->reta + n, 0, (MLW_RSS_RETA_SIZE_MAX - n) * sizeof(reta[0]));
	rss->reta_size = n;
	return 0;
}

/* The RSS input is the packet's header fields in wire order, so copying the
 * network-order values byte for byte builds it without any swapping. */
static void input_v4(uint8_t in[V4_INPUT_LEN], uint32_t saddr_be, uint32_t daddr_be,
		     uint16_t sport_be, uint16_t dport_be)
{
	memcpy(in, &saddr_be, 4);
	memcpy(in + 4, &daddr_be, 4);
	memcpy(in + 8, &sport_be, 2);
	memcpy(in + 10, &dport_be, 2);
}

static void input_v6(uint8_t in[V6_INPUT_LEN], const uint8_t saddr[16], const uint8_t daddr[16],
		     uint16_t sport_be, uint16_t dport_be)
{
	memcpy(in, saddr, 16);
	memcpy(in + 16, daddr, 16);
	memcpy(in + 32, &sport_be, 2);
	memcpy(in + 34, &dport_be, 2);
}

static unsigned owner_of(const struct mlw_rss *rss, uint32_t hash)
{
	assert(is_pow2(rss->reta_size) && rss->reta_size <= MLW_RSS_RETA_SIZE_MAX);
	return rss->reta[hash & (rss->reta_size - 1)];
}

uint32_t mlw_rss_hash_v4(const struct mlw_rss *rss, uint32_t saddr_be, uint32_t daddr_be,
			 uint16_t sport_be, uint16_t dport_be)
{
	uint8_t in[V4_INPUT_LEN];

	input_v4(in, saddr_be, daddr_be, sport_be, dport_be);
	return toeplitz(rss, in, sizeof(in));
}

uint32_t mlw_rss_hash_v6(const struct mlw_rss *rss, const uint8_t saddr[16], const uint8_t daddr[16],
			 uint16_t sport_be, uint16_t dport_be)
{
	uint8_t in[V6_INPUT_LEN];

	input_v6(in, saddr, daddr, sport_be, dport_be);
	return toeplitz(rss, in, sizeof(in));
}

unsigned mlw_rss_owner_v4(const struct mlw_rss *rss, uint32_t saddr_be, uint32_t daddr_be,
			  uint16_t sport_be, uint16_t dport_be)
{
	return owner_of(rss, mlw_rss_hash_v4(rss, saddr_be, daddr_be, sport_be, dport_be));
}

unsigned mlw_rss_owner_v6(const struct mlw_rss *rss, const uint8_t saddr[16], const uint8_t daddr[16],
			  uint16_t sport_be, uint16_t dport_be)
{
	return owner_of(rss, mlw_rss_hash_v6(rss, saddr, daddr, sport_be, dport_be));
}

/* A struct mlw_rss that mlw_rss_init (and mlw_rss_reta_fill) could have produced. */
static bool rss_usable(const struct mlw_rss *rss)
{
	return rss != NULL && is_pow2(rss->reta_size) && rss->reta_size <= MLW_RSS_RETA_SIZE_MAX &&
	       rss->nshards != 0 && rss->key_len >= MLW_RSS_KEY_LEN_MIN &&
	       rss->key_len <= MLW_RSS_KEY_LEN_MAX && rss->key_len % 4 == 0;
}

static bool shard_in_reta(const struct mlw_rss *rss, unsigned shard)
{
	for (unsigned i = 0; i < rss->reta_size; i++)
		if (rss->reta[i] == shard)
			return true;
	return false;
}

/*
 * @p in is the RSS input of a packet *received* on the connection (source =
 * remote, destination = local) with the local port at @p port_off still to be
 * filled in. With the symmetric key both directions hash alike, but a
 * non-symmetric key (a NIC that cannot take ours, or one read back from it)
 * only gives the right owner for the direction the NIC actually hashes: the
 * incoming one. Outgoing packets are not steered by anyone.
 *
 * Scanning on from a random start keeps ports unpredictable to an off-path
 * attacker (RFC 6056's "random start, sequential search"), within the
 * 1-in-nshards constraint that the flow must come back to this shard.
 */
static int pick_port(const struct mlw_rss *rss, unsigned shard, uint8_t *in, size_t len, size_t port_off,
		     uint16_t lo, uint16_t hi, uint32_t (*rand_fn)(void *), void *rand_arg,
		     bool (*in_use)(uint16_t, void *), void *in_use_arg)
{
	if (!shard_in_reta(rss, shard))
		return -EADDRNOTAVAIL;

	uint32_t n = (uint32_t)hi - lo + 1;
	uint32_t off = rand_fn(rand_arg) % n;

	for (uint32_t i = 0; i < n; i++, off = off + 1 == n ? 0 : off + 1) {
		uint16_t port = (uint16_t)(lo + off);

		in[port_off] = (uint8_t)(port >> 8);
		in[port_off + 1] = (uint8_t)port;
		/* Ownership first: it is cheap and rules out most ports
		 * without calling back into the caller's port table. With
		 * one shard every port is its own. */
		if (rss->nshards > 1 && owner_of(rss, toeplitz(rss, in, len)) != shard)
			continue;
		if (in_use != NULL && in_use(port, in_use_arg))
			continue;
		return port;
	}
	return -EADDRNOTAVAIL;
}

static bool pick_args_ok(const struct mlw_rss *rss, unsigned shard, uint16_t lo, uint16_t hi,
			 uint32_t (*rand_fn)(void *))
{
	return rss_usable(rss) && shard < rss->nshards && lo != 0 && lo <= hi && rand_fn != NULL;
}

int mlw_rss_pick_port_v4(const struct mlw_rss *rss, unsigned shard, uint32_t laddr_be,
			 uint32_t raddr_be, uint16_t rport_be, uint16_t lo, uint16_t hi,
			 uint32_t (*rand_fn)(void *), void *rand_arg,
			 bool (*in_use)(uint16_t port, void *arg), void *in_use_arg)
{
	uint8_t in[V4_INPUT_LEN];

	if (!pick_args_ok(rss, shard, lo, hi, rand_fn))
		return -EINVAL;
	input_v4(in, raddr_be, laddr_be, rport_be, 0);
	return pick_port(rss, shard, in, sizeof(in), V4_DPORT_OFF, lo, hi, rand_fn, rand_arg,
			 in_use, in_use_arg);
}

int mlw_rss_pick_port_v6(const struct mlw_rss *rss, unsigned shard, const uint8_t laddr[16],
			 const uint8_t raddr[16], uint16_t rport_be, uint16_t lo, uint16_t hi,
			 uint32_t (*rand_fn)(void *), void *rand_arg,
			 bool (*in_use)(uint16_t port, void *arg), void *in_use_arg)
{
	uint8_t in[V6_INPUT_LEN];

	if (!pick_args_ok(rss, shard, lo, hi, rand_fn) || laddr == NULL || raddr == NULL)
		return -EINVAL;
	input_v6(in, raddr, laddr, rport_be, 0);
	return pick_port(rss, shard, in, sizeof(in), V6_DPORT_OFF, lo, hi, rand_fn, rand_arg,
			 in_use, in_use_arg);
}
