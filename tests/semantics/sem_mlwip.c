/* sem_mlwip.c - the backend under test: mlwip's socket and epoll calls on the calling shard (loopback 127.0.0.1 / ::1). */
#include <arpa/inet.h>
#include <string.h>
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

/* The shard's port is 10.0.0.2/24 on net_ring0, where nobody answers ARP
 * for 10.0.0.99: its SYNs wait for a neighbour that never replies. */
static int ml_blackhole_enter(struct sockaddr_storage *ss, socklen_t *len, char *why, size_t whylen)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	(void)why;
	(void)whylen;
	memset(ss, 0, sizeof(*ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(80);
	inet_pton(AF_INET, "10.0.0.99", &in->sin_addr);
	*len = sizeof(*in);
	return 0;
}

static void ml_blackhole_leave(void)
{
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
	.recvmsg = mlw_recvmsg,
	.sendmsg = mlw_sendmsg,
	.settle = ml_settle,
	.blackhole_enter = ml_blackhole_enter,
	.blackhole_leave = ml_blackhole_leave,
};
