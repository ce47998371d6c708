/* runtime.h - what the shards take from the platform: time, the pause hint, shard memory, single-producer/single-consumer rings, shard threads (private).
 *
 * Two implementations behind one set of names, chosen at build time:
 *   MLW_RT_DPDK=1 (runtime_dpdk.c): DPDK's EAL - rte_rdtsc, rte_pause,
 *     rte_zmalloc_socket, rte_ring, lcores launched by rte_eal_remote_launch;
 *   MLW_RT_DPDK=0 (runtime_posix.c): no DPDK - clock_gettime on
 *     CLOCK_MONOTONIC (vDSO: no system call), the compiler's pause/yield,
 *     libnuma, a single-producer/single-consumer ring of C11 atomics
 *     (below) and pthreads pinned to their cores.
 * The hot calls (ticks, pause, ring put/take) are inline: the DPDK build's
 * packet path compiles to the same instructions as the EAL calls it had.
 * Ticks are opaque: compare them with mlw__rt_hz() (TSC cycles under DPDK,
 * nanoseconds without).
 *
 * Rings carry pointers, one producer thread and one consumer thread each
 * (the shards' inboxes). DPDK's rte_ring orders its indexes with fences
 * and plain accesses that ThreadSanitizer does not model (tests/tsan.supp
 * names them), so put and take also tell it that what the producer wrote
 * before a put is seen after the take (tsan_private.h); the POSIX ring's
 * release/acquire atomics need no such help.
 *
 * Why not Concurrency Kit's ck_ring (Debian libck-dev), which the plan in
 * docs/engine.md named: its headers are architecture-specific but installed
 * in /usr/include, so libck-dev for the host and for an ARM target cannot
 * be installed together, and the cross builds (scripts/cross.sh) need both.
 */
#ifndef MLW_RUNTIME_H
#define MLW_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tsan_private.h"

#ifndef MLW_RT_DPDK
#error "MLW_RT_DPDK must be defined (1: DPDK's EAL, 0: POSIX) by the build"
#endif

#if MLW_RT_DPDK
#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_ring.h>
#define MLW_RT_CACHE_LINE RTE_CACHE_LINE_SIZE
typedef struct rte_ring mlw__ring_t;
#else
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#define MLW_RT_CACHE_LINE 64
typedef struct mlw__spsc_ring mlw__ring_t;
/* Free-running indexes: head is the producer's (the next slot to fill),
 * tail the consumer's (the next to take); each on its own cache line. */
struct mlw__spsc_ring {
	_Alignas(MLW_RT_CACHE_LINE) _Atomic unsigned head;
	_Alignas(MLW_RT_CACHE_LINE) _Atomic unsigned tail;
	_Alignas(MLW_RT_CACHE_LINE) unsigned size;	/* slots (a power of two); one stays free */
	unsigned mask;
	void *slot[];
};
#endif

#define MLW_RT_MAX_THREADS 128

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

/* ---- the platform itself ---- */

/*
 * Start the platform once per process, before anything below. DPDK: the
 * EAL, from @p argc/@p argv ([eal] args), with the asynchronous signals
 * blocked so that the threads it starts inherit a mask without them.
 * POSIX: nothing to start (@p argc must be 0 or 1: no arguments).
 * 0, or -errno with a sentence in @p why: -EALREADY started already, -EIO
 * the EAL refused its arguments, -EINVAL arguments without DPDK.
 */
int mlw__rt_init(int argc, char **argv, char *why, size_t whylen);
/* Release what mlw__rt_init() took (DPDK: rte_eal_cleanup()). */
void mlw__rt_fini(void);

/* ---- time ---- */

static inline uint64_t mlw__rt_ticks(void)
{
#if MLW_RT_DPDK
	return rte_rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/* Ticks per second. */
static inline uint64_t mlw__rt_hz(void)
{
#if MLW_RT_DPDK
	return rte_get_tsc_hz();
#else
	return 1000000000u;
#endif
}

/* A spin-wait hint to the core (another hardware thread may run). */
static inline void mlw__rt_pause(void)
{
#if MLW_RT_DPDK
	rte_pause();
#elif defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* ---- rings ---- */

/*
 * A ring of @p size slots (a power of two, >= 2), holding size - 1 pointers,
 * in memory of NUMA node @p node (-1: any). @p name identifies it where the
 * platform keeps names (DPDK: unique per process, RTE_RING_NAMESIZE).
 * NULL with errno set on failure (ENOMEM, EINVAL, EEXIST).
 */
mlw__ring_t *mlw__ring_create(const char *name, unsigned size, int node);
void mlw__ring_free(mlw__ring_t *r);

/* Pointers the ring holds at most. */
static inline unsigned mlw__ring_capacity(const mlw__ring_t *r)
{
#if MLW_RT_DPDK
	return rte_ring_get_capacity(r);
#else
	return r->size - 1;
#endif
}

/* Producer: put @p obj on the ring. False if full. *@p waiting: the
 * pointers on it before this one (a snapshot; for peak statistics). */
static inline bool mlw__ring_put(mlw__ring_t *r, void *obj, unsigned *waiting)
{
	MLW_TSAN_RELEASE(r);
#if MLW_RT_DPDK
	unsigned room;

	if (rte_ring_sp_enqueue_bulk(r, &obj, 1, &room) == 0) {
		*waiting = rte_ring_get_capacity(r);
		return false;
	}
	*waiting = rte_ring_get_capacity(r) - room - 1;
	return true;
#else
	unsigned h = atomic_load_explicit(&r->head, memory_order_relaxed);
	unsigned t = atomic_load_explicit(&r->tail, memory_order_acquire);

	*waiting = h - t;
	if (h - t >= r->mask)
		return false;
	r->slot[h & r->mask] = obj;
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return true;
#endif
}

/* Consumer: take up to @p n pointers, oldest first; returns how many. */
static inline unsigned mlw__ring_take(mlw__ring_t *r, void **objs, unsigned n)
{
	unsigned got;

#if MLW_RT_DPDK
	got = rte_ring_sc_dequeue_burst(r, objs, n, NULL);
#else
	unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	unsigned h = atomic_load_explicit(&r->head, memory_order_acquire);

	got = h - t < n ? h - t : n;
	for (unsigned i = 0; i < got; i++)
		objs[i] = r->slot[(t + i) & r->mask];
	if (got > 0)
		atomic_store_explicit(&r->tail, t + got, memory_order_release);
#endif
	if (got > 0)
		MLW_TSAN_ACQUIRE(r);
	return got;
}

/* ---- shard memory ---- */

/* Zeroed memory of @p size bytes on NUMA node @p node (-1: any), aligned
 * to a cache line; NULL if none. Free with mlw__rt_free(p, size). Not for
 * the packet path. */
void *mlw__rt_zalloc(size_t size, int node);
void mlw__rt_free(void *p, size_t size);

/* ---- shard threads ---- */

/*
 * The threads that run shards 1..n-1 (shard 0 runs on the thread that
 * calls mlw_stack_run()). DPDK: the EAL's lcores, thread i being lcore i;
 * POSIX: pthreads pinned to their cores.
 */
struct mlw__rt_threads;
struct mlw__rt_launch {
	int (*fn)(void *);
	void *arg;
	struct mlw__rt_threads *t;
};
struct mlw__rt_threads {
	/* What each thread runs; the launch and the wait also tell
	 * ThreadSanitizer that they order memory (the EAL's do so unseen). */
	struct mlw__rt_launch run[MLW_RT_MAX_THREADS];
#if !MLW_RT_DPDK
	uint64_t launched[(MLW_RT_MAX_THREADS + 63) / 64];
	pthread_t tid[MLW_RT_MAX_THREADS];
#endif
	unsigned n;
};

/* The NUMA node of thread @p index, running on CPU @p core; 0 when the
 * machine has no NUMA information. */
int mlw__rt_node(unsigned index, unsigned core);

/*
 * Run fn(arg) on thread @p index (1..MLW_RT_MAX_THREADS-1), pinned to CPU
 * @p core (POSIX; the EAL pinned its lcores itself), with the process's
 * asynchronous signals blocked in it. What the caller wrote before is seen
 * by fn; what fn wrote is seen after mlw__rt_wait(). 0, or -errno: -EBUSY the thread runs
 * something already, -EINVAL bad index or core, what pthread_create said.
 */
int mlw__rt_launch(struct mlw__rt_threads *t, unsigned index, unsigned core, int (*fn)(void *), void *arg);

/* Pin the calling thread (shard 0's) to CPU @p core: POSIX; the EAL pinned
 * its main lcore itself. 0 or -errno. */
int mlw__rt_pin_main(unsigned core);

/* Wait until every thread launched has returned. */
void mlw__rt_wait(struct mlw__rt_threads *t);

/* True on a thread the platform runs for itself or for a shard: DPDK's
 * lcores and its interrupt thread; POSIX: the launched shard threads.
 * Such a thread cannot take on a shard of its own. */
bool mlw__rt_is_platform_thread(void);

/* True on the thread that may run shard 0 (DPDK: the EAL's main lcore;
 * POSIX: any thread that is not a launched shard thread). */
bool mlw__rt_is_main(void);

#endif /* MLW_RUNTIME_H */
