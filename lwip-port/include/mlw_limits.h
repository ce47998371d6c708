/* mlw_limits.h - the shard's side of lwip-port/limits.c: apply [limits], read what they refused. */
#ifndef MLW_LIMITS_INTERNAL_H
#define MLW_LIMITS_INTERNAL_H

#include <stdint.h>

#include "mlwip/limits.h"

/* Per shard: what the limits refused, and what the queues hold now. */
struct mlw__limits_stats {
	uint64_t nd6_queue_drops;	/* IPv6 packets dropped: ND queue full */
	uint64_t arp_queue_drops;	/* IPv4 packets dropped: ARP queue full */
	uint64_t reass_drops;		/* datagrams dropped: too many in reassembly */
	uint64_t ooseq_drops;		/* out-of-order queues cut at their limit */
	uint64_t nd6_queued, arp_queued, reass_datagrams;	/* now */
};

/* Sets the calling shard's limits (after lwip_init()); the values must be
 * valid (mlw_config_validate() checks them). */
void mlw__limits_apply(const struct mlw_limits *l);
void mlw__limits_stats(struct mlw__limits_stats *out);
/* Live objects of memp type @p type on this shard (tests). */
uint32_t mlw__limits_live(int type);

#endif /* MLW_LIMITS_INTERNAL_H */
