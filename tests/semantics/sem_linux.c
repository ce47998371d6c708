/* sem_linux.c - the suite's reference backend: Linux's own sockets and epoll over loopback. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sem.h"

static int lx_fcntl(int fd, int cmd, int arg)
{
	return fcntl(fd, cmd, arg);
}

static int lx_ioctl(int fd, unsigned long req, int *arg)
{
	return ioctl(fd, req, arg);
}

/* Loopback delivery happens inside the sending call (softirq); a short
 * pause covers what the kernel defers to its own threads. */
static void lx_settle(void)
{
	usleep(5000);
}

const struct sem_ops sem_linux_ops = {
	.name = "linux",
	.socket = socket,
	.bind = bind,
	.listen = listen,
	.accept4 = accept4,
	.connect = connect,
	.read = read,
	.write = write,
	.readv = readv,
	.writev = writev,
	.recv = recv,
	.send = send,
	.recvfrom = recvfrom,
	.sendto = sendto,
	.close = close,
	.shutdown = shutdown,
	.setsockopt = setsockopt,
	.getsockopt = getsockopt,
	.getsockname = getsockname,
	.getpeername = getpeername,
	.fcntl = lx_fcntl,
	.ioctl = lx_ioctl,
	.epoll_create1 = epoll_create1,
	.epoll_ctl = epoll_ctl,
	.epoll_wait = epoll_wait,
	.settle = lx_settle,
};
