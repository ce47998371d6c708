/* mlwip/lwip_shard.h - helpers for the lwIP instance that lives on the calling shard thread. */
#ifndef MLWIP_LWIP_SHARD_H
#define MLWIP_LWIP_SHARD_H

#include "mlwip/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Remove every pending lwIP timeout of the calling thread's lwIP instance,
 * including the cyclic ARP/ND/MLD/reassembly timers lwip_init() armed and
 * the TCP timer, and free them. lwIP has no de-initialisation; this is the
 * last step of a shard's teardown, after its PCBs are closed or aborted and
 * its netifs removed, so that the shard heap ends with nothing in use.
 * The thread must not use lwIP again afterwards.
 *
 * @return the number of timeouts removed (>= 0).
 */
MLW_EXPORT int mlw_lwip_timers_clear(void);

/**
 * The whole end of a thread's lwIP instance, after its PCBs are closed or
 * aborted: remove every netif still in netif_list (including the loopback
 * netif lwip_init() added, whose multicast memberships are freed only that
 * way), then mlw_lwip_timers_clear(). The thread must not use lwIP again.
 *
 * @return the number of timeouts removed (>= 0).
 */
MLW_EXPORT int mlw_lwip_teardown(void);

#ifdef __cplusplus
}
#endif

#endif /* MLWIP_LWIP_SHARD_H */
