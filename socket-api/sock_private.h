/* sock_private.h - the socket layer's internal objects: descriptors, TCP and UDP sockets, epoll entries. */
#ifndef MLW_SOCK_PRIVATE_H
#define MLW_SOCK_PRIVATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "list_private.h"

enum mlw__kind { MLW__KIND_TCP = 1, MLW__KIND_EPOLL, MLW__KIND_UDP };

/* What every descriptor table slot points to. */
struct mlw__file {
	int kind;	/* enum mlw__kind */
	int fd;		/* -1 while a socket waits in an accept queue */
};

enum mlw__tcp_state {
	MLW__S_NEW,		/* fresh PCB, not bound */
	MLW__S_BOUND,
	MLW__S_LISTEN,
	MLW__S_CONNECTING,	/* SYN sent */
	MLW__S_CONNECTED,
	MLW__S_CLOSED,		/* PCB gone (reset, timeout) */
};

struct mlw__epitem;
struct mlw__dgram;

/* A TCP or UDP socket (f.kind). A TCP PCB's callback argument points here
 * until close; a UDP socket uses upcb and the datagram queue instead of
 * pcb and the byte queue.
 *
 * The fields a request/response touches (lwIP's recv and sent callbacks,
 * epoll notification, read, write, the end-of-pass flush) come first and
 * fit in the first 128 bytes: with 10^4 connections and more, each
 * connection's objects are out of cache by the time its next segment
 * comes, and every cache line a transaction touches is a miss. Options and
 * listener/UDP state follow. */
struct mlw__sock {
	/* ---- hot: bytes 0-63 ---- */
	struct mlw__file f;
	struct tcp_pcb *pcb;	/* NULL once lwIP freed it (err callback) */
	uint8_t state;		/* enum mlw__tcp_state */
	bool nonblock;
	bool rd_eof;		/* peer's FIN received (or connection gone) */
	bool rd_shut;		/* shutdown(SHUT_RD) */
	bool wr_shut;		/* shutdown(SHUT_WR), or connection gone */
	bool cork;		/* TCP_CORK: partial segments wait in cork_buf */
	bool ack_held;		/* the flush left its delayed ACK for one pass (fd.c) */
	uint16_t cork_len;	/* bytes held in cork_buf */
	int so_error;		/* pending error (errno value), 0 if none */
	/* SO_SNDBUF / SO_RCVBUF as getsockopt reports them (twice the value
	 * set, as Linux); 0: the default. What the connection may use is
	 * half of it (see opt.c). */
	uint32_t sndbuf;
	uint32_t rx_off;	/* bytes of rxh already read (< its len, a u16_t) */
	/* Receive queue: lwIP's pbufs linked through ->next, as delivered.
	 * Their tot_len fields are not maintained (u16_t would overflow with
	 * a window above 64 KiB): rx_bytes is the truth. */
	struct pbuf *rxh, *rxt;
	size_t rx_bytes;	/* unread bytes in the queue */

	/* ---- hot: bytes 64-127 ---- */
	struct mlw__list watch;		/* epoll entries watching this socket */
	struct mlw__list dirty_link;	/* on the shard's dirty list when linked */
	uint32_t rcvbuf;
	/* SO_RCVBUF below lwIP's window: rcv_cut bytes are kept off the
	 * PCB's window, rcv_held of them still to take (from the next reads'
	 * tcp_recved) because the window was smaller than the cut. */
	uint32_t rcv_cut, rcv_held;
	uint32_t user_timeout_ms;	/* TCP_USER_TIMEOUT; 0: lwIP's retransmission limit */
	struct mlw__list retry_link;	/* on its retry list (tcp_output said ERR_MEM) */

	/* ---- the rest ---- */
	int family;		/* AF_INET or AF_INET6 */
	bool connect_pending;	/* non-blocking connect said EINPROGRESS (Linux's SS_CONNECTING) */
	bool was_connected;	/* connect succeeded or accepted (Linux's SS_CONNECTED) */
	bool nodelay, keepalive, reuse;
	bool linger_on;
	bool v6only;		/* IPV6_V6ONLY (AF_INET6 only) */
	bool quickack_off;	/* TCP_QUICKACK set to 0 (recorded, see opt.c) */
	uint8_t syn_cnt;	/* TCP_SYNCNT; 0: lwIP's TCP_SYNMAXRTX */
	uint16_t user_mss;	/* TCP_MAXSEG set by the user; 0: none */
	int linger_sec;
	uint32_t keep_idle_ms, keep_intvl_ms, keep_cnt;	/* 0: lwIP's default */
	uint8_t *cork_buf;	/* TCP_MSS bytes from the shard heap, first corked send */
	uint32_t ut_start;	/* sys_now() when unacknowledged data was first seen, 0: none */
	uint32_t ut_lastack;	/* pcb->lastack at ut_start */
	uint64_t rcvtimeo_us, sndtimeo_us;	/* SO_RCVTIMEO/SO_SNDTIMEO; 0: forever */
	int abort_err;		/* errno for the err callback when we abort the PCB (0: lwIP's err) */
	/* The local address of an established connection, for getsockname
	 * once the PCB is gone (Linux keeps reporting it, too). */
	ip_addr_t name_ip;
	uint16_t name_port;	/* 0: none kept */

	/* Listening: completed connections, not yet accepted (a ring). */
	struct mlw__sock **acq;
	unsigned acq_cap, acq_head, acq_n;

	/* UDP: received datagrams, oldest first, bounded (see udp.c). */
	struct udp_pcb *upcb;
	struct mlw__dgram *dqh, *dqt;
	unsigned dq_n;
	size_t dq_bytes;
};

_Static_assert(offsetof(struct mlw__sock, rx_bytes) + sizeof(size_t) <= 64 &&
		       offsetof(struct mlw__sock, retry_link) + sizeof(struct mlw__list) <= 128,
	       "a socket's per-transaction fields fit its first two cache lines (64-bit)");

/* The fields every new socket starts with (the rest zero). */
static inline void mlw__sock_init(struct mlw__sock *s, int kind, int family)
{
	s->f.kind = kind;
	s->f.fd = -1;
	s->family = family;
	mlw__list_init(&s->watch);
}

/* Take the pending error, once (Linux's sock_error()): recv, send,
 * connect and SO_ERROR report it. */
static inline int mlw__sock_take_error(struct mlw__sock *s)
{
	int e = s->so_error;

	s->so_error = 0;
	return e;
}

/*
 * Per-shard state of the socket layer, on the shard heap. The descriptor
 * table (fd.c) is a directory of leaves of FD_LEAF_SLOTS slots, the
 * directory and the free-slot bitmaps sized for max_sockets when the
 * table is made, the leaves allocated as the numbers in use reach them.
 */
struct mlw__shard_socks {
	unsigned shard;
	unsigned max;		/* the shard's max_sockets */
	unsigned used;		/* open descriptors */
	unsigned levels;	/* bitmap levels, bits[0] the lowest */
	struct mlw__file ***leaf;	/* max_sockets / FD_LEAF_SLOTS, rounded up */
	/* bits[0]: a bit per descriptor number, set when taken (and for the
	 * numbers at or above max); bits[k]: a bit per word of bits[k - 1],
	 * set when that word is full. bits[levels - 1] is one word. */
	uint64_t *bits[4];
	struct mlw__list dirty;	/* written sockets, flushed once per pass */
	/* Sockets whose output the port refused, oldest first (see mlw__flush). */
	struct mlw__list retry;
};

static inline bool mlw__is_sock(const struct mlw__file *f)
{
	return f->kind == MLW__KIND_TCP || f->kind == MLW__KIND_UDP;
}

/* fd.c */
struct mlw__shard_socks *mlw__socks(bool create);
bool mlw__fd_full(void);
int mlw__fd_alloc(struct mlw__file *f);
void mlw__fd_release(int fd);
struct mlw__file *mlw__fd_get(int fd);
struct mlw__sock *mlw__sock_get(int fd);
int mlw__on_shard(void);
void mlw__mark_dirty(struct mlw__sock *s);
void mlw__undirty(struct mlw__sock *s);
int mlw__flush(void);
int mlw__loop_once(unsigned *idle);
/* The same, for a caller that waits until @p deadline_ns at the latest
 * (CLOCK_MONOTONIC nanoseconds, 0: none): with [stack] idle = interrupt an
 * idle pass may sleep until then (sharding/idle.c). */
int mlw__loop_once_until(unsigned *idle, uint64_t deadline_ns);
/* sharding/idle.c: sleep as [stack] idle = interrupt does; -1 under
 * another policy. */
int mlw__shard_idle(uint64_t deadline_ns);

/* io.c: blocking with SO_RCVTIMEO / SO_SNDTIMEO. mlw__deadline() turns a
 * timeout (0: none) into a deadline; mlw__wait_once() runs one loop pass
 * as mlw__loop_once(), or fails with EAGAIN once the deadline passed. */
uint64_t mlw__deadline(uint64_t timeo_us);
int mlw__wait_once(unsigned *idle, uint64_t deadline);

/* io.c: the buffer checks Linux makes. The end of user space (a range
 * reaching past it is EFAULT, as access_ok() has it; a NULL buffer faults
 * only when written or read): on x86-64 with 4-level page tables
 * TASK_SIZE_MAX; on arm64 TASK_SIZE with 48-bit addresses, where a
 * process's stack and mappings lie above x86-64's end; on 32-bit targets
 * (where it depends on the kernel's split) only the top of the address
 * range, so a range must just not wrap. */
#if defined(__x86_64__)
#define MLW__USER_TOP 0x00007ffffffff000ull
#elif defined(__aarch64__)
#define MLW__USER_TOP 0x0001000000000000ull
#else
#define MLW__USER_TOP ((uint64_t)UINTPTR_MAX)
#endif
/* Linux's MAX_RW_COUNT: what one read or write moves at most. */
#define MLW__MAX_RW_COUNT ((size_t)(INT_MAX & ~4095))
bool mlw__user_range_ok(const void *p, size_t len);
/* Would copying @p n bytes to or from the vectors touch a NULL base? */
bool mlw__iov_faults(const struct iovec *iov, int iovcnt, size_t n);

/* errno.c */
int mlw__errno_from_err(err_t err);
int mlw__errno_from_tcp_err(err_t err, bool connecting);

/* addr.c */
int mlw__sockaddr_to_ip(int family, const struct sockaddr *sa, socklen_t len, ip_addr_t *ip,
			u16_t *port);
/* The same for a socket: with IPV6_V6ONLY, :: is IPv6's wildcard only and
 * a v4-mapped address gives ENETUNREACH (callers that bind say EINVAL). */
int mlw__sock_addr(int family, bool v6only, const struct sockaddr *sa, socklen_t len,
		   ip_addr_t *ip, u16_t *port);
/* lwIP's address type for a new PCB of this socket. */
static inline u8_t mlw__pcb_type(int family, bool v6only)
{
	return family == AF_INET ? IPADDR_TYPE_V4 : v6only ? IPADDR_TYPE_V6 : IPADDR_TYPE_ANY;
}
void mlw__ip_to_sockaddr(int family, const ip_addr_t *ip, u16_t port, struct sockaddr *sa,
			 socklen_t *len);
/* Linux's move_addr_to_user: @p full bytes of @p ss to @p addr, truncated
 * to *@p len, and *@p len set to @p full. Returns 0 or an errno value:
 * EFAULT @p len NULL (or @p addr NULL with room), EINVAL *@p len < 0. */
int mlw__addr_to_user(const struct sockaddr_storage *ss, socklen_t full, struct sockaddr *addr,
		      socklen_t *len);
bool mlw__ip_is_local(const ip_addr_t *ip);

/* tcp.c */
void mlw__sock_free(struct mlw__sock *s, bool reset);
/* Start or stop lwIP's poll callback as TCP_SYNCNT/TCP_USER_TIMEOUT need. */
void mlw__tcp_poll_update(struct mlw__sock *s);

/* opt.c: the per-socket buffer limits (bytes the connection may use) and
 * TCP_CORK's held bytes. */
uint32_t mlw__sndbuf_limit(const struct mlw__sock *s);
uint32_t mlw__rcvbuf_limit(const struct mlw__sock *s);
/* Bytes tcp_write() may take within SO_SNDBUF (less what TCP_CORK holds). */
size_t mlw__tx_room(const struct mlw__sock *s);
/* TCP_CORK: full segments to tcp_write(), the tail held; sets *taken. */
err_t mlw__cork_write(struct mlw__sock *s, const void *buf, size_t len, size_t *taken);
/* Hand the held bytes to tcp_write (uncork, close, shutdown); ERR_MEM keeps them. */
err_t mlw__cork_flush(struct mlw__sock *s);
/* Apply SO_RCVBUF to an established connection's window (or a change of it). */
void mlw__rcv_limit(struct mlw__sock *s);
void mlw__rcv_limit_open(struct mlw__sock *s);	/* the same when established */
/* The application read @p n bytes: open the window by what SO_RCVBUF allows. */
void mlw__rcv_open(struct mlw__sock *s, size_t n);
bool mlw__sock_writable(const struct mlw__sock *s);

/* udp.c: the UDP half of the calls; the public functions dispatch here
 * for MLW__KIND_UDP and these set errno and return -1 as they do. */
int mlw__udp_socket(int domain, bool nonblock);
void mlw__udp_free(struct mlw__sock *s);
int mlw__udp_bind(struct mlw__sock *s, const struct sockaddr *addr, socklen_t len);
int mlw__udp_connect(struct mlw__sock *s, const struct sockaddr *addr, socklen_t len);
ssize_t mlw__udp_send(struct mlw__sock *s, const struct iovec *iov, int iovcnt, int flags,
		      const struct sockaddr *to, socklen_t tolen);
ssize_t mlw__udp_recv(struct mlw__sock *s, const struct iovec *iov, int iovcnt, int flags,
		      struct sockaddr *from, socklen_t *fromlen, int *msg_flags);
int mlw__udp_shutdown(struct mlw__sock *s, int how);
int mlw__udp_name(struct mlw__sock *s, bool peer, struct sockaddr *addr, socklen_t *len);
uint32_t mlw__udp_events(const struct mlw__sock *s);
int mlw__udp_fionread(const struct mlw__sock *s);

/* epoll.c */
uint32_t mlw__sock_events(const struct mlw__sock *s);
void mlw__sock_notify(struct mlw__sock *s);
void mlw__sock_unwatch(struct mlw__sock *s);
void mlw__epoll_free(struct mlw__file *f);

#endif /* MLW_SOCK_PRIVATE_H */
