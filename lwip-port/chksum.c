/* chksum.c - the Internet checksum for lwIP (LWIP_CHKSUM in lwipopts.h): 8 bytes per add instead of lwIP's 2.
 *
 * lwIP calls LWIP_CHKSUM from inet_chksum(), inet_chksum_pbuf() and the
 * pseudo-header sums (ip_chksum_pseudo, ...) for every checksum it computes
 * or verifies, i.e. over every byte a shard sends or receives when the port
 * does not do it. lwIP's own routine (LWIP_CHKSUM_ALGORITHM 2) adds 16 bits
 * per step; this one adds 64 bits with carry into a 128-bit accumulator (32 into 64 bits
 * on 32-bit targets),
 * which gives the same one's complement sum (2^16 = 1 modulo 0xffff, so the
 * sum of wider words folds to the sum of their 16-bit halves), and the same
 * representation of it: both fold a non-zero total to 1..0xffff and an
 * all-zero buffer to 0. No DPDK here: boards build lwIP without it.
 */
#include <stdint.h>
#include <string.h>


/* 64-bit targets add 64-bit words with carry (add/adc); 32-bit ones add
 * 32-bit words into 64 bits, which cannot overflow below 16 GiB. */
#ifdef __SIZEOF_INT128__
typedef unsigned __int128 acc_t;
#define HI64(a) ((uint64_t)((a) >> 64))
#define WORD uint64_t
#else
typedef uint64_t acc_t;
#define HI64(a) ((uint64_t)0)
#define WORD uint32_t
#endif

/* The one's complement sum of @p len bytes at @p data (any alignment), as
 * 16-bit words in host byte order, not inverted: what lwIP's
 * lwip_standard_chksum() returns. A trailing odd byte counts as the first
 * byte of a word whose second byte is zero. */
uint16_t mlw__lwip_chksum(const void *data, int len)
{
	const unsigned char *p = data;
	acc_t acc = 0;
	uint64_t s, w;
	uint32_t w32;
	uint16_t w16 = 0;

	if (len <= 0)
		return 0;
#if defined(__x86_64__)
	/* One add-with-carry chain over 64 bytes: 10 instructions where the
	 * compiler's 128-bit adds take about 40 (it zeroes the high halves
	 * again for every word). */
	{
		uint64_t s64 = 0;

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
				: [s] "+r"(s64)
				: [p] "r"(p), "m"(*(const unsigned char(*)[64])p)
				: "cc");
			p += 64;
			len -= 64;
		}
		acc = s64;
	}
#endif
	/* Four words per pass keeps the add-with-carry chain busy; memcpy
	 * is an unaligned load, nothing more. */
	while (len >= (int)(4 * sizeof(WORD))) {
		WORD a, b, c, d;

		memcpy(&a, p, sizeof(a));
		memcpy(&b, p + sizeof(a), sizeof(b));
		memcpy(&c, p + 2 * sizeof(a), sizeof(c));
		memcpy(&d, p + 3 * sizeof(a), sizeof(d));
		acc += a;
		acc += b;
		acc += c;
		acc += d;
		p += 4 * sizeof(WORD);
		len -= (int)(4 * sizeof(WORD));
	}
	while (len >= 8) {
		memcpy(&w, p, 8);
		acc += w & 0xffffffffu;
		acc += w >> 32;
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w32, p, 4);
		acc += w32;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		acc += w16;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		w16 = 0;
		memcpy(&w16, p, 1);
		acc += w16;
	}
	/* Fold 128 -> 64 -> 32 -> 16 bits, adding each carry back in. */
	s = (uint64_t)acc;
	w = HI64(acc);
	s += w;
	s += s < w;
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}
