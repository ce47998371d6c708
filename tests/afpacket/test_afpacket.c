/* test_afpacket.c - the kernel engine's ports (afpacket-netif/afp.c) on a veth pair in a network namespace of the test's own: fanout RX by flow, TX ring, a full TX ring, RX ring overflow counted, and the errors a user meets (no interface, interface down, bad sizes, no CAP_NET_RAW).
 *
 * The process unshares its network namespace first (root needed, else
 * skipped), so the veth pair and everything sent on it vanish with it.
 * Frames on the wire: IPv4/UDP (the kernel's flow hash, and so fanout,
 * needs addresses and ports) and a local experimental EtherType (0x88B5)
 * for TX; anything else the kernel sends on the link is ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "afp.h"

#define ETH_TEST 0x88B5
#define FLOWS 64
#define PER_FLOW 16

static uint8_t mac_a[6], mac_b[6];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A raw socket on the peer end, b0, for one EtherType (ETH_P_ALL: all). */
static int peer_socket(uint16_t proto)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(proto) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(proto));

	assert_true(fd >= 0);
	/* Room for every frame a test sends before reading (veth delivers
	 * inside the sender's call). */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 8 << 20 }, sizeof(int));
	sll.sll_ifindex = (int)if_nametoindex("b0");
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

/* Ethernet a0 <- b0 of @p type, then (after the IP header of @p iplen
 * bytes, which the caller fills) a UDP header from @p sport to @p dport and
 * @p payload bytes: flow, seq, then a pattern derived from both. Returns
 * the UDP header. */
static uint8_t *eth_udp(uint8_t *b, uint16_t type, size_t iplen, uint16_t sport, uint16_t dport,
			unsigned flow, unsigned seq, size_t payload)
{
	uint8_t *udp = b + 14 + iplen, *d = udp + 8;

	memcpy(b, mac_a, 6);
	memcpy(b + 6, mac_b, 6);
	b[12] = (uint8_t)(type >> 8);
	b[13] = (uint8_t)type;
	memset(b + 14, 0, iplen + 8);
	udp[0] = (uint8_t)(sport >> 8);
	udp[1] = (uint8_t)sport;
	udp[2] = (uint8_t)(dport >> 8);
	udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)((8 + payload) >> 8);
	udp[5] = (uint8_t)(8 + payload);
	for (size_t i = 0; i < payload; i++)
		d[i] = (uint8_t)(i < 4 ? (i < 2 ? flow >> (8 * i) : seq >> (8 * (i - 2))) : flow * 7 + seq * 13 + i);
	return udp;
}

/* IPv4/UDP from 10.9.0.2:(1000 + flow) to 10.9.0.1:7. */
static size_t udp_frame(uint8_t *b, unsigned flow, unsigned seq, size_t payload)
{
	uint8_t *ip = b + 14;

	eth_udp(b, 0x0800, 20, (uint16_t)(1000 + flow), 7, flow, seq, payload);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + 8 + payload) >> 8);
	ip[3] = (uint8_t)(20 + 8 + payload);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (uint8_t[]){ 10, 9, 0, 2 }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 9, 0, 1 }, 4);
	return 14 + 20 + 8 + payload;
}

/* IPv6/UDP from [fd00::2]:(2000 + flow) to [fd00::1]:9. */
static size_t udp6_frame(uint8_t *b, unsigned flow, unsigned seq, size_t payload)
{
	uint8_t *ip = b + 14;

	eth_udp(b, 0x86dd, 40, (uint16_t)(2000 + flow), 9, flow, seq, payload);
	ip[0] = 0x60;
	ip[4] = (uint8_t)((8 + payload) >> 8);
	ip[5] = (uint8_t)(8 + payload);
	ip[6] = 17;
	ip[7] = 64;
	ip[8] = 0xfd;
	ip[23] = 2;
	ip[24] = 0xfd;
	ip[39] = 1;
	return 14 + 40 + 8 + payload;
}

/* An EtherType 0x88B5 frame from a0 to b0 carrying (queue, seq). */
static size_t test_frame(uint8_t *b, unsigned queue, unsigned seq, size_t payload)
{
	memcpy(b, mac_b, 6);
	memcpy(b + 6, mac_a, 6);
	b[12] = ETH_TEST >> 8;
	b[13] = ETH_TEST & 0xff;
	for (size_t i = 0; i < payload; i++)
		b[14 + i] = (uint8_t)(i == 0 ? queue : i == 1 ? seq >> 8 : i == 2 ? seq : queue * 31 + seq * 3 + i);
	return 14 + payload;
}

static struct mlw_afp_port *open_a0(unsigned nq, unsigned block, unsigned blocks, unsigned tx_frames)
{
	struct mlw_afp_conf c = { .ifname = "a0", .nqueues = nq, .rx_block_size = block,
				  .rx_blocks = blocks, .tx_frames = tx_frames };
	struct mlw_afp_port *p = NULL;
	char err[256];
	int rc = mlw_afp_open(&c, &p, err, sizeof(err));

	if (rc != 0)
		print_error("mlw_afp_open: %d %s\n", rc, err);
	assert_int_equal(rc, 0);
	assert_non_null(p);
	return p;
}

static void test_open_errors(void **state)
{
	struct mlw_afp_port *p = (struct mlw_afp_port *)1;
	struct mlw_afp_conf c = { .ifname = "nosuch0", .nqueues = 1 };
	char err[256];

	(void)state;
	assert_int_equal(mlw_afp_open(&c, &p, err, sizeof(err)), -ENODEV);
	assert_null(p);
	assert_non_null(strstr(err, "nosuch0: no such interface"));

	c.ifname = "a0";
	c.nqueues = 0;
	assert_int_equal(mlw_afp_open(&c, &p, err, sizeof(err)), -EINVAL);
	c.nqueues = MLW_AFP_MAX_QUEUES + 1;
	assert_int_equal(mlw_afp_open(&c, &p, err, sizeof(err)), -EINVAL);

	c.nqueues = 1;
	c.rx_block_size = 5000;
	assert_int_equal(mlw_afp_open(&c, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "page size"));
	c.rx_block_size = 0;
	c.tx_frame_size = 100;
	assert_int_equal(mlw_afp_open(&c, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tx_frame_size"));

	c.tx_frame_size = 0;
	c.ifname = "c0";	/* created down */
	assert_int_equal(mlw_afp_open(&c, &p, err, sizeof(err)), -ENETDOWN);
	assert_non_null(strstr(err, "ip link set c0 up"));
}

/* MLW_AFP_STEER_PORTS on 3 queues: every TCP/UDP frame lands on queue
 * (sport ^ dport) % 3, IPv4 and IPv6; other frames and IPv4 fragments on 0. */
static void test_rx_steer_ports(void **state)
{
	struct mlw_afp_conf c = { .ifname = "a0", .nqueues = 3, .steer = MLW_AFP_STEER_PORTS };
	struct mlw_afp_port *p = NULL;
	int tx = peer_socket(ETH_P_ALL);
	unsigned got4 = 0, got6 = 0, got_other = 0, got_frag = 0, per_queue[3] = { 0, 0, 0 };
	uint8_t b[256];
	char err[256];
	double end;

	(void)state;
	assert_int_equal(mlw_afp_open(&c, &p, err, sizeof(err)), 0);
	for (unsigned f = 0; f < FLOWS; f++) {
		size_t len = udp_frame(b, f, 0, 32);

		assert_int_equal(send(tx, b, len, 0), (ssize_t)len);
		len = udp6_frame(b, f, 0, 32);
		assert_int_equal(send(tx, b, len, 0), (ssize_t)len);
	}
	/* A fragment (MF set) of flow 1's 4-tuple, and a non-IP frame. */
	{
		size_t len = udp_frame(b, 1, 0, 32);

		b[14 + 6] = 0x20;
		b[25] = 0x99;	/* marks it */
		assert_int_equal(send(tx, b, len, 0), (ssize_t)len);
		len = test_frame(b, 0, 0, 40);
		memcpy(b, mac_a, 6);
		assert_int_equal(send(tx, b, len, 0), (ssize_t)len);
	}
	end = now_s() + 5;
	while (got4 + got6 + got_other + got_frag < 2 * FLOWS + 2 && now_s() < end) {
		for (unsigned qi = 0; qi < 3; qi++) {
			struct mlw_afp_frame fr[32];
			unsigned n = mlw_afp_rx_burst(mlw_afp_queue(p, qi), fr, 32);

			for (unsigned i = 0; i < n; i++) {
				const uint8_t *d = fr[i].data;

				if (d[12] == (ETH_TEST >> 8) && d[13] == (ETH_TEST & 0xff)) {
					assert_int_equal(qi, 0);
					got_other++;
				} else if (d[12] == 0x08 && d[13] == 0x00 && d[23] == 17 && d[25] == 0x99) {
					assert_int_equal(qi, 0);
					got_frag++;
				} else if (d[12] == 0x08 && d[13] == 0x00 && d[23] == 17 && d[37] == 7) {
					uint16_t sp = (uint16_t)(d[34] << 8 | d[35]), dp = (uint16_t)(d[36] << 8 | d[37]);

					assert_int_equal(qi, mlw_afp_steer_ports(sp, dp, 3));
					assert_int_equal(qi, mlw_afp_steer_ports(dp, sp, 3));	/* symmetric */
					per_queue[qi]++;
					got4++;
				} else if (d[12] == 0x86 && d[13] == 0xdd && d[20] == 17 && d[57] == 9) {
					uint16_t sp = (uint16_t)(d[54] << 8 | d[55]), dp = (uint16_t)(d[56] << 8 | d[57]);

					assert_int_equal(qi, mlw_afp_steer_ports(sp, dp, 3));
					per_queue[qi]++;
					got6++;
				}
			}
		}
	}
	print_message("steer_ports: IPv4 %u, IPv6 %u, other %u, fragment %u; queues %u/%u/%u\n", got4, got6,
		      got_other, got_frag, per_queue[0], per_queue[1], per_queue[2]);
	assert_int_equal(got4, FLOWS);
	assert_int_equal(got6, FLOWS);
	assert_int_equal(got_other, 1);
	assert_int_equal(got_frag, 1);
	assert_true(per_queue[0] > 0 && per_queue[1] > 0 && per_queue[2] > 0);
	close(tx);
	mlw_afp_close(p);
}

/* Receives until @p want frames with the UDP flow pattern came in or 5 s. */
static void test_rx_fanout(void **state)
{
	/* Blocks handed over when full or after 100 ms: all 1,024 frames fit
	 * in the ring however slowly they are sent (with the default 1 ms a
	 * slow sender, e.g. under ThreadSanitizer, retired a block every few
	 * frames and the 8 blocks overflowed before the reading began). */
	struct mlw_afp_conf c = { .ifname = "a0", .nqueues = 2, .rx_block_tov_ms = 100 };
	struct mlw_afp_port *p = NULL;
	static uint8_t seen[FLOWS][PER_FLOW];
	int flow_queue[FLOWS], per_queue[2] = { 0, 0 };
	unsigned next_seq[FLOWS] = { 0 }, got = 0;
	int tx = peer_socket(ETH_P_ALL);
	uint8_t b[256];
	char err[256];
	double end;

	(void)state;
	assert_int_equal(mlw_afp_open(&c, &p, err, sizeof(err)), 0);
	memset(seen, 0, sizeof(seen));
	for (unsigned f = 0; f < FLOWS; f++)
		flow_queue[f] = -1;
	for (unsigned s = 0; s < PER_FLOW; s++)
		for (unsigned f = 0; f < FLOWS; f++) {
			size_t len = udp_frame(b, f, s, 64 + f);

			assert_int_equal(send(tx, b, len, 0), (ssize_t)len);
		}
	end = now_s() + 5;
	while (got < FLOWS * PER_FLOW && now_s() < end) {
		for (unsigned qi = 0; qi < 2; qi++) {
			struct mlw_afp_queue *q = mlw_afp_queue(p, qi);
			struct mlw_afp_frame fr[32];
			unsigned n = mlw_afp_rx_burst(q, fr, 32);

			for (unsigned i = 0; i < n; i++) {
				const uint8_t *d = fr[i].data + 42;
				unsigned f, s;
				uint8_t want[256];

				if (fr[i].len < 46 || fr[i].data[12] != 0x08 || fr[i].data[23] != 17 ||
				    fr[i].data[37] != 7)
					continue;	/* not ours */
				f = (unsigned)(d[0] | d[1] << 8);
				s = (unsigned)(d[2] | d[3] << 8);
				assert_true(f < FLOWS && s < PER_FLOW);
				assert_int_equal(fr[i].len, udp_frame(want, f, s, 64 + f));
				assert_int_equal(fr[i].wire_len, fr[i].len);
				assert_memory_equal(fr[i].data, want, fr[i].len);
				assert_int_equal(seen[f][s], 0);	/* once */
				seen[f][s] = 1;
				/* A flow stays on one queue, in order. */
				if (flow_queue[f] < 0)
					flow_queue[f] = (int)qi;
				assert_int_equal(flow_queue[f], (int)qi);
				assert_int_equal(s, next_seq[f]);
				next_seq[f]++;
				per_queue[qi]++;
				got++;
			}
		}
	}
	print_message("rx_fanout: %u of %u frames, queue 0: %d, queue 1: %d\n", got, FLOWS * PER_FLOW,
		      per_queue[0], per_queue[1]);
	assert_int_equal(got, FLOWS * PER_FLOW);
	/* 64 flows hashed onto 2 queues: both get some. */
	assert_true(per_queue[0] > 0 && per_queue[1] > 0);
	{
		struct mlw_afp_stats st0, st1;

		mlw_afp_stats(mlw_afp_queue(p, 0), &st0);
		mlw_afp_stats(mlw_afp_queue(p, 1), &st1);
		assert_true(st0.rx_pkts + st1.rx_pkts >= FLOWS * PER_FLOW);
		assert_int_equal(st0.rx_kernel_drops + st1.rx_kernel_drops, 0);
		assert_true(st0.rx_blocks + st1.rx_blocks < FLOWS * PER_FLOW);	/* batched */
	}
	close(tx);
	mlw_afp_close(p);
}

/* Reads test frames at b0 until @p want arrived or 5 s; checks each. */
static unsigned peer_receive(int rx, unsigned nq, unsigned want, size_t payload)
{
	unsigned next[MLW_AFP_MAX_QUEUES] = { 0 }, got = 0;
	double end = now_s() + 5;
	uint8_t b[2048], exp[2048];

	while (got < want && now_s() < end) {
		struct pollfd pfd = { .fd = rx, .events = POLLIN };
		ssize_t n;
		unsigned q, s;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recv(rx, b, sizeof(b), 0);
		if (n < 17 || b[12] != ETH_TEST >> 8 || b[13] != (ETH_TEST & 0xff))
			continue;
		q = b[14];
		s = (unsigned)(b[15] << 8 | b[16]);
		assert_true(q < nq);
		assert_int_equal(s, next[q]);	/* each queue's frames in order */
		assert_int_equal((size_t)n, test_frame(exp, q, s, payload));
		assert_memory_equal(b, exp, (size_t)n);
		next[q]++;
		got++;
	}
	return got;
}

static void test_tx_ring(void **state)
{
	struct mlw_afp_port *p = open_a0(2, 0, 0, 0);
	int rx = peer_socket(ETH_TEST);
	uint8_t b[2048];
	unsigned sent = 0;

	(void)state;
	for (unsigned s = 0; s < 300; s++)
		for (unsigned qi = 0; qi < 2; qi++) {
			struct mlw_afp_queue *q = mlw_afp_queue(p, qi);
			size_t len = test_frame(b, qi, s, 200);
			int rc;

			while ((rc = mlw_afp_tx_copy(q, b, (uint32_t)len)) == -ENOBUFS)
				mlw_afp_tx_flush(q);
			assert_int_equal(rc, 0);
			sent++;
			if (s % 32 == 31)
				assert_true(mlw_afp_tx_flush(q) >= 0);
		}
	for (unsigned qi = 0; qi < 2; qi++)
		assert_true(mlw_afp_tx_flush(mlw_afp_queue(p, qi)) >= 0);
	assert_int_equal(peer_receive(rx, 2, sent, 200), sent);
	/* Too long for the interface (MTU 1500) and too short for Ethernet. */
	assert_int_equal(mlw_afp_tx_copy(mlw_afp_queue(p, 0), b, 1600), -EMSGSIZE);
	assert_int_equal(mlw_afp_tx_copy(mlw_afp_queue(p, 0), b, 10), -EMSGSIZE);
	close(rx);
	mlw_afp_close(p);
}

/* Slots are not reused before the kernel sent them: a ring filled without a
 * flush refuses the next frame, and every frame arrives after the flush. */
static void test_tx_full(void **state)
{
	struct mlw_afp_port *p = open_a0(1, 0, 0, 64);
	struct mlw_afp_queue *q = mlw_afp_queue(p, 0);
	int rx = peer_socket(ETH_TEST);
	struct mlw_afp_stats st;
	uint8_t b[2048];
	unsigned n = 0;
	double end;

	(void)state;
	for (;;) {
		size_t len = test_frame(b, 0, n, 100);

		if (mlw_afp_tx_copy(q, b, (uint32_t)len) != 0)
			break;
		n++;
		assert_true(n <= 64);
	}
	assert_int_equal(n, 64);
	mlw_afp_stats(q, &st);
	assert_int_equal(st.tx_full, 1);
	assert_int_equal(mlw_afp_tx_flush(q), 64);
	assert_int_equal(peer_receive(rx, 1, 64, 100), 64);
	end = now_s() + 2;
	while (mlw_afp_tx_slot(q, NULL) == NULL && now_s() < end)
		usleep(1000);
	assert_non_null(mlw_afp_tx_slot(q, NULL));
	close(rx);
	mlw_afp_close(p);
}

/* An RX ring of 2 one-page blocks, 200 frames not read: the kernel drops
 * what does not fit and says so; what is read is whole and in order. */
static void test_rx_overflow(void **state)
{
	struct mlw_afp_port *p = open_a0(1, (unsigned)sysconf(_SC_PAGESIZE), 2, 0);
	struct mlw_afp_queue *q = mlw_afp_queue(p, 0);
	int tx = peer_socket(ETH_P_ALL);
	struct mlw_afp_frame fr[64];
	struct mlw_afp_stats st;
	unsigned got = 0, last = 0;
	uint8_t b[512];
	double end;

	(void)state;
	for (unsigned s = 0; s < 200; s++) {
		size_t len = udp_frame(b, 3, s, 300);

		assert_int_equal(send(tx, b, len, 0), (ssize_t)len);
	}
	end = now_s() + 1;
	while (now_s() < end) {
		unsigned n = mlw_afp_rx_burst(q, fr, 64);

		for (unsigned i = 0; i < n; i++) {
			uint8_t want[512];
			unsigned s;

			if (fr[i].len < 46 || fr[i].data[23] != 17 || fr[i].data[37] != 7)
				continue;
			s = (unsigned)(fr[i].data[44] | fr[i].data[45] << 8);
			assert_true(got == 0 || s > last);
			assert_int_equal(fr[i].len, udp_frame(want, 3, s, 300));
			assert_memory_equal(fr[i].data, want, fr[i].len);
			last = s;
			got++;
		}
		if (n == 0)
			usleep(1000);
	}
	mlw_afp_stats(q, &st);
	print_message("rx_overflow: read %u, kernel dropped %llu of 200\n", got,
		      (unsigned long long)st.rx_kernel_drops);
	assert_true(got > 0 && got < 200);
	assert_true(st.rx_kernel_drops > 0);
	assert_true(got + st.rx_kernel_drops >= 200);
	close(tx);
	mlw_afp_close(p);
}

/* Without CAP_NET_RAW (a child that became nobody) the error says so. */
static void test_no_capability(void **state)
{
	pid_t pid = fork();
	int status;

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0) {
		struct mlw_afp_conf c = { .ifname = "a0", .nqueues = 1 };
		struct mlw_afp_port *p;
		char err[256];

		if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
			_exit(3);
		if (mlw_afp_open(&c, &p, err, sizeof(err)) != -EPERM)
			_exit(1);
		_exit(strstr(err, "CAP_NET_RAW") != NULL ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* SIOCGIFHWADDR: /sys/class/net shows the namespace sysfs was mounted in. */
static int read_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (rc != 0)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_rx_fanout),
		cmocka_unit_test(test_rx_steer_ports),
		cmocka_unit_test(test_tx_ring),
		cmocka_unit_test(test_tx_full),
		cmocka_unit_test(test_rx_overflow),
		cmocka_unit_test(test_no_capability),
	};

	if (geteuid() != 0) {
		printf("SKIP: needs root (a network namespace and AF_PACKET sockets)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		printf("SKIP: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 77;
	}
	/* No IPv6 on the test's links: no router or listener solicitations. */
	sh("sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1");
	if (sh("ip link add a0 type veth peer name b0 && ip link set a0 up && ip link set b0 up && "
	       "ip link add c0 type veth peer name c1") != 0 ||
	    read_mac("a0", mac_a) != 0 || read_mac("b0", mac_b) != 0) {
		fprintf(stderr, "test_afpacket: could not create the veth pair in the test's namespace\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
