/* netif.c - the lwIP side of the data path: zero-copy RX pbufs over mbufs, and the netif whose linkoutput copies into mbufs. */
#include <string.h>

#include <rte_mbuf.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"

#include "dpdk_netif.h"

/* Per shard thread: zero-copy RX pbufs lwIP holds, frames copied instead. */
static __thread unsigned rx_zc_held;
static __thread uint64_t rx_copied;

unsigned mlw__rx_zc_held(void)
{
	return rx_zc_held;
}

uint64_t mlw__rx_copied(void)
{
	return rx_copied;
}

/* Called by lwIP when the last reference to the pbuf goes: the mbuf goes
 * back to the pool it came from (its owner shard's). */
static void rx_pbuf_free(struct pbuf *p)
{
	struct mlw_rx_pbuf *rp = (struct mlw_rx_pbuf *)p;

	rx_zc_held--;
	rte_pktmbuf_free(rp->m);
}

/* Under mbuf pressure: the frame into the shard heap, the mbuf back now. */
static struct pbuf *copy_out(struct rte_mbuf *m)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, m->data_len, PBUF_RAM);

	if (likely(p != NULL)) {
		memcpy(p->payload, rte_pktmbuf_mtod(m, void *), m->data_len);
		rx_copied++;
	}
	rte_pktmbuf_free(m);
	return p;
}

struct pbuf *mlw__mbuf_to_pbuf(struct rte_mbuf *m)
{
	struct mlw_rx_pbuf *rp;
	struct pbuf *p;

	RTE_BUILD_BUG_ON(MLW_MBUF_PRIV_SIZE < sizeof(struct mlw_rx_pbuf));
	/* Multi-segment frames (jumbo on some PMDs) would need a pbuf chain;
	 * the ports are configured without scatter, so this is a driver bug. */
	if (unlikely(m->nb_segs != 1 || m->priv_size < sizeof(*rp) || m->data_len > UINT16_MAX)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	if (unlikely(rx_zc_held >= MLW_RX_ZC_MAX))
		return copy_out(m);
	rp = rte_mbuf_to_priv(m);
	rp->m = m;
	rp->pc.custom_free_function = rx_pbuf_free;
	p = pbuf_alloced_custom(PBUF_RAW, m->data_len, PBUF_REF, &rp->pc,
				rte_pktmbuf_mtod(m, void *), m->data_len);
	if (unlikely(p == NULL))
		rte_pktmbuf_free(m);
	else
		rx_zc_held++;
	return p;
}

static err_t dpdk_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct mlw_netif_state *st = netif->state;
	struct mlw_txq *q = st->txq;
	struct rte_mbuf *m;
	char *dst;

	if (q->n == MLW_TX_BATCH && mlw__txq_flush(q) == 0) {
		q->tx_drops++;
		return ERR_MEM;
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
	if (st->tx_cksum)
		mlw__tx_offload(m);
	q->pkts[q->n++] = m;
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
	 * in software: the run loop drops frames the port marked bad, but
	 * "unknown" still needs lwIP's check. */
	NETIF_SET_CHECKSUM_CTRL(netif, st->tx_cksum ?
		(NETIF_CHECKSUM_ENABLE_ALL & ~(NETIF_CHECKSUM_GEN_IP | NETIF_CHECKSUM_GEN_TCP |
					       NETIF_CHECKSUM_GEN_UDP)) :
		NETIF_CHECKSUM_ENABLE_ALL);
	return ERR_OK;
}
