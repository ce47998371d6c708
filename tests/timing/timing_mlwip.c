/* timing_mlwip.c - the stack under test of test_tcp_timing on mlwip: one shard on net_ring0, its sockets, and the quiet listener as a raw lwIP application.
 *
 * test_stack_run -> tm_mlwip_run (on the shard) -> tm_run_cases: the peer's
 * frames go into lwIP's input, what the shard sends is read off the ring
 * after each pass (tests/support/test_wire.c).
 */
#include <stdio.h>
#include <string.h>

#include "lwip/tcp.h"
#include "mlwip/socket.h"
#include "sem.h"
#include "test_stack.h"
#include "timing.h"

static struct test_wire_log wlog;

static void run(int64_t until_us)
{
	unsigned n = wlog.n;

	do
		test_wire_pass();
	while (wlog.n == n && test_now_us() < until_us);
}

/* The raw application takes each segment's data as it arrives, as lwIP's
 * own apps do (tcp_recved opens the window again); it never writes, so the
 * ACK is lwIP's delayed one. */
static err_t quiet_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)err;
	if (p == NULL)
		return tcp_close(pcb);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t quiet_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (pcb == NULL || err != ERR_OK)
		return ERR_VAL;
	tcp_recv(pcb, quiet_recv);
	return ERR_OK;
}

static struct tcp_pcb *quiet_pcb;

static int quiet_listen(uint16_t port)
{
	struct tcp_pcb *pcb = tcp_new();

	if (pcb == NULL || quiet_pcb != NULL)
		return -1;
	if (tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
		tcp_close(pcb);
		return -1;
	}
	quiet_pcb = tcp_listen(pcb);
	if (quiet_pcb == NULL) {
		tcp_close(pcb);
		return -1;
	}
	tcp_accept(quiet_pcb, quiet_accept);
	return 0;
}

static void quiet_close(int h)
{
	(void)h;
	tcp_close(quiet_pcb);
	quiet_pcb = NULL;
}

static const struct tm_side mlwip_side = {
	.sock = &sem_mlwip_ops,
	.input = test_wire_input,
	.run = run,
	.quiet_listen = quiet_listen,
	.quiet_close = quiet_close,
	.delack_rounds = 8,
};

void tm_mlwip_run(struct tm_result *res)
{
	uint8_t mac[6], arp[42];

	if (test_wire_attach(&wlog, mac) != 0) {
		snprintf(res->why, sizeof(res->why), "no DPDK netif");
		return;
	}
	/* The peer asks for the stack's address, so lwIP knows its MAC. */
	test_wire_input(arp, test_arp_request(arp, tm_peer_mac, TM_PEER_IP, TM_STACK_IP));
	test_wire_pass();
	tm_run_cases(&mlwip_side, &wlog, mac, res);
	mlw_socket_close_all();
	for (int i = 0; i < 20; i++)
		test_wire_pass();
}
