/* afp.h - the kernel packet engine's port: AF_PACKET sockets with TPACKET_V3 memory-mapped RX and TX rings, one socket per queue, joined in a fanout group (for boards without DPDK).
 *
 * A port is one Linux interface opened with N queues. Queue i is a packet
 * socket bound to the interface, with
 *   - an RX ring of blocks (TPACKET_V3): the kernel fills a block with
 *     several frames and hands it over whole, when full or after
 *     rx_block_tov_ms; one block is one batch, no system call per frame;
 *   - a TX ring of fixed-size frame slots: frames are written in place and
 *     handed to the kernel with one sendto() per flush, not one per frame.
 * The N sockets form one fanout group (PACKET_FANOUT_HASH): the kernel
 * gives each flow's frames to one queue, by its own flow hash. That hash
 * is not the NIC's Toeplitz, so a frame may land on a queue whose shard
 * does not own the flow; the shard forwards it as it does for DPDK ports
 * without RSS (sharding/steer.c).
 *
 * Ownership: a queue belongs to one thread (its shard). The frames
 * mlw_afp_rx_burst() returns point into the RX ring and stay valid until
 * the next mlw_afp_rx_burst() or mlw_afp_rx_release() on that queue, which
 * gives the blocks they came from back to the kernel. A caller that keeps
 * data longer copies it (TPACKET_V3 returns whole blocks: holding one
 * frame would hold every frame behind it, and the kernel drops once the
 * ring is full).
 *
 * No locks and no heap after mlw_afp_open(); the only system calls on the
 * packet path are the flush's sendto() (one per burst) and, when idle, the
 * caller's poll() on mlw_afp_fd().
 */
#ifndef MLW_AFP_H
#define MLW_AFP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mlw_afp_port;
struct mlw_afp_queue;

/*
 * Which queue the kernel gives a frame (the fanout mode).
 * - MLW_AFP_STEER_HASH: the kernel's flow hash (PACKET_FANOUT_HASH). Keeps
 *   a flow on one queue, but the hash is the kernel's (seeded at boot), so
 *   the stack cannot know in advance where a flow lands.
 * - MLW_AFP_STEER_PORTS: a classic BPF program in the fanout group
 *   (PACKET_FANOUT_CBPF) computes mlw_afp_steer_ports(): TCP and UDP over
 *   IPv4 and IPv6 (no extension headers) go to a queue that is a function
 *   of (source port ^ destination port), the same for both directions of a
 *   flow, so a shard can
 *   pick the local port of an outgoing connection whose replies come back
 *   to its own queue, as with a NIC's RSS. Everything else (ARP, ICMP, IP
 *   fragments, IPv6 with extension headers) goes to queue 0, whose shard
 *   steers it in software.
 */
enum mlw_afp_steer {
	MLW_AFP_STEER_HASH = 0,
	MLW_AFP_STEER_PORTS,
};

/*
 * The queue of a TCP or UDP flow under MLW_AFP_STEER_PORTS: symmetric in
 * the ports (their XOR), then mixed, because the XOR alone is no spread:
 * Linux's connect() takes local ports of one parity (even, with the
 * default range), so with a plain (sport ^ dport) % 2 every connection of
 * a Linux client to one server port lands on the same queue (measured:
 * ab to port 80, 5,013 accepts on shard 0, none on shard 1). Multiplying by
 * an odd 16-bit constant and taking bits 4..15 spreads ports that differ
 * by 2 over the queues; the fanout program computes the same in 32-bit
 * BPF arithmetic, and the kernel takes its result modulo the sockets.
 */
#define MLW_AFP_STEER_MUL	40503u	/* 2^16 / golden ratio, odd */
#define MLW_AFP_STEER_SHIFT	4u
static inline unsigned mlw_afp_steer_ports(uint16_t sport, uint16_t dport, unsigned nqueues)
{
	uint32_t x = (uint32_t)(sport ^ dport) * MLW_AFP_STEER_MUL;

	return ((x & 0xffffu) >> MLW_AFP_STEER_SHIFT) % nqueues;
}

/* Sizes of one queue's rings; 0 takes the default. */
struct mlw_afp_conf {
	const char *ifname;		/* the interface, e.g. "eth0" */
	unsigned nqueues;		/* sockets in the fanout group: 1..MLW_AFP_MAX_QUEUES */
	unsigned rx_block_size;		/* bytes, a multiple of the page size (default 256 KiB) */
	unsigned rx_blocks;		/* blocks in the RX ring (default 8) */
	unsigned rx_block_tov_ms;	/* a block not full is handed over after this (default 1) */
	unsigned tx_frame_size;		/* bytes per TX slot, header included (default 2048) */
	unsigned tx_frames;		/* TX slots (default 512) */
	bool qdisc_bypass;		/* PACKET_QDISC_BYPASS: straight to the driver */
	enum mlw_afp_steer steer;	/* how the kernel spreads frames over the queues */
};

#define MLW_AFP_MAX_QUEUES 64

/* One received frame (the Ethernet header on). */
struct mlw_afp_frame {
	const uint8_t *data;
	uint32_t len;		/* bytes at data */
	uint32_t wire_len;	/* the frame's length on the wire: > len if truncated */
	uint32_t hash;		/* the kernel's flow hash (fanout) */
	uint16_t vlan_tci;	/* valid when vlan is true: the kernel took the tag out */
	bool vlan;
	bool csum_partial;	/* sent from this host with the L4 checksum left to
				   the device (TP_STATUS_CSUMNOTREADY): not wrong, just
				   not computed */
	bool csum_valid;	/* the device or kernel checked the L4 checksum */
};

struct mlw_afp_stats {
	uint64_t rx_pkts, rx_bytes;
	uint64_t rx_truncated;	/* frames longer than fit in a block */
	uint64_t rx_blocks;	/* blocks taken from the kernel */
	uint64_t rx_kernel_drops; /* frames the kernel dropped: ring full (PACKET_STATISTICS) */
	uint64_t tx_pkts, tx_bytes;
	uint64_t tx_full;	/* mlw_afp_tx_slot() found no free slot */
	uint64_t tx_rejected;	/* frames the kernel refused (TP_STATUS_WRONG_FORMAT) */
	uint64_t tx_flush_errors; /* sendto() failures other than EAGAIN/ENOBUFS */
};

/*
 * Opens the interface with c->nqueues queues. Returns 0, or -errno with a
 * sentence in err: -ENODEV (no such interface), -EPERM (no CAP_NET_RAW),
 * -EINVAL (a size out of range), or what the kernel refused.
 */
int mlw_afp_open(const struct mlw_afp_conf *c, struct mlw_afp_port **out, char *err, size_t errlen);
void mlw_afp_close(struct mlw_afp_port *p);

unsigned mlw_afp_nqueues(const struct mlw_afp_port *p);
struct mlw_afp_queue *mlw_afp_queue(struct mlw_afp_port *p, unsigned q);
/* The interface's MAC address and MTU, read at open. */
void mlw_afp_mac(const struct mlw_afp_port *p, uint8_t mac[6]);
unsigned mlw_afp_mtu(const struct mlw_afp_port *p);
/* The queue's socket: readable (POLLIN) when a block is ready. */
int mlw_afp_fd(const struct mlw_afp_queue *q);

/*
 * Up to n frames, in arrival order. First gives the kernel back the blocks
 * the frames of the previous call came from.
 */
unsigned mlw_afp_rx_burst(struct mlw_afp_queue *q, struct mlw_afp_frame *f, unsigned n);
/* Gives back the blocks of the frames returned so far (they become invalid). */
void mlw_afp_rx_release(struct mlw_afp_queue *q);
/* True if a block is waiting: what poll() on the fd would say, without a call. */
bool mlw_afp_rx_ready(const struct mlw_afp_queue *q);

/*
 * The next free TX slot: *room bytes may be written at the result. NULL if
 * every slot waits for the kernel (counted in tx_full): flush, then retry.
 */
uint8_t *mlw_afp_tx_slot(struct mlw_afp_queue *q, uint32_t *room);
/* The slot from mlw_afp_tx_slot() holds a frame of len bytes: queue it. */
void mlw_afp_tx_commit(struct mlw_afp_queue *q, uint32_t len);
/* Hands the queued frames to the kernel (one sendto()). Returns how many
 * were queued, or -errno. */
int mlw_afp_tx_flush(struct mlw_afp_queue *q);
/* Copies @p len bytes into a slot and commits it: 0, or -ENOBUFS (full),
 * -EMSGSIZE (longer than a slot). */
int mlw_afp_tx_copy(struct mlw_afp_queue *q, const void *frame, uint32_t len);

/* Frames committed and not yet handed to the kernel (a flush that found
 * no socket buffer room leaves them for the next). */
unsigned mlw_afp_tx_queued(const struct mlw_afp_queue *q);

/* The queue's counters as they are, without the kernel's drop count (no
 * system call: for the packet path). Only from the queue's thread. */
void mlw_afp_counters(const struct mlw_afp_queue *q, struct mlw_afp_stats *out);

/* The queue's counters; reads the kernel's drop count (a system call: not
 * for the packet path). Only from the queue's thread. */
void mlw_afp_stats(struct mlw_afp_queue *q, struct mlw_afp_stats *out);

#endif /* MLW_AFP_H */
