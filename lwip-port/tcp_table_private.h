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

enum { TL_NONE, TL_ACTIVE, TL_TW, TL_REC };

/* An entry of a hash chain: a PCB's node or a compact TIME-WAIT record. */
struct tb_hent {
	struct tb_hent *hnext, **hpprev;
	u32_t hash;
	u8_t list;			/* TL_*: the list the PCB is on, TL_REC for a record */
	u8_t held;			/* record: a PCB stands in for it (tcp_table_tw.c) */
};

struct tb_node {
	struct tb_hent h;
	struct tcp_pcb *pcb;
	struct tcp_pcb **pprev;		/* the pointer to pcb: list head or predecessor's ->next */
};

/*
 * A compact TIME-WAIT record (tcp_table_tw.c): what lwIP's TIME-WAIT input
 * and output read of a PCB, no more. 112 bytes with IPv4 and IPv6: with
 * its block header one 128-byte block of the shard heap. Addresses are
 * kept as 16 bytes each, with the type and zones beside the other bytes
 * (ip_addr_t would pad each to 20): mlw__tb_rec_addrs() rebuilds them.
 */
struct tb_rec {
	struct tb_hent h;
	struct tb_rec *newer, *older;	/* the FIFO, oldest first */
#if LWIP_IPV6
	u32_t laddr[4], raddr[4];	/* IPv4: the first word */
#else
	ip_addr_t local_ip, remote_ip;
#endif
	u32_t t_ms;			/* sys_now() when TIME-WAIT began or a FIN restarted it */
	u32_t rcv_nxt, snd_nxt;
#if LWIP_TCP_TIMESTAMPS
	u32_t ts_recent;		/* ts_lastacksent is rcv_nxt: TIME-WAIT's last ACK set it */
#endif
	tcpwnd_size_t rcv_wnd, rcv_ann_wnd;
	u16_t local_port, remote_port;
	tcpflags_t flags;
	u8_t netif_idx, ttl, tos, so_options, prio;
#if LWIP_WND_SCALE
	u8_t rcv_scale;
#endif
#if LWIP_IPV6
	u8_t v6;			/* IPADDR_TYPE_V6 addresses */
#if LWIP_IPV6_SCOPES
	u8_t lzone, rzone;
#endif
#endif
};

struct tb_recs {
	struct tb_rec *oldest, *newest;
	u32_t count;
	struct tb_rec *held;		/* the record a PCB stands in for, now */
	struct tcp_pcb *held_pcb;	/* that PCB; NULL once lwIP freed it */
	u32_t held_tmr;			/* the PCB's tmr as set */
	bool off;			/* compaction switched off (tests) */
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
	struct tb_hent **b;		/* buckets: tb_static or the shard heap */
	u32_t mask;
	struct tb_hent **old;		/* while resizing: the previous array */
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
	struct tb_recs rec;		/* compact TIME-WAIT records */
	struct tb_node walk_hit;	/* mlw__tb_find()'s answer from a walk */
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

struct tb_hent *mlw__tb_find(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote, u16_t rport,
			     u8_t idx, unsigned flags, bool *hashed, u32_t *hash);
void mlw__tb_hash_insert(struct tb_hent *e, u32_t hash);
void mlw__tb_hash_remove(struct tb_hent *e);
u32_t mlw__tb_tuple_hash(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote, u16_t rport);

/* tcp_table_tw.c: compact TIME-WAIT records. */
#define MLW_TB_REC	0x100u		/* find(): records too */
bool mlw__tb_rec_matches(const struct tb_rec *r, const ip_addr_t *local, u16_t lport, const ip_addr_t *remote,
			 u16_t rport, u8_t idx, unsigned flags);
struct tcp_pcb *mlw__tb_rec_hold(struct tb_rec *r);
void mlw__tb_rec_release(u8_t tcp_flags);
void mlw__tb_tw_after_input(void);
void mlw__tb_rec_free_all(void);
void mlw__tb_rec_addrs(const struct tb_rec *r, ip_addr_t *local, ip_addr_t *remote);
bool mlw__tb_rec_conflict(const struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port);

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
