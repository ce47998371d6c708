/* isn.c - RFC 6528 initial sequence numbers: ISN = M + F(4-tuple, secret). */
#include <string.h>
#include <time.h>

#include "lwip/ip_addr.h"
#include "mlw_lwip_hooks.h"
#include "rand_private.h"
#include "siphash.h"
#include "syn_cookie_private.h"

/* One secret per shard thread. A flow always lives on the same shard, so
 * its ISNs come from one secret; shards need not agree with each other. */
static _Thread_local uint8_t isn_key[16];
static _Thread_local int isn_key_ready;

static size_t put_addr(uint8_t *p, const ip_addr_t *a)
{
#if LWIP_IPV6
	if (IP_IS_V6(a)) {
		memcpy(p, ip_2_ip6(a)->addr, 16);
		return 16;
	}
#endif
	memcpy(p, &ip_2_ip4(a)->addr, 4);
	return 4;
}

u32_t mlw__tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		   const ip_addr_t *remote_ip, u16_t remote_port)
{
	uint8_t msg[16 + 16 + 2 + 2];
	size_t n = 0;
	struct timespec ts;
	uint64_t m;
	u32_t cookie;

	/* A connection a SYN cookie completes starts at the cookie. */
	if (__builtin_expect(mlw__syn_cookie_iss(local_ip, &cookie), 0))
		return cookie;
	if (__builtin_expect(!isn_key_ready, 0)) {
		if (mlw__random_bytes(isn_key, sizeof(isn_key)) != 0) {
			/* Keep ISNs unpredictable to an off-path attacker as far as
			 * we can without the kernel's entropy. */
			for (size_t i = 0; i < sizeof(isn_key); i += 4) {
				uint32_t r = mlw__lwip_rand();

				memcpy(isn_key + i, &r, 4);
			}
		}
		isn_key_ready = 1;
	}
	n += put_addr(msg + n, local_ip);
	n += put_addr(msg + n, remote_ip);
	memcpy(msg + n, &local_port, 2);
	n += 2;
	memcpy(msg + n, &remote_port, 2);
	n += 2;
	/* M: a timer that ticks every 4 microseconds (RFC 6528 section 3). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	m = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) / 4000u;
	return (u32_t)(m + mlw__siphash24(isn_key, msg, n));
}
