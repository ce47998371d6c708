/* sock.c - the socket, data and control calls: mlwip's for the layer's descriptors, libc's for every other.
 *
 * Each call looks its descriptor up (fd.c); a descriptor the layer does not
 * know (files, pipes, Unix and kernel sockets) goes to libc unchanged. An
 * mlwip socket's call is the mlw_* call of the same name, whose errno
 * already follows Linux's; options, ioctls and fcntl commands mlwip does
 * not have fail as mlwip says (ENOPROTOOPT, ENOTTY, EINVAL) with one log
 * line each.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "mlwip/socket.h"
#include "preload_private.h"

/* The mlwip socket behind @p fd, or NULL for libc's (and, after a fork,
 * -1 with EBADF from the caller via mlw__pl_bad). */
#define SOCK_OR_REAL(fd, call)                                   \
	struct mlw__pl *p = mlw__pl_get(fd);                     \
	if (p == NULL || p->kind != MLW__PL_SOCK)                \
		return mlw__real.call;                           \
	if (p->inherited)                                        \
		return mlw__pl_bad(p)

/* An mlwip call refused because the caller is not the socket's shard thread. */
static void off_shard(void)
{
	if (errno == EPERM && !mlw__pl_on_shard())
		mlw__pl_log_once("off-shard", "an mlwip socket was used off the thread that runs "
				 "its shard: EPERM");
}
/* Linux sends SIGPIPE with EPIPE from a write to a stream that cannot
 * send, unless MSG_NOSIGNAL; mlwip itself never raises signals. */
static ssize_t sigpipe(ssize_t rc, int flags)
{
	if (rc < 0 && errno == EPIPE && !(flags & MSG_NOSIGNAL)) {
		int e = errno;

		raise(SIGPIPE);
		errno = e;
	}
	return rc;
}

#define CHECKED(expr)                     \
	({                                \
		__typeof__(expr) r_ = (expr); \
		if (r_ < 0)               \
			off_shard();      \
		r_;                       \
	})

MLW_PL_API int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), mfd, kfd, e;

	(void)mlw__pl_get(-1);
	if (mlw__pl_inside || (domain != AF_INET && domain != AF_INET6) ||
	    (base != SOCK_STREAM && base != SOCK_DGRAM))
		return mlw__real.socket(domain, type, protocol);
	if (mlw__pl_ensure_stack() != 0) {
		if (errno != EPERM)
			return -1;
		/* A thread without a shard: DPDK's own threads (interface
		 * ioctls), or more network threads than [stack] shards. */
		mlw__pl_log_once("other-thread", "socket() on a thread without a shard is a "
				 "kernel socket");
		return mlw__real.socket(domain, type, protocol);
	}
	mfd = mlw_socket(domain, type, protocol);
	if (mfd < 0)
		return -1;
	kfd = mlw__pl_new_fd(MLW__PL_SOCK, mfd, (type & SOCK_CLOEXEC) != 0);
	if (kfd < 0) {
		e = errno;
		mlw_close(mfd);
		errno = e;
	}
	return kfd;
}

MLW_PL_API int bind(int fd, const struct sockaddr *a, socklen_t len)
{
	SOCK_OR_REAL(fd, bind(fd, a, len));
	return CHECKED(mlw_bind(p->mfd, a, len));
}

MLW_PL_API int listen(int fd, int backlog)
{
	SOCK_OR_REAL(fd, listen(fd, backlog));
	return CHECKED(mlw_listen(p->mfd, backlog));
}

MLW_PL_API int accept4(int fd, struct sockaddr *a, socklen_t *len, int flags)
{
	int mfd, kfd, e;

	SOCK_OR_REAL(fd, accept4(fd, a, len, flags));
	mfd = CHECKED(mlw_accept4(p->mfd, a, len, flags));
	if (mfd < 0)
		return -1;
	kfd = mlw__pl_new_fd(MLW__PL_SOCK, mfd, (flags & SOCK_CLOEXEC) != 0);
	if (kfd < 0) {
		e = errno;
		mlw_close(mfd);
		errno = e;
	}
	return kfd;
}

MLW_PL_API int accept(int fd, struct sockaddr *a, socklen_t *len)
{
	SOCK_OR_REAL(fd, accept(fd, a, len));
	return accept4(fd, a, len, 0);
}

MLW_PL_API int connect(int fd, const struct sockaddr *a, socklen_t len)
{
	SOCK_OR_REAL(fd, connect(fd, a, len));
	return CHECKED(mlw_connect(p->mfd, a, len));
}

MLW_PL_API ssize_t read(int fd, void *buf, size_t n)
{
	SOCK_OR_REAL(fd, read(fd, buf, n));
	return CHECKED(mlw_read(p->mfd, buf, n));
}

MLW_PL_API ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	SOCK_OR_REAL(fd, readv(fd, iov, cnt));
	return CHECKED(mlw_readv(p->mfd, iov, cnt));
}

MLW_PL_API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	SOCK_OR_REAL(fd, recv(fd, buf, n, flags));
	return CHECKED(mlw_recv(p->mfd, buf, n, flags));
}

MLW_PL_API ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *len)
{
	SOCK_OR_REAL(fd, recvfrom(fd, buf, n, flags, a, len));
	return CHECKED(mlw_recvfrom(p->mfd, buf, n, flags, a, len));
}

MLW_PL_API ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	SOCK_OR_REAL(fd, recvmsg(fd, msg, flags));
	return CHECKED(mlw_recvmsg(p->mfd, msg, flags));
}

MLW_PL_API ssize_t write(int fd, const void *buf, size_t n)
{
	SOCK_OR_REAL(fd, write(fd, buf, n));
	return sigpipe(CHECKED(mlw_write(p->mfd, buf, n)), 0);
}

MLW_PL_API ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	SOCK_OR_REAL(fd, writev(fd, iov, cnt));
	return sigpipe(CHECKED(mlw_writev(p->mfd, iov, cnt)), 0);
}

MLW_PL_API ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	SOCK_OR_REAL(fd, send(fd, buf, n, flags));
	return sigpipe(CHECKED(mlw_send(p->mfd, buf, n, flags)), flags);
}

MLW_PL_API ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t len)
{
	SOCK_OR_REAL(fd, sendto(fd, buf, n, flags, a, len));
	return sigpipe(CHECKED(mlw_sendto(p->mfd, buf, n, flags, a, len)), flags);
}

MLW_PL_API ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	SOCK_OR_REAL(fd, sendmsg(fd, msg, flags));
	return sigpipe(CHECKED(mlw_sendmsg(p->mfd, msg, flags)), flags);
}

MLW_PL_API int shutdown(int fd, int how)
{
	SOCK_OR_REAL(fd, shutdown(fd, how));
	return CHECKED(mlw_shutdown(p->mfd, how));
}

MLW_PL_API int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int rc;

	SOCK_OR_REAL(fd, getsockopt(fd, level, name, val, len));
	rc = CHECKED(mlw_getsockopt(p->mfd, level, name, val, len));
	if (rc < 0 && errno == ENOPROTOOPT)
		mlw__pl_log_once("getsockopt", "getsockopt level %d option %d is not supported on "
				 "mlwip sockets: ENOPROTOOPT (logged once)", level, name);
	return rc;
}

MLW_PL_API int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int rc;

	SOCK_OR_REAL(fd, setsockopt(fd, level, name, val, len));
	rc = CHECKED(mlw_setsockopt(p->mfd, level, name, val, len));
	if (rc < 0 && errno == ENOPROTOOPT)
		mlw__pl_log_once("setsockopt", "setsockopt level %d option %d is not supported on "
				 "mlwip sockets: ENOPROTOOPT (logged once)", level, name);
	return rc;
}

MLW_PL_API int getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
	SOCK_OR_REAL(fd, getsockname(fd, a, len));
	return CHECKED(mlw_getsockname(p->mfd, a, len));
}

MLW_PL_API int getpeername(int fd, struct sockaddr *a, socklen_t *len)
{
	SOCK_OR_REAL(fd, getpeername(fd, a, len));
	return CHECKED(mlw_getpeername(p->mfd, a, len));
}

/* fcntl on an mlwip socket: status flags on the mlwip side (shared by
 * dup()s, as an open file description's), descriptor flags and
 * duplication on the kernel descriptor. */
static int sock_fcntl(int fd, struct mlw__pl *p, int cmd, void *arg)
{
	switch (cmd) {
	case F_GETFL:
		return CHECKED(mlw_fcntl(p->mfd, F_GETFL));
	case F_SETFL:
		return CHECKED(mlw_fcntl(p->mfd, F_SETFL, (int)(intptr_t)arg));
	case F_GETFD:
	case F_SETFD:
		return mlw__real.fcntl(fd, cmd, arg);
	case F_DUPFD:
		return mlw__pl_dup_to(fd, (int)(intptr_t)arg, 0, 0);
	case F_DUPFD_CLOEXEC:
		return mlw__pl_dup_to(fd, (int)(intptr_t)arg, 0, 3);
	default:
		mlw__pl_log_once("fcntl", "fcntl command %d is not supported on mlwip sockets: "
				 "EINVAL (logged once)", cmd);
		errno = EINVAL;
		return -1;
	}
}

/* glibc reads the optional argument as a pointer, whatever the command. */
#define FCNTL_BODY(realfn)                                          \
	va_list ap;                                                 \
	void *arg;                                                  \
	struct mlw__pl *p = mlw__pl_get(fd);                        \
	va_start(ap, cmd);                                          \
	arg = va_arg(ap, void *);                                   \
	va_end(ap);                                                 \
	if (p == NULL || p->kind != MLW__PL_SOCK) {                 \
		if (p != NULL && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) \
			return mlw__pl_dup_to(fd, (int)(intptr_t)arg, 0, cmd == F_DUPFD ? 0 : 3); \
		return mlw__real.realfn(fd, cmd, arg);              \
	}                                                           \
	if (p->inherited && cmd != F_GETFD && cmd != F_SETFD)       \
		return mlw__pl_bad(p);                              \
	return sock_fcntl(fd, p, cmd, arg)

MLW_PL_API int fcntl(int fd, int cmd, ...)
{
	FCNTL_BODY(fcntl);
}

MLW_PL_API int fcntl64(int fd, int cmd, ...)
{
	FCNTL_BODY(fcntl64);
}

MLW_PL_API int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int rc;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	{
		SOCK_OR_REAL(fd, ioctl(fd, req, arg));
		if (req == FIOCLEX || req == FIONCLEX)
			return mlw__real.ioctl(fd, req, arg);
		rc = CHECKED(mlw_ioctl(p->mfd, req, arg));
		if (rc < 0 && errno == ENOTTY)
			mlw__pl_log_once("ioctl", "ioctl request 0x%lx is not supported on mlwip "
					 "sockets: ENOTTY (logged once)", req);
		return rc;
	}
}

/* sendfile(2) from a file to an mlwip socket: read a chunk, write what the
 * socket takes, and leave the file offset after the bytes sent (a chunk
 * read ahead is given back with lseek). */
static ssize_t sock_sendfile(struct mlw__pl *p, int in, off_t *off, size_t count)
{
	char buf[65536];
	size_t total = 0;

	while (total < count) {
		size_t want = count - total < sizeof(buf) ? count - total : sizeof(buf);
		ssize_t n = off != NULL ? pread(in, buf, want, *off) : mlw__real.read(in, buf, want);
		ssize_t w;

		if (n <= 0) {
			if (n < 0 && total == 0)
				return -1;
			break;
		}
		w = CHECKED(mlw_write(p->mfd, buf, (size_t)n));
		if (w < 0) {
			int e = errno;

			if (off == NULL)
				lseek(in, -n, SEEK_CUR);
			if (total > 0)
				break;
			errno = e;
			return -1;
		}
		if (off != NULL)
			*off += w;
		else if (w < n)
			lseek(in, -(n - w), SEEK_CUR);
		total += (size_t)w;
		if (w < n)
			break;
	}
	return (ssize_t)total;
}

MLW_PL_API ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	struct mlw__pl *pin = mlw__pl_get(in);

	if (pin != NULL && pin->kind == MLW__PL_SOCK) {
		/* Linux: the source must support mmap-like reads; sockets do not. */
		errno = EINVAL;
		return -1;
	}
	{
		SOCK_OR_REAL(out, sendfile(out, in, off, count));
		return sigpipe(sock_sendfile(p, in, off, count), 0);
	}
}

MLW_PL_API ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile(out, in, off, count);
}
