/* burst.c - the DPDK side of the data path: burst RX, batched TX flush, TX checksum offload flags. */
#include <netinet/in.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "capture_private.h"
#include "dpdk_netif.h"
#include "engine.h"

uint16_t mlw__rx_burst(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_rx_burst(port_id, queue, pkts, n);
}

uint16_t mlw__port_rx_burst(struct mlw_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	if (port->afp != NULL)
		return mlw__afp_engine_rx(port->afp, queue, pkts, n);
	return rte_eth_rx_burst(port->port_id, queue, pkts, n);
}

/* Send what the port takes of @p pkts[0..*n), keep the rest in order.
 * While a capture runs the frames are copied before the port sees them
 * (a port may free them in tx_burst) and only the copies of those it took
 * are captured: a frame left for the next flush is captured when it goes.
 * So that a port that takes few frames (backed up, link down) does not
 * make the shard copy the same waiting frames on every pass, it is
 * offered as many as it took last time, twice as many after it took all
 * it was offered; after it took none, the next 1, 2, 4 ... 1024 flushes
 * skip it (frames the port refuses wait anyway). */
static __rte_noinline uint16_t send_captured(struct mlw_txq *q, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *copies[MLW_TX_BATCH > MLW_TX_ACKS ? MLW_TX_BATCH : MLW_TX_ACKS];
	uint16_t sent, offer = n;

	if (q->cap_skip > 0) {
		q->cap_skip--;
		return 0;
	}
	if (q->cap_room != 0 && q->cap_room < offer)
		offer = q->cap_room;
	if (!mlw__capture_tx_copy(q->cap, q->port_id, pkts, offer, copies))
		return rte_eth_tx_burst(q->port_id, q->queue_id, pkts, n);
	sent = rte_eth_tx_burst(q->port_id, q->queue_id, pkts, offer);
	mlw__capture_tx_commit(q->cap, copies, offer, sent);
	if (sent == 0) {
		q->cap_room = 1;
		q->cap_backoff = q->cap_backoff == 0 ? 1 : (uint16_t)RTE_MIN(q->cap_backoff * 2, 1024);
		q->cap_skip = q->cap_backoff;
	} else {
		q->cap_backoff = 0;
		if (sent < offer)
			q->cap_room = sent;
		else if (q->cap_room != 0)
			q->cap_room = q->cap_room >= MLW_TX_BATCH / 2 ? 0 : (uint16_t)(q->cap_room * 2);
	}
	return sent;
}

static uint16_t send_some(struct mlw_txq *q, struct rte_mbuf **pkts, uint16_t *n)
{
	uint16_t sent;

	if (*n == 0)
		return 0;
	/* Capture off: this test is all it costs (out of line otherwise). */
	if (unlikely(q->cap != NULL && mlw__capture_on(q->cap)))
		sent = send_captured(q, pkts, *n);
	else
		sent = rte_eth_tx_burst(q->port_id, q->queue_id, pkts, *n);
	for (uint16_t i = 0; i < sent; i++)
		q->tx_bytes += pkts[i]->pkt_len;
	q->tx_pkts += sent;
	if (sent < *n)
		memmove(pkts, pkts + sent, (size_t)(*n - sent) * sizeof(pkts[0]));
	*n = (uint16_t)(*n - sent);
	return sent;
}

uint16_t mlw__txq_flush(struct mlw_txq *q)
{
	uint16_t sent;

	/* A kernel engine queue: its TX ring, one sendto(). */
	if (q->afp != NULL)
		return (uint16_t)mlw__afp_engine_flush(q->afp, q->queue_id);
	/* The port is backed up when frames remain: they wait for the next
	 * pass, in order; the ACKs kept aside follow once pkts is empty. */
	sent = send_some(q, q->pkts, &q->n);

	/* The frames left moved to the front; their ACK bits move with them. */
	q->ack_slots = sent >= 64 ? 0 : q->ack_slots >> sent;
	if (q->n == 0 && q->nacks > 0)
		sent = (uint16_t)(sent + send_some(q, q->acks, &q->nacks));
	return sent;
}

/* Checksum offload for IPv4 TCP/UDP: lwIP was told not to compute these
 * (netif checksum control), so the port does, from the pseudo-header sum
 * that DPDK expects in the L4 checksum field. */
void mlw__tx_offload(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip;
	uint64_t ol;

	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    m->data_len < sizeof(*eth) + sizeof(*ip))
		return;
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	m->l2_len = sizeof(*eth);
	m->l3_len = rte_ipv4_hdr_len(ip);
	ol = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	ip->hdr_checksum = 0;
	/* Fragments carry no complete L4 header to checksum. */
	if ((ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG)) == 0) {
		void *l4 = (char *)ip + m->l3_len;

		if (ip->next_proto_id == IPPROTO_TCP) {
			ol |= RTE_MBUF_F_TX_TCP_CKSUM;
			((struct rte_tcp_hdr *)l4)->cksum = rte_ipv4_phdr_cksum(ip, ol);
		} else if (ip->next_proto_id == IPPROTO_UDP) {
			ol |= RTE_MBUF_F_TX_UDP_CKSUM;
			((struct rte_udp_hdr *)l4)->dgram_cksum = rte_ipv4_phdr_cksum(ip, ol);
		}
	}
	m->ol_flags |= ol;
}
