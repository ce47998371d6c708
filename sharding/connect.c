/* connect.c - RSS-aware active opens: mlw_tcp_bind_rss_v4() and the link-time wrapper around lwIP's tcp_connect().
 *
 * Replies to a connection are steered to the shard that owns the 4-tuple.
 * An active open must therefore use a local port whose tuple hashes back to
 * the calling shard, or the SYN-ACK lands on a shard without the PCB and is
 * answered with a reset. Applications written for lwIP call tcp_connect()
 * with an unbound PCB; the mlwip library links with
 * -Wl,--wrap=tcp_connect so such calls pick that port first, and
 * unmodified lwIP applications make correct active opens on any shard.
 */
#include <errno.h>

#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "rand_private.h"
#include "stack_private.h"

struct mlw_shard *mlw__current_shard(void);
err_t __real_tcp_connect(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port,
			 tcp_connected_fn connected);
err_t __wrap_tcp_connect(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port,
			 tcp_connected_fn connected);

/* lwIP's own ephemeral range (tcp.c: TCP_LOCAL_PORT_RANGE_START/END). */
#define EPHEMERAL_LO 0xc000
#define EPHEMERAL_HI 0xffff

static uint32_t rss_rand(void *arg)
{
	(void)arg;
	return mlw__lwip_rand();
}

/* A local port is taken if any PCB of this shard already uses it. */
static bool port_in_use(uint16_t port, void *arg)
{
	struct tcp_pcb *lists[] = { tcp_active_pcbs, tcp_tw_pcbs, tcp_bound_pcbs,
				    (struct tcp_pcb *)tcp_listen_pcbs.listen_pcbs };

	(void)arg;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (struct tcp_pcb *p = lists[i]; p != NULL; p = p->next)
			if (p->local_port == port)
				return true;
	return false;
}

/* Bind @p pcb to a port whose replies from @p remote hash to this shard. */
static int bind_rss(struct mlw_shard *sh, struct tcp_pcb *pcb, const ip_addr_t *remote, u16_t rport)
{
	const struct mlw_rss *rss = &sh->stack->rss;
	struct netif *nif;
	int port;

	if (IP_IS_V6(remote)) {
		const ip6_addr_t *src;

		nif = ip6_route(IP6_ADDR_ANY6, ip_2_ip6(remote));
		src = nif ? ip_2_ip6(ip6_select_source_address(nif, ip_2_ip6(remote))) : NULL;
		if (src == NULL)
			return -ENETUNREACH;
		port = mlw_rss_pick_port_v6(rss, sh->id, (const uint8_t *)src->addr,
					    (const uint8_t *)ip_2_ip6(remote)->addr, lwip_htons(rport),
					    EPHEMERAL_LO, EPHEMERAL_HI, rss_rand, NULL, port_in_use, NULL);
	} else {
		nif = ip4_route(ip_2_ip4(remote));
		if (nif == NULL)
			return -ENETUNREACH;
		port = mlw_rss_pick_port_v4(rss, sh->id, ip4_addr_get_u32(netif_ip4_addr(nif)),
					    ip4_addr_get_u32(ip_2_ip4(remote)), lwip_htons(rport),
					    EPHEMERAL_LO, EPHEMERAL_HI, rss_rand, NULL, port_in_use, NULL);
	}
	if (port < 0)
		return port;
	return tcp_bind(pcb, IP_IS_V6(remote) ? IP6_ADDR_ANY : IP4_ADDR_ANY, (u16_t)port) == ERR_OK ?
	       0 : -EADDRNOTAVAIL;
}

int mlw_tcp_bind_rss_v4(struct tcp_pcb *pcb, uint32_t raddr_be, uint16_t rport_be)
{
	struct mlw_shard *sh = mlw__current_shard();
	ip_addr_t remote = IPADDR4_INIT(raddr_be);

	if (sh == NULL)
		return -EPERM;
	if (pcb == NULL || pcb->state != CLOSED || pcb->local_port != 0)
		return -EINVAL;
	return bind_rss(sh, pcb, &remote, lwip_ntohs(rport_be));
}

err_t __wrap_tcp_connect(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port,
			 tcp_connected_fn connected)
{
	struct mlw_shard *sh = mlw__current_shard();

	/* Off a shard thread, with one shard, or with a port the application
	 * chose itself, lwIP's own behaviour is right. */
	if (sh != NULL && sh->stack->p.nshards > 1 && pcb != NULL && ipaddr != NULL &&
	    pcb->state == CLOSED && pcb->local_port == 0) {
		int rc = bind_rss(sh, pcb, ipaddr, port);

		if (rc == -EADDRNOTAVAIL)
			return ERR_USE;
		if (rc == -ENETUNREACH)
			return ERR_RTE;
		if (rc != 0)
			return ERR_VAL;
	}
	return __real_tcp_connect(pcb, ipaddr, port, connected);
}
