/* bench_linux.c - mlw_bench's Linux backend: the kernel's sockets and epoll, one worker thread each with its own epoll instance.
 *
 * Servers: every thread has its own listening socket per port, in one
 * SO_REUSEPORT group, so the kernel spreads connections over the threads
 * as mlwip's steering spreads them over shards. Threads are not pinned
 * (the kernel's own softirq work runs wherever it runs).
 */
#define _GNU_SOURCE	/* accept4 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

/* Write calls never raise SIGPIPE (as mlwip's never do): EPIPE instead. */
static ssize_t lx_write(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL);
}

static ssize_t lx_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };

	return sendmsg(fd, &m, MSG_NOSIGNAL);
}

/* glibc declares some socket calls with transparent-union address
 * arguments under _GNU_SOURCE; these give them the plain POSIX types. */
static int lx_bind(int fd, const struct sockaddr *a, socklen_t l)
{
	return bind(fd, a, l);
}

static int lx_connect(int fd, const struct sockaddr *a, socklen_t l)
{
	return connect(fd, a, l);
}

static int lx_accept4(int fd, struct sockaddr *a, socklen_t *l, int flags)
{
	return accept4(fd, a, l, flags);
}

static const struct bench_ops linux_ops = {
	.name = "linux",
	.socket = socket,
	.bind = lx_bind,
	.listen = listen,
	.accept4 = lx_accept4,
	.connect = lx_connect,
	.read = read,
	.write = lx_write,
	.writev = lx_writev,
	.shutdown = shutdown,
	.close = close,
	.setsockopt = setsockopt,
	.getsockopt = getsockopt,
	.epoll_create1 = epoll_create1,
	.epoll_ctl = epoll_ctl,
	.epoll_wait = epoll_wait,
	.calloc = calloc,
	.free = free,
	.heap_in_use = NULL,
	.stopping = NULL,
	.close_linger_ms = 0,
};

struct thread_arg {
	struct bench *b;
	unsigned id;
	pthread_t tid;
	int rc;
};

static void *thread_main(void *p)
{
	struct thread_arg *t = p;

	t->rc = bench_worker(t->b, t->id);
	return NULL;
}

static unsigned long read_ulong_file(const char *path, unsigned long dflt)
{
	FILE *f = fopen(path, "r");
	unsigned long v;

	if (f == NULL)
		return dflt;
	if (fscanf(f, "%lu", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

/*
 * Descriptors: a client needs one per connection, a server as many as it
 * will accept (unknown: as many as the system allows). Raises the soft
 * limit, and the hard one too when allowed (root).
 */
static int raise_nofile(const struct bench_opts *o)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (o->role == BENCH_CLIENT)
		want = (rlim_t)o->conns + o->threads * 2 + 64;
	else
		want = read_ulong_file("/proc/sys/fs/nr_open", 1048576);
	if (want <= rl.rlim_cur)
		return 0;
	if (want > rl.rlim_max) {
		struct rlimit up = { want, want };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return 0;
		if (o->role == BENCH_CLIENT) {
			fprintf(stderr, "mlw_bench: %u connections need %llu descriptors, but RLIMIT_NOFILE "
				"is %llu (hard %llu) and cannot be raised: %s (run as root or raise "
				"the hard limit, e.g. ulimit -Hn)\n", o->conns, (unsigned long long)want,
				(unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
				strerror(errno));
			return -1;
		}
		want = rl.rlim_max;	/* a server takes what it can get */
		fprintf(stderr, "mlw_bench: RLIMIT_NOFILE stays at its hard limit %llu (cannot raise it: %s): "
			"the server can hold about that many connections\n", (unsigned long long)want,
			strerror(errno));
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		fprintf(stderr, "mlw_bench: cannot raise RLIMIT_NOFILE to %llu: %s\n",
			(unsigned long long)want, strerror(errno));
		return o->role == BENCH_CLIENT ? -1 : 0;
	}
	return 0;
}

/*
 * A client's connections to one (server address, port) each need their own
 * local port from net.ipv4.ip_local_port_range: more than that many per
 * port cannot be open at once (spread them with --nports).
 */
static int check_port_range(const struct bench_opts *o)
{
	unsigned long lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned long per_port = (o->conns + o->nports - 1) / o->nports;

	if (f != NULL) {
		if (fscanf(f, "%lu %lu", &lo, &hi) != 2) {
			lo = 32768;
			hi = 60999;
		}
		fclose(f);
	}
	if (o->workload == BENCH_CONNS && per_port > hi - lo + 1) {
		fprintf(stderr, "mlw_bench: %lu connections per server port exceed the %lu local ports of "
			"net.ipv4.ip_local_port_range (%lu-%lu): use --nports %lu or more\n", per_port,
			hi - lo + 1, lo, hi, (o->conns + (hi - lo)) / (hi - lo + 1));
		return -1;
	}
	return 0;
}

int bench_linux_run(struct bench *b)
{
	const struct bench_opts *o = b->o;
	struct thread_arg *t;
	sigset_t block, old;
	unsigned n;
	int rc = 0;

	if (raise_nofile(o) != 0)
		return -1;
	if (o->role == BENCH_CLIENT && check_port_range(o) != 0)
		return -1;
	b->ops = &linux_ops;
	b->nworkers = o->threads;
	t = calloc(o->threads, sizeof(*t));
	if (t == NULL)
		return -1;
	/* Kernel memory before any connection. */
	bench_kmem_sample(&b->kmem_base, 0);
	b->t_start = bench_now_ns();
	b->t_measure = b->t_start + bench_s_to_ns(o->warmup);
	b->t_end = b->t_measure + bench_s_to_ns(o->duration);
	getrusage(RUSAGE_SELF, &b->ru_start);
	/* Signals go to this thread (the monitor), not to the workers. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (n = 0; n < o->threads; n++) {
		t[n].b = b;
		t[n].id = n;
		if (pthread_create(&t[n].tid, NULL, thread_main, &t[n]) != 0) {
			fprintf(stderr, "mlw_bench: cannot start thread %u\n", n);
			bench_request_stop(b);	/* the ones started end at once */
			rc = -1;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		bench_monitor(b);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(t[i].tid, NULL);
		if (t[i].rc != 0)
			rc = -1;
	}
	atomic_store(&b->finished, 1);
	if (!atomic_exchange(&b->ru_end_taken, 1))
		getrusage(RUSAGE_SELF, &b->ru_end);	/* a server: the whole run */
	free(t);
	return rc;
}
