/* mlw_rx_budget.h - what both packet engines' lwIP glue shares: the zero-copy RX budget (rx_budget.c) and the Ethernet netif set-up (eth_netif.c) (private). mlw__rx_zc_setup/held and mlw__rx_copied are declared for the shards in sharding/port.h. */
#ifndef MLW_RX_BUDGET_H
#define MLW_RX_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

struct pbuf;
struct netif;

void mlw__rx_zc_setup(unsigned self, unsigned zc_own, unsigned zc_fwd);
unsigned mlw__rx_zc_held(unsigned pool);
uint64_t mlw__rx_copied(void);

/* A received frame of shard @p pool's pool is about to be handed to lwIP
 * without a copy: true (counted) if the calling shard holds fewer than its
 * limit for that pool, false if it must be copied instead. */
bool mlw__rx_zc_take(unsigned pool);
/* lwIP let go of such a frame (its custom pbuf's free function). */
void mlw__rx_zc_give(unsigned pool);
/* The frame's @p len bytes at @p data into a PBUF_RAM pbuf of the shard
 * heap (counted in mlw__rx_copied()); NULL if the heap has no room. */
struct pbuf *mlw__rx_copy_out(const void *data, uint16_t len);

/* eth_netif.c: a port's netif as an Ethernet interface (etharp/ethip6
 * outputs, flags) with its checksum control: none on a trusted link, the
 * TX ones left to a port that computes them, all others on. Returns the
 * flags set (the run loop restores them after a frame it changed them for). */
uint16_t mlw__eth_netif_setup(struct netif *netif, bool trust_cksum, bool tx_cksum_offload);

#endif
