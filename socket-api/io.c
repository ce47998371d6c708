/* io.c - the data path: TCP recv/read from the socket's pbuf queue (window opens as the application reads), send/write into tcp_write; the vector and address forms; UDP handed to udp.c.
 *
 * recv: copy from rxh.. -> free consumed pbufs -> tcp_recved (window update).
 * send: tcp_write(COPY) up to tcp_sndbuf -> mark dirty -> tcp_output at the
 *       next flush (mlw__flush), once per loop pass whatever the writes.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>

#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "mlwip/socket.h"
#include "sock_private.h"

#ifndef IOV_MAX
#define IOV_MAX 1024	/* Linux's UIO_MAXIOV; <limits.h> hides it without _XOPEN_SOURCE */
#endif
#define WRITE_CHUNK 0xfff0u	/* tcp_write() takes a u16_t length */
/* Segments kept free in the send queue: tcp_write() may need a few for one
 * call (one per MSS plus a partial one). */
#define QUEUE_RESERVE 4

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

uint64_t mlw__deadline(uint64_t timeo_us)
{
	return timeo_us == 0 ? 0 : now_ns() + timeo_us * 1000u;
}

int mlw__wait_once(unsigned *idle, uint64_t deadline)
{
	if (deadline != 0 && now_ns() >= deadline) {
		errno = EAGAIN;
		return -1;
	}
	return mlw__loop_once(idle);
}

static bool rx_ready(const struct mlw__sock *s)
{
	return s->rx_bytes > 0 || s->rd_eof || s->rd_shut || s->so_error != 0;
}

/* Copy up to @p len bytes out of the queue, starting @p skip bytes in
 * (only with @p peek: a consuming read always starts at the head);
 * consume them unless @p peek. */
static size_t rx_copy(struct mlw__sock *s, uint8_t *buf, size_t len, bool peek, size_t skip)
{
	struct pbuf *p = s->rxh;
	size_t off = s->rx_off, done = 0;

	while (p != NULL && skip > 0) {
		size_t n = p->len - off;

		if (n > skip) {
			off += skip;
			break;
		}
		skip -= n;
		p = p->next;
		off = 0;
	}
	while (p != NULL && done < len) {
		size_t n = p->len - off;

		if (n > len - done)
			n = len - done;
		memcpy(buf + done, (const uint8_t *)p->payload + off, n);
		done += n;
		off += n;
		if (off < p->len)
			break;
		p = p->next;
		off = 0;
		if (!peek) {
			struct pbuf *q = s->rxh;

			s->rxh = p;
			q->next = NULL;
			pbuf_free(q);
		}
	}
	if (peek)
		return done;
	if (s->rxh == NULL)
		s->rxt = NULL;
	s->rx_off = off;
	s->rx_bytes -= done;
	/* Open the window by what the application took (honest flow
	 * control: unread data keeps it closed), within SO_RCVBUF. */
	mlw__rcv_open(s, done);
	if (done > 0 && s->pcb != NULL)
		mlw__mark_dirty(s);
	return done;
}

ssize_t mlw_recv(int fd, void *buf, size_t len, int flags)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	uint64_t deadline = 0;
	unsigned idle = 0;
	bool nonblock;

	if (s == NULL)
		return -1;
	if (s->f.kind == MLW__KIND_UDP) {
		struct iovec iov = { buf, len };

		return mlw__udp_recv(s, &iov, 1, flags, NULL, NULL, NULL);
	}
	if (flags & ~(MSG_DONTWAIT | MSG_PEEK)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	/* A closed socket that is not at end of stream was disconnected by
	 * a failed blocking connect (see mlw_connect). */
	if ((s->state != MLW__S_CONNECTED && s->state != MLW__S_CONNECTING &&
	     s->state != MLW__S_CLOSED) ||
	    (s->state == MLW__S_CLOSED && !rx_ready(s))) {
		errno = ENOTCONN;
		return -1;
	}
	/* A zero-length read waits for readiness like any other, as Linux's
	 * tcp_recvmsg does (EAGAIN when non-blocking and nothing queued). */
	nonblock = s->nonblock || (flags & MSG_DONTWAIT);
	while (!rx_ready(s) || s->state == MLW__S_CONNECTING) {
		if (nonblock) {
			errno = EAGAIN;
			return -1;
		}
		if (deadline == 0)
			deadline = mlw__deadline(s->rcvtimeo_us);
		if (mlw__wait_once(&idle, deadline) < 0)
			return -1;
	}
	/* As Linux: queued data first, then the error (once), then EOF. */
	if (s->rx_bytes > 0)
		return (ssize_t)rx_copy(s, buf, len, (flags & MSG_PEEK) != 0, 0);
	if (s->so_error != 0) {
		errno = mlw__sock_take_error(s);
		return -1;
	}
	return 0;
}

ssize_t mlw_read(int fd, void *buf, size_t len)
{
	return mlw_recv(fd, buf, len, 0);
}

/* Bytes tcp_write() can take now (SO_SNDBUF: see opt.c). */
static size_t tx_room(const struct mlw__sock *s)
{
	if (s->pcb == NULL || tcp_sndqueuelen(s->pcb) + QUEUE_RESERVE >= TCP_SND_QUEUELEN)
		return 0;
	return mlw__tx_room(s);
}

ssize_t mlw_send(int fd, const void *buf, size_t len, int flags)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	const uint8_t *b = buf;
	uint64_t deadline = 0;
	unsigned idle = 0;
	size_t done = 0;
	bool nonblock;

	if (s == NULL)
		return -1;
	if (s->f.kind == MLW__KIND_UDP) {
		struct iovec iov = { (void *)(uintptr_t)buf, len };

		return mlw__udp_send(s, &iov, 1, flags, NULL, 0);
	}
	if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	nonblock = s->nonblock || (flags & MSG_DONTWAIT);
	for (;;) {
		size_t room;

		/* As Linux (tcp_sendmsg -> sk_stream_error): the pending
		 * error first, then EPIPE once the send side is shut or the
		 * socket never connected. */
		if (s->so_error != 0 && done == 0) {
			errno = mlw__sock_take_error(s);
			return -1;
		}
		if (s->wr_shut || s->pcb == NULL ||
		    (s->state != MLW__S_CONNECTED && s->state != MLW__S_CONNECTING)) {
			if (done > 0)
				break;
			errno = EPIPE;
			return -1;
		}
		if (done == len)
			break;
		room = s->state == MLW__S_CONNECTED ? tx_room(s) : 0;
		if (room > 0) {
			size_t n = len - done;
			u8_t wflags = TCP_WRITE_FLAG_COPY;
			err_t err;

			if (n > room)
				n = room;
			if (n > WRITE_CHUNK)
				n = WRITE_CHUNK;
			if (n < len - done || (flags & MSG_MORE))
				wflags |= TCP_WRITE_FLAG_MORE;
			/* TCP_USER_TIMEOUT's clock starts with the first
			 * byte outstanding (see tcp.c's on_poll). */
			if (s->user_timeout_ms != 0 && s->pcb->unacked == NULL &&
			    s->pcb->unsent == NULL) {
				s->ut_start = sys_now() | 1;
				s->ut_lastack = s->pcb->lastack;
			}
			if (s->cork) {
				size_t taken;

				err = mlw__cork_write(s, b + done, n, &taken);
				if (err == ERR_OK) {
					done += taken;
					continue;
				}
			} else {
				if (s->cork_len != 0)
					err = mlw__cork_flush(s);	/* uncorked: held bytes first */
				else
					err = ERR_OK;
				if (err == ERR_OK)
					err = tcp_write(s->pcb, b + done, (u16_t)n, wflags);
				if (err == ERR_OK) {
					done += n;
					mlw__mark_dirty(s);
					continue;
				}
			}
			if (err != ERR_MEM) {
				if (done > 0)
					break;
				errno = mlw__errno_from_err(err);
				return -1;
			}
			/* ERR_MEM: the queue or the shard heap is full. Like a
			 * full buffer, as Linux's tcp_sendmsg() waits for
			 * memory (EAGAIN when non-blocking), even with nothing
			 * in flight: memory comes back as sockets are read or
			 * closed. */
		}
		if (nonblock) {
			if (done > 0)
				break;
			errno = EAGAIN;
			return -1;
		}
		if (deadline == 0)
			deadline = mlw__deadline(s->sndtimeo_us);
		if (mlw__wait_once(&idle, deadline) < 0) {
			if (done > 0)
				break;
			return -1;
		}
	}
	return (ssize_t)done;
}

ssize_t mlw_write(int fd, const void *buf, size_t len)
{
	return mlw_send(fd, buf, len, 0);
}

ssize_t mlw_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
		     socklen_t *addrlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	ssize_t n;

	if (s == NULL)
		return -1;
	if (s->f.kind == MLW__KIND_UDP) {
		struct iovec iov = { buf, len };

		return mlw__udp_recv(s, &iov, 1, flags, addr, addrlen, NULL);
	}
	n = mlw_recv(fd, buf, len, flags);
	/* TCP reports no source address, as Linux (address length 0). */
	if (n >= 0 && addr != NULL && addrlen != NULL)
		*addrlen = 0;
	return n;
}

ssize_t mlw_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
		   socklen_t addrlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);

	if (s == NULL)
		return -1;
	if (s->f.kind == MLW__KIND_UDP) {
		struct iovec iov = { (void *)(uintptr_t)buf, len };

		return mlw__udp_send(s, &iov, 1, flags, addr, addrlen);
	}
	/* TCP ignores the address, as Linux does without TCP Fast Open. */
	return mlw_send(fd, buf, len, flags);
}

static int iov_check(const struct iovec *iov, int iovcnt)
{
	size_t total = 0;

	if (iovcnt < 0 || iovcnt > IOV_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (iovcnt > 0 && iov == NULL) {
		errno = EFAULT;
		return -1;
	}
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SSIZE_MAX - total) {
			errno = EINVAL;
			return -1;
		}
		total += iov[i].iov_len;
	}
	return 0;
}

/*
 * TCP: the first non-empty vector is read as mlw_recv() would (it may
 * block); the rest take what is already queued, so the call returns as
 * soon as one read would have. With MSG_PEEK the vectors see consecutive
 * bytes, nothing is consumed.
 */
static ssize_t tcp_readv(int fd, struct mlw__sock *s, const struct iovec *iov, int iovcnt,
			 int flags)
{
	ssize_t done = 0;

	for (int i = 0; i < iovcnt; i++) {
		ssize_t n;

		if (iov[i].iov_len == 0)
			continue;
		if (done > 0) {
			if (s->rx_bytes <= ((flags & MSG_PEEK) ? (size_t)done : 0))
				break;
			n = (ssize_t)rx_copy(s, iov[i].iov_base, iov[i].iov_len,
					     (flags & MSG_PEEK) != 0, (flags & MSG_PEEK) ? (size_t)done : 0);
		} else {
			n = mlw_recv(fd, iov[i].iov_base, iov[i].iov_len, flags);
			if (n < 0)
				return -1;
		}
		done += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	return done;
}

ssize_t mlw_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct mlw__sock *s = mlw__sock_get(fd);

	if (s == NULL || iov_check(iov, iovcnt) < 0)
		return -1;
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_recv(s, iov, iovcnt, 0, NULL, NULL, NULL);
	return tcp_readv(fd, s, iov, iovcnt, 0);
}

/* TCP: each vector as mlw_send(); a short write ends the call. */
static ssize_t tcp_writev(int fd, const struct iovec *iov, int iovcnt, int flags)
{
	ssize_t done = 0;

	for (int i = 0; i < iovcnt; i++) {
		ssize_t n;

		if (iov[i].iov_len == 0)
			continue;
		n = mlw_send(fd, iov[i].iov_base, iov[i].iov_len,
			     i + 1 < iovcnt ? (flags | MSG_MORE) : flags);
		if (n < 0)
			return done > 0 ? done : -1;
		done += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	return done;
}

ssize_t mlw_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct mlw__sock *s = mlw__sock_get(fd);

	if (s == NULL || iov_check(iov, iovcnt) < 0)
		return -1;
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_send(s, iov, iovcnt, 0, NULL, 0);
	return tcp_writev(fd, iov, iovcnt, 0);
}

/* The checks Linux's copy_msghdr_from_user makes: too many vectors is
 * EMSGSIZE for the msg calls (EINVAL for readv/writev). Ancillary data is
 * not supported: a control buffer is accepted on receive (nothing is ever
 * written to it) and refused on send. */
static int msg_check(const struct msghdr *msg, bool send)
{
	if (msg == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (msg->msg_iovlen > IOV_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (send && msg->msg_controllen != 0) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return iov_check(msg->msg_iov, (int)msg->msg_iovlen);
}

ssize_t mlw_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	ssize_t n;

	if (s == NULL || msg_check(msg, false) < 0)
		return -1;
	msg->msg_flags = 0;
	if (s->f.kind == MLW__KIND_UDP) {
		socklen_t alen = msg->msg_namelen;

		n = mlw__udp_recv(s, msg->msg_iov, (int)msg->msg_iovlen, flags,
				  msg->msg_name, msg->msg_name != NULL ? &alen : NULL, &msg->msg_flags);
		if (n >= 0) {
			msg->msg_namelen = msg->msg_name != NULL ? alen : 0;
			msg->msg_controllen = 0;
		}
		return n;
	}
	if (flags & ~(MSG_DONTWAIT | MSG_PEEK)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	n = tcp_readv(fd, s, msg->msg_iov, (int)msg->msg_iovlen, flags);
	if (n >= 0) {
		/* TCP reports no source address, as Linux (length 0). */
		msg->msg_namelen = 0;
		msg->msg_controllen = 0;
	}
	return n;
}

ssize_t mlw_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct mlw__sock *s = mlw__sock_get(fd);

	if (s == NULL || msg_check(msg, true) < 0)
		return -1;
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_send(s, msg->msg_iov, (int)msg->msg_iovlen, flags,
				     msg->msg_name, msg->msg_name != NULL ? msg->msg_namelen : 0);
	if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	/* TCP ignores the address, as mlw_sendto(). */
	return tcp_writev(fd, msg->msg_iov, (int)msg->msg_iovlen, flags);
}
