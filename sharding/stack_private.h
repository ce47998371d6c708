/* stack_private.h - the stack and shard objects shared by stack.c, shard.c and steer.c (private). */
#ifndef MLW_STACK_PRIVATE_H
#define MLW_STACK_PRIVATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lwip/netif.h"

#if MLW_RT_DPDK
#include "../capture/capture_private.h"
#include "../dpdk-netif/dpdk_netif.h"
#else
/* Packet capture needs DPDK (rte_pcapng): no slot to test. */
struct mlw__cap_slot {
	int unused;
};
#endif
#include "frame.h"
#include "fwd_hold.h"
#include "mlwip/config.h"
#include "mlwip/flow.h"
#include "mlwip/stack.h"
#include "idle_private.h"
#include "mbuf_budget.h"
#include "port.h"
#include "runtime.h"

#define MLW_MAX_SHARDS_INTERNAL 64
#define MLW_MAX_PORTS_INTERNAL	8
_Static_assert(MLW_TX_BATCH + MLW_TX_ACKS <= MLW_CONFIG_TXQ_HELD, "pool sizing counts the TX buffers");
_Static_assert(MLW_MAX_SHARDS_INTERNAL <= MLW_MAX_SHARDS, "zero-copy counters per pool (dpdk-netif)");
_Static_assert(MLW_MAX_SHARDS_INTERNAL <= 128, "the default RSS table has a RETA entry for every shard");

/* Addresses of one port, as every shard configures its own netif. */
struct mlw__port_params {
	bool has_ipv4, has_ipv6, has_mac;
	uint32_t ip4, mask4, gw4;	/* network byte order */
	uint8_t ip6[16];
	uint8_t prefix6;
	uint8_t mac[6];
	uint16_t mtu;
	bool trust_checksums;	/* [portN] checksum = trust */
	enum mlw_engine engine;	/* [portN] engine */
	uint16_t dpdk_id;	/* engine dpdk: the DPDK port id (dpdk ports in order) */
	/* engine afpacket: [portN] iface, steer (ports unless hash), ring sizes (0: default) */
	char iface[MLW_CONFIG_IFACE_MAX];
	bool steer_ports;
	unsigned rx_block_size, rx_blocks, tx_frames;
};

/* Everything mlw_stack_create needs, taken from struct mlw_config. */
struct mlw__stack_params {
	unsigned nshards;
	unsigned cores[MLW_MAX_SHARDS_INTERNAL];	/* CPU of shard i; its EAL lcore id is i */
	unsigned nports;
	struct mlw__port_params ports[MLW_MAX_PORTS_INTERNAL];
	enum mlw_idle_policy idle;
	unsigned idle_sleep_us;
	unsigned idle_wait_ms;		/* idle = interrupt: longest sleep (idle.c) */
	unsigned burst;
	unsigned ring_size;		/* frames per inter-shard ring ([stack] ring_size) */
	unsigned syncookies, syn_backlog, syn_timeout_ms;	/* lwip-port/syn_cookie.c */
	unsigned max_sockets;		/* descriptors per shard (socket layer) */
	unsigned max_time_wait;		/* TIME-WAIT PCBs per shard (timewait.c) */
	unsigned tcp_rcvbuf, tcp_sndbuf;	/* a new TCP socket's window and send limit, 0: lwIP's */
	uint16_t port_lo, port_hi;	/* local ports of active opens (connect.c) */
	size_t heap_limit;		/* cap on each shard heap in bytes, 0: none */
	struct mlw_limits limits;	/* [limits]: lwIP's queues (lwip-port/limits.c) */
	unsigned rx_desc, tx_desc;	/* descriptors per queue */
	unsigned pool_mbufs;		/* mbufs per shard pool ([stack] mbufs or computed) */
	unsigned mbuf_cache;		/* per-lcore mempool cache */
	unsigned zc_own, zc_fwd;	/* zero-copy RX budget: own pool, each other shard's */
	struct mlw_config_argv eal;	/* argv points into it: never copy the struct */
	char lcores_arg[16 + 9 * MLW_MAX_SHARDS_INTERNAL];	/* "--lcores=0@c0,..." */
};

/* Counters other threads read: published by the shard with relaxed atomic
 * stores into their own cache lines, so readers never share a line with
 * the shard's hot fields. */
struct mlw__published {
	_Alignas(MLW_RT_CACHE_LINE) _Atomic uint64_t v[sizeof(struct mlw_shard_stats) / sizeof(uint64_t)];
	/* Per outbox ring (index: the receiving shard): struct mlw_ring_stats. */
	_Alignas(MLW_RT_CACHE_LINE) _Atomic uint64_t ring_sent[MLW_MAX_SHARDS_INTERNAL];
	_Atomic uint64_t ring_dropped[MLW_MAX_SHARDS_INTERNAL];
	_Atomic uint32_t ring_peak[MLW_MAX_SHARDS_INTERNAL];
};

/* The sender's own counters of its outbox[d] (shard.c forward, fan_out):
 * written by the sending shard only, published with the stats. */
struct mlw__ring_counts {
	uint64_t sent, dropped;
	uint32_t peak;
};

/* conns.c: one connection (or listener, UDP socket, TIME-WAIT record) of
 * a shard's listing. Addresses in network order, ports in host order. */
#define MLW_CONNS_MAX 4096	/* entries per listing: the rest is cut (truncated) */
enum { MLW_CONN_TCP = 6, MLW_CONN_UDP = 17 };
#define MLW_CONN_V6		0x01u	/* IPv6 addresses */
#define MLW_CONN_COMPACT	0x02u	/* a compact TIME-WAIT record (lwip-port/tcp_table_tw.c) */
#define MLW_CONN_SOCKET		0x04u	/* the socket layer's (recv_q from its queue) */
struct mlw__conn {
	uint8_t proto;		/* MLW_CONN_TCP / _UDP */
	uint8_t state;		/* TCP: lwIP's enum tcp_state; UDP: 0 */
	uint8_t flags;		/* MLW_CONN_* */
	uint8_t nrtx;		/* lwIP's retransmissions of the oldest segment */
	uint16_t lport, rport;
	uint32_t send_q;	/* bytes written and not yet acknowledged; LISTEN: backlog */
	uint32_t recv_q;	/* bytes received, not yet read; LISTEN: connections
				   waiting for accept() */
	uint8_t laddr[16], raddr[16];
};

/*
 * A listing asked of a shard (conns.c). A telemetry thread takes busy
 * (one request per shard at a time; telemetry threads only), bumps req
 * (release) and waits for done to reach it; the shard, at the end of a
 * loop pass, sees req != served, walks its lwIP lists into e[] and stores
 * done = req (release). The shard never waits and takes no lock.
 */
struct mlw__conns {
	_Alignas(MLW_RT_CACHE_LINE) atomic_uint req;
	atomic_int busy;
	_Alignas(MLW_RT_CACHE_LINE) atomic_uint done;
	unsigned served;	/* the shard's copy of the last req it answered */
	uint32_t n;
	bool truncated;
	struct mlw__conn *e;	/* MLW_CONNS_MAX, allocated at create on the shard's node */
};

struct mlw_shard {
	unsigned id;
	unsigned lcore;
	int node;
	struct mlw_stack *stack;
	mlw__frame_pool_t *pool;	/* frames the shard receives into (DPDK: mbufs) */
	/* inbox[s]: frames shard s forwarded to this shard (SPSC). */
	mlw__ring_t *inbox[MLW_MAX_SHARDS_INTERNAL];
	/* outbox[d] == shard d's inbox[this shard]. */
	mlw__ring_t *outbox[MLW_MAX_SHARDS_INTERNAL];
	struct mlw_txq txq[MLW_MAX_PORTS_INTERNAL];
	struct mlw_netif_state nst[MLW_MAX_PORTS_INTERNAL];
	struct netif netif[MLW_MAX_PORTS_INTERNAL];
	struct mlw_shard_stats stats;	/* written by the shard only */
	struct mlw__ring_counts ring[MLW_MAX_SHARDS_INTERNAL];	/* per outbox, by the shard only */
	/* Frames for a full outbox ring, waiting (fwd_hold.h); since hold_tsc. */
	struct mlw__fwd_hold hold;
	uint64_t hold_tsc;
	uint64_t tsc_hz, timer_tsc, last_publish_tsc;
	uint64_t tw_tsc;		/* last TIME-WAIT trim (timewait.c) */
	/* connect.c: RFC 6056 algorithm 4 (double-hash port selection): a
	 * keyed hash of the destination picks where its search starts and
	 * which counter of port_perturb moves it on. */
	uint64_t port_key[2];
	uint16_t port_perturb[256];
	bool port_keyed;
	bool neigh_responder;		/* answers ARP and ND for the shared addresses */
	/* Received frames the port marked with a bad checksum (dropped). */
	uint64_t rx_cksum_flagged;
	/* attach.c: a thread runs this shard (launched on its lcore, or a
	 * program thread attached); set once, by whoever claims it. */
	atomic_bool claimed;
	struct mlw__published pub;
	struct mlw__conns conns;
	/* Packet capture: off unless started (capture/); its own cache line. */
	struct mlw__cap_slot cap;
	struct mlw__idle idle;		/* idle = interrupt (idle.c) */
};

struct mlw_stack {
	struct mlw__stack_params p;
	struct mlw_rss rss;
	struct mlw_port ports[MLW_MAX_PORTS_INTERNAL];
	struct mlw_shard *shards[MLW_MAX_SHARDS_INTERNAL];
	struct mlw__stack_params *eal_params;	/* argv given to mlw__rt_init (the EAL's) */
	struct mlw__rt_threads threads;	/* shards 1..n-1 (runtime.h) */
	mlw_shard_init_fn init;
	mlw_shard_fini_fn fini;
	void *init_arg;
	/* Written by mlw_stack_stop (any thread, signal handlers), read by
	 * every shard each pass: relaxed is enough, the shards only need to
	 * see it eventually. */
	_Alignas(MLW_RT_CACHE_LINE) atomic_int stop;
	atomic_int init_rc;
	atomic_int ran;
	uint64_t create_tsc;		/* mlw__rt_ticks() at create: uptime (telemetry.c) */
	const struct rte_memzone *tel_mz;	/* telemetry.c: the stack's name for its callbacks */
	/* Packet capture's controller (capture/capture.c): [capture] and the
	 * telemetry commands start and stop it. */
	struct mlw__capture *capture;
	/* idle.c: mlw_stack_stop() calls writing the shards' eventfds now,
	 * and destroy's word that they are being closed. */
	atomic_int idle_wakers;
	atomic_int idle_closing;
};

#include "steer.h"

/* timewait.c */
unsigned mlw__tw_trim(struct mlw_shard *sh);

/* conns.c */
int mlw__conns_alloc(struct mlw_shard *sh);
void mlw__conns_free(struct mlw_shard *sh);
void mlw__conns_fill(struct mlw_shard *sh);
/* At the end of a loop pass: answer a pending listing request. */
static inline void mlw__conns_poll(struct mlw_shard *sh)
{
	if (unlikely(atomic_load_explicit(&sh->conns.req, memory_order_acquire) != sh->conns.served))
		mlw__conns_fill(sh);
}
/* Telemetry threads: ask shard @p sh for a new listing (@p snap == 0) or
 * take the one numbered @p snap again; wait up to @p timeout_ms. 0 with
 * *snap set and the buffer held (mlw__conns_release() after reading it),
 * or -EBUSY another reader holds it, -ETIMEDOUT the shard did not answer
 * (stopped, not started, stuck), -ESTALE @p snap was replaced, -ENOMEM no
 * buffer. */
int mlw__conns_take(struct mlw_shard *sh, unsigned *snap, unsigned timeout_ms);
void mlw__conns_release(struct mlw_shard *sh);

/* telemetry.c */
int mlw__telemetry_start(struct mlw_stack *st);
void mlw__telemetry_stop(struct mlw_stack *st);

/* shard.c */
int mlw__shard_main(void *arg);
void mlw__shard_publish(struct mlw_shard *sh);
int mlw__stack_launch_others(struct mlw_stack *st, bool claim);
int mlw__shard_attach(struct mlw_shard *sh);
struct mlw_shard *mlw__current_shard(void);
void mlw__shard_detach(struct mlw_shard *sh);

#endif /* MLW_STACK_PRIVATE_H */
