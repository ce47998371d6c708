/* test_loop.c - see test_loop.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lwip/def.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "test_loop.h"
#include "test_stack.h"

static const ip_addr_t loopback = IPADDR4_INIT(PP_HTONL(0x7f000001ul));

void tl_fail(char *why, size_t len, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(why, len, "line %d: ", line);

	if (n < 0 || (size_t)n >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(why + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

const ip_addr_t *tl_loopback(void)
{
	return &loopback;
}

static uint8_t pattern(uint16_t seed, uint64_t off)
{
	return (uint8_t)(off * 7u + seed + (off >> 8) * 13u);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct tl_conn *c = arg;

	(void)err;
	if (p == NULL) {
		c->eof = true;
		return ERR_OK;
	}
	for (struct pbuf *q = p; q != NULL; q = q->next) {
		const uint8_t *b = q->payload;

		for (u16_t i = 0; i < q->len; i++)
			c->bad += b[i] != pattern(c->seed, c->rx + i);
		c->rx += q->len;
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	struct tl_conn *c = arg;

	c->err = err;
	c->pcb = NULL;
}

static void attach(struct tl_conn *c, struct tcp_pcb *pcb)
{
	/* Without Nagle: with both ends writing at once, lwIP's tcp_output()
	 * holds a small segment for the peer's ACK and sends no ACK of its
	 * own meanwhile (TF_ACK_NOW is dropped when Nagle stops the send
	 * loop), so each end waits for a retransmission timeout. */
	tcp_nagle_disable(pcb);
	c->pcb = pcb;
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_err(pcb, on_err);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct tl_listener *l = arg;
	struct tl_conn *c;

	if (pcb == NULL || err != ERR_OK)
		return ERR_VAL;
	if (l->n == l->cap) {
		l->refused++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c = &l->conns[l->n++];
	memset(c, 0, sizeof(*c));
	c->seed = pcb->remote_port;
	c->connected = true;
	attach(c, pcb);
	return ERR_OK;
}

int tl_listen(struct tl_listener *l, uint16_t port, struct tl_conn *conns, size_t cap)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	err_t err;

	memset(l, 0, sizeof(*l));
	l->conns = conns;
	l->cap = cap;
	if (pcb == NULL)
		return ERR_MEM;
	err = tcp_bind(pcb, &loopback, port);
	if (err != ERR_OK) {
		tcp_close(pcb);
		return err;
	}
	l->pcb = tcp_listen_with_backlog_and_err(pcb, 255, &err);
	if (l->pcb == NULL) {
		tcp_close(pcb);
		return err;
	}
	tcp_arg(l->pcb, l);
	tcp_accept(l->pcb, on_accept);
	return ERR_OK;
}

void tl_listener_close(struct tl_listener *l)
{
	if (l->pcb != NULL)
		tcp_close(l->pcb);
	l->pcb = NULL;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct tl_conn *c = arg;

	(void)pcb;
	(void)err;
	c->connected = true;
	return ERR_OK;
}

err_t tl_connect(struct tl_conn *c, uint16_t port)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	err_t err;

	memset(c, 0, sizeof(*c));
	if (pcb == NULL)
		return ERR_MEM;
	attach(c, pcb);
	err = tcp_connect(pcb, &loopback, port, on_connected);
	if (err != ERR_OK) {
		tcp_err(pcb, NULL);
		tcp_abort(pcb);
		c->pcb = NULL;
		c->err = err;
		return err;
	}
	c->seed = pcb->local_port;
	return ERR_OK;
}

size_t tl_write(struct tl_conn *c, size_t n)
{
	uint8_t buf[1460];
	size_t done = 0;

	while (c->pcb != NULL && done < n && tcp_sndbuf(c->pcb) > 0) {
		size_t len = LWIP_MIN(LWIP_MIN(n - done, sizeof(buf)), tcp_sndbuf(c->pcb));

		for (size_t i = 0; i < len; i++)
			buf[i] = pattern(c->seed, c->tx + i);
		if (tcp_write(c->pcb, buf, (u16_t)len, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		c->tx += len;
		done += len;
	}
	if (c->pcb != NULL)
		tcp_output(c->pcb);
	return done;
}

bool tl_close(struct tl_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	if (pcb == NULL)
		return true;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) != ERR_OK) {
		attach(c, pcb);
		return false;
	}
	c->pcb = NULL;
	return true;
}

void tl_abort(struct tl_conn *c)
{
	if (c->pcb != NULL)
		tcp_abort(c->pcb);	/* on_err clears c->pcb */
	c->pcb = NULL;
}

bool tl_pump_until(bool (*done)(void *arg), void *arg, int ms)
{
	int64_t end = test_now_ms() + ms;

	while (!done(arg)) {
		if (test_now_ms() > end)
			return done(arg);
		test_pump();
	}
	return true;
}

/* ---- the loopback wire ---- */

/* lwIP sends a segment to one of its own addresses by queueing a copy on
 * the netif (netif_loop_output; ip4_output_if takes that path before the
 * netif's output function), and netif_poll() feeds the queue to
 * ip_input() until it is empty. The test takes the queue instead. */
#define WIRE_MAX 256

static struct {
	struct pbuf *p[WIRE_MAX];
	struct netif *nif[WIRE_MAX];
	size_t n;
} wire;

size_t tl_wire_grab(void)
{
	struct netif *nif;
	size_t got = 0;

	NETIF_FOREACH(nif) {
		while (nif->loop_first != NULL && wire.n < WIRE_MAX) {
			struct pbuf *in = nif->loop_first, *end = in;

			while (end->len != end->tot_len)
				end = end->next;
			if (end == nif->loop_last)
				nif->loop_first = nif->loop_last = NULL;
			else
				nif->loop_first = end->next;
			end->next = NULL;
#if LWIP_LOOPBACK_MAX_PBUFS
			nif->loop_cnt_current = (u16_t)(nif->loop_cnt_current - pbuf_clen(in));
#endif
			wire.p[wire.n] = in;
			wire.nif[wire.n] = nif;
			wire.n++;
			got++;
		}
	}
	return got;
}

size_t tl_wire_held(void)
{
	return wire.n;
}

static void wire_take(int n, bool deliver)
{
	size_t k = n < 0 || (size_t)n > wire.n ? wire.n : (size_t)n;
	struct pbuf *p[WIRE_MAX];
	struct netif *nif[WIRE_MAX];

	memcpy(p, wire.p, k * sizeof(p[0]));
	memcpy(nif, wire.nif, k * sizeof(nif[0]));
	memmove(wire.p, wire.p + k, (wire.n - k) * sizeof(wire.p[0]));
	memmove(wire.nif, wire.nif + k, (wire.n - k) * sizeof(wire.nif[0]));
	wire.n -= k;
	for (size_t i = 0; i < k; i++) {
		if (!deliver)
			pbuf_free(p[i]);
		else if (ip_input(p[i], nif[i]) != ERR_OK)
			pbuf_free(p[i]);
	}
}

void tl_wire_deliver(int n)
{
	wire_take(n, true);
}

void tl_wire_drop(int n)
{
	wire_take(n, false);
}
