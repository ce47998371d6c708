/* tcp_table_ports.c - the connection table's local ports: active and TIME-WAIT PCBs counted per port, ports of bound and listening PCBs, and tcp_bind() kept off the connections (-Wl,--wrap=tcp_bind).
 *
 * Call chains:
 *   mlw__tcp_reg / mlw__tcp_rmv (tcp_table.c) -> mlw__tb_port_count,
 *     mlw__tb_bound_add / mlw__tb_bound_remove
 *   socket layer, applications -> tcp_bind -> __wrap_tcp_bind ->
 *     (port 0: free_port) -> bind_hidden (no connection uses the port:
 *     active and TIME-WAIT lists out of sight) or __real_tcp_bind
 *   sharding/connect.c -> mlw__tcp_bind_shared -> bind_hidden
 *
 * lwIP's tcp_bind() walks every list for a PCB with the same port, and
 * tcp_new_port() (port 0) walks them all again for every candidate. A
 * port no active or TIME-WAIT PCB uses is bound with those two lists
 * hidden, which gives lwIP's answer from the bound and listening PCBs
 * alone; a port connections use still goes through lwIP's whole walk
 * (EADDRINUSE, or SO_REUSEADDR on both sides), which is not a case that
 * grows with connections for a listener bound once, but is O(connections)
 * for each such bind.
 */
#include <string.h>

#include "lwip/ip.h"
#include "lwip/mem.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "mlw_lwip_hooks.h"
#include "mlw_tcp_table.h"
#include "tcp_table_private.h"

err_t __real_tcp_bind(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port);
err_t __wrap_tcp_bind(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port);

void mlw__tb_port_count(u16_t port, int d)
{
	struct tb_port_page **pp = &tb->ports[port / TB_PAGE_PORTS];

	if (*pp == NULL) {
		if (d < 0 || tb->ports_lost) {
			tb->ports_lost = true;
			return;
		}
		*pp = mem_calloc(1, sizeof(**pp));
		if (*pp == NULL) {
			tb->ports_lost = true;
			return;
		}
	}
	(*pp)->n[port % TB_PAGE_PORTS] += (u32_t)d;
	(*pp)->total += (u32_t)d;
}

/* Once no active or TIME-WAIT PCB is left every count is 0: after a page
 * could not be allocated, counting starts afresh. (Pages stay until the
 * shard ends, mlw__tcp_table_fini: a shard that empties between
 * connections would otherwise allocate and clear one per connection.) */
void mlw__tb_ports_release(void)
{
	if (!tb->ports_lost || tb->active.count + tb->tw.count + tb->rec.count != 0)
		return;
	for (unsigned i = 0; i < 65536 / TB_PAGE_PORTS; i++)
		if (tb->ports[i] != NULL)
			memset(tb->ports[i], 0, sizeof(*tb->ports[i]));
	tb->ports_lost = false;
}

u32_t mlw__tcp_table_port_users(u16_t port)
{
	const struct tb_port_page *pg = tb->ports[port / TB_PAGE_PORTS];

	if (tb->ports_lost)
		return UINT32_MAX;	/* unknown: callers take lwIP's own path */
	return pg == NULL ? 0 : pg->n[port % TB_PAGE_PORTS];
}

bool mlw__tcp_table_port_bound(u16_t port)
{
	return (tb->bound_map[port / 32] >> (port % 32)) & 1;
}

void mlw__tb_bound_add(u16_t port)
{
	tb->bound_map[port / 32] |= 1u << (port % 32);
}

/* The bit of @p port after a bound or listening PCB left: set while any
 * other still uses the port (a walk of those two short lists). */
void mlw__tb_bound_remove(u16_t port)
{
	struct tcp_pcb *lists[2] = { tcp_bound_pcbs, tcp_listen_pcbs.pcbs };

	tb->bound_map[port / 32] &= ~(1u << (port % 32));
	for (int i = 0; i < 2; i++)
		for (struct tcp_pcb *p = lists[i]; p != NULL; p = p->next) {
			tb->st.list_walk_steps++;
			if (p->local_port == port) {
				tb->bound_map[port / 32] |= 1u << (port % 32);
				return;
			}
		}
}

/* ---- tcp_bind ---- */

/* lwIP's ephemeral range (tcp.c's TCP_LOCAL_PORT_RANGE_START/END, not
 * exported). */
#define TB_EPHEMERAL_LO	0xc000u
#define TB_EPHEMERAL_HI	0xffffu

/* A port no PCB uses, for bind(port 0): from a random point of lwIP's
 * range onward (tcp_new_port() goes on from the last port it gave). */
static int free_port(void)
{
	const u32_t lo = TB_EPHEMERAL_LO, n = TB_EPHEMERAL_HI - lo + 1;
	u32_t off = LWIP_RAND() % n;

	for (u32_t i = 0; i < n; i++, off = off + 1 == n ? 0 : off + 1) {
		u16_t port = (u16_t)(lo + off);

		if (mlw__tcp_table_port_users(port) == 0 && !mlw__tcp_table_port_bound(port))
			return port;
	}
	return -1;
}

static err_t bind_hidden(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port)
{
	err_t err;

	mlw__tb_detach(NULL, NULL);
	if (tb->audit)
		tb->st.lwip_steps += mlw__tb_audit_bind(pcb, ipaddr, port);
	err = __real_tcp_bind(pcb, ipaddr, port);
	mlw__tcp_table_attach();
	return err;
}

err_t __wrap_tcp_bind(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port)
{
	const ip_addr_t *a = ipaddr != NULL ? ipaddr : IP4_ADDR_ANY;

	mlw__tcp_table_attach();
	mlw__tb_ready();
	if (pcb == NULL || pcb->state != CLOSED || tb->ports_lost) {
		if (pcb != NULL && pcb->state == CLOSED && port != 0 && tb->rec.count > 0 &&
		    mlw__tb_rec_conflict(pcb, a, port))
			return ERR_USE;
		return __real_tcp_bind(pcb, ipaddr, port);
	}
	if (port == 0) {
		int p = free_port();

		if (p < 0)
			return ERR_BUF;		/* lwIP: tcp_new_port() found none */
		port = (u16_t)p;
	}
	if (tb->audit)
		tb->st.lwip_steps_full += mlw__tb_audit_bind(pcb, a, port);
	if (mlw__tcp_table_port_users(port) == 0)
		return bind_hidden(pcb, ipaddr, port);
	/* Connections use the port: lwIP's walk decides (a conflict, or
	 * SO_REUSEADDR on both sides), after the compact TIME-WAIT records,
	 * which it does not see. */
	if (tb->rec.count > 0 && mlw__tb_rec_conflict(pcb, a, port))
		return ERR_USE;
	if (tb->audit)
		tb->st.lwip_steps += mlw__tb_audit_bind(pcb, a, port);
	return __real_tcp_bind(pcb, ipaddr, port);
}

err_t mlw__tcp_bind_shared(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port)
{
	if (pcb == NULL || pcb->state != CLOSED || port == 0)
		return ERR_VAL;
	mlw__tcp_table_attach();
	mlw__tb_ready();
	return bind_hidden(pcb, ipaddr, port);
}

void mlw__tcp_table_connecting(struct tcp_pcb *pcb)
{
	tb->connecting = pcb;
}

