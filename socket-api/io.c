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

/* Saturates: a timeout too long for the clock (over about 584 years from
 * boot) never runs out, instead of wrapping into the past. */
uint64_t mlw__deadline(uint64_t timeo_us)
{
	uint64_t now;

	if (timeo_us == 0)
		return 0;
	now = now_ns();
	if (timeo_us > (UINT64_MAX - now) / 1000u)
		return UINT64_MAX;
	return now + timeo_us * 1000u;
}

int mlw__wait_once(unsigned *idle, uint64_t deadline)
{
	if (deadline != 0 && now_ns() >= deadline) {
		errno = EAGAIN;
		return -1;
	}
	return mlw__loop_once_until(idle, deadline);
}

static bool rx_ready(const struct mlw__sock *s)
{
	return s->rx_bytes > 0 || s->rd_eof || s->rd_shut || s->so_error != 0;
}

bool mlw__user_range_ok(const void *p, size_t len)
{
	/* In 64 bits: on a 32-bit target len cannot exceed the top by itself. */
	uint64_t a = (uintptr_t)p, n = len;

	return n <= MLW__USER_TOP && a <= MLW__USER_TOP - n;
}

/* Copy up to @p len bytes out of the queue, starting @p skip bytes in
 * (only with @p peek: a consuming read always starts at the head);
 * consume them unless @p peek. @p buf NULL: skip the bytes without
 * copying them (MSG_TRUNC). */
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
		if (buf != NULL)
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
	s->rx_off = (uint32_t)off;	/* within one pbuf */
	s->rx_bytes -= done;
	/* Open the window by what the application took (honest flow
	 * control: unread data keeps it closed), within SO_RCVBUF. */
	mlw__rcv_open(s, done);
	if (done > 0 && s->pcb != NULL)
		mlw__mark_dirty(s);
	return done;
}

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
	size_t total = 0;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	return total;
}

/* Would copying @p n bytes into the vectors write through a NULL base?
 * Linux's copy then faults: EFAULT, and TCP keeps the data queued. */
bool mlw__iov_faults(const struct iovec *iov, int iovcnt, size_t n)
{
	for (int i = 0; i < iovcnt && n > 0; i++) {
		size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;

		if (k > 0 && iov[i].iov_base == NULL)
			return true;
		n -= k;
	}
	return false;
}

/*
 * One TCP receive into @p iov, as Linux's tcp_recvmsg: wait until
 * something is readable (a zero-length read too: EAGAIN when
 * non-blocking and nothing queued), then copy what is queued, up to the
 * vectors' total. Flags Linux's TCP ignores are ignored; MSG_OOB is EINVAL
 * (there is never urgent data to read: lwIP delivers it inline) and
 * MSG_ERRQUEUE EAGAIN (the error queue is always empty).
 */
static ssize_t stream_recv_once(struct mlw__sock *s, const struct iovec *iov, int iovcnt, int flags)
{
	uint64_t deadline = 0;
	unsigned idle = 0;
	bool nonblock, peek = (flags & MSG_PEEK) != 0;
	size_t total, n, done = 0;

	if (flags & MSG_ERRQUEUE) {
		errno = EAGAIN;
		return -1;
	}
	if (s->state == MLW__S_LISTEN) {
		errno = ENOTCONN;
		return -1;
	}
	if (flags & MSG_OOB) {
		errno = EINVAL;
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
	if (s->rx_bytes > 0) {
		total = iov_total(iov, iovcnt);
		n = total < s->rx_bytes ? total : s->rx_bytes;
		/* MSG_TRUNC: discard (or peek past) without copying. */
		if (!(flags & MSG_TRUNC) && mlw__iov_faults(iov, iovcnt, n)) {
			errno = EFAULT;
			return -1;
		}
		for (int i = 0; i < iovcnt && done < n; i++) {
			size_t k = iov[i].iov_len < n - done ? iov[i].iov_len : n - done;

			done += rx_copy(s, (flags & MSG_TRUNC) ? NULL : iov[i].iov_base, k, peek,
					peek ? done : 0);
		}
		return (ssize_t)done;
	}
	if (s->so_error != 0) {
		errno = mlw__sock_take_error(s);
		return -1;
	}
	return 0;
}

/* MSG_WAITALL (blocking, without MSG_PEEK, as Linux): receive until the
 * vectors are full, copying as data comes (so the window keeps opening);
 * end of stream, an error or SO_RCVTIMEO end it early with what was
 * read. */
static ssize_t stream_recv(struct mlw__sock *s, const struct iovec *iov, int iovcnt, int flags)
{
	struct iovec v[IOV_MAX];
	size_t total, done = 0;
	int i = 0;

	if (!(flags & MSG_WAITALL) || (flags & (MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC)) ||
	    s->nonblock)
		return stream_recv_once(s, iov, iovcnt, flags);
	memcpy(v, iov, (size_t)iovcnt * sizeof(*v));
	total = iov_total(iov, iovcnt);
	for (;;) {
		ssize_t n;

		while (i < iovcnt && v[i].iov_len == 0)
			i++;
		/* As Linux: with data read, an error or end of stream ends
		 * the call and stays for the next one. */
		if (done > 0 && s->rx_bytes == 0 && (s->so_error != 0 || s->rd_eof || s->rd_shut))
			return (ssize_t)done;
		n = stream_recv_once(s, v + i, iovcnt - i, flags);
		if (n <= 0)
			return done > 0 ? (ssize_t)done : n;
		done += (size_t)n;
		if (done == total)
			return (ssize_t)done;
		for (size_t left = (size_t)n; left > 0; i++) {
			size_t k = v[i].iov_len < left ? v[i].iov_len : left;

			v[i].iov_base = (uint8_t *)v[i].iov_base + k;
			v[i].iov_len -= k;
			left -= k;
			if (v[i].iov_len > 0)
				break;
		}
	}
}

/* Linux's MAX_RW_COUNT: one call moves at most this many bytes. */
static size_t rw_clamp(size_t len)
{
	return len > MLW__MAX_RW_COUNT ? MLW__MAX_RW_COUNT : len;
}

/* Linux's import_ubuf, the first thing recv/recvfrom/send/sendto do (before
 * even the descriptor is looked up): the length capped at MAX_RW_COUNT, a
 * range reaching past user space is EFAULT. A NULL buffer passes here and
 * faults only when copied. */
static bool ubuf_faults(const void *buf, size_t len)
{
	if (mlw__user_range_ok(buf, rw_clamp(len)))
		return false;
	errno = EFAULT;
	return true;
}

ssize_t mlw_recv(int fd, void *buf, size_t len, int flags)
{
	struct mlw__sock *s;
	struct iovec iov = { buf, rw_clamp(len) };

	if (ubuf_faults(buf, len) || (s = mlw__sock_get(fd)) == NULL)
		return -1;
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_recv(s, &iov, 1, flags, NULL, NULL, NULL);
	return stream_recv(s, &iov, 1, flags);
}

/* read(), readv(), write() and writev() are file calls: on Linux the VFS
 * checks the buffer's range (EFAULT) and refuses a descriptor that is not
 * a socket (an epoll instance: EINVAL) before the socket sees the call. */
static struct mlw__sock *file_sock(int fd)
{
	struct mlw__file *f = mlw__fd_get(fd);

	if (f == NULL)
		return NULL;
	if (!mlw__is_sock(f)) {
		errno = EINVAL;
		return NULL;
	}
	return (struct mlw__sock *)f;
}

/* file_sock() for read() and write(): the VFS checks the whole count's
 * range, before any cap at MAX_RW_COUNT. */
static struct mlw__sock *file_sock_buf(int fd, const void *buf, size_t len)
{
	struct mlw__sock *s = file_sock(fd);

	if (s != NULL && !mlw__user_range_ok(buf, len)) {
		errno = EFAULT;
		return NULL;
	}
	return s;
}

ssize_t mlw_read(int fd, void *buf, size_t len)
{
	if (file_sock_buf(fd, buf, len) == NULL)
		return -1;
	/* Linux's sock_read_iter returns 0 for an empty read at once
	 * (recv() of 0 bytes waits for data instead). */
	if (len == 0)
		return 0;
	return mlw_recv(fd, buf, len, 0);
}

/* Bytes tcp_write() can take now (SO_SNDBUF: see opt.c). */
static size_t tx_room(const struct mlw__sock *s)
{
	if (s->pcb == NULL || tcp_sndqueuelen(s->pcb) + QUEUE_RESERVE >= TCP_SND_QUEUELEN)
		return 0;
	return mlw__tx_room(s);
}

/*
 * One TCP send of @p len bytes from @p b. @p fault: the source has a NULL
 * buffer; as Linux's tcp_sendmsg, the state is checked (and space waited
 * for) first, and the copy then fails with EFAULT, nothing sent. Flags
 * Linux's TCP ignores are ignored; MSG_OOB (urgent data, which lwIP
 * cannot send) is EOPNOTSUPP.
 */
static ssize_t stream_send(struct mlw__sock *s, const uint8_t *b, size_t len, int flags, bool fault)
{
	uint64_t deadline = 0;
	unsigned idle = 0;
	size_t done = 0;
	bool nonblock;

	if (flags & MSG_OOB) {
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
		if (room > 0 && fault) {
			errno = EFAULT;
			return -1;
		}
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

ssize_t mlw_send(int fd, const void *buf, size_t len, int flags)
{
	struct mlw__sock *s;

	if (ubuf_faults(buf, len) || (s = mlw__sock_get(fd)) == NULL)
		return -1;
	len = rw_clamp(len);
	if (s->f.kind == MLW__KIND_UDP) {
		struct iovec iov = { (void *)(uintptr_t)buf, len };

		return mlw__udp_send(s, &iov, 1, flags, NULL, 0);
	}
	return stream_send(s, buf, len, flags, buf == NULL && len > 0);
}

ssize_t mlw_write(int fd, const void *buf, size_t len)
{
	if (file_sock_buf(fd, buf, len) == NULL)
		return -1;
	return mlw_send(fd, buf, len, 0);
}

ssize_t mlw_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
		     socklen_t *addrlen)
{
	struct mlw__sock *s;
	struct iovec iov = { buf, rw_clamp(len) };
	struct sockaddr_storage ss;
	socklen_t full = sizeof(ss);
	ssize_t n;
	int e;

	if (ubuf_faults(buf, len) || (s = mlw__sock_get(fd)) == NULL)
		return -1;
	if (s->f.kind == MLW__KIND_UDP) {
		n = mlw__udp_recv(s, &iov, 1, flags, addr != NULL ? (struct sockaddr *)&ss : NULL,
				  &full, NULL);
	} else {
		n = stream_recv(s, &iov, 1, flags);
		full = 0;	/* TCP reports no source address, as Linux */
	}
	/* As Linux's move_addr_to_user, after the data was taken. */
	if (n >= 0 && addr != NULL && (e = mlw__addr_to_user(&ss, full, addr, addrlen)) != 0) {
		errno = e;
		return -1;
	}
	return n;
}

ssize_t mlw_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
		   socklen_t addrlen)
{
	struct mlw__sock *s;

	if (ubuf_faults(buf, len) || (s = mlw__sock_get(fd)) == NULL)
		return -1;
	len = rw_clamp(len);
	/* Linux's move_addr_to_kernel: a length outside 0..128 is EINVAL
	 * before the protocol sees the call (TCP too). */
	if (addr != NULL && ((int)addrlen < 0 || addrlen > sizeof(struct sockaddr_storage))) {
		errno = EINVAL;
		return -1;
	}
	if (s->f.kind == MLW__KIND_UDP) {
		struct iovec iov = { (void *)(uintptr_t)buf, len };

		return mlw__udp_send(s, &iov, 1, flags, addr, addrlen);
	}
	/* TCP ignores the address, as Linux does without TCP Fast Open. */
	return stream_send(s, buf, len, flags, buf == NULL && len > 0);
}

/* Linux's import_iovec: EINVAL for too many vectors or a negative
 * length, EFAULT for a NULL array or a range outside user space. */
static int iov_check(const struct iovec *iov, int iovcnt)
{
	if (iovcnt < 0 || iovcnt > IOV_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (iovcnt > 0 && iov == NULL) {
		errno = EFAULT;
		return -1;
	}
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SSIZE_MAX) {
			errno = EINVAL;
			return -1;
		}
	}
	/* One vector is checked as a single buffer (import_ubuf: cut to
	 * MAX_RW_COUNT first), several each at its full length. */
	for (int i = 0; i < iovcnt; i++) {
		size_t len = iovcnt == 1 && iov[i].iov_len > MLW__MAX_RW_COUNT ? MLW__MAX_RW_COUNT
									 : iov[i].iov_len;

		if (!mlw__user_range_ok(iov[i].iov_base, len)) {
			errno = EFAULT;
			return -1;
		}
	}
	return 0;
}

/* Linux caps a vector read or write at MAX_RW_COUNT bytes in all: the
 * vectors, shortened where the cap falls, in @p v. */
static int iov_clamp(const struct iovec *iov, int iovcnt, struct iovec *v)
{
	size_t total = 0;
	int i;

	for (i = 0; i < iovcnt; i++) {
		v[i] = iov[i];
		if (v[i].iov_len > MLW__MAX_RW_COUNT - total)
			v[i].iov_len = MLW__MAX_RW_COUNT - total;
		total += v[i].iov_len;
	}
	return i;
}

ssize_t mlw_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct mlw__sock *s = file_sock(fd);
	struct iovec v[IOV_MAX];

	if (s == NULL || iov_check(iov, iovcnt) < 0)
		return -1;
	/* The VFS returns 0 for an empty vector read or write at once. */
	if (iov_total(iov, iovcnt) == 0)
		return 0;
	iovcnt = iov_clamp(iov, iovcnt, v);
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_recv(s, v, iovcnt, 0, NULL, NULL, NULL);
	return stream_recv(s, v, iovcnt, 0);
}

/* TCP: each vector as stream_send(); a short write ends the call. A NULL
 * base anywhere faults the whole call, as Linux copies a segment's worth
 * of the vectors at a time (exact up to 64 KiB of data before it). */
static ssize_t stream_writev(struct mlw__sock *s, const struct iovec *iov, int iovcnt, int flags)
{
	ssize_t done = 0;

	if (mlw__iov_faults(iov, iovcnt, iov_total(iov, iovcnt)))
		return stream_send(s, NULL, 1, flags, true);
	if (iov_total(iov, iovcnt) == 0)
		return stream_send(s, NULL, 0, flags, false);
	for (int i = 0; i < iovcnt; i++) {
		ssize_t n;

		if (iov[i].iov_len == 0)
			continue;
		n = stream_send(s, iov[i].iov_base, iov[i].iov_len,
			     i + 1 < iovcnt ? (flags | MSG_MORE) : flags, false);
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
	struct mlw__sock *s = file_sock(fd);
	struct iovec v[IOV_MAX];

	if (s == NULL || iov_check(iov, iovcnt) < 0)
		return -1;
	if (iov_total(iov, iovcnt) == 0)
		return 0;
	iovcnt = iov_clamp(iov, iovcnt, v);
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_send(s, v, iovcnt, 0, NULL, 0);
	return stream_writev(s, v, iovcnt, 0);
}

/* The checks Linux's copy_msghdr_from_user makes: a negative name length
 * is EINVAL (one over 128 is cut to 128), too many vectors EMSGSIZE (EINVAL
 * for readv/writev), then the vectors as readv. Ancillary data is not
 * supported: a control buffer is accepted on receive (nothing is ever
 * written to it) and refused on send, after Linux's own checks of it
 * (over INT_MAX: ENOBUFS; NULL: EFAULT). */
static int msg_check(const struct msghdr *msg, bool send)
{
	if (msg == NULL) {
		errno = EFAULT;
		return -1;
	}
	if ((int)msg->msg_namelen < 0) {
		errno = EINVAL;
		return -1;
	}
	if (msg->msg_iovlen > IOV_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (iov_check(msg->msg_iov, (int)msg->msg_iovlen) < 0)
		return -1;
	if (send && msg->msg_controllen != 0) {
		errno = msg->msg_controllen > INT_MAX ? ENOBUFS
			: msg->msg_control == NULL ? EFAULT : EOPNOTSUPP;
		return -1;
	}
	return 0;
}

ssize_t mlw_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	struct iovec v[IOV_MAX];
	struct sockaddr_storage ss;
	socklen_t full = sizeof(ss);
	int iovcnt, mflags = 0, e;
	ssize_t n;

	if (s == NULL || msg_check(msg, false) < 0)
		return -1;
	iovcnt = iov_clamp(msg->msg_iov, (int)msg->msg_iovlen, v);
	if (s->f.kind == MLW__KIND_UDP) {
		n = mlw__udp_recv(s, v, iovcnt, flags,
				  msg->msg_name != NULL ? (struct sockaddr *)&ss : NULL, &full, &mflags);
	} else {
		n = stream_recv(s, v, iovcnt, flags);
		full = 0;	/* TCP reports no source address, as Linux */
	}
	if (n < 0)
		return -1;
	/* msg_namelen is written only with a name buffer, as Linux. */
	if (msg->msg_name != NULL) {
		socklen_t len = msg->msg_namelen > sizeof(ss) ? sizeof(ss) : msg->msg_namelen;

		e = mlw__addr_to_user(&ss, full, msg->msg_name, &len);
		if (e != 0) {
			errno = e;
			return -1;
		}
		msg->msg_namelen = len;
	}
	msg->msg_flags = mflags;
	msg->msg_controllen = 0;
	return n;
}

ssize_t mlw_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	struct iovec v[IOV_MAX];
	socklen_t namelen;
	int iovcnt;

	if (s == NULL || msg_check(msg, true) < 0)
		return -1;
	iovcnt = iov_clamp(msg->msg_iov, (int)msg->msg_iovlen, v);
	namelen = msg->msg_namelen > sizeof(struct sockaddr_storage) ? sizeof(struct sockaddr_storage)
								     : msg->msg_namelen;
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_send(s, v, iovcnt, flags, msg->msg_name,
				     msg->msg_name != NULL ? namelen : 0);
	/* TCP ignores the address, as mlw_sendto(). */
	return stream_writev(s, v, iovcnt, flags);
}
