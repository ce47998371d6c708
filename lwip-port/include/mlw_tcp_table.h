/* mlw_tcp_table.h - the per-shard connection table (lwip-port/tcp_table.c): lookups by 4-tuple, local port use, TIME-WAIT order, for mlwip's own code and tests (internal, not public). */
#ifndef MLW_TCP_TABLE_H
#define MLW_TCP_TABLE_H

#include <stdbool.h>

#include "lwip/err.h"
#include "lwip/ip_addr.h"

struct tcp_pcb;

/* What mlw__tcp_table_lookup() looks at. */
#define MLW_TCP_TABLE_ACTIVE	0x1u	/* lwIP's tcp_active_pcbs */
#define MLW_TCP_TABLE_TW	0x2u	/* lwIP's tcp_tw_pcbs */
#define MLW_TCP_TABLE_ZONELESS	0x4u	/* IPv6 zones not compared (ip_addr_zoneless_eq) */

/*
 * The connection lwIP's tcp_input() would find for a segment from
 * @p remote:@p rport to @p local:@p lport, ignoring which netif it came
 * from: the first of tcp_active_pcbs in list order (with
 * MLW_TCP_TABLE_ACTIVE), else the first of tcp_tw_pcbs (with
 * MLW_TCP_TABLE_TW); NULL if none. Ports in host order. O(1) on average.
 */
struct tcp_pcb *mlw__tcp_table_lookup(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote,
				      u16_t rport, unsigned flags);

/* SipHash-1-3 under @p key of a 4-tuple (addresses without zones, ports
 * in host order): the table's hash, for other tables keyed the same way. */
u64_t mlw__tcp_tuple_hash(const u64_t key[2], const ip_addr_t *local, u16_t lport, const ip_addr_t *remote,
			 u16_t rport);

/* Active and TIME-WAIT connections using local port @p port (any
 * address), counted as lwIP registers and removes them. */
u32_t mlw__tcp_table_port_users(u16_t port);

/* True if a bound or listening PCB (tcp_bound_pcbs, tcp_listen_pcbs) has
 * local port @p port: a port an application chose itself. */
bool mlw__tcp_table_port_bound(u16_t port);

/* TIME-WAIT connections: PCBs on tcp_tw_pcbs and compact records
 * (lwip-port/tcp_table_tw.c). */
u32_t mlw__tcp_table_tw_count(void);
/* The PCB on tcp_tw_pcbs that entered TIME-WAIT first (lwIP's list runs
 * newest to oldest; the table keeps its tail), or NULL. */
struct tcp_pcb *mlw__tcp_table_tw_oldest(void);
/* Compact TIME-WAIT records now. */
u32_t mlw__tcp_table_tw_records(void);
/* Call @p fn for each compact TIME-WAIT record, oldest first, until it
 * returns false; returns the records visited (for a listing: the caller
 * copies what it needs, nothing may change the table meanwhile). A record
 * a PCB stands in for at the moment is on lwIP's TIME-WAIT list instead
 * and is skipped here. */
typedef bool (*mlw_tcp_table_tw_fn)(void *arg, const ip_addr_t *local, u16_t lport,
				    const ip_addr_t *remote, u16_t rport);
u32_t mlw__tcp_table_tw_each(mlw_tcp_table_tw_fn fn, void *arg);

/*
 * Whether a TIME-WAIT connection (a PCB on tcp_tw_pcbs or a compact
 * record) has the 4-tuple (any netif), and the ms since its TIME-WAIT
 * began or was restarted by a FIN (*@p age_ms, may be NULL).
 */
bool mlw__tcp_table_tw_find(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote, u16_t rport,
			    u32_t *age_ms);
/* Ends every TIME-WAIT connection of the 4-tuple without a segment (a PCB
 * through tcp_abort()); returns how many. */
unsigned mlw__tcp_table_tw_drop(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote, u16_t rport);
/* Ends the TIME-WAIT connection (PCB or record) that has waited longest;
 * false if there is none. */
bool mlw__tcp_table_tw_drop_oldest(void);
/* Every few ms (sharding/timewait.c): TIME-WAIT PCBs closed since they
 * entered TIME-WAIT become records, records older than 2 * TCP_MSL end.
 * Returns the records ended. */
u32_t mlw__tcp_table_tw_settle(void);
/* Records at least 2 * TCP_MSL older than @p now (sys_now() time) end;
 * returns how many. Tests pass a time ahead of sys_now(). */
u32_t mlw__tcp_table_tw_expire(u32_t now);
/* Closed TIME-WAIT PCBs become compact records (default) or stay whole
 * (@p on false; for tests that compare both). Records made stay. */
void mlw__tcp_table_tw_compact(bool on);

/* PCBs on tcp_active_pcbs. */
u32_t mlw__tcp_table_active_count(void);

/*
 * tcp_bind() with the active and TIME-WAIT lists out of its sight: lwIP's
 * conflict check then walks only the bound and listening PCBs, so a port
 * that connections to other endpoints already use can be bound (a
 * 4-tuple is unique, a port need not be). For connect's port choice
 * (sharding/connect.c), which has checked the 4-tuple itself.
 */
err_t mlw__tcp_bind_shared(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port);

/*
 * @p pcb gets its local port from sharding/connect.c without tcp_bind(),
 * so it is on no list when lwIP's tcp_connect() removes it from
 * tcp_bound_pcbs (a walk to find nothing): that removal is skipped. Set
 * before calling tcp_connect(), NULL after.
 */
void mlw__tcp_table_connecting(struct tcp_pcb *pcb);

/* Counters of the calling shard's table. */
struct mlw_tcp_table_stats {
	u64_t lookups;		/* 4-tuple lookups (segments in, connect, ICMP) */
	u64_t head_hits;	/* segments of the newest connection: no lookup needed */
	u64_t chain_steps;	/* hash chain entries looked at by them */
	u64_t list_walk_steps;	/* PCBs visited by the table's own list walks: bound and
				   listening lists, PCBs without a node */
	u64_t lwip_steps;	/* PCBs lwIP's own walks visit in tcp_input (demux),
				   tcp_bind (conflicts) and tcp_connect (SO_REUSEADDR
				   duplicates), counted only while audit is on */
	u64_t lwip_steps_full;	/* the same walks on the whole lists, as pristine lwIP
				   would make them (audit on) */
	u64_t grows;		/* bucket array doubled */
	u64_t grow_fails;	/* no memory to double it (chains get longer) */
	u64_t node_fails;	/* no memory for a connection's node: it is found by a
				   walk until it is gone (see unindexed) */
	u64_t anomalies;	/* removals from a list the PCB was not on (0 expected) */
	u64_t tw_compacted;	/* TIME-WAIT PCBs turned into compact records */
	u64_t tw_held;		/* segments a record got a stand-in PCB for */
	u64_t tw_expired;	/* records ended after 2 * TCP_MSL */
	u64_t tw_dropped;	/* records ended early: trim, connect's reuse, memory */
	u64_t rec_fails;	/* no memory for a record: the PCB stays whole */
	u64_t rec_drops;	/* segments for a record dropped: no memory for a stand-in */
	u32_t buckets;		/* now */
	u32_t entries;		/* active and TIME-WAIT PCBs with a node, and records */
	u32_t records;		/* compact TIME-WAIT records */
	u32_t unindexed;	/* active and TIME-WAIT PCBs without one */
	u32_t resizing;		/* 1 while an old bucket array is being emptied */
};
void mlw__tcp_table_stats(struct mlw_tcp_table_stats *out);

/* Tests: count lwIP's own list steps (lwip_steps, lwip_steps_full); the
 * next @p n node allocations fail (the walk fallback). Not for production. */
void mlw__tcp_table_audit(bool on);
void mlw__tcp_table_fail_nodes(unsigned n);

/* Checks every invariant of the calling shard's table against lwIP's
 * lists (each PCB's predecessor link, the hash entries, the counts, the
 * TIME-WAIT tail, the port counts); O(connections). Returns 0 or a
 * negative line number of the first failed check. For tests. */
int mlw__tcp_table_verify(void);

/* Frees the calling shard's table (lwIP's lists must be empty); returns
 * the entries still in it (0 expected). */
int mlw__tcp_table_fini(void);

#endif /* MLW_TCP_TABLE_H */
