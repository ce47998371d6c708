/* sem_mlwip.c - the backend under test: mlwip's socket and epoll calls on the calling shard (loopback 127.0.0.1 / ::1). */
#include <time.h>

#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "sem.h"

static int ml_fcntl(int fd, int cmd, int arg)
{
	return mlw_fcntl(fd, cmd, arg);
}

static int ml_ioctl(int fd, unsigned long req, int *arg)
{
	return mlw_ioctl(fd, req, arg);
}

/* Run the shard loop for a few milliseconds: loopif delivers at the next
 * pass, and written data leaves at the flush before it. */
static void ml_settle(void)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		mlw_socket_flush();
		mlw_shard_poll();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 5000000L);
}

const struct sem_ops sem_mlwip_ops = {
	.name = "mlwip",
	.socket = mlw_socket,
	.bind = mlw_bind,
	.listen = mlw_listen,
	.accept4 = mlw_accept4,
	.connect = mlw_connect,
	.read = mlw_read,
	.write = mlw_write,
	.readv = mlw_readv,
	.writev = mlw_writev,
	.recv = mlw_recv,
	.send = mlw_send,
	.recvfrom = mlw_recvfrom,
	.sendto = mlw_sendto,
	.close = mlw_close,
	.shutdown = mlw_shutdown,
	.setsockopt = mlw_setsockopt,
	.getsockopt = mlw_getsockopt,
	.getsockname = mlw_getsockname,
	.getpeername = mlw_getpeername,
	.fcntl = ml_fcntl,
	.ioctl = ml_ioctl,
	.epoll_create1 = mlw_epoll_create1,
	.epoll_ctl = mlw_epoll_ctl,
	.epoll_wait = mlw_epoll_wait,
	.settle = ml_settle,
};
