/* mlw_afp_rawio.c - mlw_rawio's measurement on the kernel engine's port (afpacket-netif: TPACKET_V3 rings), so the raw frame rate of AF_PACKET can be set beside DPDK's net_af_packet on the same veth.
 *
 *   mlw_afp_rawio --role tx|rx --iface IF [--duration S] [--size BYTES]
 *                 [--burst N] [--core N] [--qdisc-bypass]
 *
 * Frames and output as mlw_rawio (contrib/bench/rawio/mlw_rawio.c): EtherType
 * 0x88b5, a magic and a 64-bit sequence number, fill 0xa5; one stdout line
 * "RAWIO {json}" with frames, seconds, pps, lost/reordered/bad for rx. tx
 * retries what the ring does not take (tx_full counts those waits), so the
 * sequence stays dense and rx's "lost" is what the kernel or the link
 * dropped (the kernel's own RX drop count is printed as kernel_drops). rx
 * ends 0.5 s after the last frame, or S + 3 s after its first.
 * Needs CAP_NET_RAW. Exit status 0 when frames moved and none was malformed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "afp.h"

#define RAWIO_ETHERTYPE 0x88b5
#define RAWIO_MAGIC 0x6d6c77726177696fULL	/* "mlwrawio" */
#define MAX_BURST 256

struct options {
	bool tx;
	const char *iface;
	double duration;
	unsigned size, burst;
	int core;
	bool bypass;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option lo[] = {
		{ "role", required_argument, NULL, 'r' },  { "iface", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' }, { "size", required_argument, NULL, 'z' },
		{ "burst", required_argument, NULL, 'b' }, { "core", required_argument, NULL, 'c' },
		{ "qdisc-bypass", no_argument, NULL, 'q' }, { NULL, 0, NULL, 0 },
	};
	const char *role = NULL;
	int c;

	*o = (struct options){ .duration = 3, .size = 64, .burst = 32, .core = -1 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'r': role = optarg; break;
		case 'i': o->iface = optarg; break;
		case 'd': o->duration = strtod(optarg, NULL); break;
		case 'z': o->size = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': o->burst = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': o->core = atoi(optarg); break;
		case 'q': o->bypass = true; break;
		default: return -1;
		}
	}
	if (role == NULL || (strcmp(role, "tx") != 0 && strcmp(role, "rx") != 0) || o->iface == NULL) {
		fprintf(stderr, "usage: mlw_afp_rawio --role tx|rx --iface IF [--duration S] [--size BYTES] "
				"[--burst N] [--core N] [--qdisc-bypass]\n");
		return -1;
	}
	o->tx = strcmp(role, "tx") == 0;
	if (o->duration <= 0 || o->duration > 3600 || o->size < 60 || o->size > 1514 || o->burst < 1 ||
	    o->burst > MAX_BURST) {
		fprintf(stderr, "mlw_afp_rawio: --duration (0, 3600], --size 60..1514, --burst 1..%d\n",
			MAX_BURST);
		return -1;
	}
	return 0;
}

static void run_tx(struct mlw_afp_queue *q, const struct options *o)
{
	static const uint8_t dst[6] = { 0x02, 0x00, 0x00, 0x5a, 0x00, 0x02 };
	static const uint8_t src[6] = { 0x02, 0x00, 0x00, 0x5a, 0x00, 0x01 };
	uint64_t seq = 0, full = 0;
	double t0 = now_s(), t1 = t0;

	while (!g_stop && (t1 = now_s()) - t0 < o->duration) {
		for (unsigned i = 0; i < o->burst; i++) {
			uint32_t room;
			uint8_t *p = mlw_afp_tx_slot(q, &room);
			uint64_t magic = RAWIO_MAGIC;

			if (p == NULL) {
				full++;
				break;
			}
			memcpy(p, dst, 6);
			memcpy(p + 6, src, 6);
			p[12] = RAWIO_ETHERTYPE >> 8;
			p[13] = RAWIO_ETHERTYPE & 0xff;
			memcpy(p + 14, &magic, 8);
			memcpy(p + 22, &seq, 8);
			memset(p + 30, 0xa5, o->size - 30);
			mlw_afp_tx_commit(q, o->size);
			seq++;
		}
		mlw_afp_tx_flush(q);
	}
	while (mlw_afp_tx_flush(q) == -EAGAIN)
		usleep(100);
	printf("RAWIO {\"engine\":\"afpacket\",\"role\":\"tx\",\"frame_bytes\":%u,\"burst\":%u,"
	       "\"tx_frames\":%" PRIu64 ",\"tx_full\":%" PRIu64 ",\"frames\":%" PRIu64
	       ",\"seconds\":%.6f,\"pps\":%.0f}\n",
	       o->size, o->burst, seq, full, seq, t1 - t0, (double)seq / (t1 - t0));
}

static int run_rx(struct mlw_afp_queue *q, const struct options *o)
{
	struct mlw_afp_frame f[MAX_BURST];
	uint64_t frames = 0, bytes = 0, lost = 0, reordered = 0, bad = 0, next = 0;
	double t0 = now_s(), first = 0, last = 0;
	struct mlw_afp_stats st;

	while (!g_stop) {
		unsigned n = mlw_afp_rx_burst(q, f, o->burst);
		double t = now_s();

		for (unsigned i = 0; i < n; i++) {
			uint64_t magic, seq;

			if (f[i].len < 30 || f[i].data[12] != (RAWIO_ETHERTYPE >> 8) ||
			    f[i].data[13] != (RAWIO_ETHERTYPE & 0xff))
				continue;
			memcpy(&magic, f[i].data + 14, 8);
			memcpy(&seq, f[i].data + 22, 8);
			if (magic != RAWIO_MAGIC) {
				bad++;
				continue;
			}
			if (frames == 0)
				first = t;
			last = t;
			frames++;
			bytes += f[i].len;
			if (seq >= next) {
				lost += seq - next;
				next = seq + 1;
			} else {
				reordered++;
			}
		}
		if (n == 0) {
			if (frames > 0 && t - last > 0.5)
				break;
			if (frames == 0 && t - t0 > o->duration + 10)
				break;
			if (frames > 0 && t - first > o->duration + 3)
				break;
		}
	}
	mlw_afp_stats(q, &st);
	printf("RAWIO {\"engine\":\"afpacket\",\"role\":\"rx\",\"frame_bytes\":%u,\"burst\":%u,"
	       "\"rx_frames\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"reordered\":%" PRIu64 ",\"bad\":%" PRIu64
	       ",\"kernel_drops\":%" PRIu64 ",\"rx_gbps\":%.4f,\"frames\":%" PRIu64
	       ",\"seconds\":%.6f,\"pps\":%.0f}\n",
	       o->size, o->burst, frames, lost, reordered, bad, st.rx_kernel_drops,
	       last > first ? (double)bytes * 8 / (last - first) / 1e9 : 0.0, frames, last - first,
	       last > first ? (double)(frames - 1) / (last - first) : 0.0);
	return frames > 0 && bad == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct mlw_afp_conf c = { .nqueues = 1 };
	struct mlw_afp_port *p;
	struct options o;
	char err[256];
	int rc;

	if (parse(argc, argv, &o) != 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (o.core >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.core, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	c.ifname = o.iface;
	c.qdisc_bypass = o.bypass;
	rc = mlw_afp_open(&c, &p, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "mlw_afp_rawio: %s\n", err);
		return 1;
	}
	fprintf(stderr, "rawio: ready (role %s, afpacket %s)\n", o.tx ? "tx" : "rx", o.iface);
	if (o.tx)
		run_tx(mlw_afp_queue(p, 0), &o);
	else
		rc = run_rx(mlw_afp_queue(p, 0), &o);
	fflush(stdout);
	mlw_afp_close(p);
	return rc;
}
