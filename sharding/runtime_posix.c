/* runtime_posix.c - the shards' platform calls without DPDK (runtime.h): the SPSC ring's memory, libnuma, pthreads pinned to their cores. */
#define _GNU_SOURCE
#include <errno.h>
#include <numa.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

int mlw__rt_init(int argc, char **argv, char *why, size_t whylen)
{
	if (argc > 1) {
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "built without DPDK: [eal] args (\"%s\" ...) cannot be used", argv[1]);
		return -EINVAL;
	}
	return 0;
}

void mlw__rt_fini(void)
{
}

/* Which allocation mlw__rt_zalloc() makes: numa_alloc_onnode() where the
 * kernel reports NUMA (it maps whole pages, zeroed), aligned_alloc()
 * elsewhere (boards, qemu-user). The answer does not change during a run,
 * so mlw__rt_free() asks again rather than keep it in a global (shared
 * nothing: tests/shared-nothing). Never on the packet path. */
static bool use_numa(void)
{
	return numa_available() >= 0;
}

void *mlw__rt_zalloc(size_t size, int node)
{
	void *p;

	if (size == 0)
		size = 1;
	if (use_numa() && node >= 0)
		return numa_alloc_onnode(size, node);
	if (use_numa())
		return numa_alloc_local(size);
	p = aligned_alloc(MLW_RT_CACHE_LINE, (size + MLW_RT_CACHE_LINE - 1) & ~(size_t)(MLW_RT_CACHE_LINE - 1));
	if (p != NULL)
		memset(p, 0, size);
	return p;
}

void mlw__rt_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (use_numa())
		numa_free(p, size == 0 ? 1 : size);
	else
		free(p);
}

mlw__ring_t *mlw__ring_create(const char *name, unsigned size, int node)
{
	mlw__ring_t *r;

	(void)name;
	if (size < 2 || (size & (size - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	r = mlw__rt_zalloc(sizeof(*r) + (size_t)size * sizeof(r->slot[0]), node);
	if (r == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->size = size;
	r->mask = size - 1;
	return r;
}

void mlw__ring_free(mlw__ring_t *r)
{
	if (r != NULL)
		mlw__rt_free(r, sizeof(*r) + (size_t)r->size * sizeof(r->slot[0]));
}

int mlw__rt_node(unsigned index, unsigned core)
{
	int node;

	(void)index;
	if (!use_numa())
		return 0;
	node = numa_node_of_cpu((int)core);
	return node < 0 ? 0 : node;
}

/* Set on the threads mlw__rt_launch() starts. */
static _Thread_local bool launched_thread;

static void *thread_main(void *p)
{
	struct mlw__rt_launch *l = p;

	launched_thread = true;
	return (void *)(intptr_t)l->fn(l->arg);
}

int mlw__rt_launch(struct mlw__rt_threads *t, unsigned index, unsigned core, int (*fn)(void *), void *arg)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
				    SIGCHLD, SIGPIPE, SIGWINCH };
	uint64_t bit = UINT64_C(1) << (index % 64);
	pthread_attr_t attr;
	sigset_t block, old;
	cpu_set_t cpus;
	pthread_t tid;
	struct mlw__rt_launch *l;
	int rc;

	if (index == 0 || index >= MLW_RT_MAX_THREADS || core >= CPU_SETSIZE)
		return -EINVAL;
	if (t->launched[index / 64] & bit)
		return -EBUSY;
	l = &t->run[index];
	l->fn = fn;
	l->arg = arg;
	CPU_ZERO(&cpus);
	CPU_SET(core, &cpus);
	pthread_attr_init(&attr);
	rc = pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	/* The new thread inherits this mask: a signal for the process goes
	 * to the program's own threads, as with the EAL's lcores. */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if (rc == 0)
		rc = pthread_create(&tid, &attr, thread_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -rc;
	t->launched[index / 64] |= bit;
	t->tid[index] = tid;
	if (index + 1 > t->n)
		t->n = index + 1;
	return 0;
}

int mlw__rt_pin_main(unsigned core)
{
	cpu_set_t cpus;

	if (core >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&cpus);
	CPU_SET(core, &cpus);
	return -pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
}

void mlw__rt_wait(struct mlw__rt_threads *t)
{
	for (unsigned i = 1; i < t->n; i++) {
		uint64_t bit = UINT64_C(1) << (i % 64);

		if (!(t->launched[i / 64] & bit))
			continue;
		pthread_join(t->tid[i], NULL);
		t->launched[i / 64] &= ~bit;
	}
}

bool mlw__rt_is_platform_thread(void)
{
	return launched_thread;
}

bool mlw__rt_is_main(void)
{
	return !launched_thread;
}
