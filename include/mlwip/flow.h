/* mlwip flow ownership: Toeplitz RSS hash, RETA lookup, RSS-aware local port choice. */
#ifndef MLWIP_FLOW_H
#define MLWIP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mlwip/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MLW_RSS_KEY_LEN_MIN	16	/**< shortest key: covers an IPv4 4-tuple (12 bytes) + 4 */
#define MLW_RSS_KEY_LEN_DEFAULT	40	/**< what most NICs use, and enough for an IPv6 4-tuple */
#define MLW_RSS_KEY_LEN_MAX	52	/**< the longest key a DPDK driver asks for (i40e, ice) */
#define MLW_RSS_RETA_SIZE_MAX	512	/**< the largest redirection table DPDK drivers expose */

/**
 * RSS state of one port: the Toeplitz key and the redirection table (RETA)
 * that maps the low bits of a flow's hash to the shard that owns the flow.
 * It is the same data a NIC is programmed with, so the owner computed here
 * is the queue the NIC delivers the flow to. Written once at start-up
 * (mlw_rss_init, mlw_rss_reta_fill); read-only afterwards, so every shard may
 * read one shared copy without locks.
 */
struct mlw_rss {
	unsigned key_len;		/**< bytes of @ref key in use; a multiple of 4 */
	/** Toeplitz key, first byte first as a NIC takes it. Bytes from
	 * @ref key_len on are zero. 4-byte aligned (it follows an unsigned),
	 * because DPDK's software Toeplitz reads it as 32-bit words. */
	uint8_t key[MLW_RSS_KEY_LEN_MAX];
	unsigned reta_size;		/**< entries in @ref reta; a power of two */
	unsigned nshards;		/**< every @ref reta entry is < nshards */
	uint16_t reta[MLW_RSS_RETA_SIZE_MAX];	/**< hash & (reta_size - 1) -> shard */
};

/**
 * Initialise @p rss for @p nshards shards: copy the key and fill the RETA
 * round-robin (entry i -> shard i % nshards), which is what DPDK drivers do
 * by default when a port has nshards RX queues.
 *
 * @param key  the Toeplitz key, or NULL for the symmetric key of Woo & Park
 *   ("Scalable TCP session monitoring with symmetric receive-side scaling"):
 *   the byte pair 0x6d, 0x5a repeated. Its bits repeat every 16, so swapping
 *   source and destination (addresses 32 bits apart, ports 16 bits apart)
 *   leaves the hash unchanged: both directions of a flow map to one shard.
 * @param key_len  bytes of @p key; with a NULL key, 0 means
 *   MLW_RSS_KEY_LEN_DEFAULT. Keys shorter than 40 bytes are zero-extended
 *   for IPv6 hashing (an IPv6 4-tuple needs 40 key bytes).
 *
 * @return 0 on success;
 *   -EINVAL  @p rss is NULL; @p nshards is 0 or larger than @p reta_size;
 *            @p reta_size is 0, not a power of two or larger than
 *            MLW_RSS_RETA_SIZE_MAX; @p key_len is not a multiple of 4, or is
 *            outside [MLW_RSS_KEY_LEN_MIN, MLW_RSS_KEY_LEN_MAX] (0 is allowed
 *            only with a NULL @p key). On error @p rss is not changed.
 */
MLW_EXPORT int mlw_rss_init(struct mlw_rss *rss, unsigned nshards, unsigned reta_size,
			    const uint8_t *key, size_t key_len);

/**
 * Replace the RETA of @p rss with @p n entries, e.g. as read back from a NIC
 * (rte_eth_dev_rss_reta_query) so that mlwip's owners match the hardware's.
 * A shard that appears in no entry owns no flow.
 *
 * @return 0 on success;
 *   -EINVAL  @p rss or @p reta is NULL; @p n is 0, not a power of two or
 *            larger than MLW_RSS_RETA_SIZE_MAX; an entry is >= rss->nshards.
 *            On error @p rss is not changed.
 */
MLW_EXPORT int mlw_rss_reta_fill(struct mlw_rss *rss, const uint16_t *reta, unsigned n);

/**
 * Toeplitz hash of an IPv4 4-tuple, the standard RSS input (source address,
 * destination address, source port, destination port; all as on the wire).
 * Equal to the hash a NIC computes for the packet with the same key.
 * All arguments are in network byte order. Never fails; @p rss must have been
 * initialised by mlw_rss_init.
 */
MLW_EXPORT uint32_t mlw_rss_hash_v4(const struct mlw_rss *rss, uint32_t saddr_be, uint32_t daddr_be,
				    uint16_t sport_be, uint16_t dport_be);

/** As mlw_rss_hash_v4, for IPv6: 16-byte addresses in network byte order. */
MLW_EXPORT uint32_t mlw_rss_hash_v6(const struct mlw_rss *rss, const uint8_t saddr[16],
				    const uint8_t daddr[16], uint16_t sport_be, uint16_t dport_be);

/**
 * The shard that owns the flow of a packet with this 4-tuple:
 * reta[hash & (reta_size - 1)] (NICs index the RETA with the low bits of the
 * hash). Arguments as for mlw_rss_hash_v4. Never fails.
 */
MLW_EXPORT unsigned mlw_rss_owner_v4(const struct mlw_rss *rss, uint32_t saddr_be, uint32_t daddr_be,
				     uint16_t sport_be, uint16_t dport_be);

/** As mlw_rss_owner_v4, for IPv6. */
MLW_EXPORT unsigned mlw_rss_owner_v6(const struct mlw_rss *rss, const uint8_t saddr[16],
				     const uint8_t daddr[16], uint16_t sport_be, uint16_t dport_be);

/**
 * Choose a local port for an active open from shard @p shard, so that the
 * packets the peer sends back (source = remote, destination = local) are
 * owned by @p shard. Scans [@p lo, @p hi] from a random starting point given
 * by @p rand_fn, skipping ports that map to other shards and ports for which
 * @p in_use returns true.
 *
 * @param rss  initialised RSS state
 * @param shard  the shard that will own the connection
 * @param laddr_be  local address, network byte order
 * @param raddr_be  remote address, network byte order
 * @param rport_be  remote port, network byte order
 * @param lo  lowest local port to use, host byte order, >= 1
 * @param hi  highest local port to use, host byte order, >= @p lo
 * @param rand_fn  returns a random number (called once, with @p rand_arg)
 * @param rand_arg  passed to @p rand_fn
 * @param in_use  returns true if a port (host order) is taken, e.g. by a
 *   PCB bound to it; may be NULL. Called only for ports that map to @p shard.
 * @param in_use_arg  passed to @p in_use
 *
 * @return the port in host byte order (> 0) on success;
 *   -EINVAL        @p rss or @p rand_fn is NULL; @p rss is not initialised;
 *                  @p shard >= rss->nshards; @p lo is 0 or @p lo > @p hi;
 *   -EADDRNOTAVAIL no port in the range maps to @p shard and is free.
 */
MLW_EXPORT int mlw_rss_pick_port_v4(const struct mlw_rss *rss, unsigned shard, uint32_t laddr_be,
				    uint32_t raddr_be, uint16_t rport_be, uint16_t lo, uint16_t hi,
				    uint32_t (*rand_fn)(void *), void *rand_arg,
				    bool (*in_use)(uint16_t port, void *arg), void *in_use_arg);

/** As mlw_rss_pick_port_v4, for IPv6; additionally -EINVAL if an address is NULL. */
MLW_EXPORT int mlw_rss_pick_port_v6(const struct mlw_rss *rss, unsigned shard, const uint8_t laddr[16],
				    const uint8_t raddr[16], uint16_t rport_be, uint16_t lo, uint16_t hi,
				    uint32_t (*rand_fn)(void *), void *rand_arg,
				    bool (*in_use)(uint16_t port, void *arg), void *in_use_arg);

#ifdef __cplusplus
}
#endif

#endif /* MLWIP_FLOW_H */
