/* bench.h - mlw_bench's shared definitions: the socket-layer switch (struct bench_ops), options, per-worker results, helpers.
 *
 * The workloads (bench_work.c) are written once against struct bench_ops;
 * bench_linux.c fills it with Linux's own sockets and epoll (worker
 * threads), bench_mlwip.c with mlwip's (one worker per shard).
 * bench_main.c parses the options, runs a backend and prints the results.
 */
#ifndef MLW_BENCH_H
#define MLW_BENCH_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#define BENCH_MAX_WORKERS 64		/* threads (linux) or shards (mlwip, MLW_MAX_SHARDS) */
#define BENCH_MAX_PORTS 64		/* --nports */
#define BENCH_MSG_MAX (1u << 20)	/* --msg */
#define BENCH_IO_CHUNK 65536		/* stream writes, server reads */
#define BENCH_STALL_S 10		/* client: a run where nothing moves this long fails */

/*
 * The wire protocol. The first byte a client sends on a connection says
 * what the server does with the rest, so that the server needs no
 * workload option:
 *   'E' echo: every following byte is sent back (rr, crr);
 *   'S' sink: following bytes are read and counted; at the client's FIN
 *       the server answers with the count (8 bytes, big-endian) and closes
 *       (stream).
 * A connection that ends before its first byte (conns) is simply closed.
 */
#define BENCH_TAG_ECHO 'E'
#define BENCH_TAG_SINK 'S'

enum bench_stack { BENCH_LINUX, BENCH_MLWIP };
enum bench_role { BENCH_SERVER, BENCH_CLIENT };
enum bench_workload { BENCH_RR, BENCH_CRR, BENCH_STREAM, BENCH_CONNS };

/* The command line, validated (bench_main.c). */
struct bench_opts {
	enum bench_stack stack;
	enum bench_role role;
	enum bench_workload workload;
	const char *config;		/* mlwip: INI file */
	unsigned threads;		/* linux: worker threads */
	struct in_addr bind;		/* server: listen address */
	uint16_t port;			/* first server port */
	unsigned nports;		/* ports port .. port + nports - 1 */
	double duration;		/* server: run at most (0: until a signal); client: measured time */
	struct in_addr server;		/* client: server address */
	unsigned conns;			/* total over all workers */
	unsigned msg;			/* rr/crr message size */
	uint64_t transactions;		/* rr/crr: 0, or stop after this many in total */
	const char *latency_out;	/* rr: CDF file, or NULL */
	double hold;			/* conns: seconds to keep them open */
	double warmup;			/* rr/crr/stream: seconds before measuring */
	double progress;		/* seconds between progress lines (default 1) */
};

/*
 * The switch between socket layers. The socket calls have POSIX
 * signatures and semantics (-1 and errno), so Linux's calls and mlwip's
 * mlw_* calls fit as they are (bench_linux.c wraps Linux's write calls to
 * add MSG_NOSIGNAL). Descriptors are only meaningful to the backend that
 * made them.
 */
struct bench_ops {
	const char *name;		/* "linux" or "mlwip" */
	int (*socket)(int domain, int type, int protocol);
	int (*bind)(int fd, const struct sockaddr *addr, socklen_t len);
	int (*listen)(int fd, int backlog);
	int (*accept4)(int fd, struct sockaddr *addr, socklen_t *len, int flags);
	int (*connect)(int fd, const struct sockaddr *addr, socklen_t len);
	ssize_t (*read)(int fd, void *buf, size_t len);
	ssize_t (*write)(int fd, const void *buf, size_t len);
	ssize_t (*writev)(int fd, const struct iovec *iov, int iovcnt);
	int (*shutdown)(int fd, int how);
	int (*close)(int fd);
	int (*setsockopt)(int fd, int level, int name, const void *val, socklen_t len);
	int (*getsockopt)(int fd, int level, int name, void *val, socklen_t *len);
	int (*epoll_create1)(int flags);
	int (*epoll_ctl)(int epfd, int op, int fd, struct epoll_event *ev);
	int (*epoll_wait)(int epfd, struct epoll_event *evs, int maxevents, int timeout_ms);
	/* Memory for per-connection state: the shard heap on mlwip. */
	void *(*calloc)(size_t n, size_t size);
	void (*free)(void *p);
	/* mlwip: bytes in use on the calling shard's heap (lwIP's memory and
	 * everything allocated with ->calloc); NULL on linux. */
	int (*heap_in_use)(uint64_t *bytes);
	/* 1 once the backend is stopping (mlwip: mlw_shard_stopping()); may be NULL. */
	int (*stopping)(void);
	/* After a client closed its connections: keep running the event
	 * loop this long so the closing handshakes finish (mlwip: the shard's
	 * loop only runs while somebody calls into it; 0 on linux, where
	 * the kernel finishes them). */
	unsigned close_linger_ms;
};

/*
 * Latency histogram: log-linear (HDR-style) buckets over nanoseconds, 128
 * per power of two, so a value is known within 1/256 (0.4%) from 128 ns to
 * 2^35 ns (34 s); below 128 ns each nanosecond has its own bucket, above
 * 2^35 ns values land in the last bucket. Fixed size, no allocation.
 */
#define BENCH_HIST_SUB_BITS 7
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_MAX_EXP 34
#define BENCH_HIST_BUCKETS (BENCH_HIST_SUB * (BENCH_HIST_MAX_EXP - BENCH_HIST_SUB_BITS + 2))

struct bench_hist {
	uint64_t n;
	uint64_t min_ns, max_ns;
	double sum_ns;
	uint64_t b[BENCH_HIST_BUCKETS];
};

/*
 * What one worker counted. Only the worker writes it. The two pub_ fields
 * are published while running (relaxed stores, one writer, read by the
 * monitor thread for the progress line and the memory samples, like the
 * stack's own published stats); they sit on their own cache line so the
 * monitor's reads do not disturb the rest. Everything else is read by main
 * after the worker ended.
 */
struct bench_result {
	_Alignas(64) _Atomic uint64_t pub_progress;	/* transactions, bytes or connections so far */
	_Atomic uint64_t pub_established;		/* connections open now */

	_Alignas(64) uint64_t transactions;	/* completed inside the measured interval */
	uint64_t transactions_all;		/* completed, warm-up and drain included */
	uint64_t bytes;			/* stream client: measured bytes; server: bytes read */
	uint64_t bytes_acked;		/* stream client: sum of the server's counts */
	uint64_t bytes_out;		/* server: bytes echoed */
	uint64_t errors;		/* protocol or connection errors (see the messages) */
	uint64_t connect_failures;	/* connects that failed (also in errors) */
	uint64_t port_exhausted;	/* connects refused with EADDRNOTAVAIL (retried later) */
	uint64_t resets;		/* server: connections the peer reset */
	uint64_t accepted;		/* server */
	uint64_t established;		/* client: connects that completed */
	uint64_t established_now;
	uint64_t established_peak;	/* most open at once */
	uint64_t t_done_ns;		/* client: when the last answer (stream: count) came */
	uint64_t t_established_ns;	/* conns: when the last connection was up */
	uint64_t t_release_ns;		/* conns: when the hold ended and closing began */
	/* rr/crr with --transactions: when the worker's first transaction
	 * completed (tenth_ns[0]) and when k tenths of its share had
	 * (tenth_ns[k]); ntenth marks taken. */
	uint64_t tenth_ns[11];
	unsigned ntenth;
	/* mlwip shard heap (heap_in_use), bytes: before any connection, at
	 * established_peak, and when the loop ended (before closing). */
	int heap_valid;
	uint64_t heap_base, heap_peak, heap_end;
	uint64_t app_bytes_at_peak;	/* the bench's own state included in heap_peak */
	unsigned reported;		/* error messages printed */
	struct bench_hist hist;		/* rr/crr latencies of the measured interval */
};

/* Kernel memory figures (linux), from /proc (bench_stats.c). */
#define BENCH_KMEM_CACHES 8
struct bench_kmem {
	int valid;		/* /proc/meminfo read */
	int slab_valid;		/* /proc/slabinfo read (needs root) */
	uint64_t slab_kb;	/* /proc/meminfo Slab */
	uint64_t conns;		/* connections open when sampled */
	uint64_t active[BENCH_KMEM_CACHES];	/* active objects per cache of bench_kmem_caches[] */
	uint64_t objsize[BENCH_KMEM_CACHES];
};
extern const char *const bench_kmem_caches[BENCH_KMEM_CACHES];

/* One run: shared read-only by the workers, apart from the atomics. */
struct bench {
	const struct bench_opts *o;
	const struct bench_ops *ops;
	unsigned nworkers;
	uint64_t t_start;		/* CLOCK_MONOTONIC ns when the workers start */
	uint64_t t_measure;		/* client: start of the measured interval */
	uint64_t t_end;			/* client, duration mode: its end */
	_Atomic int stop;		/* workers end now (signal, server --duration) */
	_Atomic int signalled;		/* SIGINT/SIGTERM seen */
	_Atomic unsigned ready;		/* workers set up (server: listening) */
	_Atomic unsigned work_done;	/* workers whose connections are closed */
	_Atomic unsigned done;		/* workers finished */
	_Atomic int finished;		/* the backend returned: the monitor ends */
	/* CPU time of the process: at the start and end of the measured
	 * interval (whole run for the server and conns). ru_end is taken by
	 * the monitor, or by the last worker to finish (see bench_work.c). */
	struct rusage ru_start, ru_end;
	_Atomic int ru_end_taken;
	/* linux: kernel memory before the connections and at the most
	 * connections the monitor saw open at once. */
	struct bench_kmem kmem_base, kmem_peak;
	/* Process resident memory (both stacks), kB: when the first worker
	 * was set up (before any connection), and at the most connections the
	 * monitor saw open at once (rss_conns, sampled every 100 ms). */
	_Atomic int rss_base_taken;
	uint64_t rss_base_kb, rss_peak_kb, rss_conns;
	/* mlwip, after the stack stopped: heap bytes still in use, shards
	 * whose heap did not end empty. */
	uint64_t heap_final;
	unsigned heaps_unclean;
	int backend_error;		/* the backend could not run (message printed) */
	void (*backend_stop)(struct bench *b);	/* mlwip: mlw_stack_stop() */
	void *backend;
	struct bench_result *res[BENCH_MAX_WORKERS];
};

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bench_s_to_ns(double s)
{
	return s <= 0 ? 0 : (uint64_t)(s * 1e9 + 0.5);
}

/* bench_work.c: one worker's whole run (server or client); returns 0, or
 * -1 if it could not start (message printed). */
int bench_worker(struct bench *b, unsigned id);
/* bench_work.c: the monitor (progress lines, server --duration, CPU time
 * at the interval's edges, linux memory samples); returns once every
 * worker is done or the backend finished. */
void bench_monitor(struct bench *b);
/* bench_main.c: stop every worker (signal handler safe). */
void bench_request_stop(struct bench *b);
/* The backends: run every worker, return once all ended; 0, or -1 with
 * a message printed. */
int bench_linux_run(struct bench *b);
int bench_mlwip_run(struct bench *b);

/* bench_stats.c */
void bench_hist_reset(struct bench_hist *h);
void bench_hist_add(struct bench_hist *h, uint64_t ns);
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);
double bench_hist_quantile_us(const struct bench_hist *h, double q);
int bench_hist_write_cdf(const struct bench_hist *h, const char *path);
int bench_kmem_sample(struct bench_kmem *m, uint64_t conns);
int bench_rss_kb(uint64_t *kb);
void bench_rss_base(struct bench *b);
double bench_rusage_s(const struct timeval *tv);

/* A small JSON object writer for the result lines. */
struct bench_json {
	char s[8192];
	size_t n;
	int first;
};
void bench_json_begin(struct bench_json *j);
void bench_json_str(struct bench_json *j, const char *key, const char *v);
void bench_json_u64(struct bench_json *j, const char *key, uint64_t v);
void bench_json_num(struct bench_json *j, const char *key, double v, int decimals);
void bench_json_null(struct bench_json *j, const char *key);
void bench_json_bool(struct bench_json *j, const char *key, int v);
void bench_json_raw(struct bench_json *j, const char *key, const char *raw);
void bench_json_end(struct bench_json *j);

#endif /* MLW_BENCH_H */
