/* lwipopts.h - lwIP configuration of one mlwip shard: raw API, no OS, server-sized TCP. */
#ifndef MLW_LWIPOPTS_H
#define MLW_LWIPOPTS_H

#include <stddef.h>
#include <stdint.h>

/* ---- System: one lwIP instance per shard thread, no lwIP threads. ---- */
#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            0
#define LWIP_NETCONN                    0
#define LWIP_SOCKET                     0
#define LWIP_TIMERS                     1
#define LWIP_ERRNO_STDINCLUDE           1
/* The C library's htons() & co. are used; lwIP's own macros would clash with
 * <arpa/inet.h>, which DPDK's headers include. lwIP uses lwip_htons(). */
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1
/* In lwIP 2.1.3 and 2.2.1 this only exports the timeout list and
 * lwip_cyclic_timer() (timeouts.c), which shard teardown needs to free every
 * timeout (lwip-port/teardown.c), and in 2.2.1 netif_get_loopif() (netif.c).
 * It changes no protocol behaviour. */
#define LWIP_TESTMODE                   1

/* ---- Memory: every lwIP allocation goes to the shard's own allocator
 * (lwip-port/mem_hooks.c -> sharding/alloc.c). Pools are not used, so the
 * MEMP_NUM_* limits do not apply; memory is bounded by the shard heap. ---- */
#define MEMP_MEM_MALLOC                 1
#define MEM_ALIGNMENT                   8
void *mlw__lwip_malloc(size_t size);
void *mlw__lwip_calloc(size_t n, size_t size);
void mlw__lwip_free(void *ptr);
/* lwIP 2.2 replaced 2.1's mem_clib_* names with MEM_CUSTOM_ALLOCATOR, and its
 * opt.h now maps MEM_LIBC_MALLOC=1 to plain malloc/free/calloc, which would
 * silently bypass the shard heap. lwip/acd.h is new in 2.2.0 and nothing
 * older has it: lwipopts.h cannot include lwip/init.h for the version (that
 * includes opt.h, which includes this file), so its presence decides. Both
 * settings are checked against init.h's LWIP_VERSION in mem_hooks.c. */
#if __has_include("lwip/acd.h")
#define MEM_LIBC_MALLOC                 0
#define MEM_CUSTOM_ALLOCATOR            1
#define MEM_CUSTOM_MALLOC               mlw__lwip_malloc
#define MEM_CUSTOM_CALLOC               mlw__lwip_calloc
#define MEM_CUSTOM_FREE                 mlw__lwip_free
#else
#define MEM_LIBC_MALLOC                 1
#define mem_clib_malloc                 mlw__lwip_malloc
#define mem_clib_calloc                 mlw__lwip_calloc
#define mem_clib_free                   mlw__lwip_free
#endif

/* ---- Queue limits a peer must not lift (lwip-port/limits.c, [limits] in
 * the INI file, mlwip/limits.h): with MEMP_MEM_MALLOC the MEMP_NUM_* pool
 * sizes no longer bound anything, so each queue a peer can fill gets a
 * per-shard limit. The ARP queue and reassembly datagrams are refused in
 * limits.c's memp_malloc wrap (and the ND queue on lwIP 2.1.3); these
 * names are read by lwIP itself at run time. MEMP_NUM_REASSDATA is used
 * only in init.c's #if sanity check (an unknown name is 0 there, as
 * IP_REASS_MAX_PBUFS is), the pool size being unused with MEMP_MEM_MALLOC. ---- */
struct tcp_pcb;
extern _Thread_local uint16_t mlw__lim_reass_pbufs;
uint32_t mlw__nd6_queue_room(void);
uint16_t mlw__tcp_ooseq_pbufs_limit(const struct tcp_pcb *pcb);
uint32_t mlw__tcp_ooseq_bytes_limit(const struct tcp_pcb *pcb);
#define MEMP_NUM_ND6_QUEUE              mlw__nd6_queue_room()	/* lwIP 2.2 only */
#define IP_REASS_MAX_PBUFS              mlw__lim_reass_pbufs
#define MEMP_NUM_REASSDATA              mlw__lim_reass_datagrams_unused
#define TCP_OOSEQ_PBUFS_LIMIT(pcb)      mlw__tcp_ooseq_pbufs_limit(pcb)
#define TCP_OOSEQ_BYTES_LIMIT(pcb)      mlw__tcp_ooseq_bytes_limit(pcb)

/* ---- Zero-copy RX: pbufs over NIC buffers. ---- */
#define LWIP_SUPPORT_CUSTOM_PBUF        1
#define PBUF_POOL_BUFSIZE               1536

/* ---- Protocols. ---- */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       1
#define LWIP_ARP                        1
#define LWIP_ETHERNET                   1
#define LWIP_ICMP                       1
#define LWIP_ICMP6                      1
#define LWIP_IPV6_MLD                   1
#define LWIP_IPV6_AUTOCONFIG            1
#define LWIP_RAW                        0
#define LWIP_UDP                        1
#define LWIP_TCP                        1
#define LWIP_DHCP                       0
#define LWIP_AUTOIP                     0
#define LWIP_IGMP                       0
#define LWIP_DNS                        0
#define ARP_TABLE_SIZE                  64
#define ARP_QUEUEING                    1
#define LWIP_ND6_NUM_NEIGHBORS          64
#define LWIP_ND6_NUM_DESTINATIONS       64
#define LWIP_NUM_NETIF_CLIENT_DATA      2
/* Traffic to the shard's own addresses is looped back inside lwIP and
 * delivered by netif_poll_all() in the run loop, as a kernel's loopback
 * would (the socket tests use it). */
#define LWIP_NETIF_LOOPBACK             1

/* IPv6 fragments: on 64-bit targets the reassembly header does not fit in
 * the fragment's own IPv6 header, so lwIP must copy it. */
#if UINTPTR_MAX > 0xffffffffu
#define IPV6_FRAG_COPYHEADER            1
#endif

/* ---- Checksums: per netif, so a port with checksum offload skips the
 * software checksum and a virtual device without it does not. ---- */
#define LWIP_CHECKSUM_CTRL_PER_NETIF    1
/* Not summed while tcp_write copies: that sum is taken whatever the netif,
 * and a port that offloads checksums or a trusted link ([portN] checksum =
 * trust) needs none. tcp_output sums each segment once instead, only where
 * the netif asks for it; the bytes are still in cache then. */
#define LWIP_CHECKSUM_ON_COPY           0
/* lwip-port/chksum.c: 64-bit adds instead of lwIP's 16-bit ones. */
uint16_t mlw__lwip_chksum(const void *data, int len);
#define LWIP_CHKSUM                     mlw__lwip_chksum

/* ---- TCP, sized for 10 Gbit/s+ flows.
 * Bandwidth-delay product: 10 Gbit/s x 1 ms RTT = 1.25 MB. A 2 MiB window
 * covers 10 Gbit/s up to ~1.7 ms RTT (16 Gbit/s at 1 ms). With window
 * scaling shift 6 the largest advertisable window is 0xffff << 6 = 4 MiB.
 * 6 is the smallest shift that covers TCP_WND (0xffff << 5 is 32 bytes
 * short of 2 MiB), so the window is announced to 64 bytes. Linux uses 7
 * because its buffers reach 6 MiB (tcp_rmem); mlwip's window never
 * exceeds TCP_WND, and a larger shift would only make it coarser.
 * Buffers are limits, not reservations: a connection only holds memory for
 * data in flight or unread, taken from the shard heap on demand. ---- */
#define TCP_MSS                         1460
#define LWIP_WND_SCALE                  1
#define TCP_RCV_SCALE                   6
#define TCP_WND                         (2 * 1024 * 1024)
#define TCP_SND_BUF                     (2 * 1024 * 1024)
/* Segments in the send queue: at least 2 x SND_BUF/MSS (lwIP's sanity
 * check); 4 x leaves room for writes smaller than one MSS. Must fit u16_t. */
#define TCP_SND_QUEUELEN                (4 * TCP_SND_BUF / TCP_MSS)
/* Writable threshold reported to the application; lwIP requires it below
 * 0xffff - 4 * MSS. */
#define TCP_SNDLOWAT                    32768
#define TCP_OVERSIZE                    TCP_MSS
#define TCP_QUEUE_OOSEQ                 1
#define TCP_LISTEN_BACKLOG              1
#define TCP_DEFAULT_LISTEN_BACKLOG      0xff
#define LWIP_TCP_KEEPALIVE              1

/* ---- TCP timers (lwip-port/tcp_timer.c): each connection's own deadline
 * on a 1 ms wheel instead of lwIP's walk over every connection every
 * 250/500 ms. lwIP's tick (TCP_SLOW_INTERVAL = 2 x TCP_TMR_INTERVAL = 4 ms)
 * is then only the unit of its RTT estimate and of pcb->tmr: the RTT is
 * measured to 4 ms, the RTO and keepalive are due to the millisecond. The
 * values are Linux's (net/tcp.h: TCP_TIMEOUT_INIT, TCP_RTO_MIN,
 * TCP_RTO_MAX, TCP_DELACK_MIN, TCP_TIMEWAIT_LEN, tcp_fin_timeout). ---- */
#define TCP_TMR_INTERVAL                2
#define LWIP_TCP_RTO_TIME               1000	/* lwIP 2.2: initial RTO, ms */
#define MLW_TCP_RTO_INIT_MS             1000	/* both lwIP versions */
#define MLW_TCP_RTO_MIN_MS              200
#define MLW_TCP_RTO_MAX_MS              120000
#define MLW_TCP_DELACK_MS               30	/* Linux: 40 ms at least */
#define TCP_MSL                         30000	/* TIME-WAIT and LAST-ACK: 2 MSL = 60 s */
#define MLW_TCP_FIN_WAIT_MS             60000	/* orphaned FIN-WAIT-2 (lwIP: 20 s) */
/* Loss recovery (tcp_recovery.c): the probe timeout (RACK reordering
 * timeout / tail loss probe) is 2 x SRTT plus this (Linux: 2 ms), plus
 * MLW_TCP_REC_DELACK_MS with one segment in flight (not a FIN), doubling
 * per probe; probes before the RTO takes over. */
#define MLW_TCP_REC_PTO_MIN_MS          2
#define MLW_TCP_REC_DELACK_MS           40	/* Linux's minimum delayed ACK */
#define MLW_TCP_REC_PROBES              4
/* RACK's reordering timer when a segment below a SACKed one waits: an
 * RTT plus a quarter of it, at least this. */
#define MLW_TCP_REC_REO_MIN_MS          1
/* Ext arg slots: the timer node (tcp_timer.c), the connection table's
 * node (tcp_table.c), the loss-recovery node (tcp_recovery.c, only for
 * connections that saw SACK blocks or duplicate ACKs), one left for an
 * application. */
#define LWIP_TCP_PCB_NUM_EXT_ARGS       4
#define SO_REUSE                        1
/* RFC 7323 timestamps and RFC 2018 selective acknowledgements, as Linux
 * (net.ipv4.tcp_timestamps = 1, tcp_sack = 1): every SYN offers both, a
 * SYN-ACK answers what the peer's SYN offered (lwIP 2.1.3 and 2.2.1 alike;
 * tests/semantics/test_tcp_options.c compares the wire with Linux).
 *
 * Timestamps, once both SYNs carried them: every data segment and pure
 * ACK carries TSval = sys_now() (ms) and TSecr = ts_recent, the TSval of
 * the peer's segment at the left edge of the window (taken only when
 * SEG.SEQ <= Last.ACK.sent <= SEG.SEQ + SEG.LEN, so an out-of-order
 * segment's is not echoed, RFC 7323 4.3). The 12 option bytes count
 * against the MSS: data segments carry tcp_mss() = MSS - 12 = 1448 bytes,
 * as Linux's. What lwIP lacks, next to Linux: no PAWS (RFC 7323 5: a
 * segment with an older TSval is not rejected, and ts_recent may go back);
 * TSecr is never read, so the RTT is still lwIP's one timed segment per
 * round trip (Karn), in 500 ms ticks, not RTTM; keepalive and zero-window
 * probes go without the option (RFC 7323 3.2 asks for it in every
 * non-RST segment; Linux accepts segments without it); TSval has no
 * per-connection random offset (Linux adds one, RFC 7323 7.1), so a peer
 * reads the host's CLOCK_MONOTONIC in milliseconds.
 *
 * SACK in lwIP is the receiver's half only. With out-of-order data queued
 * (TCP_QUEUE_OOSEQ) lwIP answers at once with a pure ACK carrying the
 * ranges it holds, newest first (RFC 2018 4), as many as fit in the 40
 * option bytes: 4 without timestamps, 3 with (tcp_get_num_sacks), Linux's
 * numbers; data segments never carry SACK blocks. LWIP_TCP_MAX_SACK_NUM is
 * also how many ranges a PCB remembers (8 bytes each): 4, as Linux's
 * selective_acks[4]. The sender's half is missing: lwIP ignores the SACK
 * blocks it receives (tcp_parseopt skips kind 5) and recovers as NewReno
 * (fast retransmit after three duplicate ACKs, one hole per round trip):
 * no RFC 6675 scoreboard, no RACK-TLP, no D-SACK. mlwip's ACK coalescing
 * (dpdk-netif/netif.c) never frees an ACK whose SACK blocks the newer one
 * does not repeat or cover. */
#define LWIP_TCP_SACK_OUT               1
#define LWIP_TCP_MAX_SACK_NUM           4
#define LWIP_TCP_TIMESTAMPS             1

/* ---- Hooks: RFC 6528 initial sequence numbers (lwip-port/isn.c). ---- */
#define LWIP_HOOK_FILENAME              "mlw_lwip_hooks.h"

/* ---- Statistics: protocol counters per shard (the globals are made
 * thread-local by the derivation); memory counters come from the shard
 * allocator instead of MEM/MEMP stats. ---- */
#define LWIP_STATS                      1
#define LWIP_STATS_DISPLAY              0
#define MIB2_STATS                      1
#define MEM_STATS                       0
#define MEMP_STATS                      0
#define SYS_STATS                       0

#endif /* MLW_LWIPOPTS_H */
