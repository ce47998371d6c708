/* mbuf_budget.h - the data path's fixed mbuf holdings that size a shard's pool (mlw_config_mbufs_needed), in one place (private). */
#ifndef MLW_MBUF_BUDGET_H
#define MLW_MBUF_BUDGET_H

#define MLW_CONFIG_TXQ_HELD	128u	/* per TX queue: MLW_TX_BATCH frames + MLW_TX_ACKS kept ACKs */
#define MLW_CONFIG_FWD_ZC_MAX	512u	/* frames of another shard's pool one shard holds zero-copy */
#define MLW_CONFIG_SPARE	64u	/* ARP/ND copies in hand, rounding */

struct mlw_config;
/* The inter-shard ring size the stack uses: [stack] ring_size, or for 0
 * the default from the shard count (config.h). */
unsigned mlw__config_ring_size(const struct mlw_config *cfg);

#endif
