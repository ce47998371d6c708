/* fuzz_steer.c - libFuzzer harness for the steering classifier (sharding/steer.c): mlw__steer_classify() and mlw__neigh_quiet() on arbitrary frames.
 *
 * Input: byte 0 picks the setup (bits 0-2: shards - 1, bit 3: hardware
 * hash on, bits 4-6: RETA size 2^(bit value + 1), i.e. 2..256, never
 * fewer entries than shards), bytes 1-4 the NIC's RSS hash (used when
 * bit 3 is set and bit 7 says the mbuf carries one); the rest is the
 * frame, copied into a heap buffer of exactly its length (so ASan sees
 * any read past it) that a hand-made rte_mbuf points at (no EAL, no
 * mempool: the classifier only reads the data pointer, data_len,
 * ol_flags and hash.rss).
 *
 * Checks beyond the sanitizers: the owner is a shard (< shards) or one of
 * MLW_STEER_LOCAL/MLW_STEER_ALL; without a NIC hash, TCP and UDP frames
 * over IPv4 and IPv6 (no fragment, no options beyond the header length)
 * get the same owner as the frame with addresses and ports swapped (the
 * symmetric key: both directions of a flow meet on one shard); ARP stays
 * MLW_STEER_ALL after mlw__neigh_quiet() rewrote it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "mlwip/flow.h"
#include "steer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mlw_rss rss[8][8];
static int ready;

static void setup(void)
{
	for (unsigned s = 0; s < 8; s++)
		for (unsigned r = 0; r < 8; r++) {
			unsigned reta = 2u << r;

			if (reta < s + 1)
				reta = s + 1 <= 8 ? 8 : reta;
			if (mlw_rss_init(&rss[s][r], s + 1, reta, NULL, 0) != 0)
				abort();
		}
	ready = 1;
}

static int classify(const struct mlw_rss *r, const uint8_t *f, size_t len, uint64_t flags,
		    uint32_t hash, int hw)
{
	struct rte_mbuf m;
	uint8_t *buf = malloc(len ? len : 1);
	int owner;

	memcpy(buf, f, len);
	memset(&m, 0, sizeof(m));
	m.buf_addr = buf;
	m.data_off = 0;
	m.data_len = (uint16_t)len;
	m.pkt_len = (uint32_t)len;
	m.buf_len = (uint16_t)len;
	m.nb_segs = 1;
	m.ol_flags = flags;
	m.hash.rss = hash;
	owner = mlw__steer_classify(r, &m, hw != 0);
	if (owner != MLW_STEER_LOCAL && owner != MLW_STEER_ALL && (owner < 0 || (unsigned)owner >= r->nshards)) {
		fprintf(stderr, "fuzz_steer: owner %d of %u shards\n", owner, r->nshards);
		abort();
	}
	/* The neighbour rewrite stays in the frame's bytes and keeps ARP for
	 * every shard. */
	if (mlw__neigh_quiet(&m) && !(len >= 14 + 41 && buf[12] == 0x86 && buf[13] == 0xdd))
		abort();
	if (len >= 14 && buf[12] == 0x08 && buf[13] == 0x06 &&
	    mlw__steer_classify(r, &m, hw != 0) != MLW_STEER_ALL)
		abort();
	free(buf);
	return owner;
}

/* The frame @p f with source and destination (addresses and ports)
 * swapped, into @p out; false if it is not plain TCP/UDP over IPv4/IPv6. */
static bool reversed(const uint8_t *f, size_t len, uint8_t *out)
{
	memcpy(out, f, len);
	if (len < 14)
		return false;
	if (f[12] == 0x08 && f[13] == 0x00) {
		const uint8_t *ip = f + 14;
		unsigned hl = len < 14 + 20 ? 0 : (ip[0] & 15u) * 4u;
		uint8_t *o = out + 14;

		if (hl < 20 || len < 14 + hl + 4 || (ip[9] != 6 && ip[9] != 17) ||
		    ((ip[6] << 8 | ip[7]) & 0x3fff) != 0)
			return false;
		memcpy(o + 12, ip + 16, 4);
		memcpy(o + 16, ip + 12, 4);
		memcpy(o + hl, ip + hl + 2, 2);
		memcpy(o + hl + 2, ip + hl, 2);
		return true;
	}
	if (f[12] == 0x86 && f[13] == 0xdd) {
		const uint8_t *ip = f + 14;
		uint8_t *o = out + 14;

		if (len < 14 + 40 + 4 || (ip[6] != 6 && ip[6] != 17))
			return false;
		memcpy(o + 8, ip + 24, 16);
		memcpy(o + 24, ip + 8, 16);
		memcpy(o + 40, ip + 42, 2);
		memcpy(o + 42, ip + 40, 2);
		return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mlw_rss *r;
	uint8_t rev[65536];
	uint32_t hash;
	uint64_t flags;
	int hw, owner;

	if (!ready)
		setup();
	if (size < 5 || size - 5 > 65535)
		return 0;
	r = &rss[data[0] & 7][(data[0] >> 4) & 7];
	hw = (data[0] >> 3) & 1;
	flags = (data[0] & 0x80) ? RTE_MBUF_F_RX_RSS_HASH : 0;
	hash = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
	data += 5;
	size -= 5;
	owner = classify(r, data, size, flags, hash, hw);
	if (!(hw && flags) && reversed(data, size, rev)) {
		int back = classify(r, rev, size, flags, hash, hw);

		if (back != owner) {
			fprintf(stderr, "fuzz_steer: owner %d one way, %d the other\n", owner, back);
			abort();
		}
	}
	return 0;
}
