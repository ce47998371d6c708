/* chksum.c - the Internet checksum for lwIP (LWIP_CHKSUM in lwipopts.h): 8 bytes per add instead of lwIP's 2.
 *
 * lwIP calls LWIP_CHKSUM from inet_chksum(), inet_chksum_pbuf() and the
 * pseudo-header sums (ip_chksum_pseudo, ...) for every checksum it computes
 * or verifies, i.e. over every byte a shard sends or receives when the port
 * does not do it. lwIP's own routine (LWIP_CHKSUM_ALGORITHM 2) adds 16 bits
 * per step; this one adds 64-bit words with end-around carry, which gives
 * the same one's complement sum (2^16 = 1 modulo 0xffff, so the sum of
 * wider words folds to the sum of their 16-bit halves), and the same
 * representation of it: both fold a non-zero total to 1..0xffff and an
 * all-zero buffer to 0 (end-around carry never turns a non-zero sum into
 * 0). No DPDK here: boards build lwIP without it.
 */
#include <stdint.h>
#include <string.h>

/* s + v in one's complement: the carry out goes back in at the bottom. */
static inline uint64_t add_c(uint64_t s, uint64_t v)
{
	s += v;
	return s + (s < v);
}

/* The one's complement sum of @p len bytes at @p data (any alignment), as
 * 16-bit words in host byte order, not inverted: what lwIP's
 * lwip_standard_chksum() returns. A trailing odd byte counts as the first
 * byte of a word whose second byte is zero. */
uint16_t mlw__lwip_chksum(const void *data, int len)
{
	const unsigned char *p = data;
	uint64_t s = 0, w;
	uint32_t w32;
	uint16_t w16;

	if (len <= 0)
		return 0;
#if defined(__x86_64__)
	/* One add-with-carry chain over 64 bytes: 12 instructions a block,
	 * where the C below takes about 30. */
	while (len >= 64) {
		__asm__("addq 0(%[p]), %[s]\n\t"
			"adcq 8(%[p]), %[s]\n\t"
			"adcq 16(%[p]), %[s]\n\t"
			"adcq 24(%[p]), %[s]\n\t"
			"adcq 32(%[p]), %[s]\n\t"
			"adcq 40(%[p]), %[s]\n\t"
			"adcq 48(%[p]), %[s]\n\t"
			"adcq 56(%[p]), %[s]\n\t"
			"adcq $0, %[s]"
			: [s] "+r"(s)
			: [p] "r"(p), "m"(*(const unsigned char(*)[64])p)
			: "cc");
		p += 64;
		len -= 64;
	}
#endif
	/* memcpy is an unaligned load, nothing more. */
	while (len >= 8) {
		memcpy(&w, p, 8);
		s = add_c(s, w);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w32, p, 4);
		s = add_c(s, w32);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		s = add_c(s, w16);
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		w16 = 0;
		memcpy(&w16, p, 1);
		s = add_c(s, w16);
	}
	/* Fold 64 -> 32 -> 16 bits, adding each carry back in. */
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}
