/* netif.c - the lwIP side of the data path: zero-copy RX pbufs over mbufs, and the netif whose linkoutput hands frames to the port (copied, or attached where the port copies them itself). */
#include <string.h>

#include <rte_mbuf.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"

#include "dpdk_netif.h"

/* Per shard thread: zero-copy RX pbufs lwIP holds, by the pool they are
 * from, the limits, and frames copied instead. */
static _Thread_local struct {
	unsigned held[MLW_MAX_SHARDS];
	unsigned limit[MLW_MAX_SHARDS];
	uint64_t copied;
} zc;

void mlw__rx_zc_setup(unsigned self, unsigned zc_own, unsigned zc_fwd)
{
	for (unsigned i = 0; i < MLW_MAX_SHARDS; i++)
		zc.limit[i] = i == self ? zc_own : zc_fwd;
}

unsigned mlw__rx_zc_held(unsigned pool)
{
	return pool < MLW_MAX_SHARDS ? zc.held[pool] : 0;
}

uint64_t mlw__rx_copied(void)
{
	return zc.copied;
}

/* Called by lwIP when the last reference to the pbuf goes: the mbuf goes
 * back to the pool it came from. */
static void rx_pbuf_free(struct pbuf *p)
{
	struct mlw_rx_pbuf *rp = (struct mlw_rx_pbuf *)p;

	zc.held[rp->pool]--;
	rte_pktmbuf_free(rp->m);
}

/* Under mbuf pressure: the frame into the shard heap, the mbuf back now. */
static struct pbuf *copy_out(struct rte_mbuf *m)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, m->data_len, PBUF_RAM);

	if (likely(p != NULL)) {
		memcpy(p->payload, rte_pktmbuf_mtod(m, void *), m->data_len);
		zc.copied++;
	}
	rte_pktmbuf_free(m);
	return p;
}

struct pbuf *mlw__mbuf_to_pbuf(struct rte_mbuf *m, unsigned pool)
{
	struct mlw_rx_pbuf *rp;
	struct pbuf *p;

	RTE_BUILD_BUG_ON(MLW_MBUF_PRIV_SIZE < sizeof(struct mlw_rx_pbuf));
	/* Multi-segment frames (jumbo on some PMDs) would need a pbuf chain;
	 * the ports are configured without scatter, so this is a driver bug. */
	if (unlikely(m->nb_segs != 1 || m->priv_size < sizeof(*rp) || m->data_len > UINT16_MAX ||
		     pool >= MLW_MAX_SHARDS)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	if (unlikely(zc.held[pool] >= zc.limit[pool]))
		return copy_out(m);
	rp = rte_mbuf_to_priv(m);
	rp->m = m;
	rp->pool = (uint16_t)pool;
	rp->pc.custom_free_function = rx_pbuf_free;
	p = pbuf_alloced_custom(PBUF_RAW, m->data_len, PBUF_REF, &rp->pc,
				rte_pktmbuf_mtod(m, void *), m->data_len);
	if (unlikely(p == NULL))
		rte_pktmbuf_free(m);
	else
		zc.held[pool]++;
	return p;
}

/* Frame parsing shared with keep_ack (defined below). */
static unsigned pure_ack_tcp_off(const uint8_t *f, unsigned len);
static bool same_flow(const uint8_t *a, const uint8_t *b, unsigned tcp);

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Append @p m to the TX batch. A pure ACK first looks for the last pure ACK
 * of its connection still waiting in the batch: if the new one acknowledges
 * more, it takes that one's place and the old one is freed. lwIP answers
 * every second received segment with an ACK, so a burst of 32 segments
 * would produce 16 ACKs in one pass; the peer then runs its ACK processing
 * (in lwIP: tcp_output walking the whole unacked queue) 16 times for what
 * one ACK says. An ACK with the same number as the waiting one is a
 * duplicate ACK (the peer counts them for fast retransmit) or a window
 * update: it is appended, never merged.
 */
static void queue_frame(struct mlw_txq *q, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t slots = q->ack_slots;
	unsigned tcp;

	if (m->data_len > MLW_ACK_FRAME_MAX || (tcp = pure_ack_tcp_off(f, m->data_len)) == 0) {
		q->pkts[q->n++] = m;
		return;
	}
	while (slots != 0) {
		unsigned i = 63u - (unsigned)__builtin_clzll(slots);
		struct rte_mbuf *old = q->pkts[i];
		const uint8_t *g = rte_pktmbuf_mtod(old, const uint8_t *);

		slots &= ~(UINT64_C(1) << i);
		/* Same length and first IP byte: the TCP header is at the
		 * same offset in both. */
		if (old->data_len != m->data_len || g[14] != f[14] || !same_flow(f, g, tcp))
			continue;
		if ((int32_t)(get32(f + tcp + 8) - get32(g + tcp + 8)) > 0) {
			rte_pktmbuf_free(old);
			q->pkts[i] = m;
			q->ack_coalesced++;
			return;
		}
		break;
	}
	q->ack_slots |= UINT64_C(1) << q->n;
	q->pkts[q->n++] = m;
}

/*
 * Received ACKs, the mirror of queue_frame: in one RX burst, a pure ACK
 * followed by a pure ACK of the same connection that acknowledges more says
 * nothing the later one does not, and lwIP would run its ACK processing
 * (tcp_output walking the whole unacked queue, a cache miss per segment with
 * several connections) for each. Equal ack numbers (duplicate ACKs, window
 * updates) are all kept. Walks the burst backwards remembering the nearest
 * later ACK of up to RX_ACK_FLOWS connections.
 */
#define RX_ACK_FLOWS 8

uint16_t mlw__rx_coalesce_acks(struct rte_mbuf **pkts, uint16_t n, uint64_t *dropped_bytes)
{
	struct {
		const uint8_t *f;
		unsigned tcp;
		uint16_t len;
	} later[RX_ACK_FLOWS];
	unsigned nlater = 0, out = n;
	bool gap = false;

	for (unsigned i = n; i-- > 0;) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		unsigned tcp = m->data_len <= MLW_ACK_FRAME_MAX ? pure_ack_tcp_off(f, m->data_len) : 0;
		unsigned k;

		if (tcp != 0) {
			for (k = 0; k < nlater; k++)
				if (later[k].tcp == tcp && later[k].len == m->data_len &&
				    later[k].f[14] == f[14] && same_flow(f, later[k].f, tcp))
					break;
			if (k < nlater && (int32_t)(get32(later[k].f + tcp + 8) - get32(f + tcp + 8)) > 0) {
				*dropped_bytes += m->pkt_len;
				rte_pktmbuf_free(m);
				gap = true;
				continue;
			}
			if (k == nlater && nlater < RX_ACK_FLOWS)
				nlater++;
			if (k < nlater)
				later[k].f = f, later[k].tcp = tcp, later[k].len = m->data_len;
		}
		/* Keep the frames in order, packed at the end of the array. */
		out--;
		if (gap)
			pkts[out] = m;
	}
	if (out > 0)
		memmove(pkts, pkts + out, (size_t)(n - out) * sizeof(pkts[0]));
	return (uint16_t)(n - out);
}

/* The port let go of a zero-copy TX mbuf: release lwIP's buffer. Runs on
 * the shard that sent it (tx_zero_copy ports free mbufs in tx_burst). */
static void tx_pbuf_free(void *addr, void *opaque)
{
	(void)addr;
	pbuf_free(opaque);
}

/*
 * An mbuf over the data of @p p (one pbuf) instead of a copy, holding a
 * reference on it until the port frees the mbuf. While lwIP sees that
 * reference it does not retransmit the segment in place
 * (tcp_output_segment_busy), so the bytes stay as they were sent.
 */
static struct rte_mbuf *zc_mbuf(struct mlw_netif_state *st, struct pbuf *p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	struct rte_mbuf_ext_shared_info *sh;

	if (unlikely(m == NULL))
		return NULL;
	sh = rte_mbuf_to_priv(m);
	sh->free_cb = tx_pbuf_free;
	sh->fcb_opaque = p;
	rte_mbuf_ext_refcnt_set(sh, 1);
	/* The ports that take these never use the IO address. */
	rte_pktmbuf_attach_extbuf(m, p->payload, RTE_BAD_IOVA, p->len, sh);
	m->data_len = p->len;
	m->pkt_len = p->len;
	pbuf_ref(p);
	return m;
}

/* The TCP header's offset in frame @p f if it is a pure ACK (TCP over
 * IPv4, or IPv6 without extension headers; no payload; ACK without SYN,
 * FIN or RST), else 0. */
static unsigned pure_ack_tcp_off(const uint8_t *f, unsigned len)
{
	const unsigned l3 = 14;
	unsigned tcp, seglen, doff;
	uint16_t type;

	if (len < l3 + 40)
		return 0;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x0800) {
		unsigned ihl = (f[l3] & 0xfu) * 4u;

		if (f[l3 + 9] != 6 || ihl < 20)
			return 0;
		tcp = l3 + ihl;
		seglen = (unsigned)(f[l3 + 2] << 8 | f[l3 + 3]);
		if (seglen < ihl)
			return 0;
		seglen -= ihl;
	} else if (type == 0x86dd) {
		if (f[l3 + 6] != 6)
			return 0;
		tcp = l3 + 40;
		seglen = (unsigned)(f[l3 + 4] << 8 | f[l3 + 5]);
	} else {
		return 0;
	}
	if (len < tcp + 20)
		return 0;
	doff = (f[tcp + 12] >> 4) * 4u;
	if (doff < 20 || seglen != doff || (f[tcp + 13] & 0x17) != 0x10)
		return 0;
	return tcp;
}

/* Same connection: ethertype, both addresses and both ports. */
static bool same_flow(const uint8_t *a, const uint8_t *b, unsigned tcp)
{
	unsigned addr = a[12] == 0x08 ? 14 + 12 : 14 + 8;	/* IPv4 : IPv6 */

	return a[12] == b[12] && a[13] == b[13] &&
	       memcmp(a + addr, b + addr, tcp - addr) == 0 && memcmp(a + tcp, b + tcp, 4) == 0;
}

static uint32_t ack_of(const uint8_t *f, unsigned tcp)
{
	return (uint32_t)f[tcp + 8] << 24 | (uint32_t)f[tcp + 9] << 16 | (uint32_t)f[tcp + 10] << 8 |
	       f[tcp + 11];
}

static uint16_t wnd_of(const uint8_t *f, unsigned tcp)
{
	return (uint16_t)(f[tcp + 14] << 8 | f[tcp + 15]);
}

/*
 * With the port backed up: keep @p m aside if it is a pure ACK (see
 * struct mlw_txq). False if it is not one, or no room is left.
 *
 * Which older ACKs of the same connection a new one makes unnecessary
 * follows from what the peer does with them (RFC 5681, 2 and 3.2). An ACK
 * with the same ack number and window as the previous one, and no data, is
 * a duplicate: the peer counts them and retransmits at the third, then
 * grows its window by one segment per further duplicate. So duplicates are
 * kept, up to MLW_TX_DUPACKS per connection after the first kept ACK (that
 * first one may be the ACK that moved the ack number, not a duplicate of
 * it). Past that, the newest replaces the last kept one: the peer has had
 * its three, and the newest carries the newest timestamp. An ACK that
 * moves the ack number makes every kept ACK of the connection obsolete:
 * the peer's snd_una moves past them, it ignores them as old. A window
 * update (same ack number, another window) is no duplicate; it replaces
 * the last kept ACK only if that one is a window update too (its window
 * differs from the kept ACK before it), since replacing a duplicate would
 * take a count from the peer, and replacing the first kept ACK could too
 * (it may repeat the window the peer has). Freed ACKs whose information a
 * newer kept one carries count as ack_merged; duplicates freed past the
 * third count as ack_dup_drops. Kept ACKs of one connection all have the
 * same ack number, and stay in the order lwIP sent them.
 */
static bool keep_ack(struct mlw_txq *q, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	unsigned tcp = pure_ack_tcp_off(f, m->data_len);
	uint16_t last = 0, n = 0, dups = 0, wnd, last_wnd = 0, prev_wnd = 0;
	uint32_t ack;

	if (tcp == 0)
		return false;
	ack = ack_of(f, tcp);
	wnd = wnd_of(f, tcp);
	for (uint16_t i = 0; i < q->nacks; i++) {
		const uint8_t *g = rte_pktmbuf_mtod(q->acks[i], const uint8_t *);
		uint16_t w;

		if (pure_ack_tcp_off(g, q->acks[i]->data_len) != tcp || !same_flow(f, g, tcp))
			continue;
		w = wnd_of(g, tcp);
		if (n > 0 && w == last_wnd)
			dups++;
		prev_wnd = last_wnd;
		last_wnd = w;
		last = i;
		n++;
	}
	if (n > 0 && ack != ack_of(rte_pktmbuf_mtod(q->acks[last], const uint8_t *), tcp)) {
		/* lwIP never moves rcv_nxt back: the new ACK is the newer one.
		 * Free the connection's kept ACKs, keep the others in order. */
		uint16_t k = 0;

		for (uint16_t i = 0; i < q->nacks; i++) {
			const uint8_t *g = rte_pktmbuf_mtod(q->acks[i], const uint8_t *);

			if (pure_ack_tcp_off(g, q->acks[i]->data_len) == tcp && same_flow(f, g, tcp)) {
				rte_pktmbuf_free(q->acks[i]);
				q->ack_merged++;
			} else {
				q->acks[k++] = q->acks[i];
			}
		}
		q->nacks = k;
	} else if (n > 0 && wnd != last_wnd) {
		if (n >= 2 && last_wnd != prev_wnd) {
			rte_pktmbuf_free(q->acks[last]);
			q->acks[last] = m;
			q->ack_merged++;
			return true;
		}
	} else if (dups >= MLW_TX_DUPACKS) {
		/* The last kept one is a duplicate, or a window update whose
		 * window @p m repeats and so carries on (dups > 0: n >= 2). */
		if (last_wnd == prev_wnd)
			q->ack_dup_drops++;
		else
			q->ack_merged++;
		rte_pktmbuf_free(q->acks[last]);
		q->acks[last] = m;
		return true;
	}
	if (q->nacks == MLW_TX_ACKS)
		return false;
	q->acks[q->nacks++] = m;
	return true;
}

static err_t dpdk_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct mlw_netif_state *st = netif->state;
	struct mlw_txq *q = st->txq;
	struct rte_mbuf *m;
	bool backed_up = false;
	char *dst;

	if (q->n == MLW_TX_BATCH && mlw__txq_flush(q) == 0) {
		backed_up = true;
		if (p->tot_len > MLW_ACK_FRAME_MAX) {
			q->tx_drops++;
			return ERR_MEM;
		}
	}
	/* Backed up, only ACK-sized frames get here: they are copied. */
	if (st->tx_zero_copy && p->next == NULL && p->len > MLW_TX_COPY_MAX) {
		m = zc_mbuf(st, p);
		if (unlikely(m == NULL)) {
			q->tx_drops++;
			return ERR_MEM;
		}
		if (st->tx_cksum && !st->trust_cksum)
			mlw__tx_offload(m);
		q->pkts[q->n++] = m;
		return ERR_OK;
	}
	m = rte_pktmbuf_alloc(st->pool);
	if (unlikely(m == NULL)) {
		q->tx_drops++;
		return ERR_MEM;
	}
	dst = rte_pktmbuf_append(m, p->tot_len);
	if (unlikely(dst == NULL)) {
		rte_pktmbuf_free(m);
		q->tx_drops++;
		return ERR_BUF;
	}
	pbuf_copy_partial(p, dst, p->tot_len, 0);
	if (st->tx_cksum && !st->trust_cksum)
		mlw__tx_offload(m);
	if (unlikely(backed_up)) {
		if (keep_ack(q, m))
			return ERR_OK;
		rte_pktmbuf_free(m);
		q->tx_drops++;
		return ERR_MEM;
	}
	queue_frame(q, m);
	return ERR_OK;
}

int8_t mlw__dpdk_netif_init(struct netif *netif)
{
	struct mlw_netif_state *st = netif->state;

	netif->name[0] = 'd';
	netif->name[1] = 'p';
	netif->linkoutput = dpdk_linkoutput;
#if LWIP_IPV4
	netif->output = etharp_output;
#endif
#if LWIP_IPV6
	netif->output_ip6 = ethip6_output;
#endif
	netif->hwaddr_len = ETH_HWADDR_LEN;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
		       NETIF_FLAG_IGMP | NETIF_FLAG_MLD6 | NETIF_FLAG_LINK_UP;
	/* Checksums the port computes are not computed twice. RX checks stay
	 * on here: the run loop turns them off for each frame the port
	 * verified, and drops frames it marked bad. A trusted link has none. */
	if (st->trust_cksum)
		st->cksum_flags = NETIF_CHECKSUM_DISABLE_ALL;
	else if (st->tx_cksum)
		st->cksum_flags = NETIF_CHECKSUM_ENABLE_ALL & ~(NETIF_CHECKSUM_GEN_IP | NETIF_CHECKSUM_GEN_TCP |
								NETIF_CHECKSUM_GEN_UDP);
	else
		st->cksum_flags = NETIF_CHECKSUM_ENABLE_ALL;
	NETIF_SET_CHECKSUM_CTRL(netif, st->cksum_flags);
	return ERR_OK;
}
