/* timing_linux.c - the stack under test of test_tcp_timing on Linux: the kernel's TCP in a network namespace of the calling process's own, the peer on the far end of a veth pair.
 *
 * tm_linux_run -> unshare(CLONE_NEWNET) -> veth wv0 (10.0.0.2, the stack
 * under test) / wv1 (no address, so the kernel leaves the peer's side
 * alone; 10.0.0.99 is a permanent neighbour entry on wv0) -> a packet socket
 * on wv1 puts the peer's frames on the wire and reads Linux's with the
 * kernel's receive timestamps -> tm_run_cases. The namespace, and the veth
 * pair in it, go with the process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test_stack.h"
#include "timing.h"

static struct test_wire_log wlog;
static int pfd = -1;	/* packet socket on wv1 */
static int wv1;		/* its interface index */

/* What the kernel stamped in CLOCK_REALTIME, on the test_now_us() clock:
 * the age of the stamp now, taken from now. */
static int64_t mono_us(const struct timespec *stamp)
{
	struct timespec rt;
	int64_t now = test_now_us();

	clock_gettime(CLOCK_REALTIME, &rt);
	return now - ((int64_t)(rt.tv_sec - stamp->tv_sec) * 1000000 +
		      (rt.tv_nsec - stamp->tv_nsec) / 1000);
}

/* Log every frame waiting on wv1 but the peer's own; returns how many. */
static unsigned drain(void)
{
	unsigned before = wlog.n;

	for (;;) {
		uint8_t f[70000];
		char ctl[256];
		struct sockaddr_ll from;
		struct iovec iov = { f, sizeof(f) };
		struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
				    .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
		struct cmsghdr *c;
		ssize_t n = recvmsg(pfd, &m, MSG_DONTWAIT);
		int64_t t = 0;

		if (n < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
				t = mono_us((const struct timespec *)CMSG_DATA(c));
		test_wire_log_frame(&wlog, f, (unsigned)n, t != 0 ? t : test_now_us());
	}
	return wlog.n - before;
}

static void run(int64_t until_us)
{
	for (;;) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int64_t left = until_us - test_now_us();
		struct timespec ts;

		if (drain() > 0 || left <= 0)
			return;
		ts.tv_sec = left / 1000000;
		ts.tv_nsec = (left % 1000000) * 1000;
		if (ppoll(&p, 1, &ts, NULL) == 0)
			return;
	}
}

static void input(const uint8_t *f, unsigned len)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = wv1, .sll_halen = 6 };

	memcpy(to.sll_addr, f, 6);
	if (sendto(pfd, f, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len)
		perror("timing_linux: sendto");
}

/* The kernel's listener serves the connections; nobody accepts or reads them. */
static int quiet_listen(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 8) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void quiet_close(int fd)
{
	close(fd);
}

static const struct tm_side linux_side = {
	.sock = &sem_linux_ops,
	.input = input,
	.run = run,
	.quiet_listen = quiet_listen,
	.quiet_close = quiet_close,
	.delack_rounds = 20,
};

/* A sysctl of this namespace. */
static int put_sysctl(const char *path, const char *v)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = fputs(v, f) < 0 ? -1 : 0;
	return fclose(f) != 0 ? -1 : rc;
}

static int stack_mac(uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int rc;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "wv0");
	rc = fd >= 0 ? ioctl(fd, SIOCGIFHWADDR, &ifr) : -1;
	if (rc == 0)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (fd >= 0)
		close(fd);
	return rc;
}

int tm_linux_run(struct tm_result *res)
{
	static const char *const setup[] = {
		"ip link add wv0 type veth peer name wv1",
		"ip addr add " TM_STACK_IP "/24 dev wv0",
		"ip link set wv0 up",
		"ip link set wv1 up",
		"ip neigh replace " TM_PEER_IP " lladdr 02:00:00:00:00:63 dev wv0 nud permanent",
	};
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1;
	uint8_t mac[6];

	if (geteuid() != 0) {
		snprintf(res->why, sizeof(res->why), "not root (needs a network namespace and a veth pair)");
		return 77;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(res->why, sizeof(res->why), "unshare(CLONE_NEWNET): %s", strerror(errno));
		return 77;
	}
	/* No IPv6 chatter on the link; no tail loss probes, so that the
	 * retransmission timer shows alone (it is what is compared); no RTT
	 * metrics carried from one connection to the next. */
	put_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	put_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (put_sysctl("/proc/sys/net/ipv4/tcp_early_retrans", "0") != 0 ||
	    put_sysctl("/proc/sys/net/ipv4/tcp_no_metrics_save", "1") != 0) {
		snprintf(res->why, sizeof(res->why), "sysctl in the namespace: %s", strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < sizeof(setup) / sizeof(setup[0]); i++) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "%s >/dev/null 2>&1", setup[i]);
		if (system(cmd) != 0) {
			snprintf(res->why, sizeof(res->why), "'%s' failed", setup[i]);
			return 77;
		}
	}
	/* Segments as they are on a real wire, not one 64 KiB frame (the
	 * initial window is also counted in bytes, should this fail). */
	if (system("ethtool -K wv0 tso off gso off >/dev/null 2>&1") != 0)
		fprintf(stderr, "timing_linux: ethtool could not turn TSO/GSO off on wv0\n");
	wv1 = (int)if_nametoindex("wv1");
	sll.sll_ifindex = wv1;
	pfd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (pfd < 0 || bind(pfd, (struct sockaddr *)&sll, sizeof(sll)) != 0 ||
	    setsockopt(pfd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0 || stack_mac(mac) != 0) {
		snprintf(res->why, sizeof(res->why), "packet socket on wv1: %s", strerror(errno));
		return 1;
	}
	tm_run_cases(&linux_side, &wlog, mac, res);
	close(pfd);
	if (system("ip link del wv0 >/dev/null 2>&1") != 0)
		fprintf(stderr, "timing_linux: could not remove wv0\n");
	return 0;
}
