/* instances_demo.c - several independent lwIP instances, one per thread, each pair moving verified TCP data. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip_pair.h"

#define MIB		(1024.0 * 1024.0)
#define DEFAULT_PAIRS	2
#define DEFAULT_MIB	64

#ifdef MLW_PRISTINE_LWIP
#define LWIP_KIND	"plain lwIP (process-wide globals)"
#else
#define LWIP_KIND	"per-shard lwIP (thread-local state)"
#endif

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--pairs N] [--ipv6] [--no-checksum] [--timeout SECONDS] [MIB]\n"
		"       %s --same-thread [--ipv6] [--no-checksum] [--timeout SECONDS] [MIB]\n"
		"\n"
		"Runs N pairs (default %d) of lwIP endpoints over in-memory Ethernet links,\n"
		"every endpoint on its own thread with its own lwIP instance and heap, all\n"
		"pairs on the same addresses (10.0.0.1 <-> 10.0.0.2). Each pair moves MIB\n"
		"mebibytes (default %d) each way over TCP and checks every byte.\n"
		"\n"
		"  -p, --pairs N        pairs to run (1..%d); threads = 2 * N\n"
		"  -s, --same-thread    one pair, both endpoints in one lwIP on this thread\n"
		"  -6, --ipv6           connect over fd00::1 <-> fd00::2\n"
		"  -n, --no-checksum    skip checksum generation and checking\n"
		"  -t, --timeout S      give up after S seconds (default 300)\n"
		"  -h, --help           this text\n",
		prog, prog, DEFAULT_PAIRS, DEFAULT_MIB, MLW_PAIR_MAX_PAIRS);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static double gbit(double bytes, double s)
{
	return s > 0 ? bytes * 8 / s / 1e9 : 0;
}

static double mibps(double bytes, double s)
{
	return s > 0 ? bytes / MIB / s : 0;
}

static void print_header(void)
{
	printf("%-5s %-4s %-6s %11s %8s %8s %9s %9s %12s %9s %7s %10s %10s %s\n",
	       "shard", "pair", "side", "verified", "mismatch", "time s", "rx MiB/s",
	       "rx Gbit/s", "tx+rx Gbit/s", "ring full", "rx lost", "heap peak", "in use end",
	       "status");
}

static void print_result(unsigned shard, const struct mlw_pair_result *r)
{
	double rx = (double)r->bytes_received, tx = (double)r->bytes_sent;

	printf("%-5u %-4u %-6s %7.1f MiB %8" PRIu64 " %8.3f %9.1f %9.2f %12.2f %9" PRIu64
	       " %7" PRIu64 " %6.1f MiB %8" PRIu64 " B %s\n",
	       shard, r->pair, r->side == 0 ? "server" : "client", rx / MIB, r->mismatches,
	       r->elapsed_s, mibps(rx, r->elapsed_s), gbit(rx, r->elapsed_s),
	       gbit(rx + tx, r->elapsed_s), r->tx_dropped, r->rx_dropped,
	       (double)r->heap_peak_bytes / MIB, r->alloc_end.bytes_in_use,
	       r->status == 0 ? "ok" : strerror(-r->status));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pairs", required_argument, NULL, 'p' },
		{ "same-thread", no_argument, NULL, 's' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "no-checksum", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mlw_pair_opts opts = { .timeout_ms = 300000 };
	struct mlw_pair_result *res;
	unsigned long pairs = DEFAULT_PAIRS, mib = DEFAULT_MIB, v;
	unsigned nres;
	bool same_thread = false;
	double slowest = 0, moved = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "p:s6nt:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, MLW_PAIR_MAX_PAIRS, &pairs) != 0) {
				fprintf(stderr, "%s: --pairs wants 1..%d, not '%s'\n", argv[0],
					MLW_PAIR_MAX_PAIRS, optarg);
				usage(stderr, argv[0]);
				return 2;
			}
			break;
		case 's':
			same_thread = true;
			break;
		case '6':
			opts.ipv6 = true;
			break;
		case 'n':
			opts.no_checksum = true;
			break;
		case 't':
			if (parse_uint(optarg, 86400, &v) != 0) {
				fprintf(stderr, "%s: --timeout wants 1..86400 seconds, not '%s'\n",
					argv[0], optarg);
				usage(stderr, argv[0]);
				return 2;
			}
			opts.timeout_ms = (unsigned)v * 1000u;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc - 1 || (optind == argc - 1 && parse_uint(argv[optind], 1024 * 1024, &mib) != 0)) {
		fprintf(stderr, "%s: the transfer size is one number of MiB (1..1048576)\n", argv[0]);
		usage(stderr, argv[0]);
		return 2;
	}
#ifdef MLW_PRISTINE_LWIP
	if (!same_thread) {
		fprintf(stderr,
			"%s: this build links a plain lwIP, whose state (PCB lists, netif list,\n"
			"timers, ...) is one set of process-wide globals: two threads running it\n"
			"would corrupt each other. It can only run --same-thread; the threaded\n"
			"mode needs mlw_instances_demo (the per-shard lwIP).\n", argv[0]);
		return 2;
	}
#endif
	opts.bytes = (uint64_t)mib << 20;
	nres = same_thread ? 2 : 2 * (unsigned)pairs;
	res = calloc(nres, sizeof(*res));
	if (res == NULL) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		return 1;
	}

	if (same_thread) {
		printf("%s: 1 pair, both endpoints in one %s on one thread; %lu MiB each way; %s; checksums %s\n",
		       argv[0], LWIP_KIND, mib, opts.ipv6 ? "IPv6" : "IPv4",
		       opts.no_checksum ? "off" : "on");
		rc = mlw_pair_run_same_thread(&opts, res);
	} else {
		printf("%s: %lu pairs = %u shard threads, one %s each; %lu MiB each way per pair; %s; checksums %s\n",
		       argv[0], pairs, nres, LWIP_KIND, mib, opts.ipv6 ? "IPv6" : "IPv4",
		       opts.no_checksum ? "off" : "on");
		rc = mlw_pair_run_threaded((unsigned)pairs, &opts, res);
	}

	print_header();
	for (unsigned i = 0; i < nres; i++) {
		print_result(i, &res[i]);
		if (res[i].elapsed_s > slowest)
			slowest = res[i].elapsed_s;
		moved += (double)res[i].bytes_received;
	}
	if (same_thread)
		printf("pair (one thread): %.1f MiB moved in %.3f s = %.1f MiB/s = %.2f Gbit/s (both directions)\n",
		       moved / MIB, slowest, mibps(moved, slowest), gbit(moved, slowest));
	else
		printf("all %u shards: %.1f MiB moved in %.3f s = %.1f MiB/s = %.2f Gbit/s (all pairs, both directions)\n",
		       nres, moved / MIB, slowest, mibps(moved, slowest), gbit(moved, slowest));
	printf("(ring full: frames the peer's ring had no room for; lwIP keeps such TCP segments\n"
	       " queued and sends them on its next output pass, so they are delays, not losses)\n");
	if (rc == 0)
		printf("PASS: every byte verified, every connection closed, every shard heap empty\n");
	else
		printf("FAIL: %s\n", strerror(-rc));
	free(res);
	return rc == 0 ? 0 : 1;
}
