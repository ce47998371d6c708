/* idle_private.h - [stack] idle = interrupt: a shard with no work sleeps in the kernel until an RX interrupt, a frame another shard forwards to it, its next timer or a stop (private; idle.c). */
#ifndef MLW_IDLE_PRIVATE_H
#define MLW_IDLE_PRIVATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mlwip/config.h"	/* MLW_MAX_PORTS */
#include "runtime.h"

/*
 * The thread's epoll instance the shard sleeps in. DPDK: the EAL's per-thread
 * instance (rte_epoll_*, where the RX queue interrupts are registered).
 * Without DPDK: the same calls over a plain epoll instance of the thread's
 * own (idle.c), for the kernel engine's queue sockets and the wake-up
 * eventfd; an event's cb_fun runs when it fires, as DPDK's does.
 */
#if MLW_RT_DPDK
#include <rte_epoll.h>
typedef struct rte_epoll_event mlw__ep_event;
#define MLW_EP_PER_THREAD RTE_EPOLL_PER_THREAD
#define mlw__ep_ctl rte_epoll_ctl
#define mlw__ep_wait rte_epoll_wait
#else
typedef struct mlw__ep_event {
	int fd;
	struct {
		uint32_t event;
		void *data;
		void (*cb_fun)(int fd, void *arg);
		void *cb_arg;
	} epdata;
} mlw__ep_event;
#define MLW_EP_PER_THREAD (-1)
int mlw__ep_ctl(int epfd, int op, int fd, mlw__ep_event *ev);
int mlw__ep_wait(int epfd, mlw__ep_event *events, int maxevents, int timeout_ms);
#endif

struct mlw_shard;
struct mlw_stack;

/*
 * Per-shard state of idle = interrupt. @c sleeping and @c wake_fd are read
 * by the other shards (forward(), fan_out()) and by mlw_stack_stop() (any
 * thread, signal handlers): they have their own cache line, written only
 * when the shard goes to sleep and wakes, never on a busy pass.
 */
struct mlw__idle {
	_Alignas(MLW_RT_CACHE_LINE) atomic_int sleeping;	/* 1 while the shard may be in the wait */
	int wake_fd;			/* eventfd: other shards and stop write it, -1: none */
	/* The rest is the shard's own. */
	_Alignas(MLW_RT_CACHE_LINE) bool armed;	/* RX queues registered with the thread's epoll */
	bool can_sleep;			/* every port of the shard has RX interrupts */
	uint64_t spin_tsc;		/* polling this long after the last work before sleeping */
	uint64_t idle_since;		/* TSC of the first idle pass in a row, 0: busy */
	mlw__ep_event wake_ev;		/* wake_fd in the thread's epoll instance */
	/* Kernel engine ports: the shard's queue socket in the same instance
	 * (readable when a block is ready; no interrupt to enable). */
	mlw__ep_event afp_ev[MLW_MAX_PORTS];
	uint64_t waits, wake_rx, wake_ring, wake_timeout, wake_stop, wake_recheck;
};

/* stack.c: at shard creation (before any thread can stop the stack) and destruction. */
int mlw__idle_create(struct mlw_shard *sh);
void mlw__idle_destroy(struct mlw_shard *sh);

/* shard.c, on the shard thread: after lwIP and the netifs are up, and at stop. */
void mlw__idle_start(struct mlw_shard *sh);
void mlw__idle_stop(struct mlw_shard *sh);

/* mlw_stack_stop(): wake every sleeping shard (async-signal-safe: write(2)). */
void mlw__idle_wake_all(struct mlw_stack *st);

/* mlw_stack_destroy(), before mlw__idle_destroy(): no mlw_stack_stop()
 * (a signal handler on another thread) writes to an eventfd from now on,
 * and none still does, so their descriptors may be closed and reused. */
void mlw__idle_quiesce(struct mlw_stack *st);

/*
 * After a pass that found no work (idle = interrupt): keep polling until the
 * shard has been idle for idle_sleep_us, then sleep until woken or until
 * the next timer, at most until @p deadline_ns (CLOCK_MONOTONIC, 0: none).
 * Returns the work a last pass found (the re-check before sleeping), 0
 * otherwise.
 */
unsigned mlw__idle_wait(struct mlw_shard *sh, uint64_t deadline_ns);

/* shard.c: one pass of the run loop (timers, RX, inbox rings, TX flush); the work it found. */
unsigned mlw__shard_pass(struct mlw_shard *sh);

/* socket-api/fd.c (declared there too): mlw__idle_wait() on the calling
 * shard when its policy is interrupt, -1 otherwise. */
int mlw__shard_idle(uint64_t deadline_ns);

/* The shard ran a pass that found work. */
static inline void mlw__idle_busy(struct mlw__idle *id)
{
	id->idle_since = 0;
}

/*
 * A shard has put frames on @p dst's inbox ring: wake it if it sleeps.
 * Ordering (no lost wake-up): the writer enqueued (rte_ring's release), then
 * a full fence, then reads @c sleeping; the sleeper set @c sleeping, a full
 * fence, then looks at its rings once more before it waits. One of the two
 * sees the other's store. The write(2) happens only when @p dst sleeps, so
 * a busy pair of shards makes no system call.
 */
void mlw__idle_kick(struct mlw__idle *dst);

/* The full fence between each side's store and its load above (on x86 an
 * mfence, on arm64 a dmb ish). ThreadSanitizer does not model
 * atomic_thread_fence (gcc: -Wtsan); under it a read-modify-write of the
 * flag stands in, which orders the same on x86, where that build runs. */
#if defined(__SANITIZE_THREAD__)
#define MLW_IDLE_FENCE(flag) ((void)atomic_fetch_add_explicit((flag), 0, memory_order_seq_cst))
#else
#define MLW_IDLE_FENCE(flag) atomic_thread_fence(memory_order_seq_cst)
#endif

static inline void mlw__idle_forwarded(struct mlw__idle *dst)
{
	MLW_IDLE_FENCE(&dst->sleeping);
	if (unlikely(atomic_load_explicit(&dst->sleeping, memory_order_relaxed)))
		mlw__idle_kick(dst);
}

#endif /* MLW_IDLE_PRIVATE_H */
