/* siphash.c - SipHash (2-4 and 1-3), written from the paper's specification. */
#include <string.h>

#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sip {
	uint64_t v0, v1, v2, v3;
};

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline void sip_round(struct sip *s)
{
	s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0; s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2; s->v2 = ROTL(s->v2, 32);
}

static inline void sip_init(struct sip *s, uint64_t k0, uint64_t k1)
{
	s->v0 = 0x736f6d6570736575ULL ^ k0;
	s->v1 = 0x646f72616e646f6dULL ^ k1;
	s->v2 = 0x6c7967656e657261ULL ^ k0;
	s->v3 = 0x7465646279746573ULL ^ k1;
}

/* One message block, @p c compression rounds. */
static inline void sip_block(struct sip *s, uint64_t m, int c)
{
	s->v3 ^= m;
	for (int i = 0; i < c; i++)
		sip_round(s);
	s->v0 ^= m;
}

/* The last block @p b (length byte on top), then @p d finalization rounds. */
static inline uint64_t sip_final(struct sip *s, uint64_t b, int c, int d)
{
	sip_block(s, b, c);
	s->v2 ^= 0xff;
	for (int i = 0; i < d; i++)
		sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t mlw__siphash24(const uint8_t key[16], const void *msg, size_t len)
{
	const uint8_t *in = msg;
	uint64_t b = (uint64_t)len << 56;
	struct sip s;
	size_t i;

	sip_init(&s, load_le64(key), load_le64(key + 8));
	for (i = 0; i + 8 <= len; i += 8)
		sip_block(&s, load_le64(in + i), 2);
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	return sip_final(&s, b, 2, 4);
}

/* SipHash-1-3 (one compression round per block, three at the end: the
 * paper's cheaper variant) of n whole 64-bit words, for hash tables keyed
 * per shard (tcp_table.c, sharding/connect.c). The words are the message
 * as SipHash reads it, little-endian: the length byte covers 8 * n bytes. */
uint64_t mlw__siphash13_words(const uint64_t key[2], const uint64_t *w, size_t n)
{
	struct sip s;

	sip_init(&s, key[0], key[1]);
	for (size_t i = 0; i < n; i++)
		sip_block(&s, w[i], 1);
	return sip_final(&s, (uint64_t)(8 * n) << 56, 1, 3);
}
