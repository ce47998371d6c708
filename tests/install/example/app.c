/* app.c - a raw-API lwIP client written as for any lwIP: its state is plain
 * globals. Built through mlw_lwip_derive() (CMake) they become thread-local,
 * one copy per shard; compiled as is (the pkg-config build) there is one copy,
 * which is enough for the example's single shard. */
#include <string.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "app.h"

static struct tcp_pcb *pcb;
static uint32_t total, sent, received, mismatches;
static int state;

static uint8_t pattern(uint32_t off)
{
	return (uint8_t)(off * 7u + (off >> 9));
}

static void send_more(void)
{
	uint8_t chunk[1024];

	while (pcb != NULL && sent < total) {
		uint32_t n = tcp_sndbuf(pcb);

		if (n > sizeof(chunk))
			n = sizeof(chunk);
		if (n > total - sent)
			n = total - sent;
		if (n == 0)
			break;
		for (uint32_t i = 0; i < n; i++)
			chunk[i] = pattern(sent + i);
		if (tcp_write(pcb, chunk, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		sent += n;
	}
	if (pcb != NULL)
		tcp_output(pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *p, u16_t len)
{
	(void)arg;
	(void)p;
	(void)len;
	send_more();
	return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *p, struct pbuf *pb, err_t err)
{
	(void)arg;
	if (pb == NULL || err != ERR_OK) {
		if (pb != NULL)
			pbuf_free(pb);
		if (received < total)
			state = -1;
		return ERR_OK;
	}
	for (struct pbuf *q = pb; q != NULL; q = q->next) {
		const uint8_t *b = q->payload;

		for (u16_t i = 0; i < q->len; i++)
			mismatches += b[i] != pattern(received + i);
		received += q->len;
	}
	tcp_recved(p, pb->tot_len);
	pbuf_free(pb);
	if (received >= total) {
		tcp_arg(p, NULL);
		tcp_sent(p, NULL);
		tcp_recv(p, NULL);
		tcp_err(p, NULL);
		pcb = NULL;
		state = received == total && mismatches == 0 ? 1 : -1;
		if (tcp_close(p) != ERR_OK) {
			tcp_abort(p);
			return ERR_ABRT;
		}
	}
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	(void)arg;
	(void)err;
	pcb = NULL;
	state = -1;
}

static err_t on_connected(void *arg, struct tcp_pcb *p, err_t err)
{
	(void)arg;
	(void)p;
	if (err != ERR_OK) {
		state = -1;
		return ERR_OK;
	}
	send_more();
	return ERR_OK;
}

int app_start(uint16_t port, uint32_t bytes)
{
	ip_addr_t a;

	IP_ADDR4(&a, 127, 0, 0, 1);
	total = bytes;
	sent = received = mismatches = 0;
	state = 0;
	pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (pcb == NULL)
		return -1;
	tcp_sent(pcb, on_sent);
	tcp_recv(pcb, on_recv);
	tcp_err(pcb, on_err);
	/* tcp_connect() is wrapped at link time (-Wl,--wrap=tcp_connect from
	 * mlwip.pc or mlwip::mlwip): the local port is one whose replies reach
	 * this shard. */
	if (tcp_connect(pcb, &a, port, on_connected) != ERR_OK) {
		tcp_abort(pcb);
		pcb = NULL;
		return -1;
	}
	return 0;
}

int app_state(void)
{
	return state;
}

void app_counts(uint32_t *rx, uint32_t *bad)
{
	*rx = received;
	*bad = mismatches;
}

void app_stop(void)
{
	if (pcb != NULL) {
		tcp_abort(pcb);
		pcb = NULL;
	}
}
