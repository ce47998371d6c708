/* engine.h - the kernel packet engine behind [portN] engine = afpacket: afp.c's queues as a port of the stack, one queue per shard (private).
 *
 * Call chains (the stack's side is in dpdk-netif/, which dispatches once
 * per burst, per flush and per port open, never per frame):
 *   RX  shard.c poll_rx -> mlw__port_rx_burst (DPDK build: burst.c; without
 *       DPDK: port_kernel.c) -> mlw__afp_engine_rx (engine_rx.c):
 *       mlw_afp_rx_burst -> each frame copied into a frame of the shard's
 *       pool (frame.h: an mbuf, or mlwip's own) -> mlw_afp_rx_release; then
 *       capture (DPDK build), ACK coalescing and steering as for any port.
 *   TX  lwIP -> mlw__afp_linkoutput (engine.c, set by either build's netif init) -> mlw__afp_engine_tx:
 *       the pbuf chain copied into a TX slot, no mbuf; at the end of the
 *       pass mlw__txq_flush (burst.c, or port_kernel.c) -> mlw__afp_engine_flush: one
 *       sendto(), and the counters published.
 *
 * Copies: one per received frame (TPACKET_V3 hands whole blocks over:
 * keeping a frame would keep its block and every frame behind it, so the
 * frame is copied out and the block given back after the burst) and one per
 * sent frame (the TX ring is the only way to batch without a system call per
 * frame). Nothing else copies.
 *
 * What the DPDK TX queue (struct mlw_txq) does that this does not: when its
 * port is backed up it keeps pure ACKs aside (mlw__txq_keep_ack) and
 * replaces a waiting ACK by a newer one of the same connection. Here a
 * frame that finds no free slot after one flush is refused (ERR_MEM,
 * tx_drops): lwIP keeps a refused data segment and sends it on a later
 * pass, but a refused ACK waits for lwIP's next ACK (delayed-ACK timer or
 * the next segment). It matters little: the ring has tx_frames (default 512)
 * slots per shard, emptied by every flush (veth and most drivers take the
 * frames during the sendto()), so it fills only when the interface itself
 * refuses frames, where ACKs would not go out either.
 *
 * Checksums: computed by lwIP (the netif's checksum flags stay on: no TX
 * offload through the TX ring); received frames the kernel marked
 * checked (TP_STATUS_CSUM_VALID) are not checked again, and frames of this
 * host whose checksum was left to the device (TP_STATUS_CSUMNOTREADY) are
 * taken as verified by other means, as DPDK's RTE_MBUF_F_RX_L4_CKSUM_NONE.
 *
 * No locks, no heap and no system call on the packet path but the flush's
 * sendto(); the kernel's drop count (a getsockopt) is read by the shard only
 * when a reader asked for it (mlw__afp_engine_read).
 */
#ifndef MLW_AFP_ENGINE_H
#define MLW_AFP_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afp.h"

#include "frame.h"	/* frames and their pools: DPDK's mbufs, or mlwip's own without DPDK */

struct pbuf;

/* A port's counters, summed over its queues (mlw__afp_engine_read). */
struct mlw__afp_counters {
	uint64_t rx_pkts, rx_bytes;	/* frames taken from the RX rings */
	uint64_t rx_kernel_drops;	/* the kernel dropped: RX ring full (as of the last read) */
	uint64_t rx_nombuf;		/* no frame (mbuf) to copy a received one into */
	uint64_t rx_too_big;		/* longer than a frame, or truncated by the ring */
	uint64_t rx_vlan;		/* frames whose VLAN tag the kernel took out: put back */
	uint64_t tx_pkts, tx_bytes;	/* frames put in the TX rings */
	uint64_t tx_full;		/* no free TX slot (before the flush and retry) */
	uint64_t tx_rejected;		/* frames the ring refused (length) */
	uint64_t tx_flush_errors;	/* sendto() failures other than no room */
};
#define MLW__AFP_NCOUNTERS (sizeof(struct mlw__afp_counters) / sizeof(uint64_t))

/* One queue: what its shard alone touches, then what readers see. */
struct mlw__afp_equeue {
	struct mlw_afp_queue *q;
	mlw__frame_pool_t *pool;	/* the shard's frames, for RX copies */
	uint64_t rx_nombuf, rx_too_big, rx_vlan;
	unsigned kdone;			/* the last kreq answered */
	/* Published by the shard at each flush (relaxed stores; readers
	 * only add them up). kreq: a reader asks for the kernel's drop
	 * count; the shard answers at its next flush (release on kack). */
	_Alignas(64) _Atomic uint64_t pub[MLW__AFP_NCOUNTERS];
	atomic_uint kreq, kack;
};

struct mlw__afp_engine {
	struct mlw_afp_port *port;
	unsigned nq;
	bool steer_ports;
	struct mlw__afp_equeue *q;	/* nq of them, each on its own cache lines */
};

/**
 * Open @p c->ifname with @p c->nqueues queues; queue i copies received
 * frames into mbufs from @p pools[i]. Returns 0, or -errno with a sentence
 * in @p err naming the interface and the fix (mlw_afp_open()'s: -ENODEV no
 * such interface, -ENETDOWN interface down, -EPERM no CAP_NET_RAW, -EINVAL
 * a ring size; -ENOMEM).
 */
int mlw__afp_engine_open(const struct mlw_afp_conf *c, mlw__frame_pool_t *const *pools,
			 struct mlw__afp_engine **out, char *err, size_t errlen);
void mlw__afp_engine_close(struct mlw__afp_engine *e);

/* Up to @p n received frames of queue @p qi as frames (engine_rx.c); the
 * ring's blocks are given back before it returns. */
uint16_t mlw__afp_engine_rx(struct mlw__afp_engine *e, unsigned qi, mlw__frame_t **pkts, uint16_t n);

/* Copy the frame @p p into a TX slot of @p q, flushing once if none is
 * free. 0, -ENOBUFS (still none), -EMSGSIZE (longer than a slot). */
int mlw__afp_engine_tx(struct mlw_afp_queue *q, const struct pbuf *p);

/* End of a loop pass: hand the queued frames to the kernel, publish the
 * counters, answer a reader's request for the kernel's drop count.
 * Returns the frames handed over. */
unsigned mlw__afp_engine_flush(struct mlw__afp_engine *e, unsigned qi);

/* lwIP's linkoutput for a kernel engine port (netif->state is the shard's
 * struct mlw_netif_state, sharding/port.h): the frame into a TX slot. */
struct netif;
int8_t mlw__afp_linkoutput(struct netif *netif, struct pbuf *p);

/* Frames waiting for a flush the kernel had no room for. */
bool mlw__afp_engine_tx_pending(const struct mlw__afp_engine *e, unsigned qi);

/**
 * The port's counters, summed over its queues, for any thread. With
 * @p running, the shards are asked for the kernel's drop count and waited
 * for up to @p wait_ms (a shard asleep in idle = interrupt answers at its
 * next pass, within [stack] idle_wait_ms); without, the shards have stopped
 * and the kernel's count is read here.
 */
void mlw__afp_engine_read(struct mlw__afp_engine *e, bool running, unsigned wait_ms,
			  struct mlw__afp_counters *out);

#endif /* MLW_AFP_ENGINE_H */
