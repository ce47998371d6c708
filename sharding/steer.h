/* steer.h - classify a received frame to its owner shard (private; safe beside lwIP or DPDK ethdev headers). */
#ifndef MLW_STEER_H
#define MLW_STEER_H

#include <rte_mbuf.h>

#include "mlwip/flow.h"

#define MLW_STEER_LOCAL	(-1)	/* this shard (echo and other ICMP, fragments, anything without ports) */
#define MLW_STEER_ALL	(-2)	/* ARP / IPv6 ND: every shard */

/* Returns the owner shard (>= 0) or one of MLW_STEER_LOCAL/MLW_STEER_ALL. */
int mlw__steer_classify(const struct mlw_rss *rss, struct rte_mbuf *m);

#endif
