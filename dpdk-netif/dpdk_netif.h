/* dpdk_netif.h - DPDK ethdev glue for shards: port setup, burst RX into zero-copy pbufs, batched TX (private; the engine-neutral part is sharding/port.h).
 *
 * Two kinds of translation units use this header, and it must stay safe for
 * both: lwIP-side files (netif.c, sharding/shard.c) include lwIP's protocol
 * headers, DPDK-side files (port.c, burst.c) include <rte_ethdev.h>, and the
 * two cannot meet in one file (both define struct ip6_hdr and IP_* macros).
 * So this header includes neither: only mbufs, mempools and lwIP's pbuf.h. */
#ifndef MLW_DPDK_NETIF_H
#define MLW_DPDK_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "port.h"	/* the engine-neutral part: caps, port, TX queue, netif state */

/* The mbuf private area holds the custom pbuf that wraps the mbuf's data
 * for lwIP (zero-copy RX): freeing the pbuf frees the mbuf. */
struct mlw_rx_pbuf {
	struct pbuf_custom pc;
	struct rte_mbuf *m;
	uint16_t pool;		/* index of the shard whose pool m is from */
};
#define MLW_MBUF_PRIV_SIZE RTE_ALIGN(sizeof(struct mlw_rx_pbuf), RTE_MBUF_PRIV_ALIGN)
/* A zero-copy TX mbuf keeps the shared info of its external buffer (the
 * pbuf's data) in the same private area. */
_Static_assert(sizeof(struct rte_mbuf_ext_shared_info) <= MLW_MBUF_PRIV_SIZE,
	       "the TX external buffer info fits in the mbuf private area");
/* Frames up to this size are copied even where zero-copy TX is possible:
 * a copy of a small frame costs less than attaching and releasing it. */
#define MLW_TX_COPY_MAX	256u

struct mlw_rss;

/* What port @p port_id can do, without configuring it. Returns 0 or
 * -ENODEV. */
int mlw__port_probe(uint16_t port_id, struct mlw_port_caps *caps);

/**
 * Configure and start a port with @p nqueues RX/TX queue pairs, RX queue i
 * filling from @p pools[i]. When the port has RSS that can agree with
 * @p rss (a key of at least 40 bytes, a RETA whose size is a multiple of
 * rss->reta_size), program the symmetric key at the port's length and the
 * RETA (rss->reta repeated), and read both back; otherwise caps.rss is
 * cleared and the shards steer in software. Waits up to @p link_wait_ms for
 * link up.
 *
 * Each queue gets @p rx_desc / @p tx_desc descriptors, or fewer if the
 * driver rounds them down.
 *
 * @p rx_intr: ask for RX queue interrupts ([stack] idle = interrupt); if the
 * driver has none, caps.rx_intr stays false and the port is used without
 * them (logged once).
 *
 * @return 0, or -errno: -ENODEV no such port; -EINVAL too many queues for
 *   the port; -ERANGE the driver needs more descriptors than given (what it
 *   wants is in port->want_rx_desc/want_tx_desc); -EIO the port refused
 *   its configuration or its RSS settings did not read back as written.
 */
int mlw__port_open(struct mlw_port *port, uint16_t port_id, uint16_t nqueues,
		   struct rte_mempool *const *pools, const struct mlw_rss *rss,
		   uint16_t rx_desc, uint16_t tx_desc, unsigned link_wait_ms, bool rx_intr);

/* Receive up to @p n frames from one queue; returns how many (burst.c). */
uint16_t mlw__rx_burst(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);

/* Set the mbuf's offload flags so the port computes the IPv4 header and
 * TCP/UDP checksums (burst.c). */
void mlw__tx_offload(struct rte_mbuf *m);

/**
 * In a burst of @p n received frames, free every pure TCP ACK that a later
 * pure ACK of the same connection in the burst supersedes (acknowledges
 * more, repeats its SACK blocks, has a timestamp not older); duplicate
 * ACKs stay. The rest stay in order at pkts[0..return).
 * Adds the freed frames' bytes to *@p dropped_bytes (acks.c).
 */
uint16_t mlw__rx_coalesce_acks(struct rte_mbuf **pkts, uint16_t n, uint64_t *dropped_bytes);

/* Append @p m to the TX batch q->pkts (room checked by the caller); a pure
 * ACK may replace the waiting ACK of its connection instead (acks.c). */
void mlw__txq_queue(struct mlw_txq *q, struct rte_mbuf *m);

/* With q->pkts full and the port backed up: keep @p m in q->acks if it is a
 * pure ACK the peer needs, freeing the kept ACKs it makes unnecessary.
 * False if it is no pure ACK or no room is left: the caller frees it
 * (acks.c). */
bool mlw__txq_keep_ack(struct mlw_txq *q, struct rte_mbuf *m);

#endif /* MLW_DPDK_NETIF_H */
