/* sem_linux.c - the suite's reference backend: Linux's own sockets and epoll over loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The host's network namespace while a test runs in a private one. */
static int host_netns = -1;

static void lx_blackhole_leave(void)
{
	if (host_netns < 0)
		return;
	if (setns(host_netns, CLONE_NEWNET) != 0) {
		perror("semantics: setns back to the host namespace");
		abort();
	}
	close(host_netns);
	host_netns = -1;
}

/*
 * A private, anonymous network namespace for this thread (it disappears
 * with its last socket: nothing to clean up) with a veth pair whose far end
 * has no address, and a permanent neighbour entry for 10.0.0.99 on the near
 * end: SYNs to it leave and are never answered. `ip` runs in a child,
 * which inherits this thread's namespace. Needs CAP_SYS_ADMIN (root).
 */
static int lx_blackhole_enter(struct sockaddr_storage *ss, socklen_t *len, char *why, size_t whylen)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	int rc;

	host_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host_netns < 0 || unshare(CLONE_NEWNET) != 0) {
		snprintf(why, whylen, "no private network namespace for the Linux run (%s; needs root)",
			 strerror(errno));
		if (host_netns >= 0)
			close(host_netns);
		host_netns = -1;
		return -1;
	}
	rc = system("ip link add mlwsem0 type veth peer name mlwsem1 && "
		    "ip addr add 10.0.0.2/24 dev mlwsem0 && ip link set mlwsem0 up && "
		    "ip link set mlwsem1 up && "
		    "ip neigh replace 10.0.0.99 lladdr 02:00:00:00:00:99 nud permanent dev mlwsem0");
	if (rc != 0) {
		snprintf(why, whylen, "could not set up a veth pair in the private namespace (ip: %d)", rc);
		lx_blackhole_leave();
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(80);
	inet_pton(AF_INET, "10.0.0.99", &in->sin_addr);
	*len = sizeof(*in);
	return 0;
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
	.recvmsg = recvmsg,
	.sendmsg = sendmsg,
	.settle = lx_settle,
	.blackhole_enter = lx_blackhole_enter,
	.blackhole_leave = lx_blackhole_leave,
};
