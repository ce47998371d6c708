/* conns.c - the connection listing: a telemetry thread asks a shard, the shard walks its own lwIP lists at the end of a loop pass.
 *
 * lwIP's PCB lists, the compact TIME-WAIT records and the socket layer's
 * queues are the shard's thread-local state: only the shard's own thread
 * may walk them. So the listing is a request: a telemetry thread
 * (telemetry.c) bumps conns.req and waits; the shard sees the change at
 * the end of a pass (mlw__conns_poll(), one acquire load per pass), fills
 * its buffer (at most MLW_CONNS_MAX entries, the rest counted as
 * truncated) and publishes done with a release store. The buffer is
 * allocated when the stack is created: nothing is allocated on the
 * shard's side, and the shard never waits for the reader. A shard that
 * does not run passes (stopped, not started, stuck in the application)
 * lets the request time out; the reader reports it and never hangs.
 *
 * Why here and not in socket-api/: the listing is of lwIP's PCBs, which
 * exist with or without the socket layer (raw-API applications such as
 * lwiperf or httpd); the socket layer adds the unread bytes of its
 * sockets through mlw__sock_tcp_queues()/mlw__sock_udp_queue(), weak
 * references that are NULL when it is not linked.
 */
#include <errno.h>
#include <string.h>
#include <time.h>


#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "mlw_tcp_table.h"
#include "stack_private.h"

/* socket-api/tcp.c, udp.c: the queues a socket keeps for the application. */
bool mlw__sock_tcp_queues(const struct tcp_pcb *pcb, uint32_t *recv_q, uint32_t *accept_q);
bool mlw__sock_udp_queue(const struct udp_pcb *pcb, uint32_t *recv_q);
#pragma weak mlw__sock_tcp_queues
#pragma weak mlw__sock_udp_queue

int mlw__conns_alloc(struct mlw_shard *sh)
{
	sh->conns.e = mlw__rt_zalloc(sizeof(struct mlw__conn) * MLW_CONNS_MAX, sh->node);
	return sh->conns.e != NULL ? 0 : -ENOMEM;
}

void mlw__conns_free(struct mlw_shard *sh)
{
	mlw__rt_free(sh->conns.e, sizeof(struct mlw__conn) * MLW_CONNS_MAX);
	sh->conns.e = NULL;
}

struct fill {
	struct mlw_shard *sh;
	uint32_t n;
	bool truncated;
};

static struct mlw__conn *slot(struct fill *f)
{
	struct mlw__conn *c;

	if (f->n >= MLW_CONNS_MAX) {
		f->truncated = true;
		return NULL;
	}
	c = &f->sh->conns.e[f->n++];
	memset(c, 0, sizeof(*c));
	return c;
}

static void put_addr(struct mlw__conn *c, uint8_t *dst, const ip_addr_t *a)
{
#if LWIP_IPV6
	if (IP_IS_V6(a)) {
		c->flags |= MLW_CONN_V6;
		memcpy(dst, ip_2_ip6(a)->addr, 16);
		return;
	}
	memcpy(dst, &ip_2_ip4(a)->addr, 4);
#else
	memcpy(dst, &a->addr, 4);
#endif
}

/* A PCB bound to both families (IPADDR_TYPE_ANY) shows as IPv4. */
static void put_addrs(struct mlw__conn *c, const ip_addr_t *local, const ip_addr_t *remote)
{
	put_addr(c, c->laddr, local);
	put_addr(c, c->raddr, remote);
}

static void put_tcp(struct fill *f, struct tcp_pcb *pcb)
{
	struct mlw__conn *c = slot(f);
	uint32_t rq = 0, aq = 0;

	if (c == NULL)
		return;
	c->proto = MLW_CONN_TCP;
	c->state = (uint8_t)pcb->state;
	c->lport = pcb->local_port;
	c->rport = pcb->remote_port;
	put_addrs(c, &pcb->local_ip, &pcb->remote_ip);
	c->nrtx = pcb->nrtx;
	/* Sequence space queued and not acknowledged: the bytes of unsent
	 * and unacked (a SYN or FIN in them counts one). */
	c->send_q = pcb->snd_lbb - pcb->lastack;
	if (mlw__sock_tcp_queues != NULL && mlw__sock_tcp_queues(pcb, &rq, &aq)) {
		c->flags |= MLW_CONN_SOCKET;
		c->recv_q = rq;
	} else if (pcb->refused_data != NULL) {
		c->recv_q = pcb->refused_data->tot_len;	/* a raw-API application refused it */
	}
}

static void put_listen(struct fill *f, struct tcp_pcb_listen *lpcb)
{
	struct mlw__conn *c = slot(f);
	uint32_t rq = 0, aq = 0;

	if (c == NULL)
		return;
	c->proto = MLW_CONN_TCP;
	c->state = LISTEN;
	c->lport = lpcb->local_port;
	put_addrs(c, &lpcb->local_ip, &lpcb->remote_ip);
#if TCP_LISTEN_BACKLOG
	/* As ss shows a listener: Send-Q its backlog, Recv-Q the connections
	 * waiting for accept(): the socket layer's queue, or those lwIP
	 * counts as pending for a raw-API application. */
	c->send_q = lpcb->backlog;
	c->recv_q = lpcb->accepts_pending;
#endif
	if (mlw__sock_tcp_queues != NULL && mlw__sock_tcp_queues((struct tcp_pcb *)lpcb, &rq, &aq)) {
		c->flags |= MLW_CONN_SOCKET;
		c->recv_q = aq;
	}
}

static bool put_record(void *arg, const ip_addr_t *local, u16_t lport, const ip_addr_t *remote, u16_t rport)
{
	struct fill *f = arg;
	struct mlw__conn *c = slot(f);

	if (c == NULL)
		return false;
	c->proto = MLW_CONN_TCP;
	c->state = TIME_WAIT;
	c->flags = MLW_CONN_COMPACT;
	c->lport = lport;
	c->rport = rport;
	put_addrs(c, local, remote);
	return true;
}

static void put_udp(struct fill *f, struct udp_pcb *u)
{
	struct mlw__conn *c = slot(f);
	uint32_t rq = 0;

	if (c == NULL)
		return;
	c->proto = MLW_CONN_UDP;
	c->lport = u->local_port;
	c->rport = u->remote_port;
	put_addrs(c, &u->local_ip, &u->remote_ip);
	if (mlw__sock_udp_queue != NULL && mlw__sock_udp_queue(u, &rq)) {
		c->flags |= MLW_CONN_SOCKET;
		c->recv_q = rq;
	}
}

/* On the shard thread, between two passes: nothing of lwIP runs meanwhile. */
void mlw__conns_fill(struct mlw_shard *sh)
{
	unsigned req = atomic_load_explicit(&sh->conns.req, memory_order_acquire);
	struct fill f = { .sh = sh };

	if (sh->conns.e != NULL) {
		for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l != NULL; l = l->next)
			put_listen(&f, l);
		for (struct tcp_pcb *p = tcp_bound_pcbs; p != NULL; p = p->next)
			put_tcp(&f, p);
		for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next)
			put_tcp(&f, p);
		for (struct tcp_pcb *p = tcp_tw_pcbs; p != NULL; p = p->next)
			put_tcp(&f, p);
		if (!f.truncated)
			mlw__tcp_table_tw_each(put_record, &f);
		for (struct udp_pcb *u = udp_pcbs; u != NULL; u = u->next)
			put_udp(&f, u);
	}
	sh->conns.n = f.n;
	sh->conns.truncated = f.truncated;
	sh->conns.served = req;
	atomic_store_explicit(&sh->conns.done, req, memory_order_release);
}

static void nap_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

int mlw__conns_take(struct mlw_shard *sh, unsigned *snap, unsigned timeout_ms)
{
	struct mlw__conns *c = &sh->conns;
	int expected = 0;
	unsigned want;

	if (c->e == NULL)
		return -ENOMEM;
	/* Readers queue behind each other for a while (each holds the
	 * buffer for one formatting), never behind the shard. */
	for (unsigned waited = 0; !atomic_compare_exchange_weak(&c->busy, &expected, 1); waited++) {
		expected = 0;
		if (waited >= timeout_ms * 10u)
			return -EBUSY;
		nap_us(100);
	}
	if (*snap != 0) {
		/* A further page of the same listing: still the newest one
		 * asked and answered. */
		if (atomic_load_explicit(&c->req, memory_order_relaxed) != *snap ||
		    atomic_load_explicit(&c->done, memory_order_acquire) != *snap) {
			atomic_store_explicit(&c->busy, 0, memory_order_release);
			return -ESTALE;
		}
		return 0;
	}
	want = atomic_load_explicit(&c->req, memory_order_relaxed) + 1;
	if (want == 0)
		want = 1;	/* 0 means "a new listing" to the caller */
	atomic_store_explicit(&c->req, want, memory_order_release);
	for (unsigned waited = 0; atomic_load_explicit(&c->done, memory_order_acquire) != want; waited++) {
		if (waited >= timeout_ms * 10u) {
			/* The shard may still answer later: the next request
			 * asks again and waits for its own number. */
			atomic_store_explicit(&c->busy, 0, memory_order_release);
			return -ETIMEDOUT;
		}
		nap_us(100);
	}
	*snap = want;
	return 0;
}

void mlw__conns_release(struct mlw_shard *sh)
{
	atomic_store_explicit(&sh->conns.busy, 0, memory_order_release);
}
