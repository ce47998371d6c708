/* siphash.h - SipHash (Aumasson & Bernstein): 2-4 behind ISNs, 1-3 over words for per-shard hash tables. */
#ifndef MLW_SIPHASH_H
#define MLW_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit SipHash-2-4 of msg[0..len) under a 16-byte key. */
uint64_t mlw__siphash24(const uint8_t key[16], const void *msg, size_t len);

/* 64-bit SipHash-1-3 of @p n 64-bit words under a 128-bit key (the
 * message is the words' 8 * n bytes, little-endian). */
uint64_t mlw__siphash13_words(const uint64_t key[2], const uint64_t *w, size_t n);

#endif
