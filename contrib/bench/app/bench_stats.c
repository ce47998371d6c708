/* bench_stats.c - mlw_bench's measuring helpers: the latency histogram and its CDF file, kernel memory from /proc, CPU time, JSON lines. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* ---- latency histogram ---- */

void bench_hist_reset(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

/* Values below BENCH_HIST_SUB have a bucket each; above, the power of two
 * (e) selects a group of BENCH_HIST_SUB buckets and the next
 * BENCH_HIST_SUB_BITS bits below the leading one select the bucket. */
static unsigned bucket_of(uint64_t v)
{
	unsigned e;

	if (v < BENCH_HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	if (e > BENCH_HIST_MAX_EXP)
		return BENCH_HIST_BUCKETS - 1;
	return BENCH_HIST_SUB * (e - BENCH_HIST_SUB_BITS + 1) +
	       (unsigned)(v >> (e - BENCH_HIST_SUB_BITS)) - BENCH_HIST_SUB;
}

/* The middle of bucket @p i, in nanoseconds. */
static double bucket_mid_ns(unsigned i)
{
	unsigned e, sub;

	if (i < BENCH_HIST_SUB)
		return i;
	e = i / BENCH_HIST_SUB + BENCH_HIST_SUB_BITS - 1;
	sub = i % BENCH_HIST_SUB + BENCH_HIST_SUB;
	return ((double)sub + 0.5) * (double)(1ull << (e - BENCH_HIST_SUB_BITS));
}

void bench_hist_add(struct bench_hist *h, uint64_t ns)
{
	h->b[bucket_of(ns)]++;
	h->n++;
	h->sum_ns += (double)ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	if (src->n == 0)
		return;
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
	dst->sum_ns += src->sum_ns;
	if (src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
}

/* The smallest value with at least a fraction @p q of the samples at or
 * below it (the bucket's middle), in microseconds; -1 if empty. */
double bench_hist_quantile_us(const struct bench_hist *h, double q)
{
	uint64_t rank, cum = 0;

	if (h->n == 0)
		return -1;
	rank = (uint64_t)ceil(q * (double)h->n);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
		cum += h->b[i];
		if (cum >= rank)
			return bucket_mid_ns(i) / 1e3;
	}
	return (double)h->max_ns / 1e3;
}

/*
 * "latency_us cumulative_fraction" lines for a CDF plot, about 200 of
 * them: 150 evenly spaced fractions, and 50 more crowding towards the tail
 * (1 - 10^-2 .. 1 - 10^-5) where the interesting part of a latency CDF is.
 * Each line is the first bucket reaching the fraction, with the fraction
 * that bucket really reaches; repeats are left out.
 */
int bench_hist_write_cdf(const struct bench_hist *h, const char *path)
{
	double targets[200];
	unsigned nt = 0, t = 0, last = BENCH_HIST_BUCKETS;
	uint64_t cum = 0;
	FILE *f;

	if (h->n == 0)
		return -ENODATA;
	for (unsigned i = 1; i <= 150; i++)
		targets[nt++] = i / 150.0;
	for (unsigned i = 1; i <= 50; i++)
		targets[nt++] = 1.0 - pow(10.0, -2.0 - 3.0 * i / 50.0);
	/* Put the tail fractions in order among the even ones. */
	for (unsigned i = 1; i < nt; i++)
		for (unsigned k = i; k > 0 && targets[k - 1] > targets[k]; k--) {
			double x = targets[k];

			targets[k] = targets[k - 1];
			targets[k - 1] = x;
		}
	f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "# latency_us cumulative_fraction (%" PRIu64 " transactions)\n", h->n);
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS && t < nt; i++) {
		double frac;

		cum += h->b[i];
		frac = (double)cum / (double)h->n;
		if (h->b[i] == 0 || frac < targets[t])
			continue;
		if (i != last)
			fprintf(f, "%.3f %.6f\n", bucket_mid_ns(i) / 1e3, frac);
		last = i;
		while (t < nt && targets[t] <= frac)
			t++;
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

/* ---- kernel memory (linux) ---- */

/*
 * The slab caches a TCP connection of a Linux process lives in: the socket
 * (TCP), its inode (sock_inode_cache), its file (filp) and dentry, the
 * epoll item, and the TIME-WAIT / SYN-queue minisocks. Figures are system
 * wide: over loopback both ends count, as does anything else the host does.
 */
const char *const bench_kmem_caches[BENCH_KMEM_CACHES] = {
	"TCP", "TCPv6", "sock_inode_cache", "filp", "dentry", "eventpoll_epi",
	"tw_sock_TCP", "request_sock_TCP",
};

/* Resident set of this process in kB (/proc/self/statm); 0 or -errno. */
int bench_rss_kb(uint64_t *kb)
{
	unsigned long long size, resident;
	long page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/statm", "r");
	int n;

	if (f == NULL)
		return -errno;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	if (n != 2 || page <= 0)
		return -EIO;
	*kb = resident * (unsigned long long)page / 1024;
	return 0;
}

/* A worker is set up and about to open or accept connections: the first
 * one to get here takes the base of the RSS growth. Called once per
 * worker, outside any packet path. */
void bench_rss_base(struct bench *b)
{
	if (!atomic_exchange(&b->rss_base_taken, 1))
		bench_rss_kb(&b->rss_base_kb);
}

int bench_kmem_sample(struct bench_kmem *m, uint64_t conns)
{
	char line[512];
	FILE *f;

	memset(m, 0, sizeof(*m));
	m->conns = conns;
	f = fopen("/proc/meminfo", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			unsigned long long kb;

			if (sscanf(line, "Slab: %llu kB", &kb) == 1) {
				m->slab_kb = kb;
				m->valid = 1;
				break;
			}
		}
		fclose(f);
	}
	f = fopen("/proc/slabinfo", "r");	/* root only */
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			char name[64];
			unsigned long long active, total, objsize;

			if (sscanf(line, "%63s %llu %llu %llu", name, &active, &total, &objsize) != 4)
				continue;
			for (unsigned i = 0; i < BENCH_KMEM_CACHES; i++) {
				if (strcmp(name, bench_kmem_caches[i]) == 0) {
					m->active[i] = active;
					m->objsize[i] = objsize;
					m->slab_valid = 1;
				}
			}
		}
		fclose(f);
	}
	return m->valid ? 0 : -ENOENT;
}

double bench_rusage_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/* ---- JSON lines ---- */

static void jput(struct bench_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jput(struct bench_json *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (j->n >= sizeof(j->s))
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->s + j->n, sizeof(j->s) - j->n, fmt, ap);
	va_end(ap);
	if (n > 0)
		j->n += (size_t)n;
	if (j->n >= sizeof(j->s))
		j->n = sizeof(j->s) - 1;	/* truncated: never happens with our keys */
}

static void jkey(struct bench_json *j, const char *key)
{
	jput(j, "%s\"%s\": ", j->first ? "" : ", ", key);
	j->first = 0;
}

void bench_json_begin(struct bench_json *j)
{
	j->n = 0;
	j->s[0] = '\0';
	j->first = 1;
	jput(j, "{");
}

/* Our strings are names and messages we wrote: escape only what JSON must. */
void bench_json_str(struct bench_json *j, const char *key, const char *v)
{
	jkey(j, key);
	jput(j, "\"");
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			jput(j, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			jput(j, "\\u%04x", (unsigned char)*p);
		else
			jput(j, "%c", *p);
	}
	jput(j, "\"");
}

void bench_json_u64(struct bench_json *j, const char *key, uint64_t v)
{
	jkey(j, key);
	jput(j, "%" PRIu64, v);
}

void bench_json_num(struct bench_json *j, const char *key, double v, int decimals)
{
	jkey(j, key);
	if (isfinite(v))
		jput(j, "%.*f", decimals, v);
	else
		jput(j, "null");
}

void bench_json_null(struct bench_json *j, const char *key)
{
	jkey(j, key);
	jput(j, "null");
}

void bench_json_bool(struct bench_json *j, const char *key, int v)
{
	jkey(j, key);
	jput(j, "%s", v ? "true" : "false");
}

void bench_json_raw(struct bench_json *j, const char *key, const char *raw)
{
	jkey(j, key);
	jput(j, "%s", raw);
}

void bench_json_end(struct bench_json *j)
{
	jput(j, "}");
}
