/* soak_sampler.c - samples a running stack's resources into a CSV file, linked into an
 * unmodified server program (mlw_soak_http_server: mlw_http_server; mlw_soak_apps_server:
 * mlw_apps_server).
 *
 * The program is linked with -Wl,--wrap=mlw_stack_create_from_file,--wrap=mlw_stack_destroy:
 * when the stack is created, a sampler thread starts; every MLW_SOAK_INTERVAL_MS (default
 * 2000) it writes one row per shard to the file MLW_SOAK_CSV:
 *
 *   t_ms,shard,heap_bytes,heap_objects,heap_reserved,heap_failures,conns,time_wait,
 *   accepts,resets,tw_reopens,tw_rst_kills,rx_drops,tx_drops,fwd_drops,mbufs_in_use,
 *   mbufs_avail,rss_kb,loops,idle_loops,rx_pkts,tx_pkts,unix_ms
 *
 * from mlw_stack_stats() (the counters each shard publishes every 100 ms), the shard's
 * mbuf pool "mlw_pool_N" (rte_mempool_in_use_count/avail_count: the ports' RX rings
 * hold a fixed part) and the process's VmRSS (/proc/self/status); loops and frames
 * counted show whether a shard ran between two samples. Before the stack is
 * destroyed (after it stopped) the sampler stops and writes a last set of rows with
 * t_ms = -1 (the stop's figures: heaps should be empty). Without MLW_SOAK_CSV nothing
 * runs. The thread only reads published counters: nothing on a shard's path changes.
 *
 * To show that the soak's verdict can fail, MLW_SOAK_LEAK_BYTES=N (a check of the checker,
 * never in the test) makes every connection accepted (mlw_accept4, also wrapped) leak an
 * N-byte block of its shard's heap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_mempool.h>

#include "mlwip/alloc.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"

int __real_mlw_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
int __wrap_mlw_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
int __real_mlw_stack_create_from_file(struct mlw_stack **st, const char *path, char *err, size_t errlen);
void __real_mlw_stack_destroy(struct mlw_stack *st);
int __wrap_mlw_stack_create_from_file(struct mlw_stack **st, const char *path, char *err, size_t errlen);
void __wrap_mlw_stack_destroy(struct mlw_stack *st);

static struct {
	struct mlw_stack *st;
	FILE *csv;
	unsigned interval_ms;
	size_t leak_bytes;
	pthread_t thread;
	int running;
	atomic_int stop;
	struct timespec t0;
} g_soak;

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

static void sample(long t_ms)
{
	long rss = rss_kb();
	struct timespec wall;

	clock_gettime(CLOCK_REALTIME, &wall);

	for (unsigned i = 0; i < mlw_stack_nshards(g_soak.st); i++) {
		struct mlw_shard_stats s;
		struct rte_mempool *mp;
		char name[RTE_MEMPOOL_NAMESIZE];
		long in_use = -1, avail = -1;

		if (mlw_stack_stats(g_soak.st, i, &s) != 0)
			continue;
		snprintf(name, sizeof(name), "mlw_pool_%u", i);
		mp = rte_mempool_lookup(name);
		if (mp != NULL) {
			in_use = (long)rte_mempool_in_use_count(mp);
			avail = (long)rte_mempool_avail_count(mp);
		}
		fprintf(g_soak.csv, "%ld,%u,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%ld,%ld,%ld,"
			"%llu,%llu,%llu,%llu,%lld\n",
			t_ms, i, (unsigned long long)s.alloc.bytes_in_use,
			(unsigned long long)s.alloc.objects_in_use, (unsigned long long)s.alloc.bytes_reserved,
			(unsigned long long)s.alloc.failures, (unsigned long long)s.tcp_conns,
			(unsigned long long)s.tcp_time_wait, (unsigned long long)s.tcp_accepts,
			(unsigned long long)s.tcp_resets, (unsigned long long)s.rx_tcp_tw_syn_reopens,
			(unsigned long long)s.rx_tcp_tw_rst_kills, (unsigned long long)s.rx_drops,
			(unsigned long long)s.tx_drops, (unsigned long long)s.fwd_drops, in_use, avail, rss,
			(unsigned long long)s.loops, (unsigned long long)s.idle_loops,
			(unsigned long long)s.rx_pkts, (unsigned long long)s.tx_pkts,
			(long long)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
	}
	fflush(g_soak.csv);
}

static long elapsed_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - g_soak.t0.tv_sec) * 1000L + (now.tv_nsec - g_soak.t0.tv_nsec) / 1000000L;
}

static void *sampler(void *arg)
{
	long next = 0;

	(void)arg;
	while (!atomic_load(&g_soak.stop)) {
		long now = elapsed_ms();

		if (now >= next) {
			sample(now);
			next += g_soak.interval_ms;
		}
		{
			struct timespec d = { 0, 20 * 1000000L };

			nanosleep(&d, NULL);
		}
	}
	return NULL;
}

/* The sampler thread, on every CPU: a thread made by the main lcore inherits
 * its affinity (shard 0's core), and would stand still whenever shard 0 does. */
static int start_sampler(void)
{
	pthread_attr_t attr;
	cpu_set_t all;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	CPU_ZERO(&all);
	for (long c = 0; c < n && c < CPU_SETSIZE; c++)
		CPU_SET((int)c, &all);
	if (pthread_attr_init(&attr) != 0)
		return -1;
	pthread_attr_setaffinity_np(&attr, sizeof(all), &all);
	rc = pthread_create(&g_soak.thread, &attr, sampler, NULL);
	pthread_attr_destroy(&attr);
	return rc;
}

int __wrap_mlw_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	int c = __real_mlw_accept4(fd, addr, addrlen, flags);

	if (c >= 0 && g_soak.leak_bytes > 0)
		(void)mlw_alloc_malloc(g_soak.leak_bytes);	/* deliberately never freed */
	return c;
}

int __wrap_mlw_stack_create_from_file(struct mlw_stack **st, const char *path, char *err, size_t errlen)
{
	const char *csv = getenv("MLW_SOAK_CSV");
	const char *iv = getenv("MLW_SOAK_INTERVAL_MS");
	const char *leak = getenv("MLW_SOAK_LEAK_BYTES");
	int rc = __real_mlw_stack_create_from_file(st, path, err, errlen);

	if (leak != NULL && *leak != '\0') {
		g_soak.leak_bytes = (size_t)strtoul(leak, NULL, 10);
		fprintf(stderr, "soak sampler: every accepted connection leaks %zu bytes (MLW_SOAK_LEAK_BYTES)\n",
			g_soak.leak_bytes);
	}

	if (rc != 0 || csv == NULL || *csv == '\0')
		return rc;
	g_soak.st = *st;
	g_soak.interval_ms = iv != NULL ? (unsigned)strtoul(iv, NULL, 10) : 2000;
	if (g_soak.interval_ms < 100)
		g_soak.interval_ms = 100;
	g_soak.csv = fopen(csv, "w");
	if (g_soak.csv == NULL) {
		fprintf(stderr, "soak sampler: cannot open %s: %s\n", csv, strerror(errno));
		return rc;
	}
	fprintf(g_soak.csv, "t_ms,shard,heap_bytes,heap_objects,heap_reserved,heap_failures,conns,"
		"time_wait,accepts,resets,tw_reopens,tw_rst_kills,rx_drops,tx_drops,fwd_drops,"
		"mbufs_in_use,mbufs_avail,rss_kb,loops,idle_loops,rx_pkts,tx_pkts,unix_ms\n");
	clock_gettime(CLOCK_MONOTONIC, &g_soak.t0);
	atomic_store(&g_soak.stop, 0);
	if (start_sampler() != 0) {
		fprintf(stderr, "soak sampler: cannot start its thread\n");
		fclose(g_soak.csv);
		g_soak.csv = NULL;
		return rc;
	}
	g_soak.running = 1;
	fprintf(stderr, "soak sampler: every %u ms into %s\n", g_soak.interval_ms, csv);
	return rc;
}

void __wrap_mlw_stack_destroy(struct mlw_stack *st)
{
	if (g_soak.running && st == g_soak.st) {
		atomic_store(&g_soak.stop, 1);
		pthread_join(g_soak.thread, NULL);
		g_soak.running = 0;
		sample(-1);	/* after the stop, before the ports close */
		fclose(g_soak.csv);
		g_soak.csv = NULL;
	}
	__real_mlw_stack_destroy(st);
}
