/* idle.c - [stack] idle = interrupt: a shard with no work sleeps in the kernel (epoll) until an RX interrupt on one of its queues, a frame another shard forwarded to it, its next timer, or a stop.
 *
 * A shard that found no work polls on for idle_sleep_us (a burst is often
 * right behind), then:
 *   1. enables RX interrupts on its queues (rte_eth_dev_rx_intr_enable),
 *   2. sets its `sleeping` flag, then a full fence (MLW_IDLE_FENCE),
 *   3. runs one more pass (RX, inbox rings, timers): a frame that came in
 *      before the interrupt was armed, or a forward that read `sleeping`
 *      as 0, is found here; with work found it does not sleep,
 *   4. waits in the thread's DPDK epoll instance (RTE_EPOLL_PER_THREAD),
 *      which holds its RX queues' interrupt fds and its wake eventfd, for
 *      at most the time to lwIP's next timeout (sys_timeouts_sleeptime(),
 *      which covers mlwip's TCP timer wheel: lwIP's TCP timer runs every
 *      TCP_TMR_INTERVAL while connections exist), a caller's deadline, and
 *      [stack] idle_wait_ms (default 100: TIME-WAIT records (timewait.c)
 *      end and the stats are published at most that late on a shard with
 *      no traffic; 10 wake-ups a second cost an idle shard nothing
 *      measurable; the test raises it so that a lost wake-up shows),
 *   5. on waking clears `sleeping`, disables the interrupts and polls again.
 * A shard that forwards frames to a sleeping shard (forward(), fan_out()
 * in shard.c) writes its eventfd after the enqueue and a full fence; so
 * does mlw_stack_stop(). Either the writer sees `sleeping` set, or the
 * sleeper's step 3 sees the frame: no wake-up is lost.
 *
 * System calls (epoll_wait, the eventfd's read and write, the drivers'
 * interrupt enable/disable) happen only when a shard has had no work for
 * idle_sleep_us, or when a busy shard forwards to one that sleeps: never on
 * the packet path of two busy shards.
 *
 * A kernel engine port (afpacket-netif) has no interrupt to enable: the
 * shard's queue socket is readable (level-triggered) while a block of the
 * RX ring waits, so it is in the epoll instance from start to stop.
 *
 * A port whose driver has no RX interrupt (DPDK 22.11: net_af_packet,
 * net_ring, net_null; port.c checks at open and logs it once) leaves its
 * shards backing off instead (poll idle_sleep_us, then usleep(idle_sleep_us)
 * per idle pass).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>

#if MLW_RT_DPDK
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#endif

#include "lwip/netif.h"
#include "lwip/timeouts.h"

#include "engine.h"
#include "idle_private.h"
#include "stack_private.h"

#define IDLE_EVENTS 16

#if !MLW_RT_DPDK
/* The thread's epoll instance (idle_private.h): made at its first use,
 * closed when the shard's last registration goes (mlw__idle_stop). */
static _Thread_local int thread_ep = -1;
static _Thread_local unsigned thread_ep_regs;

int mlw__ep_ctl(int epfd, int op, int fd, mlw__ep_event *ev)
{
	struct epoll_event e = { .events = ev->epdata.event, .data.ptr = ev };
	int rc;

	(void)epfd;
	if (thread_ep < 0) {
		thread_ep = epoll_create1(EPOLL_CLOEXEC);
		if (thread_ep < 0)
			return -1;
	}
	ev->fd = fd;
	rc = epoll_ctl(thread_ep, op, fd, &e);
	if (rc == 0 && op == EPOLL_CTL_ADD)
		thread_ep_regs++;
	if (rc == 0 && op == EPOLL_CTL_DEL && --thread_ep_regs == 0) {
		close(thread_ep);
		thread_ep = -1;
	}
	return rc;
}

int mlw__ep_wait(int epfd, mlw__ep_event *events, int maxevents, int timeout_ms)
{
	struct epoll_event e[IDLE_EVENTS];
	int n;

	(void)epfd;
	if (thread_ep < 0)
		return -1;
	if (maxevents > IDLE_EVENTS)
		maxevents = IDLE_EVENTS;
	n = epoll_wait(thread_ep, e, maxevents, timeout_ms);
	for (int i = 0; i < n; i++) {
		mlw__ep_event *ev = e[i].data.ptr;

		events[i] = *ev;
		if (ev->epdata.cb_fun != NULL)
			ev->epdata.cb_fun(ev->fd, ev->epdata.cb_arg);
	}
	return n;
}
#endif

static void drain(int fd, void *arg)
{
	uint64_t v;

	(void)arg;
	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

int mlw__idle_create(struct mlw_shard *sh)
{
	struct mlw__idle *id = &sh->idle;

	atomic_init(&id->sleeping, 0);
	id->wake_fd = -1;
	if (sh->stack->p.idle != MLW_IDLE_INTERRUPT)
		return 0;
	id->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return id->wake_fd < 0 ? -errno : 0;
}

void mlw__idle_destroy(struct mlw_shard *sh)
{
	if (sh->idle.wake_fd >= 0)
		close(sh->idle.wake_fd);
	sh->idle.wake_fd = -1;
}

/* Add (@p add) or remove port @p pi's RX queue of the shard to/from the
 * thread's epoll instance: the DPDK queue's interrupt fd, or the kernel
 * engine queue's socket. */
static int port_epoll(struct mlw_shard *sh, unsigned pi, bool add)
{
	struct mlw_port *port = &sh->stack->ports[pi];
	struct mlw__idle *id = &sh->idle;

#if MLW_RT_DPDK
	if (port->afp == NULL)
		return rte_eth_dev_rx_intr_ctl_q(port->port_id, (uint16_t)sh->id, RTE_EPOLL_PER_THREAD,
						 add ? RTE_INTR_EVENT_ADD : RTE_INTR_EVENT_DEL,
						 add ? (void *)(uintptr_t)(pi + 1) : NULL);
#endif
	if (!add)
		return mlw__ep_ctl(MLW_EP_PER_THREAD, EPOLL_CTL_DEL, id->afp_ev[pi].fd, &id->afp_ev[pi]);
	memset(&id->afp_ev[pi], 0, sizeof(id->afp_ev[pi]));
	id->afp_ev[pi].epdata.event = EPOLLIN;
	id->afp_ev[pi].epdata.data = (void *)(uintptr_t)(pi + 1);
	return mlw__ep_ctl(MLW_EP_PER_THREAD, EPOLL_CTL_ADD, mlw_afp_fd(port->afp->q[sh->id].q),
			     &id->afp_ev[pi]);
}

void mlw__idle_start(struct mlw_shard *sh)
{
	struct mlw_stack *st = sh->stack;
	struct mlw__idle *id = &sh->idle;

	id->spin_tsc = sh->tsc_hz / 1000000 * st->p.idle_sleep_us;
	id->idle_since = 0;
	if (st->p.idle != MLW_IDLE_INTERRUPT || id->wake_fd < 0)
		return;
	id->can_sleep = true;
	for (unsigned pi = 0; pi < st->p.nports; pi++)
		if (!st->ports[pi].caps.rx_intr)
			id->can_sleep = false;
	if (!id->can_sleep)
		return;
	memset(&id->wake_ev, 0, sizeof(id->wake_ev));
	id->wake_ev.epdata.event = EPOLLIN;	/* level-triggered: drain() empties it */
	id->wake_ev.epdata.cb_fun = drain;
	if (mlw__ep_ctl(MLW_EP_PER_THREAD, EPOLL_CTL_ADD, id->wake_fd, &id->wake_ev) != 0) {
		fprintf(stderr, "shard %u: idle = interrupt: no epoll instance (%s); backing off instead\n",
			sh->id, strerror(errno));
		id->can_sleep = false;
		return;
	}
	for (unsigned pi = 0; pi < st->p.nports; pi++) {
		if (port_epoll(sh, pi, true) != 0) {
			fprintf(stderr, "shard %u: port %u (%s): RX queue %u has no interrupt; backing off "
				"instead\n", sh->id, pi, st->ports[pi].caps.driver, sh->id);
			for (unsigned pj = 0; pj < pi; pj++)
				port_epoll(sh, pj, false);
			mlw__ep_ctl(MLW_EP_PER_THREAD, EPOLL_CTL_DEL, id->wake_fd, &id->wake_ev);
			id->can_sleep = false;
			return;
		}
	}
	id->armed = true;
}

void mlw__idle_stop(struct mlw_shard *sh)
{
	struct mlw_stack *st = sh->stack;
	struct mlw__idle *id = &sh->idle;

	if (st->p.idle == MLW_IDLE_INTERRUPT)
		fprintf(stderr, "shard %u: idle: %s, sleeps %llu, woken by rx %llu, by another shard %llu, "
			"by timer %llu, by stop %llu; found work before sleeping %llu\n", sh->id,
			id->can_sleep ? "interrupt" : "backoff (no RX interrupt)",
			(unsigned long long)id->waits, (unsigned long long)id->wake_rx,
			(unsigned long long)id->wake_ring, (unsigned long long)id->wake_timeout,
			(unsigned long long)id->wake_stop, (unsigned long long)id->wake_recheck);
	if (!id->armed)
		return;
	for (unsigned pi = 0; pi < st->p.nports; pi++)
		port_epoll(sh, pi, false);
	mlw__ep_ctl(MLW_EP_PER_THREAD, EPOLL_CTL_DEL, id->wake_fd, &id->wake_ev);
	id->armed = false;
	id->can_sleep = false;
}

void mlw__idle_kick(struct mlw__idle *dst)
{
	uint64_t one = 1;

	/* Only reached when dst sleeps: the shard that calls this has work,
	 * dst has none. */
	if (dst->wake_fd >= 0)
		(void)!write(dst->wake_fd, &one, sizeof(one));
}

/*
 * A stop can come from a signal handler on any thread, and the shards may
 * see the stop flag, end, and let the application destroy the stack before
 * that handler has written the eventfds: destroy must not close (and the
 * process reuse) a descriptor it is about to write. The writer counts
 * itself in idle_wakers and then reads idle_closing; destroy sets
 * idle_closing and then waits for idle_wakers to be 0 (both sequentially
 * consistent: one of them sees the other).
 */
void mlw__idle_wake_all(struct mlw_stack *st)
{
	uint64_t one = 1;

	atomic_fetch_add_explicit(&st->idle_wakers, 1, memory_order_seq_cst);
	if (!atomic_load_explicit(&st->idle_closing, memory_order_seq_cst)) {
		/* Unconditionally: a shard about to sleep finds the eventfd set. */
		for (unsigned i = 0; i < st->p.nshards; i++) {
			struct mlw_shard *sh = st->shards[i];

			if (sh != NULL && sh->idle.wake_fd >= 0)
				(void)!write(sh->idle.wake_fd, &one, sizeof(one));
		}
	}
	atomic_fetch_sub_explicit(&st->idle_wakers, 1, memory_order_release);
}

void mlw__idle_quiesce(struct mlw_stack *st)
{
	atomic_store_explicit(&st->idle_closing, 1, memory_order_seq_cst);
	while (atomic_load_explicit(&st->idle_wakers, memory_order_acquire) != 0)
		sched_yield();
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Something the shard must do without waiting for a frame: TX frames held
 * back (a full TX ring) or lwIP's loopback queue (frames to itself). */
static bool pending(const struct mlw_shard *sh)
{
	for (unsigned pi = 0; pi < sh->stack->p.nports; pi++) {
		if (sh->txq[pi].n != 0 || sh->txq[pi].nacks != 0)
			return true;
		if (sh->txq[pi].afp != NULL && mlw__afp_engine_tx_pending(sh->txq[pi].afp, sh->id))
			return true;
#if LWIP_NETIF_LOOPBACK
		if (sh->netif[pi].loop_first != NULL)
			return true;
#endif
	}
	return false;
}

static void intr(struct mlw_shard *sh, bool on)
{
	const struct mlw_stack *st = sh->stack;

	for (unsigned pi = 0; pi < st->p.nports; pi++) {
		if (st->ports[pi].afp != NULL)
			continue;
#if MLW_RT_DPDK
		if (on)
			rte_eth_dev_rx_intr_enable(st->ports[pi].port_id, (uint16_t)sh->id);
		else
			rte_eth_dev_rx_intr_disable(st->ports[pi].port_id, (uint16_t)sh->id);
#else
		(void)on;
#endif
	}
}

unsigned mlw__idle_wait(struct mlw_shard *sh, uint64_t deadline_ns)
{
	struct mlw_stack *st = sh->stack;
	struct mlw__idle *id = &sh->idle;
	mlw__ep_event ev[IDLE_EVENTS];
	uint64_t now = mlw__rt_ticks();
	uint32_t ms;
	unsigned work;
	int n;

	if (id->idle_since == 0) {
		id->idle_since = now;
		return 0;
	}
	if (now - id->idle_since < id->spin_tsc) {
		mlw__rt_pause();
		return 0;
	}
	if (!id->can_sleep || pending(sh)) {
		usleep(st->p.idle_sleep_us);
		return 0;
	}
	intr(sh, true);
	atomic_store_explicit(&id->sleeping, 1, memory_order_relaxed);
	MLW_IDLE_FENCE(&id->sleeping);
	/* The re-check: everything that arrived before the interrupts were
	 * armed or before `sleeping` was visible. */
	work = mlw__shard_pass(sh);
	if (work != 0 || atomic_load_explicit(&st->stop, memory_order_relaxed) || pending(sh)) {
		id->wake_recheck++;
		goto awake;
	}
	ms = sys_timeouts_sleeptime();
	if (ms > st->p.idle_wait_ms)
		ms = st->p.idle_wait_ms;
	if (deadline_ns != 0) {
		uint64_t t = now_ns();
		uint64_t left = deadline_ns > t ? (deadline_ns - t + 999999) / 1000000 : 0;

		if (left < ms)
			ms = (uint32_t)left;
	}
	if (ms == 0)
		goto awake;
	id->waits++;
	n = mlw__ep_wait(MLW_EP_PER_THREAD, ev, IDLE_EVENTS, (int)ms);
	if (n <= 0)
		id->wake_timeout++;
	for (int i = 0; i < n; i++) {
		if (ev[i].fd != id->wake_fd)
			id->wake_rx++;
		else if (atomic_load_explicit(&st->stop, memory_order_relaxed))
			id->wake_stop++;
		else
			id->wake_ring++;
	}
awake:
	atomic_store_explicit(&id->sleeping, 0, memory_order_relaxed);
	intr(sh, false);
	/* After a wake-up the next idle pass may sleep again at once: only
	 * work restarts the polling period. */
	if (work == 0)
		id->idle_since = mlw__rt_ticks() - id->spin_tsc;
	return work;
}

/* The socket layer's blocking calls (socket-api/fd.c): the shard's idle
 * policy when it is interrupt, -1 (the caller backs off its own way)
 * otherwise. */
int mlw__shard_idle(uint64_t deadline_ns)
{
	struct mlw_shard *sh = mlw__current_shard();

	if (sh == NULL || sh->stack->p.idle != MLW_IDLE_INTERRUPT)
		return -1;
	return (int)mlw__idle_wait(sh, deadline_ns);
}
