/* steer.h - classify a received frame to its owner shard (private; safe beside lwIP or DPDK ethdev headers). */
#ifndef MLW_STEER_H
#define MLW_STEER_H

#include <stdbool.h>

#include <rte_mbuf.h>

#include "mlwip/flow.h"

#define MLW_STEER_LOCAL	(-1)	/* this shard (echo and other ICMP, fragments, anything without ports) */
#define MLW_STEER_ALL	(-2)	/* ARP / IPv6 ND: every shard */

/* Returns the owner shard (>= 0) or one of MLW_STEER_LOCAL/MLW_STEER_ALL.
 * With @p hw_hash (the port was programmed with rss's key and RETA and
 * hashes TCP and UDP on their 4-tuple), a TCP or UDP frame that carries the
 * NIC's RSS hash (RTE_MBUF_F_RX_RSS_HASH) is steered by that hash instead
 * of a software Toeplitz. */
int mlw__steer_classify(const struct mlw_rss *rss, struct rte_mbuf *m, bool hw_hash);

/* What a shard does with an ARP or ND frame that every shard sees: one
 * shard (the owner of RETA entry 0, where a NIC's RSS puts frames without
 * ports) answers; the others must not answer a second time. */
enum mlw__neigh_action {
	MLW_NEIGH_PASS,		/* hand to lwIP as is */
	MLW_NEIGH_LEARN_ONLY,	/* ARP request: rewritten into a reply, which lwIP learns from
				   without answering */
	MLW_NEIGH_DROP,		/* IPv6 neighbour solicitation */
};

/* For a shard that is not the responder: what to do with frame @p m (an
 * ARP request is rewritten in place). */
enum mlw__neigh_action mlw__neigh_quiet(struct rte_mbuf *m);

#endif
