/* rand.c - per-thread random numbers for lwIP (LWIP_RAND) and per-thread secrets. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "rand_private.h"

/* xoshiro128** state, one per shard thread. Seeded from getrandom() at the
 * thread's first use, so the only system call is outside the packet path
 * after start-up. */
static _Thread_local uint32_t rng_state[4];
static _Thread_local int rng_seeded;

int mlw__random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint32_t rotl(uint32_t x, int k)
{
	return (x << k) | (x >> (32 - k));
}

static void rng_seed(void)
{
	if (mlw__random_bytes(rng_state, sizeof(rng_state)) != 0) {
		/* No entropy source (very old kernel): fall back to the clock and
		 * the state's address, which at least differs per thread. */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		rng_state[0] = (uint32_t)ts.tv_nsec;
		rng_state[1] = (uint32_t)ts.tv_sec;
		rng_state[2] = (uint32_t)(uintptr_t)rng_state;
		rng_state[3] = 0x9e3779b9u;
	}
	if ((rng_state[0] | rng_state[1] | rng_state[2] | rng_state[3]) == 0)
		rng_state[0] = 1;	/* the all-zero state is a fixed point */
	rng_seeded = 1;
}

uint32_t mlw__lwip_rand(void)
{
	uint32_t *s = rng_state;
	uint32_t result, t;

	if (__builtin_expect(!rng_seeded, 0))
		rng_seed();
	result = rotl(s[1] * 5, 7) * 9;
	t = s[1] << 9;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 11);
	return result;
}
