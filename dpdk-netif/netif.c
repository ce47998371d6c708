/* netif.c - the lwIP side of the data path: zero-copy RX pbufs over mbufs, and the netif whose linkoutput hands frames to the port (copied, or attached where the port copies them itself). */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include "dpdk_netif.h"
#include "engine.h"
#include "mlw_rx_budget.h"

/* Called by lwIP when the last reference to the pbuf goes: the mbuf goes
 * back to the pool it came from. */
static void rx_pbuf_free(struct pbuf *p)
{
	struct mlw_rx_pbuf *rp = (struct mlw_rx_pbuf *)p;

	mlw__rx_zc_give(rp->pool);
	rte_pktmbuf_free(rp->m);
}

/* Under mbuf pressure: the frame into the shard heap, the mbuf back now. */
static struct pbuf *copy_out(struct rte_mbuf *m)
{
	struct pbuf *p = mlw__rx_copy_out(rte_pktmbuf_mtod(m, void *), m->data_len);

	rte_pktmbuf_free(m);
	return p;
}

struct pbuf *mlw__frame_to_pbuf(struct rte_mbuf *m, unsigned pool)
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
	if (unlikely(!mlw__rx_zc_take(pool)))
		return copy_out(m);
	rp = rte_mbuf_to_priv(m);
	rp->m = m;
	rp->pool = (uint16_t)pool;
	rp->pc.custom_free_function = rx_pbuf_free;
	p = pbuf_alloced_custom(PBUF_RAW, m->data_len, PBUF_REF, &rp->pc,
				rte_pktmbuf_mtod(m, void *), m->data_len);
	if (unlikely(p == NULL)) {
		mlw__rx_zc_give(pool);
		rte_pktmbuf_free(m);
	}
	return p;
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
		if (mlw__txq_keep_ack(q, m))
			return ERR_OK;
		rte_pktmbuf_free(m);
		q->tx_drops++;
		return ERR_MEM;
	}
	mlw__txq_queue(q, m);
	return ERR_OK;
}

int8_t mlw__port_netif_init(struct netif *netif)
{
	struct mlw_netif_state *st = netif->state;

	if (st->port != NULL && st->port->afp != NULL) {
		st->txq->afp = st->port->afp;
		st->tx_cksum = false;
		st->tx_zero_copy = false;
	}

	netif->name[0] = 'd';
	netif->name[1] = 'p';
	netif->linkoutput = st->txq->afp != NULL ? mlw__afp_linkoutput : dpdk_linkoutput;
	st->cksum_flags = mlw__eth_netif_setup(netif, st->trust_cksum, st->tx_cksum);
	return ERR_OK;
}
