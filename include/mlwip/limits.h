/* mlwip/limits.h - per-shard limits on lwIP's queues that MEMP_MEM_MALLOC no longer enforces ([limits] in the INI file). */
#ifndef MLWIP_LIMITS_H
#define MLWIP_LIMITS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * With MEMP_MEM_MALLOC=1 lwIP takes every object from the shard heap and
 * its pool sizes (MEMP_NUM_*) stop being limits; these restore one for
 * each queue a peer can fill, per shard (lwip-port/limits.c). Each is
 * counted when it refuses (mlw_shard_stats: lim_*_drops).
 */
struct mlw_limits {
	/** IPv6 packets waiting for neighbour discovery, all neighbours
	 * together, 1..MLW_LIMITS_ND6_QUEUE_MAX; default 64. One more drops the
	 * neighbour's oldest packet (RFC 4861 7.2.2), or the new one. */
	uint32_t nd6_queue;
	/** IPv4 packets waiting for ARP, all entries together (each entry also
	 * holds at most 3, lwIP's ARP_QUEUE_LEN), 1..MLW_LIMITS_QUEUE_MAX;
	 * default 256. */
	uint32_t arp_queue;
	/** Datagrams being reassembled, IPv4 and IPv6 each,
	 * 1..MLW_LIMITS_REASS_MAX; default 16. */
	uint32_t reass_datagrams;
	/** Fragments (pbufs) held for reassembly, IPv4 and IPv6 each,
	 * 2..MLW_LIMITS_REASS_PBUFS_MAX; default 64. Past it lwIP drops the
	 * oldest datagrams. */
	uint32_t reass_pbufs;
	/** Out-of-order segments' pbufs one connection holds,
	 * 1..MLW_LIMITS_QUEUE_MAX; default 2048 (a 2 MiB window of full
	 * segments needs 1449). Past it the highest ones are dropped. */
	uint32_t ooseq_pbufs;
	/** Out-of-order bytes one connection holds, 0..MLW_LIMITS_OOSEQ_BYTES_MAX;
	 * 0 (default): the receive window's (2 MiB at most). */
	uint32_t ooseq_bytes;
};

#define MLW_LIMITS_ND6_QUEUE_MAX	255u	/* lwIP 2.2 counts them in a u8_t */
#define MLW_LIMITS_QUEUE_MAX		65535u
#define MLW_LIMITS_REASS_MAX		1024u
#define MLW_LIMITS_REASS_PBUFS_MAX	4096u
#define MLW_LIMITS_OOSEQ_BYTES_MAX	(64u * 1024 * 1024)

#define MLW_LIMITS_ND6_QUEUE_DEFAULT	64u
#define MLW_LIMITS_ARP_QUEUE_DEFAULT	256u
#define MLW_LIMITS_REASS_DEFAULT	16u
#define MLW_LIMITS_REASS_PBUFS_DEFAULT	64u
#define MLW_LIMITS_OOSEQ_PBUFS_DEFAULT	2048u
#define MLW_LIMITS_OOSEQ_BYTES_DEFAULT	0u
#define MLW_LIMITS_DEFAULT_INIT                                                              \
	{ MLW_LIMITS_ND6_QUEUE_DEFAULT, MLW_LIMITS_ARP_QUEUE_DEFAULT, MLW_LIMITS_REASS_DEFAULT, \
	  MLW_LIMITS_REASS_PBUFS_DEFAULT, MLW_LIMITS_OOSEQ_PBUFS_DEFAULT,                     \
	  MLW_LIMITS_OOSEQ_BYTES_DEFAULT }

#ifdef __cplusplus
}
#endif

#endif /* MLWIP_LIMITS_H */
