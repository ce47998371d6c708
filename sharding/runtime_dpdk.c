/* runtime_dpdk.c - the shards' platform calls on DPDK's EAL (runtime.h): rte_ring, rte_zmalloc_socket, lcores. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_interrupts.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "runtime.h"

/*
 * rte_eal_init() with the process's asynchronous signals blocked, so that
 * the threads it starts (the shards' lcores, DPDK's interrupt, multi-process
 * and telemetry threads) inherit a mask without them and a SIGTERM or
 * SIGINT goes to the program's own threads. Otherwise the kernel may pick a
 * DPDK thread: its blocking call returns EINTR, and the telemetry thread
 * then logs "Error with accept, telemetry thread quitting" and exits, racing
 * with the log stream rte_eal_cleanup() closes (ThreadSanitizer saw it at a
 * stop in it_idle). The caller's own mask is back when this returns.
 */
int mlw__rt_init(int argc, char **argv, char *why, size_t whylen)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
				    SIGCHLD, SIGPIPE, SIGWINCH };
	sigset_t block, old;
	int rc, e;

	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = rte_eal_init(argc, argv);
	e = rte_errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc >= 0)
		return 0;
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "DPDK EAL initialisation failed: %s", rte_strerror(e));
	return e == EALREADY ? -EALREADY : -EIO;
}

void mlw__rt_fini(void)
{
	rte_eal_cleanup();
}

mlw__ring_t *mlw__ring_create(const char *name, unsigned size, int node)
{
	struct rte_ring *r;

	if (size < 2 || (size & (size - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	r = rte_ring_create(name, size, node < 0 ? SOCKET_ID_ANY : node, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r == NULL)
		errno = rte_errno;
	return r;
}

void mlw__ring_free(mlw__ring_t *r)
{
	rte_ring_free(r);
}

void *mlw__rt_zalloc(size_t size, int node)
{
	return rte_zmalloc_socket("mlwip", size, RTE_CACHE_LINE_SIZE, node < 0 ? SOCKET_ID_ANY : node);
}

void mlw__rt_free(void *p, size_t size)
{
	(void)size;
	rte_free(p);
}

int mlw__rt_node(unsigned index, unsigned core)
{
	int node = (int)rte_lcore_to_socket_id(index);

	(void)core;
	return node < 0 ? 0 : node;
}

static int lcore_main(void *p)
{
	struct mlw__rt_launch *l = p;
	int rc;

	MLW_TSAN_ACQUIRE(l);
	rc = l->fn(l->arg);
	MLW_TSAN_RELEASE(l->t);
	return rc;
}

/* The EAL's lcore i is shard i's thread; its affinity and signal mask were
 * set by rte_eal_init() (mlw__rt_init() runs it with the signals blocked). */
int mlw__rt_launch(struct mlw__rt_threads *t, unsigned index, unsigned core, int (*fn)(void *), void *arg)
{
	struct mlw__rt_launch *l;
	int rc;

	(void)core;
	if (index == 0 || index >= RTE_MAX_LCORE || index >= MLW_RT_MAX_THREADS)
		return -EINVAL;
	if (rte_eal_get_lcore_state(index) != WAIT)
		return -EBUSY;
	l = &t->run[index];
	l->fn = fn;
	l->arg = arg;
	l->t = t;
	MLW_TSAN_RELEASE(l);
	rc = rte_eal_remote_launch(lcore_main, l, index);
	if (rc != 0)
		return rc < 0 ? rc : -EBUSY;
	if (index + 1 > t->n)
		t->n = index + 1;
	return 0;
}

int mlw__rt_pin_main(unsigned core)
{
	(void)core;
	return 0;
}

void mlw__rt_wait(struct mlw__rt_threads *t)
{
	rte_eal_mp_wait_lcore();
	MLW_TSAN_ACQUIRE(t);
}

bool mlw__rt_is_platform_thread(void)
{
	return rte_lcore_id() != LCORE_ID_ANY || rte_thread_is_intr();
}

bool mlw__rt_is_main(void)
{
	return rte_lcore_id() == 0;
}
