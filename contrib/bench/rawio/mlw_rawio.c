/* mlw_rawio.c - the raw packet I/O limit: how many frames per second a DPDK
 * port (net_memif between two processes) moves with no TCP/IP stack at all.
 *
 *   mlw_rawio --role tx|rx|both [options] [-- EAL args...]
 *     --socket PATH       memif control socket file (builds the vdev string:
 *                         net_memif0,role=R,socket=PATH,socket-abstract=no,id=0)
 *     --memif-role R      server|client (default: server for rx, client otherwise)
 *     --vdev STR          the complete --vdev string instead (any DPDK port)
 *     --file-prefix P     EAL --file-prefix (default: mlwrawio<pid>)
 *     --core N            run on this CPU core (EAL -l N; default 0)
 *     --duration S        seconds of sending (tx, both); rx stops S+3 s after
 *                         its first frame at the latest (default 3)
 *     --size BYTES        frame length without FCS, 60..1514 (default 64)
 *     --burst N           frames per burst, 1..256 (default 32)
 *     --link-timeout S    wait at most S seconds for the link (default 10)
 *
 * EAL always gets --no-huge --no-pci -m 512 plus what follows "--".
 *
 * tx: allocates a burst of mbufs, writes a valid Ethernet header (locally
 * administered MACs, ethertype 0x88b5, IEEE "local experimental") and a fixed
 * payload carrying a magic and a 64-bit sequence number, and hands the burst
 * to rte_eth_tx_burst(); what the port refuses (ring full) is retried, so no
 * frame is lost on the sending side and the sequence stays dense. rx: receives
 * bursts, checks magic and sequence (gaps = frames lost, lower numbers =
 * reordered or duplicated), frees the mbufs. "both" does both in one loop.
 *
 * At the end every process prints one stdout line "RAWIO {json}" with
 * frames, seconds, pps and the error counts (tx_full: bursts the port did not
 * take whole; tx_retries: frames handed again). rx measures from its first to
 * its last frame and ends 0.5 s after the traffic stops. The rx process
 * prints "rawio: ready" once its port is started (a memif server then
 * accepts the peer). Exit status 0 when frames moved and none was malformed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define RAWIO_ETHERTYPE 0x88b5
#define RAWIO_MAGIC 0x6d6c77726177696fULL	/* "mlwrawio" */
#define MAX_BURST 256
#define NB_MBUF 8191
#define RING_DESC 1024
#define MAX_EAL_ARGS 64

/* The fixed payload after the Ethernet header. */
struct rawio_payload {
	uint64_t magic;
	uint64_t seq;
} __attribute__((packed));

struct options {
	bool tx, rx;
	const char *role;
	const char *socket;
	const char *memif_role;
	const char *vdev;
	char file_prefix[64];
	unsigned core;
	double duration;
	unsigned size;
	unsigned burst;
	double link_timeout;
	int eal_extra_argc;
	char **eal_extra_argv;
};

struct counters {
	/* tx */
	uint64_t tx_frames, tx_full, tx_retries, tx_nombuf;
	uint64_t tx_start, tx_end;	/* TSC */
	/* rx */
	uint64_t rx_frames, rx_bytes, lost, reordered, bad;
	uint64_t next_seq, first_seq, last_seq;
	uint64_t rx_first, rx_last;	/* TSC, 0 until a frame arrived */
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mlw_rawio --role tx|rx|both [--socket PATH] [--memif-role server|client]\n"
		"                 [--vdev STR] [--file-prefix P] [--core N] [--duration S]\n"
		"                 [--size BYTES] [--burst N] [--link-timeout S] [-- EAL args...]\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 's' },
		{ "memif-role", required_argument, NULL, 'm' },
		{ "vdev", required_argument, NULL, 'v' },
		{ "file-prefix", required_argument, NULL, 'p' },
		{ "core", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 'z' },
		{ "burst", required_argument, NULL, 'b' },
		{ "link-timeout", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->duration = 3;
	o->size = 64;
	o->burst = 32;
	o->link_timeout = 10;
	snprintf(o->file_prefix, sizeof(o->file_prefix), "mlwrawio%d", (int)getpid());
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->role = optarg;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'm':
			o->memif_role = optarg;
			break;
		case 'v':
			o->vdev = optarg;
			break;
		case 'p':
			snprintf(o->file_prefix, sizeof(o->file_prefix), "%s", optarg);
			break;
		case 'c':
			o->core = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			o->duration = strtod(optarg, NULL);
			break;
		case 'z':
			o->size = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			o->burst = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			o->link_timeout = strtod(optarg, NULL);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (!o->role || (strcmp(o->role, "tx") && strcmp(o->role, "rx") && strcmp(o->role, "both"))) {
		fprintf(stderr, "mlw_rawio: --role tx, rx or both is required\n");
		return -1;
	}
	o->tx = strcmp(o->role, "rx") != 0;
	o->rx = strcmp(o->role, "tx") != 0;
	if (!o->vdev && !o->socket) {
		fprintf(stderr, "mlw_rawio: give --socket PATH (net_memif) or --vdev STR\n");
		return -1;
	}
	if (!o->memif_role)
		o->memif_role = strcmp(o->role, "rx") == 0 ? "server" : "client";
	if (strcmp(o->memif_role, "server") && strcmp(o->memif_role, "client")) {
		fprintf(stderr, "mlw_rawio: --memif-role must be server or client\n");
		return -1;
	}
	if (o->duration <= 0 || o->duration > 3600) {
		fprintf(stderr, "mlw_rawio: --duration must be in (0, 3600]\n");
		return -1;
	}
	if (o->size < 60 || o->size > 1514) {
		fprintf(stderr, "mlw_rawio: --size must be 60..1514\n");
		return -1;
	}
	if (o->burst < 1 || o->burst > MAX_BURST) {
		fprintf(stderr, "mlw_rawio: --burst must be 1..%d\n", MAX_BURST);
		return -1;
	}
	if (o->link_timeout <= 0 || o->link_timeout > 600) {
		fprintf(stderr, "mlw_rawio: --link-timeout must be in (0, 600]\n");
		return -1;
	}
	o->eal_extra_argc = argc - optind;
	o->eal_extra_argv = argv + optind;
	return 0;
}

/* Start the EAL with a fixed, container-friendly set of arguments. */
static int start_eal(const char *prog, const struct options *o)
{
	static char vdev_arg[512], prefix_arg[128], core_arg[32];
	char *eal_argv[MAX_EAL_ARGS];
	int n = 0;

	if (o->vdev)
		snprintf(vdev_arg, sizeof(vdev_arg), "--vdev=%s", o->vdev);
	else
		snprintf(vdev_arg, sizeof(vdev_arg),
			 "--vdev=net_memif0,role=%s,socket=%s,socket-abstract=no,id=0", o->memif_role,
			 o->socket);
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", o->file_prefix);
	snprintf(core_arg, sizeof(core_arg), "%u", o->core);
	eal_argv[n++] = (char *)prog;
	eal_argv[n++] = "--no-huge";
	eal_argv[n++] = "--no-pci";
	eal_argv[n++] = "-m";
	eal_argv[n++] = "512";
	eal_argv[n++] = "-l";
	eal_argv[n++] = core_arg;
	eal_argv[n++] = prefix_arg;
	eal_argv[n++] = vdev_arg;
	eal_argv[n++] = "--log-level=lib.eal:warning";
	for (int i = 0; i < o->eal_extra_argc && n < MAX_EAL_ARGS - 1; i++)
		eal_argv[n++] = o->eal_extra_argv[i];
	eal_argv[n] = NULL;
	if (rte_eal_init(n, eal_argv) < 0) {
		fprintf(stderr, "mlw_rawio: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/* Configure and start port 0 with one RX and one TX queue. */
static int start_port(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	int socket = rte_eth_dev_socket_id(port);

	if (rte_eth_dev_count_avail() < 1 || !rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, "mlw_rawio: no DPDK port (check the vdev string)\n");
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, RING_DESC, socket, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, RING_DESC, socket, NULL) != 0) {
		fprintf(stderr, "mlw_rawio: port setup failed\n");
		return -1;
	}
	if (rte_eth_dev_start(port) != 0) {
		fprintf(stderr, "mlw_rawio: rte_eth_dev_start failed\n");
		return -1;
	}
	return 0;
}

/* Wait until the link is up (want_up) or down; 0 when it is. */
static int wait_link(uint16_t port, bool want_up, double timeout_s, double *waited_s)
{
	uint64_t hz = rte_get_tsc_hz(), t0 = rte_get_tsc_cycles();
	struct rte_eth_link link;

	while (!g_stop) {
		if (rte_eth_link_get_nowait(port, &link) == 0 &&
		    (link.link_status == RTE_ETH_LINK_UP) == want_up) {
			*waited_s = (double)(rte_get_tsc_cycles() - t0) / (double)hz;
			return 0;
		}
		if ((double)(rte_get_tsc_cycles() - t0) / (double)hz > timeout_s)
			break;
		usleep(1000);
	}
	*waited_s = (double)(rte_get_tsc_cycles() - t0) / (double)hz;
	return -1;
}

/* Write one frame: Ethernet header, magic and sequence number, fixed fill. */
static void fill_frame(struct rte_mbuf *m, unsigned size, uint64_t seq)
{
	static const uint8_t dst[6] = { 0x02, 0x00, 0x00, 0x5a, 0x00, 0x02 };
	static const uint8_t src[6] = { 0x02, 0x00, 0x00, 0x5a, 0x00, 0x01 };
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)size);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
	struct rawio_payload pl = { .magic = RAWIO_MAGIC, .seq = seq };

	memcpy(eh->dst_addr.addr_bytes, dst, 6);
	memcpy(eh->src_addr.addr_bytes, src, 6);
	eh->ether_type = rte_cpu_to_be_16(RAWIO_ETHERTYPE);
	memcpy(p + sizeof(*eh), &pl, sizeof(pl));
	/* The fill is written once per mbuf life would be cheaper, but a fresh
	 * mbuf may hold anything: write the (small) rest every time. */
	memset(p + sizeof(*eh) + sizeof(pl), 0xa5, size - sizeof(*eh) - sizeof(pl));
}

/* Check and count one received frame, then free it. */
static void take_frame(struct counters *k, struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)p;
	struct rawio_payload pl;

	k->rx_bytes += m->pkt_len;
	if (m->data_len < sizeof(*eh) + sizeof(pl) ||
	    eh->ether_type != rte_cpu_to_be_16(RAWIO_ETHERTYPE)) {
		k->bad++;
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(&pl, p + sizeof(*eh), sizeof(pl));
	rte_pktmbuf_free(m);
	if (pl.magic != RAWIO_MAGIC) {
		k->bad++;
		return;
	}
	if (k->rx_frames == 0) {
		k->first_seq = pl.seq;
		k->next_seq = pl.seq;
	}
	k->rx_frames++;
	if (pl.seq == k->next_seq) {
		k->next_seq++;
	} else if (pl.seq > k->next_seq) {
		k->lost += pl.seq - k->next_seq;
		k->next_seq = pl.seq + 1;
	} else {
		k->reordered++;
	}
	if (pl.seq > k->last_seq)
		k->last_seq = pl.seq;
}

/* One transmit step: send a burst of fresh frames plus what the port refused
 * last time. Returns false when the mempool is empty. */
static bool tx_step(uint16_t port, struct rte_mempool *pool, const struct options *o,
		    struct counters *k, struct rte_mbuf **pending, unsigned *npending)
{
	unsigned want = o->burst, have = *npending;
	uint16_t sent;

	if (have < want) {
		if (rte_pktmbuf_alloc_bulk(pool, pending + have, want - have) != 0) {
			k->tx_nombuf++;
			if (have == 0)
				return false;
		} else {
			for (unsigned i = have; i < want; i++)
				fill_frame(pending[i], o->size, k->tx_frames + i);
			have = want;
		}
	}
	sent = rte_eth_tx_burst(port, 0, pending, (uint16_t)have);
	k->tx_frames += sent;
	if (sent < have) {
		k->tx_full++;
		k->tx_retries += have - sent;
		memmove(pending, pending + sent, (have - sent) * sizeof(*pending));
	}
	*npending = have - sent;
	return true;
}

/* Receive one burst; returns the number of frames taken. */
static unsigned rx_step(uint16_t port, const struct options *o, struct counters *k)
{
	struct rte_mbuf *bufs[MAX_BURST];
	uint16_t n = rte_eth_rx_burst(port, 0, bufs, (uint16_t)o->burst);

	if (n == 0)
		return 0;
	for (uint16_t i = 0; i < n; i++)
		take_frame(k, bufs[i]);
	k->rx_last = rte_get_tsc_cycles();
	if (k->rx_first == 0)
		k->rx_first = k->rx_last;
	return n;
}

/* The measurement loop for every role. */
static void run(uint16_t port, struct rte_mempool *pool, const struct options *o,
		struct counters *k)
{
	struct rte_mbuf *pending[MAX_BURST];
	unsigned npending = 0;
	uint64_t hz = rte_get_tsc_hz();
	uint64_t send_cycles = (uint64_t)(o->duration * (double)hz);
	uint64_t idle_end = hz / 2;			/* rx: 0.5 s without a frame */
	uint64_t rx_max = (uint64_t)((o->duration + 3) * (double)hz);
	uint64_t rx_first_max = (uint64_t)((o->link_timeout + o->duration + 3) * (double)hz);
	uint64_t t0 = rte_get_tsc_cycles(), now = t0;
	unsigned iter = 0;

	k->tx_start = t0;
	while (!g_stop) {
		bool sending = o->tx && now - t0 < send_cycles;

		if (sending && !tx_step(port, pool, o, k, pending, &npending))
			rte_pause();	/* mempool empty: frames still in flight */
		if (o->rx)
			rx_step(port, o, k);
		if ((++iter & 15) != 0 && sending)
			continue;
		now = rte_get_tsc_cycles();
		if (o->tx && now - t0 >= send_cycles && k->tx_end == 0)
			k->tx_end = now;
		if (!o->rx) {
			if (k->tx_end)
				break;
			continue;
		}
		/* rx: stop when the traffic ended, or at the hard limits. */
		if (k->rx_first == 0) {
			if (now - t0 > rx_first_max || (o->tx && k->tx_end && now - k->tx_end > idle_end))
				break;
			continue;
		}
		if ((!o->tx || k->tx_end) && now - k->rx_last > idle_end)
			break;
		if (now - k->rx_first > rx_max)
			break;
	}
	if (o->tx && k->tx_end == 0)
		k->tx_end = rte_get_tsc_cycles();
	if (npending)
		rte_pktmbuf_free_bulk(pending, npending);
}

static void print_result(uint16_t port, const struct options *o, const struct counters *k,
			 double link_wait_s)
{
	double hz = (double)rte_get_tsc_hz();
	struct rte_eth_stats st;

	memset(&st, 0, sizeof(st));
	rte_eth_stats_get(port, &st);
	printf("RAWIO {\"role\":\"%s\",\"frame_bytes\":%u,\"burst\":%u,\"link_wait_s\":%.3f",
	       o->role, o->size, o->burst, link_wait_s);
	if (o->tx) {
		double s = (double)(k->tx_end - k->tx_start) / hz;

		printf(",\"tx_frames\":%" PRIu64 ",\"tx_seconds\":%.6f,\"tx_pps\":%.0f,"
		       "\"tx_full\":%" PRIu64 ",\"tx_retries\":%" PRIu64 ",\"tx_nombuf\":%" PRIu64,
		       k->tx_frames, s, s > 0 ? (double)k->tx_frames / s : 0.0, k->tx_full,
		       k->tx_retries, k->tx_nombuf);
	}
	if (o->rx) {
		double s = k->rx_frames > 1 ? (double)(k->rx_last - k->rx_first) / hz : 0.0;
		double pps = s > 0 ? (double)(k->rx_frames - 1) / s : 0.0;

		printf(",\"rx_frames\":%" PRIu64 ",\"rx_seconds\":%.6f,\"rx_pps\":%.0f,"
		       "\"rx_gbps\":%.4f,\"lost\":%" PRIu64 ",\"reordered\":%" PRIu64 ",\"bad\":%" PRIu64
		       ",\"first_seq\":%" PRIu64 ",\"last_seq\":%" PRIu64,
		       k->rx_frames, s, pps, s > 0 ? (double)k->rx_bytes * 8 / s / 1e9 : 0.0, k->lost,
		       k->reordered, k->bad, k->first_seq, k->last_seq);
	}
	/* The figures of the role's main direction, under the common names. */
	if (o->rx) {
		double s = k->rx_frames > 1 ? (double)(k->rx_last - k->rx_first) / hz : 0.0;

		printf(",\"frames\":%" PRIu64 ",\"seconds\":%.6f,\"pps\":%.0f", k->rx_frames, s,
		       s > 0 ? (double)(k->rx_frames - 1) / s : 0.0);
	} else {
		double s = (double)(k->tx_end - k->tx_start) / hz;

		printf(",\"frames\":%" PRIu64 ",\"seconds\":%.6f,\"pps\":%.0f", k->tx_frames, s,
		       s > 0 ? (double)k->tx_frames / s : 0.0);
	}
	printf(",\"port_ipackets\":%" PRIu64 ",\"port_opackets\":%" PRIu64 ",\"port_imissed\":%" PRIu64
	       ",\"port_ierrors\":%" PRIu64 ",\"port_oerrors\":%" PRIu64 ",\"port_rx_nombuf\":%" PRIu64
	       "}\n",
	       st.ipackets, st.opackets, st.imissed, st.ierrors, st.oerrors, st.rx_nombuf);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct options o;
	struct counters k;
	struct rte_mempool *pool;
	double link_wait_s = 0;
	const uint16_t port = 0;
	int rc = 0;

	if (parse_options(argc, argv, &o) != 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (start_eal(argv[0], &o) != 0)
		return 1;
	pool = rte_pktmbuf_pool_create("rawio_pool", NB_MBUF, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (!pool) {
		fprintf(stderr, "mlw_rawio: mbuf pool: %s\n", rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}
	if (start_port(port, pool) != 0) {
		rte_eal_cleanup();
		return 1;
	}
	fprintf(stderr, "rawio: ready (role %s, memif %s)\n", o.role, o.vdev ? "vdev" : o.memif_role);
	memset(&k, 0, sizeof(k));
	if (wait_link(port, true, o.link_timeout, &link_wait_s) != 0) {
		fprintf(stderr, "mlw_rawio: link not up after %.1f s\n", link_wait_s);
		rc = 1;
	} else {
		fprintf(stderr, "rawio: link up after %.3f s, running %.1f s\n", link_wait_s, o.duration);
		run(port, pool, &o, &k);
		print_result(port, &o, &k, link_wait_s);
		/* Let the receiver drain the ring before the link goes down. */
		if (!o.rx)
			usleep(300000);
		if ((o.tx && k.tx_frames == 0) || (o.rx && k.rx_frames == 0) || k.bad != 0)
			rc = 1;
		/* DPDK 22.11's memif disconnect is not safe against itself: when
		 * both ends stop at the same moment, our rte_eth_dev_stop() and the
		 * interrupt thread handling the peer's disconnect free the shared
		 * regions twice (a crash at exit, seen about once in 30 "both"
		 * runs). So the memif client stops first, and the server waits
		 * until it has gone, plus a moment for that interrupt thread to
		 * finish, before stopping its own port. */
		if (!o.vdev && strcmp(o.memif_role, "server") == 0) {
			double waited;

			if (wait_link(port, false, 5.0, &waited) == 0)
				usleep(100000);
			else
				fprintf(stderr, "rawio: the memif client is still connected after %.1f s; "
					"stopping anyway\n", waited);
		}
	}
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_cleanup();
	return rc;
}
