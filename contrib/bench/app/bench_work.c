/* bench_work.c - mlw_bench's workers and monitor: what the server and the clients share, bench_worker(), and the monitor thread.
 *
 *   backend -> bench_worker -> server_run (bench_server.c)
 *                           -> client_run (bench_client.c)
 *   backend -> bench_monitor: a thread of its own; progress lines, the
 *              server's --duration, CPU time at the measured interval's
 *              edges, kernel memory samples (linux)
 *
 * Every worker (a Linux thread or an mlwip shard) runs its own epoll
 * instance over its own connections; workers share nothing but the
 * read-only run description and the atomics in struct bench, and publish
 * their progress for the monitor (struct bench_result).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_work.h"

void worker_report(struct worker *w, const char *what, int err)
{
	if (w->r->reported++ < MAX_REPORTED)
		fprintf(stderr, "mlw_bench: %s %u: %s%s%s\n", w->o->stack == BENCH_MLWIP ? "shard" : "thread",
			w->id, what, err ? ": " : "", err ? strerror(err) : "");
}

bool worker_stopping(const struct worker *w)
{
	return atomic_load_explicit(&w->b->stop, memory_order_relaxed) ||
	       (w->ops->stopping != NULL && w->ops->stopping() == 1);
}

void worker_publish(struct worker *w)
{
	struct bench_result *r = w->r;
	uint64_t progress;

	if (w->now < w->next_publish)
		return;
	w->next_publish = w->now + PUBLISH_NS;
	switch (w->o->workload) {
	case BENCH_STREAM:
		progress = w->written;
		break;
	case BENCH_CONNS:
		progress = r->established;
		break;
	default:
		progress = r->transactions_all;
		break;
	}
	if (w->o->role == BENCH_SERVER)
		progress = r->accepted;
	atomic_store_explicit(&r->pub_progress, progress, memory_order_relaxed);
	atomic_store_explicit(&r->pub_established, r->established_now, memory_order_relaxed);
}

void worker_heap_sample(struct worker *w, uint64_t *out)
{
	uint64_t v;

	if (w->ops->heap_in_use != NULL && w->ops->heap_in_use(&v) == 0) {
		*out = v;
		w->r->heap_valid = 1;
	}
}

/* A new connection is open: count it, and note the memory in use when
 * the number open reaches a new high. */
void worker_established_inc(struct worker *w)
{
	struct bench_result *r = w->r;

	if (++r->established_now > r->established_peak) {
		r->established_peak = r->established_now;
		worker_heap_sample(w, &r->heap_peak);
		r->app_bytes_at_peak = w->app_bytes;
	}
}

void worker_nodelay(struct worker *w, int fd)
{
	int one = 1;

	/* Requests and answers are small and each waits for the other:
	 * Nagle's algorithm would hold them back for an ACK. */
	if (w->ops->setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		worker_report(w, "setsockopt(TCP_NODELAY)", errno);
}

int bench_worker(struct bench *b, unsigned id)
{
	struct worker w = { .b = b, .o = b->o, .ops = b->ops, .r = b->res[id], .id = id, .ep = -1 };
	int rc;

	bench_hist_reset(&w.r->hist);
	rc = b->o->role == BENCH_SERVER ? server_run(&w) : client_run(&w);
	if (rc != 0) {
		/* A worker that could not start (a port in use, no memory):
		 * the run is void, stop the others too. */
		w.r->errors++;
		bench_request_stop(b);
	}
	if (atomic_fetch_add(&b->done, 1) + 1 == b->nworkers && b->o->role == BENCH_CLIENT &&
	    b->backend_stop != NULL)
		b->backend_stop(b);	/* mlwip: the last client shard stops the stack */
	return rc;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000u), .tv_nsec = (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static const char *const workload_names[] = { "rr", "crr", "stream", "conns" };

void bench_monitor(struct bench *b)
{
	const struct bench_opts *o = b->o;
	bool timed = o->role == BENCH_CLIENT && o->transactions == 0 && o->workload != BENCH_CONNS;
	bool measure_taken = !timed, end_taken = !timed, ready_said = false;
	uint64_t progress_ns = bench_s_to_ns(o->progress);
	uint64_t next_progress = b->t_start + progress_ns;

	for (;;) {
		uint64_t now = bench_now_ns(), wake, est = 0, progress = 0;

		if (atomic_load(&b->finished) || atomic_load(&b->done) == b->nworkers)
			break;
		/* The edges of a timed client's measured interval ("progress:
		 * measuring/measured" lines mark them for scripts); runs of a
		 * fixed size measure from the start to the end of their work
		 * (the last worker to finish marks that, see bench_client.c). */
		if (timed && !measure_taken && now >= b->t_measure) {
			getrusage(RUSAGE_SELF, &b->ru_start);
			measure_taken = true;
			fprintf(stderr, "progress: measuring %s %.3fs\n", workload_names[o->workload],
				(double)(now - b->t_start) / 1e9);
		}
		if (timed && !end_taken && now >= b->t_end) {
			if (!atomic_exchange(&b->ru_end_taken, 1))
				getrusage(RUSAGE_SELF, &b->ru_end);
			end_taken = true;
			fprintf(stderr, "progress: measured %s %.3fs\n", workload_names[o->workload],
				(double)(now - b->t_start) / 1e9);
		}
		if (!ready_said && atomic_load(&b->ready) == b->nworkers) {
			ready_said = true;
			if (o->role == BENCH_SERVER) {
				char addr[INET_ADDRSTRLEN];

				inet_ntop(AF_INET, &o->bind, addr, sizeof(addr));
				printf("mlw_bench: server listening on %s ports %u-%u (%s, %u %s)\n",
				       addr, o->port, o->port + o->nports - 1, b->ops->name,
				       b->nworkers, o->stack == BENCH_MLWIP ? "shards" : "threads");
			} else {
				fprintf(stderr, "mlw_bench: client running %s, %u connections on %u %s\n",
					workload_names[o->workload], o->conns, b->nworkers,
					o->stack == BENCH_MLWIP ? "shards" : "threads");
				if (!timed)
					fprintf(stderr, "progress: measuring %s %.3fs\n",
						workload_names[o->workload], 0.0);
			}
			fflush(stdout);
		}
		if (o->role == BENCH_SERVER && o->duration > 0 && now >= b->t_start + bench_s_to_ns(o->duration))
			bench_request_stop(b);
		for (unsigned i = 0; i < b->nworkers; i++) {
			est += atomic_load_explicit(&b->res[i]->pub_established, memory_order_relaxed);
			progress += atomic_load_explicit(&b->res[i]->pub_progress, memory_order_relaxed);
		}
		/* Kernel memory at the most connections seen open at once. */
		if (b->ops->heap_in_use == NULL && est > b->kmem_peak.conns)
			bench_kmem_sample(&b->kmem_peak, est);
		if (est > b->rss_conns && atomic_load(&b->rss_base_taken) &&
		    bench_rss_kb(&b->rss_peak_kb) == 0)
			b->rss_conns = est;
		if (now >= next_progress) {
			double el = (double)(now - b->t_start) / 1e9;

			if (o->role == BENCH_SERVER)
				fprintf(stderr, "progress: server %.3fs accepted %llu established %llu\n", el,
					(unsigned long long)progress, (unsigned long long)est);
			else
				fprintf(stderr, "progress: %s %.3fs %llu\n", workload_names[o->workload], el,
					(unsigned long long)progress);
			next_progress += progress_ns;
		}
		wake = now + PUBLISH_NS;
		if (!measure_taken && b->t_measure < wake)
			wake = b->t_measure;
		if (!end_taken && b->t_end < wake)
			wake = b->t_end;
		sleep_until(wake);
	}
}
