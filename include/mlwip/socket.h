/* mlwip/socket.h - BSD-style sockets on the calling shard's lwIP instance (TCP and UDP, IPv4 and IPv6).
 *
 * The calls mirror POSIX: they take the system's struct sockaddr,
 * sockaddr_in and sockaddr_in6, AF_*, SOCK_*, SOL_*, SO_*, TCP_*, MSG_*
 * values and return -1 with errno set exactly where Linux would. They are
 * separate functions, never macros over the POSIX names: the same process
 * still uses kernel sockets.
 *
 * Every call must be made on a shard thread (inside the init function given
 * to mlw_stack_run(), or code it calls); off a shard thread they fail with
 * EPERM. A descriptor belongs to the shard that created it: its number
 * encodes that shard (fd >> MLW_FD_SHARD_SHIFT), and another shard using it
 * gets EBADF. Descriptors are not kernel file descriptors.
 *
 * Blocking mode (the default) never stalls the shard: a call that would
 * block runs the shard loop (mlw_shard_poll()) until it can complete, and
 * fails with EINTR once the stack is stopping. There is no SIGPIPE: writing
 * to a connection that cannot send fails with EPIPE.
 *
 * Output is batched: data written in one loop pass is handed to TCP once,
 * when the socket layer next runs the loop (mlw_epoll_wait(), a blocking
 * call, or mlw_socket_flush()). Code that drives mlw_shard_poll() itself
 * calls mlw_socket_flush() before each pass.
 *
 * UDP sockets keep message boundaries: each receive returns one datagram,
 * truncated to the buffer (the rest is discarded, as on Linux); at most
 * 512 datagrams or 1 MiB wait per socket, later ones are dropped. A
 * datagram is sent when the call returns (no batching).
 *
 * Limits, per shard: at most [stack] max_sockets descriptors (sockets and
 * epoll instances) are open at once; one more fails with EMFILE, checked
 * before anything is allocated. [stack] heap_limit_mb caps the shard heap,
 * where lwIP and the socket layer take all their memory. When it is
 * exhausted, calls that need memory fail as Linux's do under memory
 * pressure: mlw_socket() and mlw_epoll_create1() with ENOMEM,
 * mlw_connect() with ENOBUFS, a non-blocking mlw_send() with EAGAIN (a
 * blocking one waits); lwIP drops what it cannot store (a SYN finds no
 * PCB, a segment no buffer) and the peer retransmits; a connection whose
 * handshake completes while no socket can be allocated for it is reset.
 * Existing connections keep their state and resume as memory is freed
 * (data read, sockets closed). The shard's counters (mlw_shard_stats.alloc)
 * count the refused allocations.
 *
 * SO_RCVTIMEO (recv, accept) and SO_SNDTIMEO (send, connect) bound how long
 * a blocking call runs the loop: EAGAIN when the time runs out (connect:
 * EINPROGRESS, the handshake goes on), or the bytes moved so far.
 *
 * AF_INET6 sockets are dual-stack unless IPV6_V6ONLY is set before they
 * are bound (then an IPv4 and an IPv6-only socket may share a port).
 *
 * ICMP/ICMPv6 destination unreachable: a connected UDP socket gets Linux's
 * hard errors (port unreachable: ECONNREFUSED) once, from the next recv,
 * send (nothing is sent) or SO_ERROR, and EPOLLERR until then; unconnected
 * sockets and soft errors (host unreachable, fragmentation needed) are not
 * reported, as on Linux without IP_RECVERR. A TCP connect still in
 * SYN_SENT fails with the error an ICMP message quoting its SYN carries
 * (EHOSTUNREACH, ENETUNREACH, ECONNREFUSED, ...); established connections
 * ignore ICMP errors.
 *
 * Arguments are checked as Linux checks them, in its order: a NULL buffer
 * is EFAULT only where Linux would copy through it (a receive with data
 * queued, TCP keeping the data and UDP dropping the datagram unless
 * MSG_PEEK; a send with buffer space), never for 0 bytes; a length is cut
 * to Linux's MAX_RW_COUNT (2^31 - 4096); read, write, readv and writev
 * (file calls on Linux) give EFAULT for a range past the end of user
 * space (x86-64, 4-level page tables), 0 for an empty read, and EINVAL on
 * an epoll descriptor; address and name lengths outside 0..128 are
 * EINVAL; MSG_* flags Linux ignores are ignored. Writing through a bad
 * non-NULL pointer is undefined, as in any library.
 *
 * Not yet provided: ancillary data (control messages), IP_RECVERR, urgent
 * data (MSG_OOB: recv EINVAL as on Linux with none pending, TCP send
 * EOPNOTSUPP), UDP corking (MSG_MORE: EOPNOTSUPP).
 */
#ifndef MLWIP_SOCKET_H
#define MLWIP_SOCKET_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "mlwip/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A descriptor is (shard << MLW_FD_SHARD_SHIFT) | index: 20 bits of
 * index, so 64 shards keep descriptors below 2^26. */
#define MLW_FD_SHARD_SHIFT 20
/** Most descriptors (sockets and epoll instances) one shard can have open:
 * the largest [stack] max_sockets, and its default. */
#define MLW_FD_MAX_PER_SHARD (1 << MLW_FD_SHARD_SHIFT)

/**
 * Create a socket on the calling shard.
 *
 * @param domain AF_INET or AF_INET6 (dual-stack: IPv4 peers appear as
 *   v4-mapped addresses).
 * @param type SOCK_STREAM or SOCK_DGRAM, optionally or-ed with
 *   SOCK_NONBLOCK and SOCK_CLOEXEC (accepted, meaningless here).
 * @param protocol 0, or IPPROTO_TCP / IPPROTO_UDP matching @p type.
 * @return the descriptor, or -1 with errno: EAFNOSUPPORT other domain;
 *   EINVAL unknown type flags (checked first), a type above 10 or a
 *   protocol outside 0..IPPROTO_MAX-1; EPROTONOSUPPORT other protocol;
 *   ESOCKTNOSUPPORT other type; EMFILE the shard has max_sockets
 *   descriptors open; ENOMEM the shard heap is exhausted; EPERM not on a
 *   shard thread.
 */
MLW_EXPORT int mlw_socket(int domain, int type, int protocol);

/**
 * Bind to a local address and port (port 0: an ephemeral one).
 * @return 0, or -1 with errno: EBADF; ENOTSOCK @p fd is an epoll instance;
 *   EINVAL already bound, @p addrlen too small, negative or over 128;
 *   EFAULT @p addr NULL with @p addrlen > 0; EAFNOSUPPORT address family
 *   does not match the socket's; EADDRNOTAVAIL not an address of this host;
 *   EADDRINUSE port taken; EPERM not on a shard thread.
 */
MLW_EXPORT int mlw_bind(int fd, const struct sockaddr *addr, socklen_t addrlen);

/**
 * Listen for connections. An unbound socket gets an ephemeral port. Each
 * shard has its own lwIP, so every shard may listen on the same port (as
 * with SO_REUSEPORT); steering hands each connection to one of them.
 * @param backlog as on Linux, backlog + 1 completed connections wait for
 *   mlw_accept() (negative counts as 0, at most 255); while they do, new
 *   SYNs are dropped and the peer retries.
 * @return 0, or -1 with errno: EBADF; ENOTSOCK; EINVAL connected or
 *   connecting; EOPNOTSUPP a UDP socket; EADDRINUSE; ENOMEM; EPERM.
 */
MLW_EXPORT int mlw_listen(int fd, int backlog);

/**
 * Take a completed connection from a listening socket. @p addr/@p addrlen
 * (both may be NULL) receive the peer's address, truncated to *addrlen,
 * with *addrlen set to the full size.
 * @return the new descriptor, or -1 with errno: EAGAIN non-blocking and
 *   none pending; EINVAL not listening, bad @p flags (accept4); EFAULT
 *   @p addr given with @p addrlen NULL, EINVAL *@p addrlen negative (as
 *   Linux, the connection was taken and is closed again); EOPNOTSUPP
 *   a UDP socket; EMFILE the shard has max_sockets descriptors open (as on
 *   Linux also when none is pending, before waiting); ENOMEM the
 *   descriptor table could not grow; after EMFILE and ENOMEM a pending
 *   connection stays queued;
 *   EBADF; ENOTSOCK; EINTR the stack is stopping (blocking); EPERM.
 */
MLW_EXPORT int mlw_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
/** mlw_accept() with SOCK_NONBLOCK / SOCK_CLOEXEC in @p flags. */
MLW_EXPORT int mlw_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);

/**
 * Connect to a peer. The local port (unless bound) is chosen so that the
 * peer's replies are steered to this shard.
 * After a non-blocking connect, calling again gives EALREADY while the
 * handshake runs, then 0 once (connected) or the error (failed; later
 * ECONNABORTED if SO_ERROR took it), then EISCONN; a socket whose attempt
 * failed may connect again, as on Linux.
 * @return 0, or -1 with errno: EINPROGRESS non-blocking, the result comes
 *   later (EPOLLOUT, then SO_ERROR); EALREADY a connect is in progress;
 *   EISCONN already connected, or listening; ECONNREFUSED the peer
 *   answered with RST;
 *   ETIMEDOUT no answer; ENETUNREACH no route; EADDRNOTAVAIL no local port
 *   free; EAFNOSUPPORT family mismatch; EINVAL bad length (also negative
 *   or over 128); EFAULT @p addr NULL with @p addrlen > 0;
 *   ECONNABORTED see above; ENOBUFS no memory for the connection or its
 *   SYN (as Linux's tcp_connect()); EINTR stack stopping (blocking);
 *   EBADF; ENOTSOCK; EPERM.
 *   UDP: sets the default destination and accepts datagrams only from it
 *   (binding an ephemeral port if unbound); AF_UNSPEC dissolves it.
 */
MLW_EXPORT int mlw_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);

/**
 * Receive up to @p len bytes. The receive window opens only as data is read.
 * A zero-length recv waits for data like any other (Linux's tcp_recvmsg).
 * @param flags MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL (blocking: until @p len
 *   bytes, end of stream, an error or SO_RCVTIMEO), MSG_TRUNC (TCP: the
 *   bytes are discarded, not copied); MSG_OOB fails with EINVAL (no urgent
 *   data), MSG_ERRQUEUE with EAGAIN (empty); others are ignored, as Linux.
 * @return bytes read, 0 at end of stream (peer's FIN, shutdown(SHUT_RD), or
 *   after an error was reported), or -1 with errno: EAGAIN non-blocking and
 *   nothing to read; ECONNRESET / ETIMEDOUT the connection failed (reported
 *   once); ENOTCONN not connected; EFAULT @p buf NULL with data to copy
 *   (the data stays queued); EINTR stack stopping (blocking); EBADF;
 *   ENOTSOCK; EPERM.
 */
MLW_EXPORT ssize_t mlw_recv(int fd, void *buf, size_t len, int flags);
/** mlw_recv() with no flags, as read(2): 0 at once for @p len 0; EFAULT
 * a range past user space; EINVAL @p fd is an epoll instance. */
MLW_EXPORT ssize_t mlw_read(int fd, void *buf, size_t len);

/**
 * UDP receive: one datagram per call, truncated to @p len (the rest is
 * discarded). @p addr/@p addrlen (may be NULL) receive its source, as
 * mlw_accept() fills addresses. For TCP this is mlw_recv() and *addrlen is
 * set to 0, as on Linux.
 * @param flags MSG_DONTWAIT, MSG_PEEK, and for UDP MSG_TRUNC (return the
 *   datagram's full length even when it was truncated).
 * @return bytes (UDP: of the datagram, 0 for an empty one), or -1 with
 *   errno as mlw_recv(): EAGAIN no datagram and non-blocking; EFAULT
 *   @p buf NULL and a non-empty datagram (dropped unless MSG_PEEK);
 *   after the data was taken, EFAULT @p addr given with @p addrlen NULL
 *   and EINVAL *@p addrlen negative (as Linux); EINTR; EBADF; ENOTSOCK;
 *   EPERM.
 */
MLW_EXPORT ssize_t mlw_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
				socklen_t *addrlen);

/**
 * Read into @p iovcnt buffers in order. TCP: returns once what is queued
 * is copied (blocking only while nothing is); UDP: one datagram spread over
 * the buffers, truncated to their total size.
 * @return bytes read, 0 at end of stream, or -1 with errno as mlw_recv(),
 *   plus EINVAL @p iovcnt < 0 or > IOV_MAX, or a length over SSIZE_MAX,
 *   or @p fd an epoll instance; EFAULT @p iov NULL, a base NULL that data
 *   would be copied to, or a range past user space (one vector: after
 *   cutting it to MAX_RW_COUNT). 0 at once when the lengths are all 0.
 */
MLW_EXPORT ssize_t mlw_readv(int fd, const struct iovec *iov, int iovcnt);

/**
 * Send bytes. Non-blocking: as many as the send buffer takes; blocking: all
 * of them (running the loop while the buffer is full). Memory counts like
 * buffer space: when the shard heap is exhausted the call takes what fits,
 * then gives EAGAIN or waits, as Linux's send does under memory pressure;
 * it never fails with ENOMEM.
 * @param flags MSG_DONTWAIT, MSG_NOSIGNAL (no effect: there is no SIGPIPE),
 *   MSG_MORE; MSG_OOB fails with EOPNOTSUPP; others are ignored, as Linux.
 * @return bytes accepted, or -1 with errno: EAGAIN send buffer full or
 *   shard heap exhausted (EPOLLOUT reports space); EPIPE after shutdown(SHUT_WR), after the
 *   connection failed and the error was reported, or never connected;
 *   ECONNRESET / ETIMEDOUT the connection failed (reported once);
 *   EFAULT @p buf NULL with @p len > 0 (once the state allows a copy:
 *   EPIPE and EAGAIN come first); EINTR stack stopping (blocking); EBADF;
 *   ENOTSOCK; EPERM.
 */
MLW_EXPORT ssize_t mlw_send(int fd, const void *buf, size_t len, int flags);
/** mlw_send() with no flags, as write(2): EFAULT a range past user space;
 * EINVAL @p fd is an epoll instance. */
MLW_EXPORT ssize_t mlw_write(int fd, const void *buf, size_t len);

/**
 * UDP send: one datagram of @p len bytes to @p addr (NULL: the connected
 * destination), handed to lwIP at once. An unbound socket gets an ephemeral
 * port. For TCP the address is ignored and this is mlw_send().
 * @param flags MSG_DONTWAIT, MSG_NOSIGNAL (no effect); MSG_MORE and, to an
 *   IPv4 destination, MSG_OOB fail with EOPNOTSUPP; others are ignored.
 * @return @p len, or -1 with errno: EDESTADDRREQ no address and not
 *   connected; EMSGSIZE more than 65507 bytes; EAFNOSUPPORT / EINVAL bad
 *   address (also port 0, @p addrlen negative or over 128 (TCP too));
 *   EFAULT @p buf NULL with @p len > 0; ENETUNREACH no route; ENOBUFS no
 *   memory for the datagram; EPIPE after shutdown(SHUT_WR); EBADF;
 *   ENOTSOCK; EPERM. TCP: as mlw_send().
 */
MLW_EXPORT ssize_t mlw_sendto(int fd, const void *buf, size_t len, int flags,
			      const struct sockaddr *addr, socklen_t addrlen);

/**
 * Write @p iovcnt buffers in order. TCP: as mlw_send() of each in turn; a
 * short write (non-blocking, buffer full) ends the call. UDP: one datagram
 * made of all of them.
 * @return bytes accepted, or -1 with errno as mlw_send() / mlw_sendto(),
 *   plus EINVAL and EFAULT as mlw_readv() (a NULL base with a length
 *   faults the whole call: nothing is sent, as Linux copies a segment of
 *   the vectors at once).
 */
MLW_EXPORT ssize_t mlw_writev(int fd, const struct iovec *iov, int iovcnt);

/**
 * Receive into msg->msg_iov (as mlw_readv() for TCP, one datagram for UDP)
 * with @p flags as mlw_recv() / mlw_recvfrom(). Sets msg->msg_flags
 * (MSG_TRUNC: a datagram was longer than the buffers, the rest was
 * discarded), msg->msg_namelen when msg->msg_name is given (the UDP source
 * as mlw_recvfrom() fills it; 0 for TCP, as Linux; untouched without a
 * name buffer) and msg->msg_controllen = 0 (no ancillary data is ever
 * delivered).
 * @return bytes received (UDP with MSG_TRUNC in @p flags: the datagram's
 *   length), 0 at end of stream, or -1 with errno as mlw_recv(), plus
 *   EMSGSIZE more than IOV_MAX vectors; EINVAL bad lengths, msg_namelen
 *   negative; EFAULT NULL (@p msg, msg_iov, a base data would go to).
 */
MLW_EXPORT ssize_t mlw_recvmsg(int fd, struct msghdr *msg, int flags);

/**
 * Send msg->msg_iov: TCP as mlw_writev() (msg_name ignored, as
 * mlw_sendto()), UDP one datagram to msg_name, or to the connected peer
 * when msg_name is NULL. @p flags as mlw_send().
 * @return bytes accepted, or -1 with errno as mlw_send() / mlw_sendto(),
 *   plus EMSGSIZE more than IOV_MAX vectors; EOPNOTSUPP ancillary data
 *   (msg_controllen != 0: not supported; Linux would take SOL_SOCKET
 *   control messages; before that, as Linux, ENOBUFS over INT_MAX and
 *   EFAULT msg_control NULL); EINVAL (also msg_namelen negative; over 128
 *   is cut to 128); EFAULT.
 */
MLW_EXPORT ssize_t mlw_sendmsg(int fd, const struct msghdr *msg, int flags);

/**
 * Close a descriptor (socket or epoll instance); it leaves every epoll set.
 * A connection is closed gracefully (FIN after queued data), or reset (RST)
 * if unread data remains or SO_LINGER is on with a zero timeout. A linger
 * timeout > 0 does not block.
 * @return 0, or -1 with errno EBADF; EPERM.
 */
MLW_EXPORT int mlw_close(int fd);

/**
 * Shut down one or both directions. SHUT_WR sends FIN after queued data;
 * reading continues. SHUT_RD makes reads return 0 once buffered data is
 * read.
 * @return 0, or -1 with errno: EINVAL bad @p how; ENOTCONN not connected
 *   (UDP: no default destination); EBADF; ENOTSOCK; EPERM.
 */
MLW_EXPORT int mlw_shutdown(int fd, int how);

/**
 * Set an option. SOL_SOCKET: SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE,
 * SO_LINGER, SO_RCVTIMEO, SO_SNDTIMEO (struct timeval; EDOM for tv_usec
 * outside 0..999999; a time too long for 64-bit microseconds waits for
 * ever and reads back as 0, as Linux's beyond MAX_SCHEDULE_TIMEOUT), SO_RCVBUF, SO_SNDBUF (accepted; lwIP's buffers are
 * fixed). IPPROTO_IPV6 (AF_INET6 sockets): IPV6_V6ONLY (EINVAL once bound).
 * IPPROTO_TCP: TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT,
 * TCP_SYNCNT (1..127 SYN retransmissions before connect fails with
 * ETIMEDOUT; default 6, as Linux's tcp_syn_retries; lwIP resends a SYN
 * every 3 s, Linux backs off from 1 s), TCP_MAXSEG (88..32767, 0 clears:
 * caps the segments sent; the MSS announced in the SYN stays lwIP's TCP_MSS).
 * Options set on a listening socket are inherited by accepted ones.
 * @return 0, or -1 with errno: ENOPROTOOPT unknown level or option (also
 *   read-only ones: SO_ERROR, SO_TYPE, SO_ACCEPTCONN); EINVAL @p optlen too
 *   small or negative (checked before @p optval) or value out of range;
 *   EFAULT @p optval NULL; EBADF; ENOTSOCK;
 *   EPERM.
 */
MLW_EXPORT int mlw_setsockopt(int fd, int level, int optname, const void *optval,
			      socklen_t optlen);

/**
 * Get an option: those of mlw_setsockopt() plus SO_ERROR (returns and
 * clears the pending error), SO_TYPE, SO_ACCEPTCONN, TCP_MAXSEG. Values are
 * truncated to *optlen, which is set to the size written.
 * @return 0, or -1 with errno: ENOPROTOOPT unknown; EINVAL *optlen < 0;
 *   EFAULT NULL pointers; EBADF; ENOTSOCK; EPERM.
 */
MLW_EXPORT int mlw_getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen);

/**
 * Local address of a socket (the wildcard and port 0 if unbound), truncated
 * to *addrlen, which is set to the full size.
 * @return 0, or -1 with errno: EFAULT NULL pointers; EBADF; ENOTSOCK; EPERM.
 */
MLW_EXPORT int mlw_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen);

/**
 * Peer address of a connected socket, as mlw_getsockname().
 * @return 0, or -1 with errno: ENOTCONN; EFAULT; EBADF; ENOTSOCK; EPERM.
 */
MLW_EXPORT int mlw_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen);

/**
 * F_GETFL (O_RDWR, plus O_NONBLOCK when set), F_SETFL (only O_NONBLOCK is
 * taken from the argument), F_GETFD / F_SETFD (0, ignored).
 * @return as fcntl(2), or -1 with errno: EINVAL other commands; EBADF; EPERM.
 */
MLW_EXPORT int mlw_fcntl(int fd, int cmd, ...);

/**
 * FIONREAD (int *: bytes readable now) and FIONBIO (int *: non-zero sets
 * non-blocking mode).
 * @return 0, or -1 with errno: EINVAL FIONREAD on a listening socket;
 *   EFAULT NULL argument; ENOTTY other requests; EBADF; EPERM.
 */
MLW_EXPORT int mlw_ioctl(int fd, unsigned long request, ...);

/**
 * Hand data written since the last loop pass to TCP (tcp_output once per
 * socket). mlw_epoll_wait() and blocking calls do this themselves; call it
 * before mlw_shard_poll() in a loop of your own.
 * @return sockets flushed (>= 0), or -1 with errno EPERM.
 */
MLW_EXPORT int mlw_socket_flush(void);

/**
 * Close every descriptor of the calling shard (connections are reset).
 * The stack's stop calls it after the shard's fini function for whatever
 * is still open and logs the count ("shard N: closed K descriptors the
 * application left open"); an application that closes its own first sees
 * no such line.
 * @return descriptors closed (>= 0), or -1 with errno EPERM.
 */
MLW_EXPORT int mlw_socket_close_all(void);

#ifdef __cplusplus
}
#endif

#endif /* MLWIP_SOCKET_H */
