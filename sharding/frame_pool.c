/* frame_pool.c - mlwip's own frames for builds without DPDK (frame.h): a per-shard pool of fixed-size buffers, an owner's free stack, and a lock-free return stack for frames other shards free. */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

#include "frame.h"

struct mlw__frame_pool {
	mlw__frame_t *stack;		/* owner's free frames (LIFO) */
	unsigned nstack;
	unsigned n;			/* frames in the pool */
	uint32_t room;			/* data bytes per frame */
	size_t stride;			/* bytes per frame, header included */
	size_t bytes;			/* the whole allocation */
	uint8_t *frames;
	/* Frames other shards freed: a stack they push onto with a CAS
	 * (release), which the owner takes whole with one exchange (acquire)
	 * when its own stack is empty. Only whole-stack takes, never a pop of
	 * one frame, so there is no ABA problem. ret_n counts them. */
	_Alignas(MLW_RT_CACHE_LINE) _Atomic(mlw__frame_t *) ret;
	atomic_uint ret_n;
};

/* The pool the calling thread owns (mlw__frame_pool_own): a shard owns one. */
static _Thread_local mlw__frame_pool_t *owned;

mlw__frame_pool_t *mlw__frame_pool_create(unsigned n, uint32_t room, int node)
{
	size_t head = (sizeof(mlw__frame_pool_t) + MLW_RT_CACHE_LINE - 1) & ~(size_t)(MLW_RT_CACHE_LINE - 1);
	size_t stride, bytes;
	mlw__frame_pool_t *p;
	uint8_t *mem;

	if (n == 0 || n > (1u << 24) || room == 0 || room > (1u << 20)) {
		errno = EINVAL;
		return NULL;
	}
	stride = (offsetof(mlw__frame_t, data) + room + MLW_RT_CACHE_LINE - 1) & ~(size_t)(MLW_RT_CACHE_LINE - 1);
	bytes = head + (size_t)n * stride;
	mem = mlw__rt_zalloc(bytes, node);
	if (mem == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	p = (mlw__frame_pool_t *)mem;
	p->n = n;
	p->room = room;
	p->stride = stride;
	p->bytes = bytes;
	p->frames = mem + head;
	atomic_init(&p->ret, NULL);
	atomic_init(&p->ret_n, 0);
	for (unsigned i = n; i-- > 0;) {
		mlw__frame_t *f = (mlw__frame_t *)(p->frames + (size_t)i * stride);

		f->pool = p;
		f->room = room;
		f->next = p->stack;
		p->stack = f;
	}
	p->nstack = n;
	return p;
}

void mlw__frame_pool_free(mlw__frame_pool_t *p)
{
	if (p == NULL)
		return;
	if (owned == p)
		owned = NULL;
	mlw__rt_free(p, p->bytes);
}

void mlw__frame_pool_own(mlw__frame_pool_t *p)
{
	owned = p;
}

unsigned mlw__frame_pool_avail(const mlw__frame_pool_t *p)
{
	return p->nstack + atomic_load_explicit(&p->ret_n, memory_order_relaxed);
}

unsigned mlw__frame_pool_size(const mlw__frame_pool_t *p)
{
	return p->n;
}

mlw__frame_t *mlw__frame_alloc(mlw__frame_pool_t *p)
{
	mlw__frame_t *f;

	if (p->stack == NULL) {
		/* Frames other shards gave back, all at once. */
		f = atomic_exchange_explicit(&p->ret, NULL, memory_order_acquire);
		while (f != NULL) {
			mlw__frame_t *next = f->next;

			atomic_fetch_sub_explicit(&p->ret_n, 1, memory_order_relaxed);
			f->next = p->stack;
			p->stack = f;
			p->nstack++;
			f = next;
		}
		if (p->stack == NULL)
			return NULL;
	}
	f = p->stack;
	p->stack = f->next;
	p->nstack--;
	f->next = NULL;
	f->len = 0;
	f->port = 0;
	f->ip_ck = f->l4_ck = MLW_FRAME_CK_UNKNOWN;
	f->hash_valid = false;
	return f;
}

int mlw__frame_alloc_bulk(mlw__frame_pool_t *p, mlw__frame_t **f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		f[i] = mlw__frame_alloc(p);
		if (f[i] == NULL) {
			while (i-- > 0)
				mlw__frame_free(f[i]);
			return -1;
		}
	}
	return 0;
}

void mlw__frame_free(mlw__frame_t *f)
{
	mlw__frame_pool_t *p = f->pool;

	if (p == owned) {
		f->next = p->stack;
		p->stack = f;
		p->nstack++;
		return;
	}
	f->next = atomic_load_explicit(&p->ret, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->ret_n, 1, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&p->ret, &f->next, f, memory_order_release,
						      memory_order_relaxed))
		;
}
