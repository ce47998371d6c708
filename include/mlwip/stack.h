/* mlwip/stack.h - the stack object: shards on DPDK ports, their run loop, start/stop and per-shard stats. */
#ifndef MLWIP_STACK_H
#define MLWIP_STACK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mlwip/alloc.h"
#include "mlwip/export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mlw_stack;
struct mlw_config;

/** Counters of one shard. A running shard publishes them about every
 * 100 ms; after mlw_stack_run() returns they are final. */
struct mlw_shard_stats {
	uint64_t rx_pkts, rx_bytes;	/**< frames taken from the shard's RX queues */
	uint64_t tx_pkts, tx_bytes;	/**< frames handed to the port */
	uint64_t rx_drops;		/**< frames dropped on input (no memory, no such port);
					     bad checksums are counted in rx_cksum_drops */
	uint64_t rx_copied;		/**< frames copied into the shard heap because lwIP
					     already held MLW_RX_ZC_MAX (4000) received mbufs
					     (unread data): keeps the mbuf pool for the ports */
	uint64_t tx_drops;		/**< frames dropped on output (port or pool full) */
	uint64_t fwd_out;		/**< frames this shard received but another owns: forwarded */
	uint64_t fwd_in;		/**< frames other shards forwarded to this one */
	uint64_t fwd_drops;		/**< forwards lost: the owner's ring stayed full for
					     10 ms (see fwd_held), or ARP/ND copies that did
					     not fit */
	uint64_t fanout;		/**< ARP/ND frames copied to the other shards */
	uint64_t tcp_active_opens;	/**< lwIP MIB-II tcpActiveOpens */
	uint64_t tcp_passive_opens;	/**< lwIP MIB-II tcpPassiveOpens: SYNs that made a
					     PCB in SYN-RECEIVED (tcp_half_open) plus the
					     connections valid SYN cookies made
					     (syncookies_ok); see tcp_accepts */
	uint64_t tcp_resets;		/**< lwIP MIB-II tcpOutRsts */
	uint64_t tcp_retrans;		/**< lwIP's MIB-II tcpRetransSegs as mlwip counts it:
					     data segments sent again, tcp_fast_retrans +
					     tcp_rto_retrans */
	uint64_t tcp_tw_reused;		/**< TIME-WAIT PCBs dropped so that an outgoing
					     connection could reuse their 4-tuple (no local port
					     was free for that remote address and port) */
	uint64_t tcp_tw_dropped;	/**< TIME-WAIT PCBs dropped early: more than
					     [stack] max_time_wait */
	uint64_t loops, idle_loops;	/**< run-loop passes, and those that found no work */
	struct mlw_alloc_stats alloc;	/**< the shard heap (lwIP's memory); alloc.failures
					     counts allocations refused, e.g. at heap_limit_mb */
	int alloc_fini_rc;		/**< after stop: 0, or -EBUSY if memory was still in use */
	uint64_t rx_cksum_drops;	/**< received frames dropped for a wrong IPv4, TCP, UDP,
					     ICMP or ICMPv6 checksum: marked bad by the port, or
					     found wrong by lwIP (never with checksum = trust) */
	uint64_t rx_acks_coalesced;	/**< received pure ACKs not given to lwIP because a later
					     ACK of the same connection in the same burst
					     acknowledged more (also counted in rx_pkts) */
	uint64_t rx_tcp_opts_cut;	/**< received TCP segments whose options were cut at a
					     malformed option (as Linux stops parsing there)
					     or had an option of the wrong length hidden */
	uint64_t rx_tcp_noack_drops;	/**< received TCP segments without ACK, RST or SYN
					     dropped in SYN_RCVD or a synchronized state
					     (RFC 9293 3.10.7.4) */
	uint64_t rx_nd_drops;		/**< IPv6 neighbour discovery messages dropped: an
					     option of length 0 or past the end, fragmented,
					     invalid for duplicate address detection, a
					     multicast solicited NA (RFC 4861 7.1, RFC 6980) */
	uint64_t tx_tcp_rst_replies;	/**< resets sent in reply to a received segment in
					     RFC 9293's form (no ACK after a segment with
					     ACK, else sequence number 0) */
	uint64_t rx_tcp_tw_syn_reopens;	/**< SYNs for a 4-tuple in TIME-WAIT that ended it and
					     opened a new connection on the listener, as
					     Linux (sequence number or timestamp newer
					     than the old connection's, RFC 6191) */
	uint64_t rx_tcp_tw_rst_kills;	/**< resets that ended a TIME-WAIT (sequence number
					     as expected; Linux's net.ipv4.tcp_rfc1337 = 0) */
	uint64_t syncookies_sent;	/**< SYN-ACKs sent with a SYN cookie (a listener's
					     half-open queue was full; [stack] syncookies) */
	uint64_t syncookies_ok;		/**< ACKs with a valid cookie: connections made */
	uint64_t syncookies_failed;	/**< ACKs for a listener with an invalid or expired
					     cookie (answered with a reset, as Linux) */
	uint64_t syn_drops;		/**< SYNs dropped at a full half-open queue
					     (syncookies = 0), valid cookies dropped (the
					     listener's count full), or no memory for either */
	uint64_t tcp_conns;		/**< now: TCP connections past SYN-SENT/SYN-RECEIVED
					     and not yet in TIME-WAIT or closed (lwIP's
					     active list, SYN-SENT/RECEIVED included) */
	uint64_t tcp_time_wait;		/**< now: connections in TIME-WAIT (compact records
					     and whole PCBs), at most [stack] max_time_wait */
	uint64_t fds_closed_at_stop;	/**< after stop: descriptors the application left open
					     (sockets, listeners, UDP, epoll instances) that
					     the stop closed after its fini (also logged as
					     "shard N: closed K descriptors the application
					     left open") */
	/* [limits] (mlwip/limits.h): packets each limit dropped. */
	uint64_t lim_nd6_queue_drops;	/**< IPv6 packets dropped: ND queue at [limits] nd6_queue */
	uint64_t lim_arp_queue_drops;	/**< IPv4 packets dropped: ARP queue at [limits] arp_queue */
	uint64_t lim_reass_drops;	/**< datagrams in reassembly dropped: at [limits]
					     reass_datagrams */
	uint64_t lim_ooseq_drops;	/**< out-of-order queues cut at [limits] ooseq_pbufs or
					     ooseq_bytes */
	uint64_t tcp_accepts;		/**< connections handed to a listener's accept
					     callback (the socket layer's accept queue, or a
					     raw-API application's): handshakes completed on a
					     half-open PCB, and connections made by a valid
					     SYN cookie */
	uint64_t tcp_half_open;		/**< SYNs that made a half-open connection (a PCB in
					     SYN-RECEIVED, counted whether or not the
					     handshake completes); SYN cookies make none */
	uint64_t tcp_fast_retrans;	/**< segments retransmitted before their timeout:
					     lwIP's fast retransmit after three duplicate
					     ACKs, and loss recovery's (SACK/RACK, NewReno
					     partial ACKs, loss probes;
					     lwip-port/tcp_recovery.c) */
	uint64_t tcp_rto_retrans;	/**< data segments sent again after a retransmission
					     timeout: the oldest one, and the go-back-N
					     resends that follow it in slow start */
	uint64_t tcp_rto_timeouts;	/**< retransmission timeouts that resent something
					     (data, or a SYN, SYN-ACK or FIN alone) */
	uint64_t fwd_held;		/**< frames for another shard whose ring was full:
					     held and sent on a later pass, while this shard
					     stopped reading its RX queues (backpressure);
					     held more than 10 ms, they are dropped and
					     counted in fwd_drops */
};

/**
 * Function run on every shard thread (F-Stack/Seastar style). @p init runs
 * once after the shard's lwIP instance and netifs are up, before the run
 * loop; use lwIP's raw API there (listen, connect). A non-zero return stops
 * the whole stack.
 */
typedef int (*mlw_shard_init_fn)(unsigned shard_id, void *arg);

/**
 * Function run on every shard thread when the stack stops, after the shard
 * aborted its remaining connections (their tcp_err callbacks have run) and
 * before it closes its listeners and frees lwIP's memory: release
 * application state kept outside lwIP (e.g. lwiperf_abort() for a listener)
 * and close the descriptors it keeps. Descriptors still open after fini
 * are closed by the stack, which logs how many ("shard N: closed K
 * descriptors the application left open").
 */
typedef void (*mlw_shard_fini_fn)(unsigned shard_id, void *arg);

/**
 * Create a stack from a validated configuration: initialise DPDK's EAL with
 * the configured arguments (plus the shard cores), open every configured
 * port with one RX/TX queue pair per shard, and allocate per-shard memory on
 * each shard's NUMA node. Nothing runs yet. Each shard applies the
 * configuration's heap_limit_mb to its heap and max_sockets to its
 * descriptor table when it starts. One stack per process (DPDK's
 * EAL can be initialised once).
 *
 * @return 0, or -errno with a message in @p err: -EINVAL bad configuration;
 *   -EALREADY a stack already exists in this process; -ENODEV a configured
 *   port does not exist; -EIO DPDK refused the EAL or port setup; -ENOMEM.
 */
MLW_EXPORT int mlw_stack_create(struct mlw_stack **out, const struct mlw_config *cfg,
				char *err, size_t errlen);

/**
 * mlw_config_load_file() + mlw_stack_create(): the usual start of a program.
 * On failure @p err holds one line naming the file, line, section and key
 * (configuration errors) or the stack's own message.
 *
 * @return 0, or the negative errno of whichever step failed.
 */
MLW_EXPORT int mlw_stack_create_from_file(struct mlw_stack **out, const char *path,
					  char *err, size_t errlen);

/**
 * Run every shard until mlw_stack_stop(). Shard 0 runs on the calling
 * thread (which must be the one that created the stack: DPDK's main lcore),
 * the others on their pinned cores. @p init and @p fini (either may be NULL)
 * run on each shard thread with @p arg. A shard that starts after the stack
 * began stopping (another shard failed to start, or mlw_stack_stop() came
 * first) runs neither; otherwise fini runs after the loop wherever init ran,
 * also when init failed. On stop each shard aborts its connections, runs
 * fini, closes every descriptor the application left open (counted in
 * mlw_shard_stats.fds_closed_at_stop and logged on stderr), removes its
 * netifs, frees lwIP's memory and records whether its heap ended empty
 * (mlw_shard_stats.alloc_fini_rc).
 *
 * @return 0, or the first failure: the first non-zero value an init
 *   function returned; -EBUSY a shard's lcore was busy (the application
 *   had launched work on it) so the shard could not be started; a negative
 *   errno from a shard's heap set-up; -EINVAL @p st is NULL or the calling
 *   thread is not DPDK's main lcore; -EALREADY if the stack already ran.
 */
MLW_EXPORT int mlw_stack_run(struct mlw_stack *st, mlw_shard_init_fn init,
			     mlw_shard_fini_fn fini, void *arg);

/**
 * Start the stack without giving up the calling thread (mTCP style): shards
 * 1..n-1 start on their cores and run @p init / @p fini as under
 * mlw_stack_run(); the calling thread becomes shard 0, with its lwIP
 * instance and netifs up, but runs no loop and no @p init: it is the
 * application. It makes socket calls and drives the shard with
 * mlw_shard_poll() (or mlw_epoll_wait() and blocking calls, which run the
 * loop themselves) until mlw_stack_detach(). Must be called by the thread
 * that created the stack (DPDK's main lcore).
 *
 * @return 0, or -EINVAL @p st is NULL or the calling thread is not DPDK's
 *   main lcore; -EALREADY the stack already ran or is attached; -EBUSY a
 *   shard's lcore was busy; a negative errno from shard 0's heap or netif
 *   set-up. On failure every shard has stopped again.
 */
MLW_EXPORT int mlw_stack_attach(struct mlw_stack *st, mlw_shard_init_fn init,
				mlw_shard_fini_fn fini, void *arg);

/**
 * Stop an attached stack from its shard 0 thread: shard 0 aborts its
 * connections and frees lwIP's memory (close its descriptors first, e.g.
 * with mlw_socket_close_all(); the stop closes those left open and logs
 * their count, as mlw_stack_run()'s stop does), the other shards
 * stop as under mlw_stack_stop(). Then mlw_stack_destroy() may follow.
 *
 * @return 0, or the first non-zero value another shard's init returned;
 *   -EINVAL not called on shard 0 of @p st.
 */
MLW_EXPORT int mlw_stack_detach(struct mlw_stack *st);

/**
 * mlw_stack_attach() without starting shards 1..n-1: the calling thread
 * becomes shard 0, and each other shard waits for a thread of the program
 * to attach it with mlw_stack_attach_shard() (several threads each owning
 * a shard, e.g. a server with one listener per thread). Frames steered to
 * a shard no thread attached wait in its queue.
 *
 * @return as mlw_stack_attach().
 */
MLW_EXPORT int mlw_stack_attach_threads(struct mlw_stack *st);

/**
 * Make the calling thread shard @p shard (1..n-1) of a stack started with
 * mlw_stack_attach_threads(), as mlw_stack_attach() makes its caller
 * shard 0: lwIP instance and netifs up, no loop of its own.
 *
 * @return 0, or -EINVAL bad @p st or @p shard, or the stack is not
 *   attached; -EPERM the calling thread is an EAL lcore, DPDK's interrupt
 *   thread, or already a shard; -EBUSY another thread runs that shard; a
 *   negative errno from the shard's heap or netif set-up.
 */
MLW_EXPORT int mlw_stack_attach_shard(struct mlw_stack *st, unsigned shard);

/**
 * The calling thread stops being its shard (attached by
 * mlw_stack_attach_shard(), or shard 0 of mlw_stack_attach_threads()
 * while others still run): its connections are aborted and its lwIP
 * memory freed (close its descriptors first); the other shards go on.
 *
 * @return 0, or -EINVAL the calling thread is not a shard of @p st.
 */
MLW_EXPORT int mlw_stack_detach_shard(struct mlw_stack *st);

/** Ask every shard to stop. Async-signal-safe; callable from any thread. */
MLW_EXPORT void mlw_stack_stop(struct mlw_stack *st);

/** Number of shards. */
MLW_EXPORT unsigned mlw_stack_nshards(const struct mlw_stack *st);

/**
 * Copy the last published counters of @p shard into @p out.
 * @return 0, or -EINVAL for a bad shard or NULL pointers.
 */
MLW_EXPORT int mlw_stack_stats(const struct mlw_stack *st, unsigned shard,
			       struct mlw_shard_stats *out);

/** Counters of one inter-shard ring: the frames shard @c from received
 * that shard @c to owns (or ARP/ND copies for it), written by @c from. */
struct mlw_ring_stats {
	uint64_t sent;			/**< frames put on the ring */
	uint64_t dropped;		/**< frames lost because the ring was full */
	uint32_t peak;			/**< most frames waiting on it at once, seen at a
					     send (how close it came to dropping) */
	uint32_t size;			/**< frames it holds ([stack] ring_size) */
};

/**
 * Copy the last published counters of the ring from shard @p from to shard
 * @p to (published with the shard counters, about every 100 ms).
 * @return 0, or -EINVAL for NULL pointers, a shard out of range or
 *   @p from == @p to (a shard has no ring to itself).
 */
MLW_EXPORT int mlw_stack_ring_stats(const struct mlw_stack *st, unsigned from, unsigned to,
				    struct mlw_ring_stats *out);

/** Print every shard's counters as a table, then the tables of lwIP's
 * queue limits and of the inter-shard rings that carried frames. */
MLW_EXPORT void mlw_stack_print_stats(const struct mlw_stack *st, FILE *f);

/**
 * After mlw_stack_run() returned: report, on @p f (may be NULL), every shard
 * whose heap did not end empty (bytes and objects still in use).
 * @return the number of such shards (0: every heap ended empty).
 */
MLW_EXPORT unsigned mlw_stack_check_heaps(const struct mlw_stack *st, FILE *f);

/** Close the ports and free the stack (after mlw_stack_run returned). */
MLW_EXPORT void mlw_stack_destroy(struct mlw_stack *st);

/**
 * Run one pass of the calling shard's loop: receive (own queues and frames
 * other shards forwarded), lwIP timers when due, transmit. For code that
 * runs its own loop on a shard thread (an init function that does not
 * return until the stack stops; blocking socket calls).
 *
 * @return frames handled (>= 0), or -EPERM off a shard thread.
 */
MLW_EXPORT int mlw_shard_poll(void);

/**
 * Descriptors (sockets and epoll instances) the calling shard may have open
 * at once: [stack] max_sockets of its configuration. The socket calls fail
 * with EMFILE beyond it.
 * @return the limit (>= 1), or -EPERM off a shard thread.
 */
MLW_EXPORT int mlw_shard_max_sockets(void);

/**
 * The receive window and send-buffer limit a new TCP socket of the calling
 * shard starts with ([stack] tcp_rcvbuf, tcp_sndbuf), in bytes; 0 means
 * lwIP's compile-time maximum.
 * @return 0, or -EPERM off a shard thread.
 */
MLW_EXPORT int mlw_shard_tcp_bufs(uint32_t *rcvbuf, uint32_t *sndbuf);

/** 1 once mlw_stack_stop() was called, 0 before; -EPERM off a shard thread. */
MLW_EXPORT int mlw_shard_stopping(void);

/** The calling thread's shard id, or -1 if it is not a shard thread. */
MLW_EXPORT int mlw_shard_id(void);

struct tcp_pcb;
/**
 * RSS-aware active open for lwIP's raw API: bind @p pcb (a struct tcp_pcb
 * of the calling shard) to a local port of [stack] local_ports whose
 * 4-tuple with @p raddr_be:@p rport_be (IPv4, network byte order) no
 * connection uses and whose replies hash to this shard (the port may serve
 * connections to other remote endpoints). Then call tcp_connect() to that
 * same endpoint as usual. tcp_connect() on an unbound PCB makes the same
 * choice by itself on a shard thread.
 *
 * @return 0, or -EADDRNOTAVAIL no such port is free; -ENETUNREACH no route
 *   to the remote address; -EPERM not called on a shard thread; -EINVAL bad
 *   arguments.
 */
MLW_EXPORT int mlw_tcp_bind_rss_v4(struct tcp_pcb *pcb, uint32_t raddr_be, uint16_t rport_be);

#ifdef __cplusplus
}
#endif

#endif /* MLWIP_STACK_H */
