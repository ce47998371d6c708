/* tcp_table_tw.c - compact TIME-WAIT records: a closed connection in TIME-WAIT keeps 120 bytes in the connection table instead of a whole PCB, and a PCB stands in for it for each segment that reaches it.
 *
 * A PCB in TIME-WAIT that nobody can use any more (TF_RXCLOSED: the
 * application closed it, with tcp_close() or tcp_shutdown(RDWR); lwIP's
 * own FIN-WAIT-2 timeout treats the flag the same way, and lwIP frees a
 * TIME-WAIT PCB at 2 * TCP_MSL without asking anyone) holds ~376 bytes of
 * PCB, the table's node (40) and the timer wheel's (48) plus their block
 * headers: ~530 bytes of shard heap. Linux keeps a tcp_timewait_sock
 * instead (256 bytes). Here the PCB becomes a struct tb_rec (112 bytes, a
 * 128-byte block) that keeps exactly what lwIP's TIME-WAIT path reads:
 * addresses, ports, netif, rcv_nxt, snd_nxt, the receive window and
 * scale, flags (TF_TIMESTAMP), ts_recent, ttl, tos, socket options,
 * priority (ts_lastacksent, which that path only writes, is rcv_nxt: the
 * ACK of the peer's FIN set it). The record sits in the table's hash by
 * 4-tuple beside the PCBs' nodes (struct tb_hent), so every lookup sees
 * it: tcp_input's demultiplexing (tcp_table.c), tcp_bind's conflict check
 * (tcp_table_ports.c), connect's port choice and TIME-WAIT reuse
 * (sharding/connect.c through mlw__tcp_table_tw_find/_drop), the counts,
 * the port counts, and the max_time_wait trim (sharding/timewait.c).
 *
 * Call chains:
 *   __wrap_tcp_input -> __real_tcp_input (a PCB enters TIME-WAIT:
 *     TCP_REG(&tcp_tw_pcbs) at the head) -> mlw__tb_tw_after_input ->
 *     compact(): record filled, hashed, queued; tcp_abort(PCB) (a
 *     TIME-WAIT PCB goes without a segment or callback: its ext-arg
 *     destroy callbacks free the table's and the wheel's nodes).
 *     Compaction waits until tcp_input has returned: lwIP goes on using the
 *     PCB after TCP_REG.
 *   a segment for a record: __wrap_tcp_input -> mlw__tb_find (a record) ->
 *     mlw__tb_rec_hold: tcp_alloc(), the record's fields, TIME_WAIT,
 *     TCP_REG(&tcp_tw_pcbs) -> lwIP's own TIME-WAIT path with this PCB
 *     (input_guard.c, tcp_tw.c: RST ends it, a newer SYN goes to the
 *     listener, another SYN gets an ACK; tcp_timewait_input: FIN restarts
 *     2 MSL and is ACKed, data is ACKed, with timestamps when the
 *     connection used them) -> mlw__tb_rec_release: the PCB gone (ended)
 *     frees the record; else the record takes the PCB's fields back (to the
 *     FIFO's tail if a FIN restarted its time) and the PCB goes again.
 *   sharding/timewait.c every 10 ms -> mlw__tcp_table_tw_settle: compacts
 *     PCBs closed after they entered TIME-WAIT (a shutdown(SHUT_WR) then a
 *     close), expires records older than 2 * TCP_MSL (FIFO: all last the
 *     same time, so only the oldest are looked at); the cap trims with
 *     mlw__tcp_table_tw_drop_oldest.
 *   mlw__tcp_table_fini -> mlw__tb_rec_free_all.
 *
 * What lwIP does not see: records are on none of lwIP's lists. tcp_bind's
 * walk does not find them (tcp_table_ports.c checks them itself, the same
 * test); tcp_kill_timewait() (tcp_alloc under memory pressure) finds only
 * TIME-WAIT PCBs (a record costs a quarter of one, and the cap limits
 * them); netif address changes (tcp_netif_ip_addr_changed) abort active
 * and listening PCBs only in lwIP too; tcp_slowtmr does not run
 * (tcp_timer.c). A stand-in PCB that cannot be allocated drops its
 * segment (the peer retransmits) - counted in rec_drops. Expiry runs every
 * 10 ms, where the wheel ends a TIME-WAIT PCB to the millisecond.
 */
#include <stdbool.h>
#include <string.h>

#include "lwip/ip.h"
#include "lwip/mem.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "mlw_lwip_hooks.h"
#include "mlw_tcp_table.h"
#include "tcp_table_private.h"

/* A record and its block header fit a 128-byte block of the shard heap. */
_Static_assert(sizeof(struct tb_rec) <= 112, "a compact TIME-WAIT record and its block header must fit 128 bytes");

void mlw__tcp_reg(struct tcp_pcb **pcbs, struct tcp_pcb *npcb);

static u32_t idle_ms(const struct tcp_pcb *pcb)
{
	return (u32_t)(tcp_ticks - pcb->tmr) * TCP_SLOW_INTERVAL;
}

/* ---- addresses ---- */

#if LWIP_IPV6
static void addr_put(u32_t w[4], u8_t *zone, const ip_addr_t *a)
{
	memset(w, 0, 16);
	(void)zone;
	if (IP_IS_V6_VAL(*a)) {
		memcpy(w, ip_2_ip6(a)->addr, 16);
#if LWIP_IPV6_SCOPES
		*zone = ip6_addr_zone(ip_2_ip6(a));
#endif
	}
#if LWIP_IPV4
	else {
		w[0] = ip4_addr_get_u32(ip_2_ip4(a));
	}
#endif
}

static void addr_get(ip_addr_t *a, const u32_t w[4], u8_t zone, bool v6)
{
	(void)zone;
	if (v6) {
		IP_ADDR6(a, w[0], w[1], w[2], w[3]);
#if LWIP_IPV6_SCOPES
		ip6_addr_set_zone(ip_2_ip6(a), zone);
#endif
	}
#if LWIP_IPV4
	else {
		ip_addr_set_ip4_u32_val(*a, w[0]);
	}
#endif
}
#endif

static void rec_put_addrs(struct tb_rec *r, const ip_addr_t *local, const ip_addr_t *remote)
{
#if LWIP_IPV6
	u8_t lz = 0, rz = 0;

	r->v6 = IP_IS_V6_VAL(*local);
	addr_put(r->laddr, &lz, local);
	addr_put(r->raddr, &rz, remote);
#if LWIP_IPV6_SCOPES
	r->lzone = lz;
	r->rzone = rz;
#endif
#else
	ip_addr_copy(r->local_ip, *local);
	ip_addr_copy(r->remote_ip, *remote);
#endif
}

void mlw__tb_rec_addrs(const struct tb_rec *r, ip_addr_t *local, ip_addr_t *remote)
{
#if LWIP_IPV6
#if LWIP_IPV6_SCOPES
	addr_get(local, r->laddr, r->lzone, r->v6);
	addr_get(remote, r->raddr, r->rzone, r->v6);
#else
	addr_get(local, r->laddr, 0, r->v6);
	addr_get(remote, r->raddr, 0, r->v6);
#endif
#else
	ip_addr_copy(*local, r->local_ip);
	ip_addr_copy(*remote, r->remote_ip);
#endif
}

bool mlw__tb_rec_matches(const struct tb_rec *r, const ip_addr_t *local, u16_t lport, const ip_addr_t *remote,
			 u16_t rport, u8_t idx, unsigned flags)
{
	ip_addr_t l, rm;

	if (idx != NETIF_NO_INDEX && r->netif_idx != NETIF_NO_INDEX && r->netif_idx != idx)
		return false;
	if (r->remote_port != rport || r->local_port != lport)
		return false;
	mlw__tb_rec_addrs(r, &l, &rm);
	if (flags & MLW_TCP_TABLE_ZONELESS)
		return addr_eq_zoneless(&rm, remote) && addr_eq_zoneless(&l, local);
	return addr_eq(&rm, remote) && addr_eq(&l, local);
}

/* ---- the FIFO, oldest first ---- */

static void fifo_unlink(struct tb_rec *r)
{
	if (r->older != NULL)
		r->older->newer = r->newer;
	else
		tb->rec.oldest = r->newer;
	if (r->newer != NULL)
		r->newer->older = r->older;
	else
		tb->rec.newest = r->older;
	r->newer = r->older = NULL;
}

/* In time order: behind the newest record not newer than @p r. A record
 * made at once, or restarted by a FIN, goes to the tail in one step; one
 * made from a PCB closed late walks back past the records made since. */
static void fifo_insert(struct tb_rec *r)
{
	struct tb_rec *o = tb->rec.newest;

	while (o != NULL && (s32_t)(o->t_ms - r->t_ms) > 0)
		o = o->older;
	r->older = o;
	r->newer = o != NULL ? o->newer : tb->rec.oldest;
	if (r->newer != NULL)
		r->newer->older = r;
	else
		tb->rec.newest = r;
	if (o != NULL)
		o->newer = r;
	else
		tb->rec.oldest = r;
}

static void rec_free(struct tb_rec *r)
{
	fifo_unlink(r);
	mlw__tb_hash_remove(&r->h);
	tb->rec.count--;
	mlw__tb_port_count(r->local_port, -1);
	mlw__tb_ports_release();
	mem_free(r);
}

/* ---- PCB <-> record ---- */

/* What lwIP's TIME-WAIT input and output may change. */
static void take_state(struct tb_rec *r, const struct tcp_pcb *pcb)
{
	r->rcv_nxt = pcb->rcv_nxt;
	r->snd_nxt = pcb->snd_nxt;
	r->rcv_wnd = pcb->rcv_wnd;
	r->rcv_ann_wnd = pcb->rcv_ann_wnd;
	/* An ACK that could not be sent is not retried for a record (the
	 * peer's retransmission brings it back). */
	r->flags = (tcpflags_t)(pcb->flags & ~(TF_ACK_DELAY | TF_ACK_NOW));
#if LWIP_TCP_TIMESTAMPS
	r->ts_recent = pcb->ts_recent;
#endif
}

static void fill_rec(struct tb_rec *r, const struct tcp_pcb *pcb)
{
	rec_put_addrs(r, &pcb->local_ip, &pcb->remote_ip);
	r->local_port = pcb->local_port;
	r->remote_port = pcb->remote_port;
	r->netif_idx = pcb->netif_idx;
	r->ttl = pcb->ttl;
	r->tos = pcb->tos;
	r->so_options = pcb->so_options;
	r->prio = pcb->prio;
#if LWIP_WND_SCALE
	r->rcv_scale = pcb->rcv_scale;
#endif
	take_state(r, pcb);
}

static void fill_pcb(struct tcp_pcb *pcb, const struct tb_rec *r)
{
	mlw__tb_rec_addrs(r, &pcb->local_ip, &pcb->remote_ip);
	pcb->local_port = r->local_port;
	pcb->remote_port = r->remote_port;
	pcb->netif_idx = r->netif_idx;
	pcb->ttl = r->ttl;
	pcb->tos = r->tos;
	pcb->so_options = r->so_options;
#if LWIP_WND_SCALE
	pcb->rcv_scale = r->rcv_scale;
#endif
	pcb->state = TIME_WAIT;
	pcb->rcv_nxt = r->rcv_nxt;
	pcb->snd_nxt = pcb->lastack = pcb->snd_lbb = r->snd_nxt;
	pcb->rcv_wnd = r->rcv_wnd;
	pcb->rcv_ann_wnd = r->rcv_ann_wnd;
	pcb->rcv_ann_right_edge = r->rcv_nxt + r->rcv_ann_wnd;
	pcb->flags = r->flags;
#if LWIP_TCP_TIMESTAMPS
	pcb->ts_recent = r->ts_recent;
	pcb->ts_lastacksent = r->rcv_nxt;
#endif
}

/* Whether @p pcb is a TIME-WAIT PCB nobody can use any more, with nothing
 * queued. */
static bool compactable(const struct tcp_pcb *pcb)
{
	return !tb->rec.off && pcb->state == TIME_WAIT && (pcb->flags & TF_RXCLOSED) && pcb->unsent == NULL &&
	       pcb->unacked == NULL &&
#if TCP_QUEUE_OOSEQ
	       pcb->ooseq == NULL &&
#endif
	       pcb->refused_data == NULL && pcb != tb->rec.held_pcb && mlw__tb_node_of(pcb) != NULL;
}

static bool compact(struct tcp_pcb *pcb, u32_t now)
{
	struct tb_rec *r = mem_malloc(sizeof(*r));

	if (r == NULL) {
		tb->st.rec_fails++;
		return false;
	}
	memset(r, 0, sizeof(*r));
	fill_rec(r, pcb);
	r->t_ms = now - idle_ms(pcb);
	r->h.list = TL_REC;
	mlw__tb_hash_insert(&r->h, mlw__tb_node_of(pcb)->h.hash);
	fifo_insert(r);
	tb->rec.count++;
	mlw__tb_port_count(r->local_port, 1);
	tcp_abort(pcb);
	tb->st.tw_compacted++;
	return true;
}

void mlw__tb_tw_after_input(void)
{
	/* A PCB that entered TIME-WAIT in this segment is at the head. */
	if (tcp_tw_pcbs != NULL && compactable(tcp_tw_pcbs))
		compact(tcp_tw_pcbs, sys_now());
}

/* ---- a stand-in PCB for one segment ---- */

struct tcp_pcb *mlw__tb_rec_hold(struct tb_rec *r)
{
	struct tcp_pcb *pcb = tcp_alloc(r->prio);

	if (pcb == NULL)
		return NULL;
	fill_pcb(pcb, r);
	pcb->tmr = tcp_ticks - (sys_now() - r->t_ms) / TCP_SLOW_INTERVAL;
	tb->rec.held_tmr = pcb->tmr;
	r->h.held = 1;
	tb->rec.held = r;
	tb->rec.held_pcb = pcb;
	mlw__tcp_reg(&tcp_tw_pcbs, pcb);
	if (mlw__tb_node_of(pcb) == NULL) {
		/* No node: its end could not be seen. Never mind this segment. */
		tcp_abort(pcb);
		r->h.held = 0;
		tb->rec.held = NULL;
		tb->rec.held_pcb = NULL;
		return NULL;
	}
	tb->st.tw_held++;
	return pcb;
}

void mlw__tb_rec_release(u8_t tcp_flags)
{
	struct tb_rec *r = tb->rec.held;
	struct tcp_pcb *pcb = tb->rec.held_pcb;

	tb->rec.held = NULL;
	tb->rec.held_pcb = NULL;
	r->h.held = 0;
	if (pcb == NULL || !compactable(pcb)) {
		/* Ended (a reset, a new SYN: tcp_tw.c), or - never expected -
		 * no longer a closed TIME-WAIT PCB, which then stays whole. */
		rec_free(r);
		return;
	}
	take_state(r, pcb);
	if (pcb->tmr != tb->rec.held_tmr || (tcp_flags & (TCP_FIN | TCP_SYN | TCP_RST)) == TCP_FIN) {
		/* lwIP restarted 2 MSL (a FIN). */
		r->t_ms = sys_now();
		fifo_unlink(r);
		fifo_insert(r);
	}
	tcp_abort(pcb);
}

/* ---- the rest of mlwip ---- */

u32_t mlw__tcp_table_tw_settle(void)
{
	u32_t now = sys_now(), n = 0;
	struct tcp_pcb *p, *next;

	mlw__tcp_table_attach();
	if (!mlw__tb_ready())
		return 0;
	/* TIME-WAIT PCBs closed since they got there. */
	for (p = tcp_tw_pcbs; p != NULL; p = next) {
		next = p->next;
		if (compactable(p))
			compact(p, now);
	}
	return n + mlw__tcp_table_tw_expire(now);
}

u32_t mlw__tcp_table_tw_expire(u32_t now)
{
	struct tb_rec *r;
	u32_t n = 0;

	while ((r = tb->rec.oldest) != NULL && !r->h.held && (u32_t)(now - r->t_ms) >= 2u * TCP_MSL) {
		rec_free(r);
		tb->st.tw_expired++;
		n++;
	}
	return n;
}

bool mlw__tcp_table_tw_drop_oldest(void)
{
	struct tcp_pcb *p;
	struct tb_rec *r = tb->rec.oldest;

	mlw__tcp_table_attach();
	p = tb->tw.tail;
	if (r != NULL && r->h.held)
		r = r->newer;
	if (p != NULL && (r == NULL || idle_ms(p) >= sys_now() - r->t_ms)) {
		tcp_abort(p);
		return true;
	}
	if (r == NULL)
		return false;
	rec_free(r);
	tb->st.tw_dropped++;
	return true;
}

bool mlw__tcp_table_tw_find(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote, u16_t rport,
			    u32_t *age_ms)
{
	struct tb_hent *e;
	bool hashed;
	u32_t h;

	mlw__tb_ready();
	mlw__tcp_table_attach();
	e = mlw__tb_find(local, lport, remote, rport, NETIF_NO_INDEX, MLW_TCP_TABLE_TW | MLW_TB_REC, &hashed, &h);
	if (e == NULL)
		return false;
	if (age_ms != NULL)
		*age_ms = e->list == TL_REC ? sys_now() - ((struct tb_rec *)e)->t_ms
					    : idle_ms(((struct tb_node *)e)->pcb);
	return true;
}

unsigned mlw__tcp_table_tw_drop(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote, u16_t rport)
{
	struct tb_hent *e;
	bool hashed;
	u32_t h;
	unsigned n = 0;

	mlw__tb_ready();
	mlw__tcp_table_attach();
	while ((e = mlw__tb_find(local, lport, remote, rport, NETIF_NO_INDEX, MLW_TCP_TABLE_TW | MLW_TB_REC,
				 &hashed, &h)) != NULL) {
		if (e->list == TL_REC) {
			rec_free((struct tb_rec *)e);
			tb->st.tw_dropped++;
		} else {
			tcp_abort(((struct tb_node *)e)->pcb);
		}
		n++;
	}
	return n;
}

u32_t mlw__tcp_table_tw_records(void)
{
	return tb->rec.count;
}

u32_t mlw__tcp_table_tw_each(mlw_tcp_table_tw_fn fn, void *arg)
{
	u32_t n = 0;

	for (struct tb_rec *r = tb->rec.oldest; r != NULL; r = r->newer) {
		ip_addr_t l, rm;

		if (r->h.held)
			continue;
		mlw__tb_rec_addrs(r, &l, &rm);
		n++;
		if (!fn(arg, &l, r->local_port, &rm, r->remote_port))
			break;
	}
	return n;
}

void mlw__tcp_table_tw_compact(bool on)
{
	tb->rec.off = !on;
}

/* tcp_bind's conflict test (lwIP 2.1.3 and 2.2.1) against the records:
 * they are TIME-WAIT connections, which lwIP checks only for a PCB
 * without SO_REUSEADDR. A walk of every record: only for a bind to a port
 * that records use. */
bool mlw__tb_rec_conflict(const struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port)
{
	if (ip_get_option(pcb, SOF_REUSEADDR))
		return false;
	for (const struct tb_rec *r = tb->rec.oldest; r != NULL; r = r->newer) {
		ip_addr_t l, rm;

		tb->st.list_walk_steps++;
		if (r->local_port != port)
			continue;
		mlw__tb_rec_addrs(r, &l, &rm);
		if (IP_IS_V6(ipaddr) == IP_IS_V6_VAL(l) &&
		    (ip_addr_isany(&l) || ip_addr_isany(ipaddr) || addr_eq(&l, ipaddr)))
			return true;
	}
	return false;
}

void mlw__tb_rec_free_all(void)
{
	while (tb->rec.oldest != NULL)
		rec_free(tb->rec.oldest);
}
