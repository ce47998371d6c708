/* mlw_apps_server.c - lwIP's own lwiperf (iperf 2 server, port 5001) and httpd (port 80), unmodified,
 * plus a raw-API echo server (port 7), running on every shard of an mlwip stack.
 *
 *   mlw_apps_server CONFIG.ini [--duration SECONDS]
 *
 * Stops on SIGINT/SIGTERM or after --duration, prints per-shard stats, and
 * exits non-zero if a shard's heap did not end empty.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lwip/apps/httpd.h"
#include "lwip/apps/lwiperf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "mlwip/config.h"
#include "mlwip/stack.h"

/* The signal handler's only way to reach the stack. */
static struct mlw_stack *g_stack;

static void on_signal(int sig)
{
	(void)sig;
	mlw_stack_stop(g_stack);
}

/* ---- echo (port 7): every byte received is sent back ---- */

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	if (p == NULL || err != ERR_OK) {
		if (p != NULL)
			pbuf_free(p);
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		return tcp_close(pcb) == ERR_OK ? ERR_OK : (tcp_abort(pcb), ERR_ABRT);
	}
	/* Echo only what fits the send buffer; refusing the rest makes lwIP
	 * offer it again later (flow control instead of buffering). */
	if (tcp_sndbuf(pcb) < p->tot_len)
		return ERR_MEM;
	for (struct pbuf *q = p; q != NULL; q = q->next) {
		err_t e = tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);

		if (e != ERR_OK) {
			pbuf_free(p);
			tcp_abort(pcb);
			return ERR_ABRT;
		}
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	tcp_output(pcb);
	return ERR_OK;
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	tcp_nagle_disable(pcb);
	tcp_recv(pcb, echo_recv);
	return ERR_OK;
}

static int echo_start(void)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
	struct tcp_pcb *lpcb;

	if (pcb == NULL)
		return -ENOMEM;
	if (tcp_bind(pcb, IP_ANY_TYPE, 7) != ERR_OK) {
		tcp_close(pcb);
		return -EADDRINUSE;
	}
	lpcb = tcp_listen(pcb);
	if (lpcb == NULL) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	tcp_accept(lpcb, echo_accept);
	return 0;
}

/* ---- per shard ---- */

/* lwiperf's report type in words ("done" only for a completed session). */
static const char *iperf_report_name(enum lwiperf_report_type type)
{
	switch (type) {
	case LWIPERF_TCP_DONE_SERVER:
		return "done";
	case LWIPERF_TCP_DONE_CLIENT:
		return "done (client)";
	case LWIPERF_TCP_ABORTED_LOCAL:
		return "aborted here";
	case LWIPERF_TCP_ABORTED_LOCAL_DATAERROR:
		return "aborted here (data error)";
	case LWIPERF_TCP_ABORTED_LOCAL_TXERROR:
		return "aborted here (send error)";
	case LWIPERF_TCP_ABORTED_REMOTE:
		return "aborted by the peer";
	}
	return "unknown report";
}

static void iperf_report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local_addr,
			 u16_t local_port, const ip_addr_t *remote_addr, u16_t remote_port,
			 u32_t bytes_transferred, u32_t ms_duration, u32_t bandwidth_kbitpsec)
{
	(void)arg;
	(void)local_addr;
	(void)local_port;
	printf("shard %d: iperf %s from %s:%u: %u bytes in %u ms, %u kbit/s\n", mlw_shard_id(),
	       iperf_report_name(type), ipaddr_ntoa(remote_addr),
	       remote_port, bytes_transferred, ms_duration, bandwidth_kbitpsec);
	fflush(stdout);
}

/* This shard's lwiperf listener (each shard thread has its own). */
static _Thread_local void *iperf_session;

/* lwiperf's error callback is broken in both lwIP versions mlwip builds:
 * 2.1.3's lwiperf_tcp_err() reports through the PCB lwIP has just freed and
 * then closes it (a double free), 2.2.1's sets the PCB to NULL first and then
 * reports through it (a NULL dereference: mlw_apps_server crashed when it
 * stopped during an iperf run). Both happen whenever a session ends by error
 * (a peer's reset, the shard stopping). So lwiperf's sessions get an error
 * callback that does nothing: lwIP frees the PCB as always, and the session's
 * state stays on lwiperf's list until lwiperf_abort() frees the listener and
 * every session of it (shard_fini). lwiperf's code is unchanged. */
static _Thread_local tcp_accept_fn lwiperf_accept;

static void iperf_err(void *arg, err_t err)
{
	(void)arg;
	(void)err;
}

static err_t iperf_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	err_t rc = lwiperf_accept(arg, pcb, err);

	if (rc == ERR_OK && pcb != NULL && pcb->errf != NULL)
		tcp_err(pcb, iperf_err);
	return rc;
}

/* Put iperf_accept() in front of the accept callback of lwiperf's listener
 * (the one on its port; lwIP registers a new listener at the list's head). */
static int iperf_wrap_accept(void)
{
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l != NULL; l = l->next)
		if (l->local_port == LWIPERF_TCP_PORT_DEFAULT && l->accept != NULL) {
			lwiperf_accept = l->accept;
			tcp_accept((struct tcp_pcb *)l, iperf_accept);
			return 0;
		}
	return -ENOENT;
}

static int shard_init(unsigned shard, void *arg)
{
	int rc;

	(void)arg;
	/* Every shard listens on the same ports (as SO_REUSEPORT would):
	 * steering hands each connection to exactly one of them. */
	iperf_session = lwiperf_start_tcp_server_default(iperf_report, NULL);
	if (iperf_session == NULL) {
		fprintf(stderr, "shard %u: cannot start lwiperf\n", shard);
		return -ENOMEM;
	}
	rc = iperf_wrap_accept();
	if (rc != 0) {
		fprintf(stderr, "shard %u: lwiperf's listener not found\n", shard);
		return rc;
	}
	httpd_init();
	rc = echo_start();
	if (rc != 0)
		fprintf(stderr, "shard %u: cannot start echo: %s\n", shard, strerror(-rc));
	return rc;
}

/* lwiperf keeps its listener's state outside lwIP: free it before the
 * shard tears lwIP down. */
static void shard_fini(unsigned shard, void *arg)
{
	(void)shard;
	(void)arg;
	if (iperf_session != NULL)
		lwiperf_abort(iperf_session);
	iperf_session = NULL;
}

int main(int argc, char **argv)
{
	char msg[512];
	unsigned duration = 0;
	int rc, leaked = 0;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s CONFIG.ini [--duration SECONDS]\n", argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--duration") == 0 && i + 1 < argc) {
			duration = (unsigned)strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[i]);
			return 2;
		}
	}
	rc = mlw_stack_create_from_file(&g_stack, argv[1], msg, sizeof(msg));
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], msg);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	if (duration > 0)
		alarm(duration);
	printf("mlwip: %u shards serving lwiperf :5001, httpd :80, echo :7\n", mlw_stack_nshards(g_stack));
	fflush(stdout);
	rc = mlw_stack_run(g_stack, shard_init, shard_fini, NULL);
	mlw_stack_print_stats(g_stack, stdout);
	leaked = mlw_stack_check_heaps(g_stack, stdout) != 0;
	mlw_stack_destroy(g_stack);
	printf("mlwip: stopped (%s)\n", rc == 0 && !leaked ? "clean" : "with errors");
	return rc != 0 || leaked;
}
