/* test_wire.c - see test_wire.h. */
#include <string.h>

#include "dpdk_netif.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "test_stack.h"
#include "test_wire.h"

/* The shard that attached; tests run one shard per process. */
static _Thread_local struct netif *wire_nif;
static _Thread_local struct mlw_txq *wire_txq;
static _Thread_local struct test_wire_log *wire_log;

void test_wire_log_frame(struct test_wire_log *log, const uint8_t *f, unsigned len, int64_t t_us)
{
	struct test_seg s;

	if (log->n == TEST_WIRE_MAX || !test_tcp4_parse(f, len, &s))
		return;
	s.t_us = t_us;
	log->seg[log->n++] = s;
}

int test_wire_attach(struct test_wire_log *log, uint8_t mac[6])
{
	wire_nif = test_dpdk_netif();
	if (wire_nif == NULL)
		return -1;
	memcpy(mac, wire_nif->hwaddr, 6);
	wire_txq = ((struct mlw_netif_state *)wire_nif->state)->txq;
	wire_log = log;
	return 0;
}

void test_wire_input(const uint8_t *f, unsigned len)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);

	if (p == NULL)
		return;
	memcpy(p->payload, f, len);
	if (wire_nif->input(p, wire_nif) != ERR_OK)
		pbuf_free(p);
}

void test_wire_read(void)
{
	struct rte_mbuf *pkts[64];
	uint16_t n;

	while ((n = mlw__rx_burst(wire_txq->port_id, wire_txq->queue_id, pkts, 64)) > 0) {
		int64_t t = test_now_us();

		for (uint16_t i = 0; i < n; i++) {
			test_wire_log_frame(wire_log, rte_pktmbuf_mtod(pkts[i], const uint8_t *),
					    pkts[i]->data_len, t);
			rte_pktmbuf_free(pkts[i]);
		}
	}
}

void test_wire_pass(void)
{
	mlw_socket_flush();
	test_wire_read();
	mlw_shard_poll();
	mlw_socket_flush();
	test_wire_read();
}
