/* tcp_table_check.c - the connection table's checks for tests: its invariants against lwIP's lists (mlw__tcp_table_verify), and the audit that counts what lwIP's own walks would visit.
 *
 * The audit (mlw__tcp_table_audit) runs lwIP's demultiplexing loop
 * (tcp_input) and tcp_bind's conflict loop over the lists lwIP is shown,
 * and again over the whole lists as pristine lwIP would walk them, and
 * counts the PCBs each visits; tests compare those counts at 10 and at
 * 10,000 connections. It walks whole lists itself: tests only.
 */
#include <string.h>

#include "lwip/ip.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "mlw_lwip_hooks.h"
#include "mlw_tcp_table.h"
#include "tcp_table_private.h"

/* tcp_input's demultiplexing over the lists as they are now. */
u64_t mlw__tb_audit_input(const ip_addr_t *dst, u16_t dport, const ip_addr_t *src, u16_t sport, u8_t idx)
{
	u64_t steps = 0;
	unsigned f = MLW_TCP_TABLE_ACTIVE;

	if (mlw__tb_walk_find(tcp_active_pcbs, dst, dport, src, sport, idx, f, &steps) != NULL)
		return steps;
	if (mlw__tb_walk_find(tcp_tw_pcbs, dst, dport, src, sport, idx, f, &steps) != NULL)
		return steps;
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l != NULL; l = l->next)
		steps++;
	return steps;
}

/* tcp_bind's conflict walk over the lists as they are now. */
u64_t mlw__tb_audit_bind(const struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port)
{
	struct tcp_pcb *lists[4] = { tcp_listen_pcbs.pcbs, tcp_bound_pcbs, tcp_active_pcbs, tcp_tw_pcbs };
	int nl = ip_get_option(pcb, SOF_REUSEADDR) ? 3 : 4;
	u64_t steps = 0;

	for (int i = 0; i < nl; i++)
		for (const struct tcp_pcb *c = lists[i]; c != NULL; c = c->next) {
			steps++;
			if (c->local_port == port &&
			    !(ip_get_option(pcb, SOF_REUSEADDR) && ip_get_option(c, SOF_REUSEADDR)) &&
			    IP_IS_V6(ipaddr) == IP_IS_V6_VAL(c->local_ip) &&
			    (ip_addr_isany(&c->local_ip) || ip_addr_isany(ipaddr) || addr_eq(&c->local_ip, ipaddr)))
				return steps;
		}
	return steps;
}

void mlw__tcp_table_audit(bool on)
{
	tb->audit = on;
}

void mlw__tcp_table_fail_nodes(unsigned n)
{
	tb->fail_nodes = n;
}

#define VERIFY(cond)                   \
	do {                           \
		if (!(cond))           \
			return -__LINE__; \
	} while (0)

static int verify_list(struct tb_list *l, u32_t *indexed, u32_t *unindexed)
{
	struct tcp_pcb **pp = l->head, *last = NULL;
	u32_t count = 0;

	for (; *pp != NULL; pp = &(*pp)->next) {
		struct tcp_pcb *p = *pp;
		struct tb_node *n = mlw__tb_node_of(p);

		count++;
		last = p;
		VERIFY(count <= l->count);
		if (n == NULL) {
			(*unindexed)++;
			continue;
		}
		(*indexed)++;
		VERIFY(n->pcb == p && n->pprev == pp && n->h.list == mlw__tb_tl_of(l));
		VERIFY(n->h.hash == mlw__tb_pcb_hash(p));
		VERIFY(n->h.hpprev != NULL && *n->h.hpprev == &n->h);
	}
	VERIFY(count == l->count);
	VERIFY(l->tail == last);
	return 0;
}

/* The compact TIME-WAIT records: FIFO links and time order, hash entries,
 * count; none held outside tcp_input. */
static int verify_records(u32_t *indexed)
{
	const struct tb_rec *prev = NULL;
	u32_t count = 0;

	for (const struct tb_rec *r = tb->rec.oldest; r != NULL; prev = r, r = r->newer) {
		count++;
		VERIFY(count <= tb->rec.count);
		VERIFY(r->older == prev && r->h.list == TL_REC && !r->h.held);
		VERIFY(prev == NULL || (s32_t)(r->t_ms - prev->t_ms) >= 0);
		ip_addr_t l, rm;

		mlw__tb_rec_addrs(r, &l, &rm);
		VERIFY(r->h.hash == mlw__tb_tuple_hash(&l, r->local_port, &rm, r->remote_port));
		VERIFY(r->h.hpprev != NULL && *r->h.hpprev == &r->h);
	}
	VERIFY(tb->rec.newest == prev && count == tb->rec.count && tb->rec.held == NULL);
	*indexed += count;
	return 0;
}

int mlw__tcp_table_verify(void)
{
	u32_t indexed = 0, unindexed = 0, chained = 0;
	u32_t users[65536 / TB_PAGE_PORTS] = { 0 };
	int rc;

	if (!mlw__tb_ready())
		return 0;
	mlw__tcp_table_attach();
	if ((rc = verify_list(&tb->active, &indexed, &unindexed)) != 0 ||
	    (rc = verify_list(&tb->tw, &indexed, &unindexed)) != 0)
		return rc;
	if ((rc = verify_records(&indexed)) != 0)
		return rc;
	VERIFY(indexed == tb->entries && unindexed == tb->unindexed);
	for (u32_t i = 0; i <= tb->mask; i++)
		for (struct tb_hent *n = tb->b[i]; n != NULL; n = n->hnext, chained++)
			VERIFY((n->hash & tb->mask) == i && n->list != TL_NONE);
	if (tb->old != NULL)
		for (u32_t i = tb->migrated; i <= tb->old_mask; i++)
			for (struct tb_hent *n = tb->old[i]; n != NULL; n = n->hnext, chained++)
				VERIFY((n->hash & tb->old_mask) == i && n->list != TL_NONE);
	VERIFY(chained == tb->entries);
	if (!tb->ports_lost) {
		struct tcp_pcb *lists[2] = { tcp_active_pcbs, tcp_tw_pcbs };

		for (int i = 0; i < 2; i++)
			for (struct tcp_pcb *p = lists[i]; p != NULL; p = p->next)
				users[p->local_port / TB_PAGE_PORTS]++;
		for (const struct tb_rec *r = tb->rec.oldest; r != NULL; r = r->newer)
			users[r->local_port / TB_PAGE_PORTS]++;
		for (u32_t i = 0; i < 65536 / TB_PAGE_PORTS; i++) {
			const struct tb_port_page *pg = tb->ports[i];

			VERIFY((pg == NULL ? 0 : pg->total) == users[i]);
		}
		/* Each port's count: the first 64 PCBs of each list (the
		 * pages' totals above cover the rest). */
		for (int i = 0; i < 2; i++) {
			int k = 0;

			for (struct tcp_pcb *p = lists[i]; p != NULL && k < 64; p = p->next, k++) {
				u32_t c = 0;

				for (int j = 0; j < 2; j++)
					for (struct tcp_pcb *q = lists[j]; q != NULL; q = q->next)
						c += q->local_port == p->local_port;
				for (const struct tb_rec *r = tb->rec.oldest; r != NULL; r = r->newer)
					c += r->local_port == p->local_port;
				VERIFY(mlw__tcp_table_port_users(p->local_port) == c);
			}
		}
	}
	{
		struct tcp_pcb *lists[2] = { tcp_bound_pcbs, tcp_listen_pcbs.pcbs };

		for (int i = 0; i < 2; i++)
			for (struct tcp_pcb *p = lists[i]; p != NULL; p = p->next)
				VERIFY(mlw__tcp_table_port_bound(p->local_port));
	}
	VERIFY(!mlw__tcp_table_detached);
	return 0;
}

