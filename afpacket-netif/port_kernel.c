/* port_kernel.c - the stack's port calls (sharding/port.h) in a build without DPDK: kernel engine ports (received frames reach lwIP as custom pbufs over mlwip's own frames, sent ones go straight from pbufs into the TX ring), and memory loopback ports for tests.
 *
 * The DPDK build has these in dpdk-netif/ (port.c, burst.c, netif.c),
 * which dispatch kernel engine ports to the same engine calls. Here a port
 * is a kernel engine port or, for tests ([portN] engine = loop, what DPDK's
 * net_ring0 is to the DPDK build), a loopback port: one branch per burst,
 * flush and open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include "engine.h"
#include "mlw_rx_budget.h"
#include "port.h"

#if MLW_RT_DPDK
#error "port_kernel.c is the build without DPDK's: with DPDK, dpdk-netif/ has these calls"
#endif

static void loop_close(struct mlw__loop_port *lp);

/* The frame's private area holds the custom pbuf lwIP gets: freeing the
 * pbuf gives the frame back to its pool (from whichever shard frees it). */
struct rx_pbuf {
	struct pbuf_custom pc;
	uint16_t pool;		/* the shard whose pool the frame is from */
};
_Static_assert(sizeof(struct rx_pbuf) <= MLW_FRAME_PRIV, "the custom pbuf fits in a frame's private area");

static mlw__frame_t *frame_of(struct pbuf *p)
{
	return (mlw__frame_t *)((uint8_t *)p - offsetof(mlw__frame_t, priv));
}

static void rx_pbuf_free(struct pbuf *p)
{
	struct rx_pbuf *rp = (struct rx_pbuf *)p;

	mlw__rx_zc_give(rp->pool);
	mlw__frame_free(frame_of(p));
}

struct pbuf *mlw__frame_to_pbuf(mlw__frame_t *f, unsigned pool)
{
	struct rx_pbuf *rp = (struct rx_pbuf *)f->priv;
	uint32_t len = mlw__frame_len(f);
	struct pbuf *p;

	if (unlikely(len > UINT16_MAX || pool >= MLW_MAX_SHARDS)) {
		mlw__frame_free(f);
		return NULL;
	}
	if (unlikely(!mlw__rx_zc_take(pool))) {
		/* lwIP holds its share of frames (unread data): this one
		 * into the shard heap, the frame back now. */
		p = mlw__rx_copy_out(mlw__frame_data(f), (uint16_t)len);
		mlw__frame_free(f);
		return p;
	}
	rp->pool = (uint16_t)pool;
	rp->pc.custom_free_function = rx_pbuf_free;
	p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &rp->pc, mlw__frame_data(f), (u16_t)len);
	if (unlikely(p == NULL)) {
		mlw__rx_zc_give(pool);
		mlw__frame_free(f);
	}
	return p;
}

void mlw__port_close(struct mlw_port *port)
{
	if (port->loop != NULL) {
		loop_close(port->loop);
		port->loop = NULL;
		port->configured = port->started = false;
	}
	if (port->afp == NULL)
		return;
	mlw__afp_engine_close(port->afp);
	port->afp = NULL;
	port->configured = port->started = false;
}

/* ---- memory loopback ports ([portN] engine = loop) ---- */

#define LOOP_FIFO 256u	/* frames a queue holds between a send and the next receive */

/* One shard's queue: the shard alone sends and receives on it. */
struct loop_queue {
	mlw__frame_pool_t *pool;	/* the shard's: sent frames are copied into it */
	unsigned head, n;
	mlw__frame_t *f[LOOP_FIFO];
} __attribute__((aligned(64)));

struct mlw__loop_port {
	unsigned nq;
	struct loop_queue q[];
};

int mlw__port_open_loop(struct mlw_port *port, unsigned nqueues, mlw__frame_pool_t *const *pools,
			char *err, size_t errlen)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	struct mlw__loop_port *lp;
	size_t bytes = sizeof(*lp) + (size_t)nqueues * sizeof(lp->q[0]);

	memset(port, 0, sizeof(*port));
	lp = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	if (lp == NULL) {
		snprintf(err, errlen, "no memory for a loopback port of %u queues", nqueues);
		return -ENOMEM;
	}
	memset(lp, 0, bytes);
	lp->nq = nqueues;
	for (unsigned i = 0; i < nqueues; i++)
		lp->q[i].pool = pools[i];
	port->loop = lp;
	port->port_id = MLW_PORT_ID_NONE;
	port->nqueues = (uint16_t)nqueues;
	snprintf(port->caps.driver, sizeof(port->caps.driver), "loop");
	memcpy(port->caps.mac, mac, sizeof(mac));
	port->caps.mtu = 1500;
	port->configured = port->started = true;
	return 0;
}

static void loop_close(struct mlw__loop_port *lp)
{
	for (unsigned i = 0; i < lp->nq; i++)
		for (struct loop_queue *q = &lp->q[i]; q->n > 0; q->n--) {
			mlw__frame_free(q->f[q->head]);
			q->head = (q->head + 1) % LOOP_FIFO;
		}
	free(lp);
}

static uint16_t loop_rx(struct mlw__loop_port *lp, unsigned qi, mlw__frame_t **pkts, uint16_t n)
{
	struct loop_queue *q = &lp->q[qi];
	uint16_t got = 0;

	while (got < n && q->n > 0) {
		pkts[got++] = q->f[q->head];
		q->head = (q->head + 1) % LOOP_FIFO;
		q->n--;
	}
	return got;
}

/* A sent frame copied into a frame of the shard's pool, received on the
 * next pass. */
static err_t loop_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct mlw_netif_state *st = netif->state;
	struct mlw_txq *q = st->txq;
	struct loop_queue *lq = &st->port->loop->q[q->queue_id];
	mlw__frame_t *f;
	uint8_t *d;

	if (lq->n == LOOP_FIFO || (f = mlw__frame_alloc(lq->pool)) == NULL) {
		q->tx_drops++;
		return ERR_MEM;
	}
	d = mlw__frame_append(f, p->tot_len);
	if (d == NULL) {
		mlw__frame_free(f);
		q->tx_drops++;
		return ERR_BUF;
	}
	pbuf_copy_partial(p, d, p->tot_len, 0);
	lq->f[(lq->head + lq->n) % LOOP_FIFO] = f;
	lq->n++;
	q->tx_pkts++;
	q->tx_bytes += p->tot_len;
	return ERR_OK;
}

/* ---- the calls the run loop makes ---- */

uint16_t mlw__port_rx_burst(struct mlw_port *port, uint16_t queue, mlw__frame_t **pkts, uint16_t n)
{
	if (port->loop != NULL)
		return loop_rx(port->loop, queue, pkts, n);
	return mlw__afp_engine_rx(port->afp, queue, pkts, n);
}

uint16_t mlw__txq_flush(struct mlw_txq *q)
{
	return q->afp != NULL ? (uint16_t)mlw__afp_engine_flush(q->afp, q->queue_id) : 0;
}

int8_t mlw__port_netif_init(struct netif *netif)
{
	struct mlw_netif_state *st = netif->state;

	if (st->port == NULL || (st->port->afp == NULL && st->port->loop == NULL))
		return ERR_ARG;
	st->txq->afp = st->port->afp;
	st->tx_cksum = false;
	st->tx_zero_copy = false;
	/* "kp": a kernel engine port; "lp": a loopback port. */
	netif->name[0] = st->port->afp != NULL ? 'k' : 'l';
	netif->name[1] = 'p';
	netif->linkoutput = st->port->afp != NULL ? mlw__afp_linkoutput : loop_linkoutput;
	/* No checksum offload through the TX ring: lwIP computes them all and
	 * checks those the kernel did not (shard.c clears the checks per frame). */
	st->cksum_flags = mlw__eth_netif_setup(netif, st->trust_cksum, false);
	return ERR_OK;
}
