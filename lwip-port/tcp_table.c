/* tcp_table.c - the per-shard connection table: lwIP's active and TIME-WAIT connections found by 4-tuple and unlinked from lwIP's lists in O(1), local ports counted, lwIP's own walks kept off them.
 *
 * lwIP finds the connection of every received segment by walking
 * tcp_active_pcbs, then tcp_tw_pcbs, then the listeners; it unlinks a PCB
 * by walking to its predecessor (TCP_RMV); tcp_bind() walks every list for
 * a conflicting port. At 10^4 connections and more these walks are the
 * stack's cost. lwIP's source stays pristine; four build-time and link-time
 * substitutions route those paths through this file:
 *
 *  1. TCP_REG and TCP_RMV (lwip/priv/tcp_priv.h) are redefined by
 *     mlw_lwip_hooks.h, which every lwIP file that uses them (tcp.c,
 *     tcp_in.c) includes after tcp_priv.h as LWIP_HOOK_FILENAME, to call
 *     mlw__tcp_reg() and mlw__tcp_rmv(). They do to the list exactly what
 *     lwIP's macros do (push to the front and call tcp_timer_needed();
 *     unlink and clear ->next) and keep, for each PCB on the active and
 *     TIME-WAIT lists, a node (an lwIP ext arg): where the pointer to the
 *     PCB lives (its predecessor's ->next or the list head), so unlinking
 *     is O(1), and its entry in a hash table by 4-tuple.
 *  2. tcp_input is wrapped (-Wl,--wrap=tcp_input; ip4.c and ip6.c call it
 *     from other objects): the segment's 4-tuple is looked up, and for the
 *     length of lwIP's demultiplexing the lists lwIP sees begin with the
 *     answer: tcp_active_pcbs is the matching active PCB (the list from
 *     it on), or empty with tcp_tw_pcbs the matching TIME-WAIT PCB, or
 *     both empty when nothing matches (lwIP then goes to the listeners or
 *     answers with a reset). lwIP's loops match at their first step and do
 *     not move anything. The real heads come back (attach()) as soon as
 *     lwIP has found its PCB (LWIP_HOOK_TCP_INPACKET_PCB, before anything
 *     else runs: callbacks, allocations, nested input), at any TCP_REG or
 *     TCP_RMV, and when tcp_input returns; nothing reads or changes the
 *     lists in between.
 *  3. tcp_bind is wrapped (-Wl,--wrap=tcp_bind): a port no active or
 *     TIME-WAIT PCB uses (counted here per port) is bound with those lists
 *     out of lwIP's sight, so its conflict walk sees only the bound and
 *     listening PCBs; port 0 is chosen here (a free port, random start),
 *     not by lwIP's tcp_new_port(), which walks all lists per candidate.
 *  4. sharding/connect.c gives an active open its port by 4-tuple through
 *     mlw__tcp_table_lookup() and mlw__tcp_table_port_bound(), without
 *     tcp_bind() (mlw__tcp_table_connecting()).
 *
 * Call chains:
 *   ip4_input/ip6_input -> __wrap_tcp_input -> find() -> present the view
 *     -> __real_tcp_input -> (demux: first step) -> LWIP_HOOK_TCP_INPACKET_PCB
 *     -> attach() -> tcp_process / tcp_timewait_input / tcp_listen_input
 *   tcp_connect, tcp_listen_input -> TCP_REG_ACTIVE -> mlw__tcp_reg
 *   tcp_process (-> TIME-WAIT) -> TCP_RMV_ACTIVE, TCP_REG(&tcp_tw_pcbs)
 *   tcp_abandon, tcp_close, tcp_input (reset, closed) -> tcp_pcb_remove
 *     -> TCP_RMV -> mlw__tcp_rmv;  tcp_free -> node_destroy
 *
 * What differs from lwIP: lwIP moved the matched active PCB (and listener)
 * to the front of its list on every segment, to shorten the next walk;
 * active and TIME-WAIT lists now keep the order lwIP registered them in
 * (newest first). Only tie-breaks among equally idle victims of lwIP's
 * memory-pressure kills (tcp_kill_prio/state) depend on that order.
 * Listeners stay on lwIP's walk and move-to-front (few, and not more with
 * more connections); so do bound PCBs.
 *
 * Lookups give what lwIP's walk gives, also when two PCBs share a 4-tuple
 * (possible only with PCBs bound to different netifs): a chain keeps the
 * nodes of one 4-tuple in list order (newest first), so the first one that
 * passes lwIP's netif test is lwIP's. Without memory for a node, a PCB is
 * kept "unindexed": while any is, lookups walk the lists as lwIP did (and
 * unlinking it walks too), so behaviour stays exact and only speed is lost
 * until that PCB is gone. PCBs that lwIP unlinks by itself (tcp_slowtmr(),
 * which mlwip does not run; tcp_timer.c replaces it) are repaired when
 * lwIP frees them.
 *
 * Files: this one (nodes, lists, hash, lookups, tcp_input), tcp_table_ports.c
 * (ports, tcp_bind), tcp_table_check.c (invariants and step counts, for
 * tests), tcp_table_private.h (their shared state); the API for the rest
 * of mlwip is include/mlw_tcp_table.h.
 *
 * The hash: SipHash-1-3 with a per-shard random key over the 4-tuple
 * (zones are left to the comparison), so remote peers cannot aim at one
 * chain. Buckets: 1024 in thread-local storage, then doubled from the
 * shard heap when entries pass the bucket count, the old array emptied a
 * few buckets per insert (no pause at 10^6 connections); back to the
 * static array when the table is empty.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "lwip/ip.h"
#include "lwip/mem.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"

#include "mlw_lwip_hooks.h"
#include "mlw_tcp_table.h"
#include "tcp_table_private.h"
#include "rand_private.h"
#include "siphash.h"

#if LWIP_TCP_PCB_NUM_EXT_ARGS < 2
#error "lwipopts.h must give TCP PCBs ext arg slots for the timer wheel and the connection table"
#endif

_Thread_local struct tb_shard mlw__tb_s;
static _Thread_local struct tb_hent *tb_static[TB_STATIC_BUCKETS];
static _Thread_local int tb_id = -1;
/* Read inline by LWIP_HOOK_TCP_INPACKET_PCB (mlw_lwip_hooks.h). */
_Thread_local u8_t mlw__tcp_table_detached;

static void node_destroy(u8_t id, void *data);
static const struct tcp_ext_arg_callbacks tb_callbacks = { .destroy = node_destroy };

void __real_tcp_input(struct pbuf *p, struct netif *inp);
void __wrap_tcp_input(struct pbuf *p, struct netif *inp);

/* ---- the shard's state ---- */

/* Sets the shard's table up on first use; false if PCBs can get no node
 * (no ext arg slot left): every PCB is then found by walking. */
bool mlw__tb_ready(void)
{
	if (tb->b == NULL) {
		tb->b = tb_static;
		tb->mask = TB_STATIC_BUCKETS - 1;
		tb->active.head = &tcp_active_pcbs;
		tb->tw.head = &tcp_tw_pcbs;
	}
	if (tb_id < 0)
		tb_id = tcp_ext_arg_alloc_id();
	return tb_id < LWIP_TCP_PCB_NUM_EXT_ARGS;
}

static struct tb_list *list_of(struct tcp_pcb **head)
{
	return head == &tcp_active_pcbs ? &tb->active : head == &tcp_tw_pcbs ? &tb->tw : NULL;
}

u8_t mlw__tb_tl_of(const struct tb_list *l)
{
	return l == &tb->active ? TL_ACTIVE : TL_TW;
}

struct tb_node *mlw__tb_node_of(const struct tcp_pcb *pcb)
{
	return tb_id >= 0 && tb_id < LWIP_TCP_PCB_NUM_EXT_ARGS ? tcp_ext_arg_get(pcb, (u8_t)tb_id) : NULL;
}

/* The PCB whose ->next is @p pprev, or NULL if @p pprev is the head. */
static struct tcp_pcb *pcb_before(struct tcp_pcb **pprev, struct tcp_pcb **head)
{
	return pprev == head ? NULL : (struct tcp_pcb *)((char *)pprev - offsetof(struct tcp_pcb, next));
}

/* ---- the detached view (tcp_input and tcp_bind) ---- */

void mlw__tb_detach(struct tcp_pcb *active, struct tcp_pcb *tw)
{
	tb->saved_active = tcp_active_pcbs;
	tb->saved_tw = tcp_tw_pcbs;
	tcp_active_pcbs = active;
	tcp_tw_pcbs = tw;
	mlw__tcp_table_detached = 1;
}

static void attach(void)
{
	if (!mlw__tcp_table_detached)
		return;
	tcp_active_pcbs = tb->saved_active;
	tcp_tw_pcbs = tb->saved_tw;
	mlw__tcp_table_detached = 0;
}

void mlw__tcp_table_attach(void)
{
	attach();
}

/* ---- hashing ---- */

static void addr_words(const ip_addr_t *a, u64_t *w)
{
#if LWIP_IPV6
	if (IP_IS_V6_VAL(*a)) {
		const u32_t *x = ip_2_ip6(a)->addr;

		w[0] = (u64_t)x[0] | (u64_t)x[1] << 32;
		w[1] = (u64_t)x[2] | (u64_t)x[3] << 32;
		return;
	}
#endif
#if LWIP_IPV4
	w[0] = ip4_addr_get_u32(ip_2_ip4(a));
#else
	w[0] = 0;
#endif
	w[1] = 0xffffffffull << 32;	/* no IPv6 address has these words */
}

u64_t mlw__tcp_tuple_hash(const u64_t key[2], const ip_addr_t *local, u16_t lport, const ip_addr_t *remote,
			 u16_t rport)
{
	u64_t w[5];

#if LWIP_IPV4 && LWIP_IPV6
	if (!IP_IS_V6_VAL(*local) && !IP_IS_V6_VAL(*remote))
#endif
#if LWIP_IPV4
	{
		w[0] = (u64_t)ip4_addr_get_u32(ip_2_ip4(local)) << 32 | ip4_addr_get_u32(ip_2_ip4(remote));
		w[1] = (u64_t)lport << 16 | rport;
		return mlw__siphash13_words(key, w, 2);
	}
#endif
	addr_words(local, w);
	addr_words(remote, w + 2);
	w[4] = (u64_t)lport << 16 | rport;
	return mlw__siphash13_words(key, w, 5);
}

u32_t mlw__tb_tuple_hash(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote, u16_t rport)
{
	if (!tb->keyed) {
		if (mlw__random_bytes(tb->key, sizeof(tb->key)) != 0)
			tb->key[0] = (u64_t)LWIP_RAND() << 32 | LWIP_RAND();	/* never expected */
		tb->keyed = true;
	}
	return (u32_t)mlw__tcp_tuple_hash(tb->key, local, lport, remote, rport);
}

u32_t mlw__tb_pcb_hash(const struct tcp_pcb *pcb)
{
	return mlw__tb_tuple_hash(&pcb->local_ip, pcb->local_port, &pcb->remote_ip, pcb->remote_port);
}

/* ---- the hash table ---- */

static void chain_unlink(struct tb_hent *n)
{
	*n->hpprev = n->hnext;
	if (n->hnext != NULL)
		n->hnext->hpprev = n->hpprev;
	n->hnext = NULL;
	n->hpprev = NULL;
}

static void chain_push(struct tb_hent **slot, struct tb_hent *n)
{
	n->hnext = *slot;
	if (n->hnext != NULL)
		n->hnext->hpprev = &n->hnext;
	n->hpprev = slot;
	*slot = n;
}

static void free_buckets(struct tb_hent **b)
{
	if (b != NULL && b != tb_static)
		mem_free(b);
}

/* Move old bucket @p i to the new array. Each node goes behind the nodes
 * already in its new bucket: those were inserted (pushed to the front of
 * lwIP's list) after it, so a chain stays in list order. */
static void migrate_bucket(u32_t i)
{
	struct tb_hent *n;

	while ((n = tb->old[i]) != NULL) {
		struct tb_hent **slot = &tb->b[n->hash & tb->mask];

		chain_unlink(n);
		while (*slot != NULL)
			slot = &(*slot)->hnext;
		chain_push(slot, n);
	}
}

static void migrate(u32_t buckets)
{
	while (tb->old != NULL && buckets-- > 0) {
		migrate_bucket(tb->migrated++);
		if (tb->migrated > tb->old_mask) {
			free_buckets(tb->old);
			tb->old = NULL;
		}
	}
}

static void grow(void)
{
	u32_t n = (tb->mask + 1) * 2;
	struct tb_hent **nb;

	if (tb->old != NULL)
		migrate(tb->old_mask + 1);	/* never expected: inserts finish a resize first */
	if (n == 0 || n > (1u << 30) || tb->entries < tb->grow_retry)
		return;
	nb = mem_calloc(n, sizeof(*nb));
	if (nb == NULL) {
		tb->st.grow_fails++;
		tb->grow_retry = tb->entries + tb->entries / 4 + 1;
		return;
	}
	tb->old = tb->b;
	tb->old_mask = tb->mask;
	tb->migrated = 0;
	tb->b = nb;
	tb->mask = n - 1;
	tb->st.grows++;
}

/* The hash of a PCB being registered: tcp_input's, when the PCB is the
 * passive open of the segment in hand. */
static u32_t node_hash(const struct tcp_pcb *pcb)
{
	if (tb->seg.valid && pcb->local_port == tb->seg.lport && pcb->remote_port == tb->seg.rport &&
	    addr_eq(&pcb->local_ip, tb->seg.local) && addr_eq(&pcb->remote_ip, tb->seg.remote))
		return tb->seg.hash;
	return mlw__tb_pcb_hash(pcb);
}

void mlw__tb_hash_insert(struct tb_hent *n, u32_t hash)
{
	n->hash = hash;
	if (tb->old != NULL)
		migrate(TB_MIGRATE_STEP);
	else if (tb->entries >= tb->mask + 1)
		grow();
	chain_push(&tb->b[n->hash & tb->mask], n);
	tb->entries++;
}

/* Back to the static buckets once nothing is left (a table that grew for
 * a burst of connections does not keep its memory, and a stopped shard
 * leaves an empty heap). */
static void shrink_if_empty(void)
{
	if (tb->entries != 0 || tb->b == tb_static)
		return;
	free_buckets(tb->old);
	free_buckets(tb->b);
	tb->old = NULL;
	tb->b = tb_static;
	tb->mask = TB_STATIC_BUCKETS - 1;
	tb->grow_retry = 0;
}

void mlw__tb_hash_remove(struct tb_hent *n)
{
	chain_unlink(n);
	tb->entries--;
	shrink_if_empty();
}

/* ---- nodes ---- */

static struct tb_node *node_make(struct tcp_pcb *pcb)
{
	struct tb_node *n;

	if (tb->fail_nodes > 0) {
		tb->fail_nodes--;
		n = NULL;
	} else {
		n = mem_malloc(sizeof(*n));
	}
	if (n == NULL) {
		tb->st.node_fails++;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->pcb = pcb;
	tcp_ext_arg_set_callbacks(pcb, (u8_t)tb_id, &tb_callbacks);
	tcp_ext_arg_set(pcb, (u8_t)tb_id, n);
	return n;
}

/* ---- lwIP's lists ---- */

/* The successor of a PCB that moved or left now hangs off @p pprev. */
static void fix_next(struct tcp_pcb *next, struct tcp_pcb **pprev)
{
	struct tb_node *nn;

	if (next != NULL && (nn = mlw__tb_node_of(next)) != NULL)
		nn->pprev = pprev;
}

static void list_push(struct tb_list *l, struct tcp_pcb *pcb, struct tb_node *n)
{
	pcb->next = *l->head;
	fix_next(pcb->next, &pcb->next);
	*l->head = pcb;
	if (pcb->next == NULL)
		l->tail = pcb;
	l->count++;
	mlw__tb_port_count(pcb->local_port, 1);
	if (n != NULL) {
		n->pprev = l->head;
		n->h.list = mlw__tb_tl_of(l);
		mlw__tb_hash_insert(&n->h, node_hash(n->pcb));
	} else {
		tb->unindexed++;
	}
}

/* Unlink @p pcb, whose pointer lives at @p pprev. */
static void list_cut(struct tb_list *l, struct tcp_pcb *pcb, struct tcp_pcb **pprev)
{
	*pprev = pcb->next;
	fix_next(pcb->next, pprev);
	if (l->tail == pcb)
		l->tail = pcb_before(pprev, l->head);
	pcb->next = NULL;
	l->count--;
	mlw__tb_port_count(pcb->local_port, -1);
	mlw__tb_ports_release();
}

/* lwIP's TCP_RMV for a PCB without a node: walk to it. */
static void list_walk_remove(struct tb_list *l, struct tcp_pcb *pcb)
{
	struct tcp_pcb **pp;

	for (pp = l->head; *pp != NULL; pp = &(*pp)->next) {
		tb->st.list_walk_steps++;
		if (*pp == pcb) {
			list_cut(l, pcb, pp);
			tb->unindexed--;
			return;
		}
	}
	pcb->next = NULL;	/* not on the list: lwIP's macro does only this */
}

/* TCP_REG(pcbs, npcb) of lwIP (mlw_lwip_hooks.h). */
void mlw__tcp_reg(struct tcp_pcb **pcbs, struct tcp_pcb *npcb)
{
	struct tb_list *l = list_of(pcbs);

	attach();
	if (l != NULL) {
		struct tb_node *n = NULL;

		if (mlw__tb_ready() && (n = mlw__tb_node_of(npcb)) == NULL)
			n = node_make(npcb);
		list_push(l, npcb, n);
	} else {
		npcb->next = *pcbs;
		*pcbs = npcb;
		if (pcbs == &tcp_bound_pcbs || pcbs == &tcp_listen_pcbs.pcbs)
			mlw__tb_bound_add(npcb->local_port);
	}
	tcp_timer_needed();
}

/* TCP_RMV(pcbs, npcb) of lwIP (mlw_lwip_hooks.h). */
void mlw__tcp_rmv(struct tcp_pcb **pcbs, struct tcp_pcb *npcb)
{
	struct tb_list *l = list_of(pcbs);
	struct tb_node *n;

	attach();
	mlw__tb_ready();
	if (l == NULL) {
		/* Bound and listening PCBs: lwIP's walk (few of them). */
		if (pcbs == &tcp_bound_pcbs && npcb == tb->connecting) {
			npcb->next = NULL;	/* given its port by connect.c: never on the list */
			return;
		}
		for (struct tcp_pcb **pp = pcbs; *pp != NULL; pp = &(*pp)->next) {
			tb->st.list_walk_steps++;
			if (*pp == npcb) {
				*pp = npcb->next;
				break;
			}
		}
		npcb->next = NULL;
		if (pcbs == &tcp_bound_pcbs || pcbs == &tcp_listen_pcbs.pcbs)
			mlw__tb_bound_remove(npcb->local_port);
		return;
	}
	n = mlw__tb_node_of(npcb);
	if (n == NULL) {
		list_walk_remove(l, npcb);
		return;
	}
	if (n->h.list != mlw__tb_tl_of(l)) {
		/* Not on this list (lwIP removes a PCB twice when a close
		 * inside tcp_input already took it off): lwIP's walk finds
		 * nothing and clears ->next. On the other list, clearing
		 * ->next would cut that list: counted, left alone. */
		if (n->h.list == TL_NONE)
			npcb->next = NULL;
		else
			tb->st.anomalies++;
		return;
	}
	list_cut(l, npcb, n->pprev);
	n->pprev = NULL;
	n->h.list = TL_NONE;
	mlw__tb_hash_remove(&n->h);
}

/* tcp_free() of a PCB with a node. Normally it left its list first; a PCB
 * that lwIP unlinked by itself (tcp_slowtmr: its predecessor's ->next, or
 * the head, already points past it) is taken out of the table here. */
static void node_destroy(u8_t id, void *data)
{
	struct tb_node *n = data;

	(void)id;
	if (n == NULL)
		return;
	if (tb->connecting == n->pcb)
		tb->connecting = NULL;
	if (tb->rec.held_pcb == n->pcb)
		tb->rec.held_pcb = NULL;	/* tcp_table_tw.c's stand-in is gone */
	if (n->h.list != TL_NONE) {
		struct tb_list *l = n->h.list == TL_ACTIVE ? &tb->active : &tb->tw;
		struct tcp_pcb *pcb = n->pcb;

		if (*n->pprev == pcb) {
			list_cut(l, pcb, n->pprev);
		} else {
			fix_next(pcb->next, n->pprev);
			if (l->tail == pcb)
				l->tail = pcb_before(n->pprev, l->head);
			l->count--;
			mlw__tb_port_count(pcb->local_port, -1);
			mlw__tb_ports_release();
		}
		mlw__tb_hash_remove(&n->h);
	}
	mem_free(n);
}

/* ---- lookups ---- */

/* lwIP's test in tcp_input: 4-tuple, and the netif if the PCB is bound to
 * one (@p idx NETIF_NO_INDEX: any netif). */
bool mlw__tb_matches(const struct tcp_pcb *pcb, const ip_addr_t *local, u16_t lport, const ip_addr_t *remote,
		     u16_t rport, u8_t idx, unsigned flags)
{
	if (idx != NETIF_NO_INDEX && pcb->netif_idx != NETIF_NO_INDEX && pcb->netif_idx != idx)
		return false;
	if (pcb->remote_port != rport || pcb->local_port != lport)
		return false;
	if (flags & MLW_TCP_TABLE_ZONELESS)
		return addr_eq_zoneless(&pcb->remote_ip, remote) && addr_eq_zoneless(&pcb->local_ip, local);
	return addr_eq(&pcb->remote_ip, remote) && addr_eq(&pcb->local_ip, local);
}

struct tcp_pcb *mlw__tb_walk_find(struct tcp_pcb *head, const ip_addr_t *local, u16_t lport,
				  const ip_addr_t *remote, u16_t rport, u8_t idx, unsigned flags, u64_t *steps)
{
	for (struct tcp_pcb *p = head; p != NULL; p = p->next) {
		(*steps)++;
		if (mlw__tb_matches(p, local, lport, remote, rport, idx, flags))
			return p;
	}
	return NULL;
}

/* The entry lwIP's demultiplexing finds: an active PCB first, then a
 * TIME-WAIT PCB, then (with MLW_TB_REC) a compact TIME-WAIT record; NULL
 * if none. A record that a PCB stands in for (held) is the PCB's. */
struct tb_hent *mlw__tb_find(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote, u16_t rport,
			     u8_t idx, unsigned flags, bool *hashed, u32_t *hash)
{
	struct tb_hent *tw = NULL, *rec = NULL;
	struct tb_hent *chains[2];
	u32_t h;

	tb->st.lookups++;
	*hashed = false;
	if (tb->unindexed > 0) {
		/* Some PCB has no entry: lwIP's walk, its answer handed over
		 * in tb->walk_hit. */
		struct tcp_pcb *p = NULL;
		u8_t which = TL_ACTIVE;

		if (flags & MLW_TCP_TABLE_ACTIVE)
			p = mlw__tb_walk_find(*tb->active.head, local, lport, remote, rport, idx, flags,
					      &tb->st.list_walk_steps);
		if (p == NULL && (flags & MLW_TCP_TABLE_TW)) {
			p = mlw__tb_walk_find(*tb->tw.head, local, lport, remote, rport, idx, flags,
					      &tb->st.list_walk_steps);
			which = TL_TW;
		}
		if (p != NULL) {
			tb->walk_hit.pcb = p;
			tb->walk_hit.h.list = which;
			return &tb->walk_hit.h;
		}
		if (!(flags & MLW_TB_REC))
			return NULL;
		flags &= ~(MLW_TCP_TABLE_ACTIVE | MLW_TCP_TABLE_TW);
	}
	if (tb->entries == 0)
		return NULL;
	h = mlw__tb_tuple_hash(local, lport, remote, rport);
	*hashed = true;
	*hash = h;
	/* Newer nodes are in the new array: its chain comes first. */
	chains[0] = tb->b[h & tb->mask];
	chains[1] = tb->old != NULL && (h & tb->old_mask) >= tb->migrated ? tb->old[h & tb->old_mask] : NULL;
	for (int c = 0; c < 2; c++)
		for (struct tb_hent *e = chains[c]; e != NULL; e = e->hnext) {
			tb->st.chain_steps++;
			if (e->hash != h)
				continue;
			if (e->list == TL_REC) {
				if (rec == NULL && !e->held && (flags & MLW_TB_REC) &&
				    mlw__tb_rec_matches((struct tb_rec *)e, local, lport, remote, rport, idx, flags))
					rec = e;
				continue;
			}
			if (!mlw__tb_matches(((struct tb_node *)e)->pcb, local, lport, remote, rport, idx, flags))
				continue;
			if (e->list == TL_ACTIVE && (flags & MLW_TCP_TABLE_ACTIVE))
				return e;
			if (e->list == TL_TW && tw == NULL && (flags & MLW_TCP_TABLE_TW))
				tw = e;
		}
	return tw != NULL ? tw : rec;
}

struct tcp_pcb *mlw__tcp_table_lookup(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote,
				      u16_t rport, unsigned flags)
{
	struct tb_hent *e;
	bool hashed;
	u32_t h;

	mlw__tb_ready();
	attach();
	e = mlw__tb_find(local, lport, remote, rport, NETIF_NO_INDEX, flags & ~MLW_TB_REC, &hashed, &h);
	return e != NULL ? ((struct tb_node *)e)->pcb : NULL;
}

/* ---- tcp_input ---- */

/* Present lwIP the lists for the segment @p p (see the file header);
 * returns false if it is to be dropped (its record could get no PCB). */
static bool present(struct pbuf *p, const ip_addr_t *src, const ip_addr_t *dst)
{
	const u8_t *h = p->payload;
	struct tb_hent *e;
	u16_t sport, dport;
	u8_t idx;

	sport = (u16_t)(h[0] << 8 | h[1]);
	dport = (u16_t)(h[2] << 8 | h[3]);
	idx = netif_get_index(ip_current_input_netif());	/* as lwIP's test */
	if (tb->audit)
		tb->st.lwip_steps_full += mlw__tb_audit_input(dst, dport, src, sport, idx);
	/* The newest connection is lwIP's first step anyway: no hash (one
	 * connection, or a handshake's next segment). */
	if (tcp_active_pcbs != NULL && mlw__tb_matches(tcp_active_pcbs, dst, dport, src, sport, idx, 0)) {
		tb->st.head_hits++;
		if (tb->audit)
			tb->st.lwip_steps++;
		return true;
	}
	e = mlw__tb_find(dst, dport, src, sport, idx, MLW_TCP_TABLE_ACTIVE | MLW_TCP_TABLE_TW | MLW_TB_REC,
			 &tb->seg.valid, &tb->seg.hash);
	tb->seg.local = dst;
	tb->seg.remote = src;
	tb->seg.lport = dport;
	tb->seg.rport = sport;
	if (e != NULL && e->list == TL_REC) {
		/* A compact TIME-WAIT record: a PCB stands in for it while
		 * lwIP handles this one segment (tcp_table_tw.c). */
		struct tcp_pcb *pcb = mlw__tb_rec_hold((struct tb_rec *)e);

		if (pcb == NULL)
			return false;
		mlw__tb_detach(NULL, pcb);
	} else if (e != NULL && e->list == TL_ACTIVE) {
		struct tcp_pcb *pcb = ((struct tb_node *)e)->pcb;

		if (tcp_active_pcbs != pcb)
			mlw__tb_detach(pcb, tcp_tw_pcbs);
	} else if (e != NULL) {
		mlw__tb_detach(NULL, ((struct tb_node *)e)->pcb);
	} else {
		mlw__tb_detach(NULL, NULL);
	}
	if (tb->audit)
		tb->st.lwip_steps += mlw__tb_audit_input(dst, dport, src, sport, idx);
	return true;
}

void __wrap_tcp_input(struct pbuf *p, struct netif *inp)
{
	const ip_addr_t *src = ip_current_src_addr(), *dst = ip_current_dest_addr();
	u8_t fl = p->len >= TCP_HLEN ? ((const u8_t *)p->payload)[13] : 0;
	bool outer = tb->rec.held == NULL;

	attach();	/* a nested call (tcp_tw.c) comes after the hook attached */
	mlw__tb_ready();
	if ((tcp_active_pcbs == NULL && tcp_tw_pcbs == NULL && tb->rec.count == 0) || p->len < TCP_HLEN ||
	    ip_current_input_netif() == NULL) {
		__real_tcp_input(p, inp);
	} else if (present(p, src, dst)) {
		__real_tcp_input(p, inp);
	} else {
		tb->st.rec_drops++;
		pbuf_free(p);
	}
	tb->seg.valid = false;
	attach();
	/* Only the outermost call settles: a nested one (tcp_tw.c's SYN to
	 * the listener) runs while the stand-in PCB may still be in use. */
	if (outer) {
		if (tb->rec.held != NULL)
			mlw__tb_rec_release(fl);
		mlw__tb_tw_after_input();
	}
}

/* ---- counts, stats, checks ---- */

u32_t mlw__tcp_table_tw_count(void)
{
	/* A record's stand-in PCB is that record (tcp_table_tw.c). */
	return tb->tw.count + tb->rec.count - (tb->rec.held_pcb != NULL ? 1u : 0u);
}

struct tcp_pcb *mlw__tcp_table_tw_oldest(void)
{
	attach();
	return tb->tw.tail;
}

u32_t mlw__tcp_table_active_count(void)
{
	return tb->active.count;
}

void mlw__tcp_table_stats(struct mlw_tcp_table_stats *out)
{
	*out = tb->st;
	out->buckets = tb->b != NULL ? tb->mask + 1 : TB_STATIC_BUCKETS;
	out->entries = tb->entries;
	out->records = tb->rec.count;
	out->unindexed = tb->unindexed;
	out->resizing = tb->old != NULL;
}

int mlw__tcp_table_fini(void)
{
	int left;

	attach();
	/* Records belong to nobody but the table. */
	mlw__tb_rec_free_all();
	left = (int)(tb->entries + tb->unindexed);
	free_buckets(tb->old);
	free_buckets(tb->b);
	for (unsigned i = 0; i < 65536 / TB_PAGE_PORTS; i++)
		if (tb->ports[i] != NULL)
			mem_free(tb->ports[i]);
	memset(tb, 0, sizeof(*tb));
	memset(tb_static, 0, sizeof(tb_static));
	return left;
}
