/* connect.c - RSS-aware active opens: mlw_tcp_bind_rss_v4() and the link-time wrapper around lwIP's tcp_connect().
 *
 * Replies to a connection are steered to the shard that owns the 4-tuple.
 * An active open must therefore use a local port whose tuple hashes back to
 * the calling shard, or the SYN-ACK lands on a shard without the PCB and is
 * answered with a reset. Applications written for lwIP call tcp_connect()
 * with an unbound PCB; the mlwip library links with
 * -Wl,--wrap=tcp_connect so such calls pick that port first, and
 * unmodified lwIP applications make correct active opens on any shard.
 *
 * Ports are taken sequentially from a random start per shard (as lwIP's
 * tcp_new_port() and Linux do), so the port tried next is the one freed
 * longest ago. When every port this shard may use is taken, a port whose
 * only users are TIME-WAIT PCBs idle for at least TW_REUSE_MS is reused, as
 * Linux does with net.ipv4.tcp_tw_reuse=1: those PCBs are dropped without a
 * segment (lwIP's tcp_abort() of a TIME-WAIT PCB sends nothing). Without
 * this a client that closes first (HTTP/1.0, crr) runs out of its 16384
 * ports after 16384 connections for 2 * TCP_MSL.
 */
#include <errno.h>
#include <string.h>

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
#define EPHEMERAL_N  (EPHEMERAL_HI - EPHEMERAL_LO + 1)

/* TIME-WAIT reuse: minimum idle time (Linux: 1 s), in lwIP's slow ticks. */
#define TW_REUSE_MS	1000
#define TW_REUSE_TICKS	(TW_REUSE_MS / TCP_SLOW_INTERVAL)

/* The ephemeral ports this shard's PCBs use, from one walk over lwIP's PCB
 * lists per connect (the lists are linear; a walk per candidate port made
 * a connect cost O(ports * PCBs) once most ports were in TIME-WAIT). */
struct port_map {
	uint64_t any[EPHEMERAL_N / 64];		/* used by any PCB */
	uint64_t busy[EPHEMERAL_N / 64];	/* used by a PCB that is not a
						   TIME-WAIT one idle >= TW_REUSE_MS */
	bool reuse_tw;				/* pass 2: test busy, not any */
};

static void map_set(uint64_t *bits, u16_t port)
{
	if (port >= EPHEMERAL_LO)
		bits[(port - EPHEMERAL_LO) / 64] |= 1ull << ((port - EPHEMERAL_LO) % 64);
}

static void port_map_build(struct port_map *m)
{
	struct tcp_pcb *lists[] = { tcp_active_pcbs, tcp_bound_pcbs,
				    (struct tcp_pcb *)tcp_listen_pcbs.listen_pcbs };

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (struct tcp_pcb *p = lists[i]; p != NULL; p = p->next) {
			map_set(m->any, p->local_port);
			map_set(m->busy, p->local_port);
		}
	for (struct tcp_pcb *p = tcp_tw_pcbs; p != NULL; p = p->next) {
		map_set(m->any, p->local_port);
		if ((u32_t)(tcp_ticks - p->tmr) < TW_REUSE_TICKS)
			map_set(m->busy, p->local_port);
	}
}

/* The next port offset: sequential from a random start. */
static uint32_t port_next(void *arg)
{
	struct mlw_shard *sh = arg;

	if (!sh->port_next_set) {
		sh->port_next = mlw__lwip_rand() % EPHEMERAL_N;
		sh->port_next_set = true;
	}
	return sh->port_next;
}

static bool port_in_use(uint16_t port, void *arg)
{
	const struct port_map *m = arg;
	const uint64_t *bits = m->reuse_tw ? m->busy : m->any;

	return (bits[(port - EPHEMERAL_LO) / 64] >> ((port - EPHEMERAL_LO) % 64)) & 1;
}

/* Drop the TIME-WAIT PCBs on @p port (all idle long enough: pass 2). */
static unsigned drop_time_wait(uint16_t port)
{
	struct tcp_pcb *p = tcp_tw_pcbs, *next;
	unsigned n = 0;

	for (; p != NULL; p = next) {
		next = p->next;
		if (p->local_port == port) {
			tcp_abort(p);
			n++;
		}
	}
	return n;
}

static int pick(struct mlw_shard *sh, const ip_addr_t *remote, u16_t rport, const void *src,
		struct port_map *pp)
{
	const struct mlw_rss *rss = &sh->stack->rss;

	if (IP_IS_V6(remote))
		return mlw_rss_pick_port_v6(rss, sh->id, src, (const uint8_t *)ip_2_ip6(remote)->addr,
					    lwip_htons(rport), EPHEMERAL_LO, EPHEMERAL_HI, port_next, sh,
					    port_in_use, pp);
	return mlw_rss_pick_port_v4(rss, sh->id, *(const uint32_t *)src,
				    ip4_addr_get_u32(ip_2_ip4(remote)), lwip_htons(rport),
				    EPHEMERAL_LO, EPHEMERAL_HI, port_next, sh, port_in_use, pp);
}

/* Bind @p pcb to a port whose replies from @p remote hash to this shard. */
static int bind_rss(struct mlw_shard *sh, struct tcp_pcb *pcb, const ip_addr_t *remote, u16_t rport)
{
	struct port_map pp;
	struct netif *nif;
	const void *src;
	uint32_t src4;
	int port;

	if (IP_IS_V6(remote)) {
		nif = ip6_route(IP6_ADDR_ANY6, ip_2_ip6(remote));
		src = nif ? ip_2_ip6(ip6_select_source_address(nif, ip_2_ip6(remote))) : NULL;
		if (src == NULL)
			return -ENETUNREACH;
		src = ((const ip6_addr_t *)src)->addr;
	} else {
		nif = ip4_route(ip_2_ip4(remote));
		if (nif == NULL)
			return -ENETUNREACH;
		src4 = ip4_addr_get_u32(netif_ip4_addr(nif));
		src = &src4;
	}
	port_map_build(&pp);
	port = pick(sh, remote, rport, src, &pp);
	if (port == -EADDRNOTAVAIL) {
		pp.reuse_tw = true;
		port = pick(sh, remote, rport, src, &pp);
		if (port >= 0)
			sh->stats.tcp_tw_reused += drop_time_wait((uint16_t)port);
	}
	if (port < 0)
		return port;
	sh->port_next = (uint32_t)(port - EPHEMERAL_LO + 1) % EPHEMERAL_N;
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

	/* Off a shard thread, or with a port the application chose itself,
	 * lwIP's own behaviour is right. With one shard every port qualifies,
	 * but the pick here also reuses TIME-WAIT ports. */
	if (sh != NULL && pcb != NULL && ipaddr != NULL &&
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
