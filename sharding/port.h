/* port.h - a port of the stack as the shards see it, whichever packet engine drives it: capabilities, the per-shard TX queue and netif state, and the calls the run loop makes once per burst, flush and open (private).
 *
 * Implemented by dpdk-netif/ (DPDK ports, and kernel engine ports
 * dispatched from there, in the DPDK build) or by afpacket-netif/port_kernel.c
 * (kernel engine ports in a build without DPDK). Frames are frame.h's: DPDK
 * mbufs, or mlwip's own without DPDK.
 *
 * Safe to include beside lwIP's protocol headers or DPDK's ethdev headers:
 * it includes neither, only frame.h and lwIP's pbuf.h.
 */
#ifndef MLW_PORT_H
#define MLW_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/pbuf.h"
#include "frame.h"
#include "mlwip/config.h"	/* MLW_MAX_SHARDS: zero-copy counters, one per shard's pool */

struct netif;
struct mlw__cap_slot;
struct mlw__afp_engine;
struct mlw_afp_conf;
struct mlw__loop_port;

#define MLW_TX_BATCH	64u	/* frames buffered per queue before a forced flush */
/* Pure ACKs kept per queue while the port is backed up (see struct mlw_txq). */
#define MLW_TX_ACKS	64u
/* Duplicate ACKs kept per connection meanwhile: the peer's fast retransmit
 * threshold (RFC 5681, 3.2). */
#define MLW_TX_DUPACKS	3u
#define MLW_ACK_FRAME_MAX 134u	/* Ethernet + IPv6 + TCP with 40 bytes of options */
#define MLW_RSS_KEY_MAX	52u

/* What a port can do, read from rte_eth_dev_info_get() at open time. */
struct mlw_port_caps {
	bool rss;		/* hardware RSS with a programmable key + RETA */
	bool hash_l4;		/* with rss: TCP and UDP over IPv4 and IPv6 hashed on their 4-tuple,
				   so the RSS hash in an mbuf is the one software steering computes */
	uint16_t reta_size;	/* 0 without RSS */
	uint8_t key_len;
	bool rx_cksum;		/* RX IPv4/TCP/UDP checksum offload */
	bool tx_cksum;		/* TX IPv4/TCP/UDP checksum offload */
	/* tx_burst copies a frame out and frees its mbuf before it returns
	 * (net_memif in copy mode, net_af_packet): an mbuf may then point at
	 * lwIP's own buffer instead of a copy (netif.c, zc_mbuf). Never for
	 * ports that hand the mbuf on (net_ring: to whichever shard receives
	 * it) or DMA from it later (NICs: lwIP's heap is not DMA memory). */
	bool tx_zero_copy;
	/* RX queue interrupts work (asked for with [stack] idle = interrupt:
	 * intr_conf.rxq, checked by enabling queue 0's at open). */
	bool rx_intr;
	uint16_t mtu;
	uint8_t mac[6];
	char driver[32];
};

/* One port shared by all shards: shard i owns RX queue i and TX queue i.
 * Only start-up and shutdown code writes this struct. A DPDK port, or,
 * with afp set, a Linux interface through the kernel engine
 * (afpacket-netif/engine.h; port_id is then MLW_PORT_ID_NONE: no DPDK
 * port, and no capture). */
struct mlw_port {
	uint16_t port_id;
	uint16_t nqueues;
	struct mlw_port_caps caps;
	uint16_t want_rx_desc, want_tx_desc;	/* after -ERANGE: what the driver asked for */
	bool configured, started;
	/* How shards find a received frame's owner (sharding/steer.h,
	 * enum mlw__steer_how): software Toeplitz, the NIC's RSS hash
	 * (caps.hash_l4), or the afpacket ports program. */
	uint8_t steer_how;
	struct mlw__afp_engine *afp;
	/* [portN] engine = loop (builds without DPDK, for tests): every
	 * frame a shard sends comes back to its own RX queue. */
	struct mlw__loop_port *loop;
};
#define MLW_PORT_ID_NONE UINT16_MAX

/*
 * Per-shard TX state of one queue. Only the owning shard touches it.
 *
 * Frames wait in pkts until the flush at the end of the loop pass (or until
 * pkts is full). When the port is backed up (pkts full and the port takes
 * none), linkoutput refuses a frame with ERR_MEM (counted in tx_drops):
 * lwIP keeps a refused data segment queued and the socket layer retries
 * it on a following pass (mlw__flush), but a refused ACK is retried only
 * once, from its 250 ms timer, and then forgotten; a lost window update
 * leaves the peer waiting for its persist timer (seconds), and lost
 * duplicate ACKs cost it its fast retransmit. So pure ACKs are not refused
 * while acks[] has room: they wait there, per connection only those the
 * peer still needs (mlw__txq_keep_ack() in acks.c: the newest ack number, up to
 * MLW_TX_DUPACKS duplicates of it, the newest window, and older ones whose
 * SACK blocks no newer one repeats), and go out once
 * pkts has drained. ack_merged counts kept ACKs freed because a newer one
 * carries what they said, ack_dup_drops the duplicates freed past
 * MLW_TX_DUPACKS.
 */
struct mlw_txq {
	uint16_t port_id, queue_id;
	uint16_t n;
	uint16_t nacks;
	mlw__frame_t *pkts[MLW_TX_BATCH];
	mlw__frame_t *acks[MLW_TX_ACKS];
	uint64_t tx_pkts, tx_bytes, tx_drops, ack_merged, ack_dup_drops;
	/* Bit i set: pkts[i] is a pure ACK. A newer ACK of the same
	 * connection replaces it while it waits (acks.c, mlw__txq_queue), so a
	 * burst of received segments is answered by one ACK per connection,
	 * as Linux's GRO answers it; ack_coalesced counts the replaced ones. */
	uint64_t ack_slots;
	uint64_t ack_coalesced;
	/* The owning shard's capture slot (capture/capture_private.h): the
	 * frames the port takes are copied there while a capture runs.
	 * NULL: never captured. */
	struct mlw__cap_slot *cap;
	/* While capturing: frames offered to the port per burst (0: all),
	 * and flushes skipped after the port took none (cap_skip, from
	 * cap_backoff doubling), so a port that takes few or none does not
	 * make the shard copy the same waiting frames again and again
	 * (burst.c, send_some). */
	uint16_t cap_room, cap_skip, cap_backoff;
	/* A kernel engine port's queue (NULL for DPDK ports): frames go
	 * straight to its TX ring (afpacket-netif/engine.c, mlw__afp_linkoutput) and the flush is
	 * its own (burst.c); pkts and acks stay empty. */
	struct mlw__afp_engine *afp;
};
_Static_assert(MLW_TX_BATCH <= 64, "mlw_txq.ack_slots has a bit per pkts[] entry");

/* Received frames a shard's lwIP may hold as zero-copy pbufs at once are
 * limited per pool: unread data and out-of-order segments stay in lwIP
 * until the application reads them, and with 2 MiB windows a few slow
 * readers would hold every mbuf of a pool, so its port would drop frames
 * for all connections. A frame forwarded from another shard (or an ARP/ND
 * copy) belongs to that shard's pool, so it counts there: a shard holds at
 * most zc_own frames of its own pool and zc_fwd of each other shard's
 * ([stack] rx_zero_copy, mlw_config_forward_zero_copy()). Past the limit
 * frames are copied into the shard heap (where [stack] heap_limit_mb
 * bounds them) and their mbufs go back at once. The pools are sized for
 * these limits (mlw_config_mbufs_needed()). */

/* Set the calling shard's limits (before its first frame). */
void mlw__rx_zc_setup(unsigned self, unsigned zc_own, unsigned zc_fwd);

/* Per-shard, per-port lwIP netif state. */
struct mlw_netif_state {
	struct mlw_txq *txq;
	mlw__frame_pool_t *pool;	/* the shard's own frames (DPDK: mbufs for TX copies) */
	bool tx_cksum;
	bool trust_cksum;		/* [portN] checksum = trust: none computed or verified */
	bool tx_zero_copy;		/* mlw_port_caps.tx_zero_copy */
	/* netif->chksum_flags between frames (set by mlw__port_netif_init);
	 * the run loop clears the CHECK bits for one frame the port has
	 * already verified (sharding/shard.c, input_frame). */
	uint16_t cksum_flags;
	/* The port (set before netif_add: the init function reads its engine). */
	const struct mlw_port *port;
};

/**
 * Open the Linux interface @p c->ifname as a port of the kernel engine
 * with @p c->nqueues queues, queue i copying received frames into
 * @p pools[i]: MAC and MTU from the interface, no offloads, no RSS
 * (steering by the fanout program or in software), rx_intr (the queue
 * sockets are pollable). Returns 0, or -errno with the reason in @p err
 * (mlw__afp_engine_open()).
 */
int mlw__port_open_afp(struct mlw_port *port, const struct mlw_afp_conf *c, mlw__frame_pool_t *const *pools,
		       char *err, size_t errlen);

/**
 * Open a memory loopback port ([portN] engine = loop; builds without DPDK
 * only) with @p nqueues queues: what shard i sends goes back to its own
 * RX queue, copied into a frame of @p pools[i]. MAC 02:00:00:00:00:01
 * unless the configuration sets one, MTU 1500. Returns 0, or -ENOMEM
 * with the reason in @p err. (A DPDK build has net_ring0 for this: its
 * stack refuses engine = loop and does not call this.)
 */
int mlw__port_open_loop(struct mlw_port *port, unsigned nqueues, mlw__frame_pool_t *const *pools,
			char *err, size_t errlen);

/* Stop and close the port (idempotent). */
void mlw__port_close(struct mlw_port *port);

/* Receive up to @p n frames from queue @p queue of a port of either
 * engine: the branch is taken once per burst. */
uint16_t mlw__port_rx_burst(struct mlw_port *port, uint16_t queue, mlw__frame_t **pkts, uint16_t n);

/**
 * Hand a received frame (single segment) from shard @p pool's pool to lwIP
 * as a pbuf: without copying while the calling shard holds fewer than its
 * limit for that pool (mlw__rx_zc_setup), otherwise copied into a PBUF_RAM
 * pbuf from the shard heap and the frame freed. Returns NULL (and frees the
 * frame) if neither is possible.
 */
struct pbuf *mlw__frame_to_pbuf(mlw__frame_t *m, unsigned pool);

/* The calling shard's zero-copy RX pbufs held now of shard @p pool's pool,
 * and frames copied so far. */
unsigned mlw__rx_zc_held(unsigned pool);
uint64_t mlw__rx_copied(void);

/* lwIP netif init function: netif->state must point to a struct
 * mlw_netif_state (its port set); the MAC and MTU are set by the caller
 * before netif_add. Returns ERR_OK (lwIP's err_t is an int8_t). */
int8_t mlw__port_netif_init(struct netif *netif);

/* Send what the queue has buffered: pkts in order, then, once pkts is
 * empty, the ACKs kept aside. Returns frames handed to the port. Nothing
 * is dropped here: frames the port does not take stay buffered, in order,
 * for the next flush. While pkts stays full, linkoutput refuses new frames
 * instead (ERR_MEM, counted in tx_drops; pure ACKs wait in acks[]):
 * dropping the oldest would lose segments lwIP counts as sent, which only
 * its retransmission timer recovers, where a refused one stays queued in
 * lwIP and goes on a later pass (struct mlw_txq). A kernel engine queue
 * hands its TX ring to the kernel. */
uint16_t mlw__txq_flush(struct mlw_txq *q);

#endif /* MLW_PORT_H */
