/* frame.h - a received or forwarded Ethernet frame as the shards handle it, and the per-shard pool it comes from (private).
 *
 * With DPDK (MLW_RT_DPDK=1) a frame is an rte_mbuf from the shard's
 * rte_mempool and these calls are DPDK's, inline. Without DPDK
 * (MLW_RT_DPDK=0) it is mlwip's own: one contiguous buffer from the
 * shard's frame pool (frame_pool.c), which a packet engine fills with the
 * one copy its kernel interface forces (TPACKET_V3 hands over whole
 * blocks, so a frame cannot stay where it arrived), and which lwIP then
 * takes without a further copy.
 *
 * A frame is owned by one thread at a time: the shard that allocated it,
 * then the shard it was forwarded to over a ring. Any shard may free it:
 * the pool's owner puts it on its own free stack (no atomic operation),
 * another shard on the pool's return stack (lock-free, one compare-and-swap
 * per frame), which the owner takes whole when its own stack runs dry. So no
 * lock, no system call and no general heap on the packet path.
 */
#ifndef MLW_FRAME_H
#define MLW_FRAME_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "runtime.h"

/* Checksum verdicts a port gives a received frame (for the IP header and
 * for TCP/UDP): not looked at, verified good, found wrong, or "none" (the
 * data is known good some other way, e.g. a frame this host sent whose
 * checksum was left to the device: lwIP must not check it). */
enum mlw__frame_ck { MLW_FRAME_CK_UNKNOWN = 0, MLW_FRAME_CK_GOOD, MLW_FRAME_CK_BAD, MLW_FRAME_CK_NONE };

#if MLW_RT_DPDK
#include <rte_mbuf.h>
#include <rte_mempool.h>

typedef struct rte_mbuf mlw__frame_t;
typedef struct rte_mempool mlw__frame_pool_t;

static inline mlw__frame_t *mlw__frame_alloc(mlw__frame_pool_t *p)
{
	return rte_pktmbuf_alloc(p);
}

static inline void mlw__frame_free(mlw__frame_t *f)
{
	rte_pktmbuf_free(f);
}

/* DPDK's mempool keeps a cache per lcore by itself: nothing to claim. */
static inline void mlw__frame_pool_own(mlw__frame_pool_t *p)
{
	(void)p;
}

/* @p n frames at once, or none: 0, or -1 if the pool has fewer. */
static inline int mlw__frame_alloc_bulk(mlw__frame_pool_t *p, mlw__frame_t **f, unsigned n)
{
	return rte_pktmbuf_alloc_bulk(p, f, n) == 0 ? 0 : -1;
}

static inline uint8_t *mlw__frame_data(const mlw__frame_t *f)
{
	return rte_pktmbuf_mtod(f, uint8_t *);
}

static inline uint32_t mlw__frame_len(const mlw__frame_t *f)
{
	return f->pkt_len;
}

/* Room for @p len bytes at the end of an empty or single-segment frame; NULL if none. */
static inline uint8_t *mlw__frame_append(mlw__frame_t *f, uint32_t len)
{
	return len > UINT16_MAX ? NULL : (uint8_t *)rte_pktmbuf_append(f, (uint16_t)len);
}

static inline void mlw__frame_set_ck(mlw__frame_t *f, enum mlw__frame_ck ip, enum mlw__frame_ck l4)
{
	static const uint64_t ipf[] = { RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
					RTE_MBUF_F_RX_IP_CKSUM_BAD, RTE_MBUF_F_RX_IP_CKSUM_NONE };
	static const uint64_t l4f[] = { RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
					RTE_MBUF_F_RX_L4_CKSUM_BAD, RTE_MBUF_F_RX_L4_CKSUM_NONE };

	f->ol_flags = (f->ol_flags & ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK)) |
		      ipf[ip] | l4f[l4];
}

static inline enum mlw__frame_ck mlw__frame_ck_ip(const mlw__frame_t *f)
{
	switch (f->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
	case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
		return MLW_FRAME_CK_GOOD;
	case RTE_MBUF_F_RX_IP_CKSUM_BAD:
		return MLW_FRAME_CK_BAD;
	case RTE_MBUF_F_RX_IP_CKSUM_NONE:
		return MLW_FRAME_CK_NONE;
	default:
		return MLW_FRAME_CK_UNKNOWN;
	}
}

static inline enum mlw__frame_ck mlw__frame_ck_l4(const mlw__frame_t *f)
{
	switch (f->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
		return MLW_FRAME_CK_GOOD;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD:
		return MLW_FRAME_CK_BAD;
	case RTE_MBUF_F_RX_L4_CKSUM_NONE:
		return MLW_FRAME_CK_NONE;
	default:
		return MLW_FRAME_CK_UNKNOWN;
	}
}

/* True (and *@p hash set) if the port gave the frame its RSS hash. */
static inline bool mlw__frame_rss(const mlw__frame_t *f, uint32_t *hash)
{
	if (!(f->ol_flags & RTE_MBUF_F_RX_RSS_HASH))
		return false;
	*hash = f->hash.rss;
	return true;
}

/* The port said something about a checksum: worth a closer look. */
static inline bool mlw__frame_ck_any(const mlw__frame_t *f)
{
	return (f->ol_flags & (RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK)) != 0;
}

#else /* !MLW_RT_DPDK */

struct mlw__frame_pool;

#define MLW_FRAME_PRIV 64u
/* Data bytes per frame of a shard's pool: a full-size Ethernet frame with
 * a VLAN tag (as DPDK's default mbuf data room). */
#define MLW_FRAME_ROOM 2048u

typedef struct mlw__frame {
	struct mlw__frame_pool *pool;
	struct mlw__frame *next;	/* on the owner's free stack */
	uint32_t len;			/* bytes at data */
	uint32_t room;			/* bytes the buffer holds */
	uint32_t hash;			/* the port's flow hash, when hash_valid */
	uint16_t port;			/* netif index (the shard sets it) */
	uint8_t ip_ck, l4_ck;		/* enum mlw__frame_ck */
	bool hash_valid;
	/* The engine's own use (port_kernel.c: the custom pbuf that hands
	 * the frame to lwIP without a copy). */
	_Alignas(16) uint8_t priv[MLW_FRAME_PRIV];
	_Alignas(64) uint8_t data[];
} mlw__frame_t;

typedef struct mlw__frame_pool mlw__frame_pool_t;

/*
 * A pool of @p n frames of @p room bytes each, on NUMA node @p node (-1:
 * any), for one owner thread (the one that allocates from it; see
 * mlw__frame_pool_own()). NULL with errno set (ENOMEM, EINVAL).
 */
mlw__frame_pool_t *mlw__frame_pool_create(unsigned n, uint32_t room, int node);
/* After every frame went back (frames still out are lost with it). */
void mlw__frame_pool_free(mlw__frame_pool_t *p);
/* The calling thread becomes the pool's owner (NULL: of none): frees of
 * its frames on this thread take the fast path. The shard thread claims
 * its pool at start and lets go at its end (sharding/shard.c). */
void mlw__frame_pool_own(mlw__frame_pool_t *p);
/* Frames free now (owner's stack + return stack), and the pool's size. */
unsigned mlw__frame_pool_avail(const mlw__frame_pool_t *p);
unsigned mlw__frame_pool_size(const mlw__frame_pool_t *p);

/* Owner only. NULL when every frame is out. */
mlw__frame_t *mlw__frame_alloc(mlw__frame_pool_t *p);
/* Any thread. */
void mlw__frame_free(mlw__frame_t *f);
/* Owner only: @p n frames at once, or none: 0, or -1 if the pool has fewer. */
int mlw__frame_alloc_bulk(mlw__frame_pool_t *p, mlw__frame_t **f, unsigned n);

static inline uint8_t *mlw__frame_data(const mlw__frame_t *f)
{
	return (uint8_t *)f->data;
}

static inline uint32_t mlw__frame_len(const mlw__frame_t *f)
{
	return f->len;
}

static inline uint8_t *mlw__frame_append(mlw__frame_t *f, uint32_t len)
{
	uint8_t *at;

	if (len > f->room - f->len)
		return NULL;
	at = f->data + f->len;
	f->len += len;
	return at;
}

static inline void mlw__frame_set_ck(mlw__frame_t *f, enum mlw__frame_ck ip, enum mlw__frame_ck l4)
{
	f->ip_ck = (uint8_t)ip;
	f->l4_ck = (uint8_t)l4;
}

static inline enum mlw__frame_ck mlw__frame_ck_ip(const mlw__frame_t *f)
{
	return (enum mlw__frame_ck)f->ip_ck;
}

static inline enum mlw__frame_ck mlw__frame_ck_l4(const mlw__frame_t *f)
{
	return (enum mlw__frame_ck)f->l4_ck;
}

static inline bool mlw__frame_rss(const mlw__frame_t *f, uint32_t *hash)
{
	*hash = f->hash;
	return f->hash_valid;
}

static inline bool mlw__frame_ck_any(const mlw__frame_t *f)
{
	return (f->ip_ck | f->l4_ck) != 0;
}

#endif /* MLW_RT_DPDK */

/* A copy of @p f (data and checksum verdicts) from pool @p p (the calling
 * shard's); NULL if the pool is empty. */
static inline mlw__frame_t *mlw__frame_copy(const mlw__frame_t *f, mlw__frame_pool_t *p)
{
#if MLW_RT_DPDK
	return rte_pktmbuf_copy(f, p, 0, UINT32_MAX);
#else
	mlw__frame_t *c = mlw__frame_alloc(p);
	uint8_t *d;

	if (c == NULL)
		return NULL;
	d = mlw__frame_append(c, f->len);
	if (d == NULL) {
		mlw__frame_free(c);
		return NULL;
	}
	memcpy(d, f->data, f->len);
	c->port = f->port;
	c->ip_ck = f->ip_ck;
	c->l4_ck = f->l4_ck;
	c->hash = f->hash;
	c->hash_valid = f->hash_valid;
	return c;
#endif
}

#endif /* MLW_FRAME_H */
