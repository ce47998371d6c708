/* capture_private.h - packet capture: the per-shard slot the RX and TX paths test, and the controller the stack and the telemetry commands drive (private).
 *
 * Packet path (the shard's thread):
 *   RX  sharding/shard.c poll_rx -> mlw__capture_rx (frames as the port gave them)
 *   TX  dpdk-netif/burst.c send_some -> mlw__capture_tx_copy -> rte_eth_tx_burst
 *       -> mlw__capture_tx_commit (only the frames the port took)
 *   both: rte_pcapng_copy from the slot's mempool -> the slot's SPSC ring.
 * Writer (an EAL control thread): every slot's ring -> rte_pcapng_write_packets,
 *   size limit, rotation.
 * Control (telemetry thread, stack start/stop): mlw__capture_start/stop/status.
 *
 * With capture off a shard reads one relaxed atomic per RX burst and per TX
 * flush and branches on it.
 */
#ifndef MLW_CAPTURE_PRIVATE_H
#define MLW_CAPTURE_PRIVATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "mlwip/capture.h"

/* Slot states. The controller moves OFF -> ON and ON -> OFF, the shard
 * ON -> BUSY -> ON around each use of ring and pool. */
enum {
	MLW__CAP_OFF = 0,
	MLW__CAP_ON = 1,
	MLW__CAP_BUSY = 2,
};

/*
 * One per shard, inside the shard's struct. Ordering: the controller writes
 * ring, pool, port_mask, snaplen while the slot is OFF and then stores ON
 * with release; the shard's CAS ON -> BUSY is an acquire, so it sees them.
 * The shard's store BUSY -> ON is a release after its last enqueue; the
 * controller's CAS ON -> OFF (acquire) reads it, so once that CAS succeeded
 * the shard enqueues nothing more and every frame it enqueued is visible
 * to the writer, which drains the rings after that. While the shard is
 * BUSY the controller's CAS fails and it waits (a burst's copies: a few
 * microseconds). The slot is on its own cache line: the controller writes
 * it, the shard reads it on every burst.
 */
struct mlw__cap_slot {
	_Alignas(RTE_CACHE_LINE_SIZE) atomic_uint state;
	unsigned shard;
	struct rte_ring *ring;
	struct rte_mempool *pool;
	uint64_t port_mask;		/* DPDK port ids captured */
	uint32_t snaplen;
	int tsc_off;			/* mbuf dynamic field: the TSC a copy was taken at */
	/* Frames not captured because the pool was empty or the ring full.
	 * Written by the shard only (relaxed load + store, no locked
	 * instruction), read by the controller. */
	_Atomic uint64_t dropped;
};

/* The slot's state with capture off: the one test on the packet path. */
static inline bool mlw__capture_on(struct mlw__cap_slot *s)
{
	return unlikely(atomic_load_explicit(&s->state, memory_order_relaxed) != MLW__CAP_OFF);
}

/* RX: copy the @p n frames the shard took from port @p port_id (queue =
 * shard) into the capture. Call only when mlw__capture_on(). */
void mlw__capture_rx(struct mlw__cap_slot *s, uint16_t port_id, struct rte_mbuf *const *pkts, uint16_t n);

/* TX, before rte_eth_tx_burst: copy @p pkts[0..n) into @p copies (NULL
 * where a copy failed). Returns false, and holds nothing, when the slot
 * was turned off meanwhile or does not capture @p port_id; true otherwise,
 * and then mlw__capture_tx_commit() must follow. Call only when
 * mlw__capture_on(). */
bool mlw__capture_tx_copy(struct mlw__cap_slot *s, uint16_t port_id, struct rte_mbuf *const *pkts, uint16_t n,
			  struct rte_mbuf **copies);
/* TX, after rte_eth_tx_burst took @p sent of the @p n frames: capture the
 * copies of those, free the others' (they are copied again when they go). */
void mlw__capture_tx_commit(struct mlw__cap_slot *s, struct rte_mbuf **copies, uint16_t n, uint16_t sent);

/* Counters of the capture running or last run. */
struct mlw__capture_status {
	bool capturing;			/* shards are copying frames */
	bool limit_reached;		/* stopped at limit_mb (rotate 0) */
	char file[MLW_CAPTURE_FILE_MAX];
	char error[128];		/* a write error that ended the capture, else "" */
	uint64_t packets, bytes;	/* frames written to the file(s), their bytes (frames, not blocks) */
	uint64_t dropped;		/* frames not captured: no copy buffer, ring full, write error */
	uint64_t file_bytes;		/* size of the current file */
	unsigned rotations;		/* files rotated away (FILE.1 ...) */
	struct mlw_capture_config cfg;	/* what runs or ran */
};

struct mlw__capture;

/* The process's capture controller for a stack of @p nshards shards (slot
 * i of shard i, its memory on NUMA node @p nodes[i]) and @p nports ports
 * (DPDK port ids 0..nports-1), whose largest frame is @p max_frame bytes.
 * Registers the telemetry commands (once per process). Returns NULL when
 * out of memory. */
struct mlw__capture *mlw__capture_create(unsigned nshards, struct mlw__cap_slot *const *slots, const int *nodes,
					 unsigned nports, uint32_t max_frame);
/* Stops a capture still running (file flushed and closed) and frees the
 * controller. */
void mlw__capture_destroy(struct mlw__capture *c);

/* Start capturing as @p cfg says. Returns 0, or -errno with the reason in
 * @p msg: -EBUSY already capturing, -EINVAL a bad parameter, -errno of
 * open() when the file cannot be created, -ENOMEM no memory for the copies. */
int mlw__capture_start(struct mlw__capture *c, const struct mlw_capture_config *cfg, char *msg, size_t msglen);
/* Stop: the shards stop copying, what they copied is written, the file is
 * closed. @p out (may be NULL) gets the final counters. 0, or -ENOENT when
 * no capture was started. */
int mlw__capture_stop(struct mlw__capture *c, struct mlw__capture_status *out);
/* The counters now. */
void mlw__capture_status(struct mlw__capture *c, struct mlw__capture_status *out);

/* capture_telemetry.c: /mlwip/capture/{start,stop,status} act on @p c
 * (NULL: none, the commands answer with an error). 0, or -ENOMEM when
 * the memzone that holds the binding cannot be made. */
int mlw__capture_telemetry_bind(struct mlw__capture *c);

#endif /* MLW_CAPTURE_PRIVATE_H */
