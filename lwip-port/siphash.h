/* siphash.h - SipHash-2-4 (Aumasson & Bernstein), the keyed hash behind ISNs. */
#ifndef MLW_SIPHASH_H
#define MLW_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit SipHash-2-4 of msg[0..len) under a 16-byte key. */
uint64_t mlw__siphash24(const uint8_t key[16], const void *msg, size_t len);

#endif
