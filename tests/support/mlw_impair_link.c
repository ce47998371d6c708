/* mlw_impair_link.c - an impaired Ethernet link for the test suite (this kernel has no tc netem):
 * bridges two interfaces with AF_PACKET raw sockets and impairs each direction (loss,
 * duplication, reordering, corruption, delay, rate; impair_link.h) from a seeded RNG.
 *
 *   mlw_impair_link --a IF --b IF [--seed N] [--both SPEC] [--a2b SPEC] [--b2a SPEC]
 *                   [--duration SECONDS]
 *
 * SPEC: loss=5,dup=5,reorder=5,gap=3,hold=20,corrupt=1,delay=2,rate=100M,limit=4096
 * (percent; gap in frames; hold, delay in ms; rate in bit/s). --both applies to both
 * directions, --a2b/--b2a then override keys of one. Each direction draws from its own RNG
 * seeded from --seed (default: from the clock; printed), so a run's decisions are
 * reproducible for the same frames.
 *
 * Only the traffic under test is impaired: IPv4/IPv6 TCP and UDP. ARP, ICMP, ICMPv6 (neighbour
 * discovery, MLD reports) and other EtherTypes pass unimpaired and take no draw (counted as
 * "passed"), so the TCP segments of two stacks see the same decisions for the same seed even
 * when one of them sends an MLD report and an ARP request before its SYN and the other has
 * its neighbour cached (impair_link.h).
 *
 * Prints "ready" once both sockets are bound, runs until
 * SIGTERM/SIGINT or --duration (default 600 s), then prints per-direction counters and the
 * sockets' own drops, and exits 0.
 *
 * Both interfaces should have offloads off (no TSO/GSO/GRO, no checksum offload) so that
 * frames are MTU-sized and carry real checksums; the endpoints then drop corrupted frames.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "impair_link.h"

#define BURST 64

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct side {
	const char *name;
	int fd;
	int ifindex;
	uint64_t tx_err;
};

static void emit(void *ctx, const uint8_t *frame, size_t len)
{
	struct side *s = ctx;

	if (send(s->fd, frame, len, MSG_DONTWAIT) != (ssize_t)len)
		s->tx_err++;
}

static int open_side(struct side *s)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
	int one = 1, buf = 8 << 20;

	s->ifindex = (int)if_nametoindex(s->name);
	if (s->ifindex == 0) {
		fprintf(stderr, "mlw_impair_link: no interface '%s'\n", s->name);
		return -1;
	}
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (s->fd < 0) {
		perror("mlw_impair_link: socket(AF_PACKET)");
		return -1;
	}
	sll.sll_ifindex = s->ifindex;
	mr.mr_ifindex = s->ifindex;
	if (bind(s->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0 ||
	    setsockopt(s->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0) {
		fprintf(stderr, "mlw_impair_link: %s: %s\n", s->name, strerror(errno));
		return -1;
	}
	/* Our own transmissions are not input. (Also checked per frame below.) */
	setsockopt(s->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) != 0)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) != 0)
		setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	return 0;
}

/* Frames received before the bind came from every interface: drop what is queued. */
static void drain(struct side *s)
{
	uint8_t b[64];

	while (recv(s->fd, b, sizeof(b), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;
}

static void rx(struct side *from, struct imp_dir *d)
{
	static uint8_t buf[65536];

	for (int i = 0; i < BURST; i++) {
		struct sockaddr_ll sll;
		socklen_t sl = sizeof(sll);
		ssize_t n = recvfrom(from->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sll, &sl);

		if (n < 0)
			return;
		if (sll.sll_pkttype == PACKET_OUTGOING || sll.sll_ifindex != from->ifindex)
			continue;
		imp_dir_input(d, buf, (size_t)n, now_ns());
	}
}

static unsigned sock_drops(int fd)
{
	struct tpacket_stats st;
	socklen_t l = sizeof(st);

	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &l) != 0)
		return 0;
	return st.tp_drops;
}

static void usage(FILE *f, const char *p)
{
	fprintf(f, "usage: %s --a IF --b IF [--seed N] [--both SPEC] [--a2b SPEC] [--b2a SPEC]"
		" [--duration SECONDS]\n  SPEC: loss=P,dup=P,reorder=P,gap=N,hold=MS,corrupt=P,"
		"delay=MS,rate=BITS,limit=FRAMES\n"
		"  Impaired: IPv4/IPv6 TCP and UDP frames only. Every other frame (ARP, ICMP, ICMPv6\n"
		"  neighbour discovery and MLD, other EtherTypes) passes unimpaired (delay and rate\n"
		"  still apply), takes no random draw and is counted as 'passed', so the same TCP\n"
		"  segments meet the same decisions for the same seed.\n", p);
}

int main(int argc, char **argv)
{
	struct side a = { .fd = -1 }, b = { .fd = -1 };
	struct imp_params pa, pb;
	struct imp_dir *ab, *ba;
	uint64_t seed = now_ns() ^ ((uint64_t)getpid() << 32), deadline;
	unsigned duration = 600;
	const char *both = NULL, *sab = NULL, *sba = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[256], txt[256];
	unsigned drops_a, drops_b;

	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(k, "--help") == 0 || strcmp(k, "-h") == 0) {
			usage(stdout, argv[0]);
			return 0;
		}
		if (v == NULL) {
			usage(stderr, argv[0]);
			return 2;
		}
		i++;
		if (strcmp(k, "--a") == 0)
			a.name = v;
		else if (strcmp(k, "--b") == 0)
			b.name = v;
		else if (strcmp(k, "--seed") == 0)
			seed = strtoull(v, NULL, 0);
		else if (strcmp(k, "--both") == 0)
			both = v;
		else if (strcmp(k, "--a2b") == 0)
			sab = v;
		else if (strcmp(k, "--b2a") == 0)
			sba = v;
		else if (strcmp(k, "--duration") == 0)
			duration = (unsigned)strtoul(v, NULL, 10);
		else {
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (a.name == NULL || b.name == NULL) {
		usage(stderr, argv[0]);
		return 2;
	}
	imp_params_default(&pa);
	if ((both && imp_params_parse(&pa, both, err, sizeof(err))) != 0)
		goto bad_spec;
	pb = pa;
	if ((sab && imp_params_parse(&pa, sab, err, sizeof(err))) != 0 ||
	    (sba && imp_params_parse(&pb, sba, err, sizeof(err))) != 0)
		goto bad_spec;
	ab = malloc(sizeof(*ab));
	ba = malloc(sizeof(*ba));
	if (ab == NULL || ba == NULL || imp_dir_init(ab, &pa, seed, emit, &b) != 0 ||
	    imp_dir_init(ba, &pb, seed ^ 0x5bd1e995a5a5a5a5ULL, emit, &a) != 0) {
		fprintf(stderr, "mlw_impair_link: out of memory\n");
		return 1;
	}
	if (open_side(&a) != 0 || open_side(&b) != 0)
		return 1;
	drain(&a);
	drain(&b);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("mlw_impair_link: seed %llu (0x%llx)\n", (unsigned long long)seed, (unsigned long long)seed);
	imp_params_format(&pa, txt, sizeof(txt));
	printf("a2b (%s -> %s): %s\n", a.name, b.name, txt);
	imp_params_format(&pb, txt, sizeof(txt));
	printf("b2a (%s -> %s): %s\n", b.name, a.name, txt);
	printf("ready\n");
	fflush(stdout);

	deadline = now_ns() + (uint64_t)duration * 1000000000ULL;
	while (!g_stop) {
		struct pollfd pf[2] = { { .fd = a.fd, .events = POLLIN }, { .fd = b.fd, .events = POLLIN } };
		uint64_t t = now_ns(), next = deadline, n1, n2;
		struct timespec to;

		if (t >= deadline)
			break;
		n1 = imp_dir_poll(ab, t);
		n2 = imp_dir_poll(ba, t);
		if (n1 < next)
			next = n1;
		if (n2 < next)
			next = n2;
		next = next > t ? next - t : 0;
		to.tv_sec = (time_t)(next / 1000000000ULL);
		to.tv_nsec = (long)(next % 1000000000ULL);
		if (ppoll(pf, 2, &to, NULL) < 0) {
			if (errno == EINTR)
				continue;
			perror("mlw_impair_link: ppoll");
			break;
		}
		if (pf[0].revents & POLLIN)
			rx(&a, ab);
		if (pf[1].revents & POLLIN)
			rx(&b, ba);
	}
	drops_a = sock_drops(a.fd);
	drops_b = sock_drops(b.fd);
	imp_counters_format(&ab->c, txt, sizeof(txt));
	printf("a2b: %s tx_err %llu sock_drop %u\n", txt, (unsigned long long)b.tx_err, drops_a);
	imp_counters_format(&ba->c, txt, sizeof(txt));
	printf("b2a: %s tx_err %llu sock_drop %u\n", txt, (unsigned long long)a.tx_err, drops_b);
	printf("mlw_impair_link: stopped (%s)\n", g_stop ? "signal" : "duration");
	imp_dir_fini(ab);
	imp_dir_fini(ba);
	free(ab);
	free(ba);
	close(a.fd);
	close(b.fd);
	return 0;

bad_spec:
	fprintf(stderr, "mlw_impair_link: %s\n", err);
	return 2;
}
