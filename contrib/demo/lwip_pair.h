/* lwip_pair.h - two lwIP endpoints on an in-memory Ethernet link, and a verified TCP transfer between them. */
#ifndef MLW_DEMO_LWIP_PAIR_H
#define MLW_DEMO_LWIP_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mlwip/alloc.h"

/*
 * A "pair" is a TCP server (side 0, 10.0.0.1 or fd00::1) and a TCP client
 * (side 1, 10.0.0.2 or fd00::2) joined by a link of two single-producer/
 * single-consumer rings of Ethernet frames. The client connects, then both
 * directions carry opts->bytes of a pattern that depends on the byte offset,
 * the direction and the pair index; each receiver checks every byte. When
 * both directions are complete both sides close, and every lwIP object is
 * released so that the shard allocator ends with nothing in use.
 *
 * Threaded: every endpoint runs in its own thread with its own lwIP
 * instance and its own heap. All pairs use the same addresses and MACs,
 * which only works because no lwIP state is shared between threads.
 * Same-thread: both endpoints are two netifs of one lwIP instance in the
 * calling thread (the only way to run a plain, non-derived lwIP).
 */

#define MLW_PAIR_MAX_PAIRS	64

struct mlw_pair_opts {
	uint64_t bytes;		/**< bytes each direction carries (> 0) */
	unsigned timeout_ms;	/**< wall-clock limit of one run (> 0) */
	uint16_t port;		/**< server port; 0 means 5001 */
	bool ipv6;		/**< connect over fd00::1/fd00::2 instead of 10.0.0.1/2 */
	bool no_checksum;	/**< neither generate nor check checksums on the netifs */
};

struct mlw_pair_result {
	int status;		/**< 0, or negative errno (see mlw_pair_run_threaded) */
	unsigned pair;		/**< pair index: seeds the byte pattern */
	int side;		/**< 0 server, 1 client */
	uint64_t bytes_sent;	/**< bytes written and acknowledged by the peer */
	uint64_t bytes_received;
	uint64_t mismatches;	/**< received bytes that differ from the pattern */
	uint64_t frames_tx, frames_rx;
	/** Frames refused because the ring to the peer was full. A TCP
	 * segment is not lost by this: lwIP keeps it queued (ERR_MEM) and
	 * sends it on a later tcp_output(). Other frames (ARP, ND) are lost
	 * and their protocol's timer repeats them. */
	uint64_t tx_dropped;
	uint64_t rx_dropped;	/**< frames lost because no pbuf could be allocated */
	double elapsed_s;	/**< from "all stacks up" to both directions complete */

	/* Shared-nothing evidence, recorded by the endpoint's own thread once
	 * every stack of the run is up. */
	unsigned netifs_seen;	/**< length of the thread's netif_list */
	bool netif_list_is_own;	/**< netif_list holds exactly this run's own netif(s) */
	const void *netif_list_addr; /**< &netif_list as seen by this thread */

	/* Shard heap. In same-thread mode both endpoints report the one heap. */
	uint64_t heap_peak_bytes;	/**< largest bytes_in_use seen by the run loop */
	int alloc_fini_rc;		/**< mlw_alloc_thread_fini(): 0 = nothing in use */
	struct mlw_alloc_stats alloc_end; /**< counters at mlw_alloc_thread_fini() */
};

/**
 * Run @p npairs pairs, each endpoint on its own thread (2 * npairs threads),
 * each thread with its own heap (mlw_alloc_thread_init(-1) ... _fini) and
 * its own lwIP (lwip_init). @p res receives 2 * npairs results, ordered
 * pair 0 server, pair 0 client, pair 1 server, ...
 *
 * @return 0 if every endpoint moved all bytes without a mismatch, closed
 *   gracefully and left nothing allocated; otherwise the first non-zero
 *   status, which is also in res[i].status:
 *   -EINVAL     bad arguments;
 *   -ENOTSUP    built against a plain lwIP (MLW_PRISTINE_LWIP), whose
 *               globals cannot serve more than one thread;
 *   -ENOMEM     rings, threads or lwIP objects could not be allocated;
 *   -EAGAIN     a thread could not be created;
 *   -ETIMEDOUT  the run did not complete within opts->timeout_ms;
 *   -ECONNRESET, -ECONNABORTED, -EIO  the connection failed;
 *   -EBADMSG    data arrived that did not match the pattern;
 *   -EBUSY      lwIP objects were still allocated after teardown.
 */
int mlw_pair_run_threaded(unsigned npairs, const struct mlw_pair_opts *opts,
			  struct mlw_pair_result *res);

/**
 * Run one pair with both endpoints in one lwIP instance on the calling
 * thread, which must not have a shard heap yet: the call creates one and
 * destroys it at the end. res[0] is the server, res[1] the client.
 *
 * @return as mlw_pair_run_threaded, and -EEXIST if the thread already has
 *   a shard heap.
 */
int mlw_pair_run_same_thread(const struct mlw_pair_opts *opts, struct mlw_pair_result res[2]);

/** Fill @p buf with the pattern bytes [offset, offset + len) of direction
 * @p dir (0: server to client, 1: client to server) of pair @p pair. */
void mlw_pair_pattern_fill(void *buf, size_t len, uint64_t offset, unsigned pair, int dir);

/** Count the bytes of @p buf that differ from the pattern at @p offset. */
uint64_t mlw_pair_pattern_check(const void *buf, size_t len, uint64_t offset, unsigned pair, int dir);

#endif /* MLW_DEMO_LWIP_PAIR_H */
