/* rx_budget.c - the zero-copy RX budget (sharding/port.h): how many received frames each shard's lwIP holds as pbufs over a packet engine's buffers, per pool they are from, and the copy into the shard heap past that limit. Shared by both engines' pbuf glue (dpdk-netif/netif.c, afpacket-netif/port_kernel.c). */
#include <string.h>

#include "lwip/pbuf.h"
#include "mlwip/config.h"	/* MLW_MAX_SHARDS */
#include "mlw_rx_budget.h"

/* Per shard thread: frames lwIP holds, by the pool they are from, the
 * limits, and frames copied instead. */
static _Thread_local struct {
	unsigned held[MLW_MAX_SHARDS];
	unsigned limit[MLW_MAX_SHARDS];
	uint64_t copied;
} zc;

void mlw__rx_zc_setup(unsigned self, unsigned zc_own, unsigned zc_fwd)
{
	for (unsigned i = 0; i < MLW_MAX_SHARDS; i++)
		zc.limit[i] = i == self ? zc_own : zc_fwd;
}

unsigned mlw__rx_zc_held(unsigned pool)
{
	return pool < MLW_MAX_SHARDS ? zc.held[pool] : 0;
}

uint64_t mlw__rx_copied(void)
{
	return zc.copied;
}

bool mlw__rx_zc_take(unsigned pool)
{
	if (pool >= MLW_MAX_SHARDS || zc.held[pool] >= zc.limit[pool])
		return false;
	zc.held[pool]++;
	return true;
}

void mlw__rx_zc_give(unsigned pool)
{
	zc.held[pool]--;
}

struct pbuf *mlw__rx_copy_out(const void *data, uint16_t len)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, len, PBUF_RAM);

	if (p != NULL) {
		memcpy(p->payload, data, len);
		zc.copied++;
	}
	return p;
}
