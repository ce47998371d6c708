/* attach.c - run a stack without giving up the calling thread: it becomes shard 0 and drives its own loop.
 *
 * mlw_stack_attach -> launch shards 1..n-1 (mlw__shard_main, as mlw_stack_run)
 *                  -> mlw__shard_attach(shard 0) on the calling thread
 * the caller       -> socket calls, mlw_shard_poll() (its loop is the shard's)
 * mlw_stack_detach -> stop -> mlw__shard_detach(shard 0) -> wait for the others
 *
 * Or every shard on a program thread:
 * mlw_stack_attach_threads -> mlw__shard_attach(shard 0) on the calling thread
 * mlw_stack_attach_shard(i) -> mlw__shard_attach(shard i) on another thread
 * mlw_stack_detach_shard    -> mlw__shard_detach on the calling thread
 *
 * For programs that own their main loop (the LD_PRELOAD layer, preload/).
 */
#include <errno.h>
#include <stdbool.h>

#include "stack_private.h"
#include "tsan_private.h"

static int attach(struct mlw_stack *st, bool launch, mlw_shard_init_fn init, mlw_shard_fini_fn fini,
		  void *arg)
{
	int rc;

	if (st == NULL)
		return -EINVAL;
	/* Shard 0 is the main thread (DPDK: the EAL's main lcore, the thread
	 * that created the stack). */
	if (!mlw__rt_is_main())
		return -EINVAL;
	if (atomic_exchange(&st->ran, 1))
		return -EALREADY;
	st->init = init;
	st->fini = fini;
	st->init_arg = arg;
	if (launch && (rc = mlw__stack_launch_others(st, true)) != 0) {
		mlw__rt_wait(&st->threads);
		return rc;
	}
	atomic_store(&st->shards[0]->claimed, true);
	rc = mlw__shard_attach(st->shards[0]);
	if (rc != 0) {
		mlw_stack_stop(st);
		mlw__shard_detach(st->shards[0]);
		mlw__rt_wait(&st->threads);
		return rc;
	}
	return 0;
}

int mlw_stack_attach(struct mlw_stack *st, mlw_shard_init_fn init, mlw_shard_fini_fn fini, void *arg)
{
	return attach(st, true, init, fini, arg);
}

int mlw_stack_attach_threads(struct mlw_stack *st)
{
	return attach(st, false, NULL, NULL, NULL);
}

int mlw_stack_attach_shard(struct mlw_stack *st, unsigned shard)
{
	struct mlw_shard *sh;

	if (st == NULL || shard == 0 || shard >= st->p.nshards || !atomic_load(&st->ran))
		return -EINVAL;
	/* An EAL lcore has its own role (shard i of a launched stack, or the
	 * application's work); DPDK's interrupt thread serves every port. */
	if (mlw__rt_is_platform_thread() || mlw_shard_id() >= 0)
		return -EPERM;
	sh = st->shards[shard];
	if (atomic_exchange(&sh->claimed, true))
		return -EBUSY;
	MLW_TSAN_ACQUIRE(st);
	return mlw__shard_attach(sh);
}

int mlw_stack_detach_shard(struct mlw_stack *st)
{
	struct mlw_shard *sh = mlw__current_shard();

	if (st == NULL || sh == NULL || sh->stack != st)
		return -EINVAL;
	mlw__shard_detach(sh);
	MLW_TSAN_RELEASE(st);
	return 0;
}

int mlw_stack_detach(struct mlw_stack *st)
{
	if (st == NULL || mlw_shard_id() != 0 || !mlw__rt_is_main())
		return -EINVAL;
	mlw_stack_stop(st);
	mlw__shard_detach(st->shards[0]);
	mlw__rt_wait(&st->threads);
	MLW_TSAN_ACQUIRE(st);
	return atomic_load(&st->init_rc);
}
