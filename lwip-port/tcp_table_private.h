/* tcp_table_private.h - the connection table's state and the functions its files share (tcp_table.c, tcp_table_ports.c, tcp_table_check.c; private). */
#ifndef MLW_TCP_TABLE_PRIVATE_H
#define MLW_TCP_TABLE_PRIVATE_H

#include <stdbool.h>

#include "lwip/ip_addr.h"
#include "lwip/tcp.h"

#include "mlw_tcp_table.h"

#define TB_STATIC_BUCKETS	1024u	/* 8 KiB of thread-local storage */
#define TB_MIGRATE_STEP		8u	/* old buckets emptied per insert while resizing */
#define TB_PAGE_PORTS		256u

enum { TL_NONE, TL_ACTIVE, TL_TW };

struct tb_node {
	struct tcp_pcb *pcb;
	struct tcp_pcb **pprev;		/* the pointer to pcb: list head or predecessor's ->next */
	struct tb_node *hnext, **hpprev;	/* hash chain */
	u32_t hash;
	u8_t list;			/* TL_*: the list the PCB is on */
};

/* Active and TIME-WAIT PCBs per local port. */
struct tb_port_page {
	u32_t n[TB_PAGE_PORTS];
	u32_t total;
};

struct tb_list {
	struct tcp_pcb **head;		/* &tcp_active_pcbs or &tcp_tw_pcbs */
	struct tcp_pcb *tail;		/* the oldest PCB, or NULL */
	u32_t count;			/* PCBs on the list, with or without a node */
};

struct tb_shard {
	struct tb_node **b;		/* buckets: tb_static or the shard heap */
	u32_t mask;
	struct tb_node **old;		/* while resizing: the previous array */
	u32_t old_mask;
	u32_t migrated;			/* old buckets below this are empty */
	u32_t entries;			/* nodes in the hash */
	u32_t grow_retry;		/* entries at which a failed doubling is retried */
	u32_t unindexed;		/* active/TIME-WAIT PCBs without a node */
	u64_t key[2];
	bool keyed;
	bool ports_lost;		/* a port page could not be allocated */
	bool audit;
	unsigned fail_nodes;
	struct tb_list active, tw;
	struct tcp_pcb *saved_active, *saved_tw;	/* real heads while detached */
	struct tcp_pcb *connecting;
	/* The 4-tuple tcp_input() is looking up and its hash, while valid
	 * (the segment being processed): a passive open registers that
	 * 4-tuple, which is then not hashed again. */
	struct {
		const ip_addr_t *local, *remote;
		u16_t lport, rport;
		u32_t hash;
		bool valid;
	} seg;
	struct tb_port_page *ports[65536 / TB_PAGE_PORTS];
	u32_t bound_map[65536 / 32];	/* ports of bound or listening PCBs */
	struct mlw_tcp_table_stats st;
};

/* The calling shard's table (tcp_table.c). */
extern _Thread_local struct tb_shard mlw__tb_s;
#define tb (&mlw__tb_s)

/* lwIP 2.2 renamed ip_addr_cmp to ip_addr_eq (keeping the old name). */
#define addr_eq(a, b)		ip_addr_cmp(a, b)
#define addr_eq_zoneless(a, b)	ip_addr_cmp_zoneless(a, b)

/* tcp_table.c */
bool mlw__tb_ready(void);
struct tb_node *mlw__tb_node_of(const struct tcp_pcb *pcb);
u8_t mlw__tb_tl_of(const struct tb_list *l);
u32_t mlw__tb_pcb_hash(const struct tcp_pcb *pcb);
void mlw__tb_detach(struct tcp_pcb *active, struct tcp_pcb *tw);
bool mlw__tb_matches(const struct tcp_pcb *pcb, const ip_addr_t *local, u16_t lport, const ip_addr_t *remote,
		     u16_t rport, u8_t idx, unsigned flags);
struct tcp_pcb *mlw__tb_walk_find(struct tcp_pcb *head, const ip_addr_t *local, u16_t lport,
				  const ip_addr_t *remote, u16_t rport, u8_t idx, unsigned flags, u64_t *steps);

/* tcp_table_ports.c: active and TIME-WAIT PCBs per local port (+1 or -1
 * as lwIP registers or removes one; pages of 256 ports allocated on first
 * use), and the ports of bound or listening PCBs. */
void mlw__tb_port_count(u16_t port, int d);
void mlw__tb_ports_release(void);
void mlw__tb_bound_add(u16_t port);
void mlw__tb_bound_remove(u16_t port);

/* tcp_table_check.c: what lwIP's own walks visit on the lists as they are
 * now (the audit). */
u64_t mlw__tb_audit_input(const ip_addr_t *dst, u16_t dport, const ip_addr_t *src, u16_t sport, u8_t idx);
u64_t mlw__tb_audit_bind(const struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port);

#endif
