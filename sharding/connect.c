/* connect.c - RSS-aware active opens by 4-tuple: the local port of lwIP's tcp_connect() (a link-time wrapper) and of mlw_tcp_bind_rss_v4().
 *
 * Replies to a connection are steered to the shard that owns the 4-tuple.
 * An active open must therefore use a local port whose tuple hashes back to
 * the calling shard, or the SYN-ACK lands on a shard without the PCB and is
 * answered with a reset. Applications written for lwIP call tcp_connect()
 * with an unbound PCB; the mlwip library links with
 * -Wl,--wrap=tcp_connect so such calls pick that port first, and
 * unmodified lwIP applications make correct active opens on any shard.
 *
 * Call chain: tcp_connect -> __wrap_tcp_connect -> tuple_of (netif, source
 * address and remote zone as lwIP's tcp_connect() will choose them) ->
 * choose -> mlw_rss_pick_port_v4/v6 (flow.c: ports of this shard, from a
 * start point on; on a kernel engine port with steer = ports,
 * pick_port_ports: (lport ^ rport) % shards, afpacket-netif/afp.h) -> tuple_busy (lwip-port/tcp_table.c lookups) ->
 * pcb->local_port -> __real_tcp_connect.
 *
 * A port is taken by 4-tuple, as Linux's connect() takes it: one local port
 * serves connections to different remote addresses or ports, so a shard
 * holds up to (its share of) [stack] local_ports connections to each
 * remote endpoint, not that many in all. A port that a PCB was bound to by
 * the application (bind, or a listener) is not used, as on Linux. The
 * 4-tuple is checked in the connection table (O(1)), never by walking
 * lwIP's lists; the PCB gets its port without tcp_bind() (whose conflict
 * check walks every list and refuses a port any connection uses): its
 * local_port is set and tcp_connect() registers it as an active PCB
 * directly (mlw__tcp_table_connecting() tells the table that it was on no
 * list before).
 *
 * Where the search starts is RFC 6056's algorithm 4 (double-hash port
 * selection): a keyed hash of (local address, remote address, remote
 * port) gives a destination its own random offset, and one of 256
 * counters, picked by the same hash, moves past the ports the last search
 * for that destination tried. Connections to one destination take
 * consecutive ports, so the port tried next is usually free (the one that
 * destination used longest ago) even with the range nearly full; an
 * outsider cannot predict another destination's ports.
 *
 * A 4-tuple whose connection has been in TIME-WAIT for at least
 * TW_REUSE_MS is taken when the search meets it, as Linux's connect does
 * with net.ipv4.tcp_tw_reuse=1 (Linux's default, 2, does it for loopback
 * only): that PCB or compact record is dropped without a segment (lwIP's
 * tcp_abort() of a TIME-WAIT PCB sends nothing). Without this a
 * client that closes first (HTTP/1.0, crr) to one server runs out of
 * ports after a range's worth of connections for 2 * TCP_MSL. The search
 * meets one only after that destination has gone round the range: its
 * next port is the one it used longest ago, so this costs one step, not a
 * scan. Only when every 4-tuple is in use (or in TIME-WAIT for less than
 * TW_REUSE_MS) does a connect scan the whole range and fail, as Linux's.
 * A port no connection uses at all is taken without a lookup.
 */
#include <errno.h>
#include <string.h>

#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "afp.h"
#include "mlw_tcp_table.h"
#include "rand_private.h"
#include "stack_private.h"

struct mlw_shard *mlw__current_shard(void);
err_t __real_tcp_connect(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port,
			 tcp_connected_fn connected);
err_t __wrap_tcp_connect(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port,
			 tcp_connected_fn connected);

/* TIME-WAIT reuse: minimum time in TIME-WAIT (Linux: 1 s). */
#define TW_REUSE_MS	1000

/* The 4-tuple an active open of @p pcb to @p ipaddr:@p port will have. */
struct tuple {
	ip_addr_t local, remote;
	u16_t rport;
	struct netif *nif;	/* the netif it leaves by */
};

/* What lwIP's tcp_connect() will choose: the PCB's netif or a route, the
 * source address for the remote one, a zone for a scoped IPv6 remote. */
static int tuple_of(const struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port, struct tuple *t)
{
	struct netif *nif;

	ip_addr_copy(t->remote, *ipaddr);
	t->rport = port;
	if (pcb->netif_idx != NETIF_NO_INDEX)
		nif = netif_get_by_index(pcb->netif_idx);
	else
		nif = ip_route(&pcb->local_ip, &t->remote);
	if (nif == NULL)
		return -ENETUNREACH;
	t->nif = nif;
	if (ip_addr_isany(&pcb->local_ip)) {
		const ip_addr_t *l = ip_netif_get_local_ip(nif, &t->remote);

		if (l == NULL)
			return -ENETUNREACH;
		ip_addr_copy(t->local, *l);
	} else {
		ip_addr_copy(t->local, pcb->local_ip);
	}
#if LWIP_IPV6 && LWIP_IPV6_SCOPES
	if (IP_IS_V6(&t->remote) && ip6_addr_lacks_zone(ip_2_ip6(&t->remote), IP6_UNICAST))
		ip6_addr_assign_zone(ip_2_ip6(&t->remote), IP6_UNICAST, nif);
#endif
	return 0;
}

struct search {
	const struct tuple *t;
	uint32_t start;		/* offset into the range where it begins */
	uint16_t tw_port;	/* a port taken from a reusable TIME-WAIT 4-tuple */
};

static uint32_t search_start(void *arg)
{
	return ((const struct search *)arg)->start;
}

/* Whether @p port cannot serve the search's 4-tuple. A port no active or
 * TIME-WAIT connection uses is free without a lookup. A 4-tuple in
 * TIME-WAIT (a PCB or a compact record, lwip-port/tcp_table_tw.c) for at
 * least TW_REUSE_MS is taken (dropped by choose()). */
static bool tuple_busy(uint16_t port, void *arg)
{
	struct search *s = arg;
	u32_t age;

	if (mlw__tcp_table_port_bound(port))
		return true;
	if (mlw__tcp_table_port_users(port) == 0)
		return false;
	if (mlw__tcp_table_lookup(&s->t->local, port, &s->t->remote, s->t->rport, MLW_TCP_TABLE_ACTIVE) != NULL)
		return true;
	if (!mlw__tcp_table_tw_find(&s->t->local, port, &s->t->remote, s->t->rport, &age))
		return false;
	if (age >= TW_REUSE_MS) {
		s->tw_port = port;
		return false;
	}
	return true;
}

/* The port @p nif belongs to is a kernel engine port with steer = ports:
 * the fanout program, not RSS, decides where replies land. */
static bool ports_steered(const struct mlw_shard *sh, const struct netif *nif)
{
	const struct mlw_stack *st = sh->stack;

	for (unsigned pi = 0; pi < st->p.nports; pi++)
		if (nif == &sh->netif[pi])
			return st->ports[pi].steer_how == MLW_STEER_HOW_PORTS;
	return false;
}

/* On such a port: the first port from the search's start on whose flow
 * the kernel gives this shard's queue ((lport ^ rport) % shards, so one
 * port in nshards qualifies) and whose 4-tuple is free. */
static int pick_port_ports(const struct mlw_shard *sh, uint16_t lo, uint32_t n, struct search *s)
{
	unsigned nshards = sh->stack->p.nshards;

	for (uint32_t i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(lo + (s->start + i) % n);

		if (mlw_afp_steer_ports(port, s->t->rport, nshards) == sh->id && !tuple_busy(port, s))
			return port;
	}
	return -EADDRNOTAVAIL;
}

/* A local port for @p t: its 4-tuple unused, its replies owned by this
 * shard. Returns the port, -EADDRNOTAVAIL if there is none, -EINVAL if
 * the RSS state cannot be used (flow.c). */
static int choose(struct mlw_shard *sh, const struct tuple *t)
{
	const struct mlw_rss *rss = &sh->stack->rss;
	uint16_t lo = sh->stack->p.port_lo, hi = sh->stack->p.port_hi;
	uint32_t n = (uint32_t)hi - lo + 1;
	struct search s = { .t = t };
	uint64_t h;
	uint16_t *perturb;
	int port;

	if (!sh->port_keyed) {
		if (mlw__random_bytes(sh->port_key, sizeof(sh->port_key)) != 0 ||
		    mlw__random_bytes(sh->port_perturb, sizeof(sh->port_perturb)) != 0)
			sh->port_key[0] = (uint64_t)mlw__lwip_rand() << 32 | mlw__lwip_rand();
		sh->port_keyed = true;
	}
	h = mlw__tcp_tuple_hash(sh->port_key, &t->local, 0, &t->remote, t->rport);
	perturb = &sh->port_perturb[h >> 56];
	s.start = (uint32_t)((h + *perturb) % n);
	if (ports_steered(sh, t->nif))
		port = pick_port_ports(sh, lo, n, &s);
	else if (IP_IS_V6(&t->remote))
		port = mlw_rss_pick_port_v6(rss, sh->id, (const uint8_t *)ip_2_ip6(&t->local)->addr,
					    (const uint8_t *)ip_2_ip6(&t->remote)->addr, lwip_htons(t->rport),
					    lo, hi, search_start, &s, tuple_busy, &s);
	else
		port = mlw_rss_pick_port_v4(rss, sh->id, ip4_addr_get_u32(ip_2_ip4(&t->local)),
					    ip4_addr_get_u32(ip_2_ip4(&t->remote)), lwip_htons(t->rport),
					    lo, hi, search_start, &s, tuple_busy, &s);
	if (port < 0)
		return port;
	if (port == s.tw_port)
		/* Its TIME-WAIT connections (one, unless PCBs bound to
		 * different netifs share the 4-tuple) go. */
		sh->stats.tcp_tw_reused += mlw__tcp_table_tw_drop(&t->local, s.tw_port, &t->remote, t->rport);
	/* The next search for this destination goes on after this port. */
	*perturb = (uint16_t)(*perturb + ((uint32_t)port - lo + n - s.start) % n + 1);
	return port;
}

int mlw_tcp_bind_rss_v4(struct tcp_pcb *pcb, uint32_t raddr_be, uint16_t rport_be)
{
	struct mlw_shard *sh = mlw__current_shard();
	ip_addr_t remote = IPADDR4_INIT(raddr_be);
	struct tuple t;
	int port, rc;

	if (sh == NULL)
		return -EPERM;
	if (pcb == NULL || pcb->state != CLOSED || pcb->local_port != 0)
		return -EINVAL;
	rc = tuple_of(pcb, &remote, lwip_ntohs(rport_be), &t);
	if (rc < 0)
		return rc;
	port = choose(sh, &t);
	if (port < 0)
		return port;
	/* Bound beside the connections that share the port; the tcp_connect()
	 * that follows checks the 4-tuple again. */
	return mlw__tcp_bind_shared(pcb, IP4_ADDR_ANY, (u16_t)port) == ERR_OK ? 0 : -EADDRNOTAVAIL;
}

err_t __wrap_tcp_connect(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port,
			 tcp_connected_fn connected)
{
	struct mlw_shard *sh = mlw__current_shard();
	struct tuple t;
	bool reuse;
	err_t err;

	/* Off a shard thread lwIP's own behaviour is right. */
	if (sh == NULL || pcb == NULL || ipaddr == NULL || pcb->state != CLOSED)
		return __real_tcp_connect(pcb, ipaddr, port, connected);
	if (tuple_of(pcb, ipaddr, port, &t) != 0)
		return ERR_RTE;		/* as lwIP: no route, or no source address */
	if (pcb->local_port == 0) {
		int lport = choose(sh, &t);

		if (lport < 0)
			return lport == -EADDRNOTAVAIL ? ERR_USE : ERR_VAL;
		pcb->local_port = (u16_t)lport;
		mlw__tcp_table_connecting(pcb);
	} else if (mlw__tcp_table_lookup(&t.local, pcb->local_port, &t.remote, port, MLW_TCP_TABLE_ACTIVE) != NULL ||
		   mlw__tcp_table_tw_find(&t.local, pcb->local_port, &t.remote, port, NULL)) {
		/* A bound PCB whose 4-tuple is taken. lwIP checks this
		 * only with SO_REUSEADDR (with a walk of both lists). */
		return ERR_USE;
	}
	/* The 4-tuple is known to be free: lwIP's SO_REUSEADDR check (a walk)
	 * is left out. */
	reuse = ip_get_option(pcb, SOF_REUSEADDR);
	ip_reset_option(pcb, SOF_REUSEADDR);
	err = __real_tcp_connect(pcb, ipaddr, port, connected);
	if (reuse)
		ip_set_option(pcb, SOF_REUSEADDR);
	mlw__tcp_table_connecting(NULL);
	return err;
}
