/* engine.c - the kernel engine's port life, TX from lwIP's pbufs into the TX ring, flush, and counters (no DPDK here; see engine.h). */
#include <errno.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include "engine.h"
#include "port.h"

int mlw__afp_engine_open(const struct mlw_afp_conf *c, mlw__frame_pool_t *const *pools,
			 struct mlw__afp_engine **out, char *err, size_t errlen)
{
	struct mlw__afp_engine *e;
	int rc;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	rc = mlw_afp_open(c, &e->port, err, errlen);
	if (rc != 0) {
		free(e);
		return rc;
	}
	e->nq = c->nqueues;
	e->steer_ports = c->steer == MLW_AFP_STEER_PORTS;
	/* Each queue's published counters on lines of their own: readers
	 * poll them while the shard writes. */
	e->q = aligned_alloc(64, (e->nq * sizeof(e->q[0]) + 63) / 64 * 64);
	if (e->q == NULL) {
		mlw_afp_close(e->port);
		free(e);
		return -ENOMEM;
	}
	memset(e->q, 0, e->nq * sizeof(e->q[0]));
	for (unsigned i = 0; i < e->nq; i++) {
		e->q[i].q = mlw_afp_queue(e->port, i);
		e->q[i].pool = pools[i];
		for (size_t k = 0; k < MLW__AFP_NCOUNTERS; k++)
			atomic_init(&e->q[i].pub[k], 0);
		atomic_init(&e->q[i].kreq, 0);
		atomic_init(&e->q[i].kack, 0);
	}
	*out = e;
	return 0;
}

/* lwIP's linkoutput for a kernel engine port, in either build: the frame
 * copied into a slot of the shard's TX ring (engine.h says what this leaves
 * out of the DPDK path's ACK keeping, and why it matters little). */
err_t mlw__afp_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct mlw_netif_state *st = netif->state;
	struct mlw_txq *q = st->txq;
	int rc = mlw__afp_engine_tx(q->afp->q[q->queue_id].q, p);

	if (__builtin_expect(rc != 0, 0)) {
		q->tx_drops++;
		return rc == -EMSGSIZE ? ERR_BUF : ERR_MEM;
	}
	q->tx_pkts++;
	q->tx_bytes += p->tot_len;
	return ERR_OK;
}

/* The stack's port over the engine (sharding/port.h), in either build. */
int mlw__port_open_afp(struct mlw_port *port, const struct mlw_afp_conf *c, mlw__frame_pool_t *const *pools,
		       char *err, size_t errlen)
{
	int rc;

	memset(port, 0, sizeof(*port));
	port->port_id = MLW_PORT_ID_NONE;
	port->nqueues = (uint16_t)c->nqueues;
	snprintf(port->caps.driver, sizeof(port->caps.driver), "afpacket");
	rc = mlw__afp_engine_open(c, pools, &port->afp, err, errlen);
	if (rc != 0)
		return rc;
	mlw_afp_mac(port->afp->port, port->caps.mac);
	port->caps.mtu = (uint16_t)mlw_afp_mtu(port->afp->port);
	/* Each queue's socket is readable when a block is ready: what idle =
	 * interrupt sleeps on (sharding/idle.c). */
	port->caps.rx_intr = true;
	port->configured = port->started = true;
	return 0;
}

void mlw__afp_engine_close(struct mlw__afp_engine *e)
{
	if (e == NULL)
		return;
	mlw_afp_close(e->port);
	free(e->q);
	free(e);
}

int mlw__afp_engine_tx(struct mlw_afp_queue *q, const struct pbuf *p)
{
	uint32_t room;
	uint8_t *slot = mlw_afp_tx_slot(q, &room);

	if (slot == NULL) {
		/* Every slot waits for the kernel: hand them over, try once more. */
		mlw_afp_tx_flush(q);
		slot = mlw_afp_tx_slot(q, &room);
		if (slot == NULL)
			return -ENOBUFS;
	}
	if (p->tot_len > room)
		return -EMSGSIZE;
	pbuf_copy_partial(p, slot, p->tot_len, 0);
	mlw_afp_tx_commit(q, p->tot_len);
	return 0;
}

/* The queue's counters in the order of struct mlw__afp_counters. */
static void gather(const struct mlw__afp_equeue *eq, const struct mlw_afp_stats *s, uint64_t v[MLW__AFP_NCOUNTERS])
{
	struct mlw__afp_counters c = {
		.rx_pkts = s->rx_pkts, .rx_bytes = s->rx_bytes, .rx_kernel_drops = s->rx_kernel_drops,
		.rx_nombuf = eq->rx_nombuf, .rx_too_big = eq->rx_too_big + s->rx_truncated,
		.rx_vlan = eq->rx_vlan, .tx_pkts = s->tx_pkts, .tx_bytes = s->tx_bytes, .tx_full = s->tx_full,
		.tx_rejected = s->tx_rejected, .tx_flush_errors = s->tx_flush_errors,
	};

	memcpy(v, &c, sizeof(c));
}

unsigned mlw__afp_engine_flush(struct mlw__afp_engine *e, unsigned qi)
{
	struct mlw__afp_equeue *eq = &e->q[qi];
	struct mlw_afp_stats s;
	uint64_t v[MLW__AFP_NCOUNTERS];
	unsigned req;
	int n = mlw_afp_tx_flush(eq->q);

	/* A reader asked for the kernel's drop count: the one system call
	 * that is not the flush, made only then. */
	req = atomic_load_explicit(&eq->kreq, memory_order_relaxed);
	if (req != eq->kdone)
		mlw_afp_stats(eq->q, &s);
	else
		mlw_afp_counters(eq->q, &s);
	gather(eq, &s, v);
	for (size_t k = 0; k < MLW__AFP_NCOUNTERS; k++)
		atomic_store_explicit(&eq->pub[k], v[k], memory_order_relaxed);
	if (req != eq->kdone) {
		eq->kdone = req;
		atomic_store_explicit(&eq->kack, req, memory_order_release);
	}
	return n > 0 ? (unsigned)n : 0;
}

bool mlw__afp_engine_tx_pending(const struct mlw__afp_engine *e, unsigned qi)
{
	return mlw_afp_tx_queued(e->q[qi].q) != 0;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

void mlw__afp_engine_read(struct mlw__afp_engine *e, bool running, unsigned wait_ms,
			  struct mlw__afp_counters *out)
{
	uint64_t sum[MLW__AFP_NCOUNTERS] = {0};
	unsigned want[MLW_AFP_MAX_QUEUES];

	if (running) {
		uint64_t end = now_ms() + wait_ms;
		unsigned left = e->nq;

		for (unsigned i = 0; i < e->nq; i++)
			want[i] = atomic_fetch_add_explicit(&e->q[i].kreq, 1, memory_order_relaxed) + 1;
		while (left > 0 && now_ms() < end) {
			left = 0;
			for (unsigned i = 0; i < e->nq; i++)
				if ((int)(atomic_load_explicit(&e->q[i].kack, memory_order_acquire) - want[i]) < 0)
					left++;
			if (left > 0)
				sched_yield();
		}
	}
	for (unsigned i = 0; i < e->nq; i++) {
		struct mlw__afp_equeue *eq = &e->q[i];
		uint64_t v[MLW__AFP_NCOUNTERS];

		if (!running) {
			/* The shards are done: their queues are ours now. */
			struct mlw_afp_stats s;

			mlw_afp_stats(eq->q, &s);
			gather(eq, &s, v);
		} else {
			for (size_t k = 0; k < MLW__AFP_NCOUNTERS; k++)
				v[k] = atomic_load_explicit(&eq->pub[k], memory_order_relaxed);
		}
		for (size_t k = 0; k < MLW__AFP_NCOUNTERS; k++)
			sum[k] += v[k];
	}
	memcpy(out, sum, sizeof(*out));
}
