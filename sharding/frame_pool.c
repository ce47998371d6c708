/* frame_pool.c - mlwip's own frames for builds without DPDK (frame.h): a per-shard pool of fixed-size buffers, an owner's free stack, and a multi-producer return ring for frames other shards free. */
#include <errno.h>
#include <stddef.h>

#include <ck_ring.h>

#include "frame.h"
#include "tsan_private.h"

struct mlw__frame_pool {
	mlw__frame_t *stack;		/* owner's free frames (LIFO) */
	unsigned nstack;
	unsigned n;			/* frames in the pool */
	uint32_t room;			/* data bytes per frame */
	size_t stride;			/* bytes per frame, header included */
	size_t bytes;			/* the whole allocation */
	uint8_t *frames;
	ck_ring_buffer_t *ret_slot;	/* n rounded up to a power of two, plus one */
	_Alignas(MLW_RT_CACHE_LINE) ck_ring_t ret;	/* frames other shards freed */
};

/* The pool the calling thread owns (mlw__frame_pool_own): a shard owns one. */
static _Thread_local mlw__frame_pool_t *owned;

static unsigned pow2_above(unsigned n)
{
	unsigned s = 2;

	while (s <= n)
		s <<= 1;
	return s;
}

mlw__frame_pool_t *mlw__frame_pool_create(unsigned n, uint32_t room, int node)
{
	size_t head = (sizeof(mlw__frame_pool_t) + MLW_RT_CACHE_LINE - 1) & ~(size_t)(MLW_RT_CACHE_LINE - 1);
	size_t stride, slots_bytes, bytes;
	unsigned slots;
	mlw__frame_pool_t *p;
	uint8_t *mem;

	if (n == 0 || n > (1u << 24) || room == 0 || room > (1u << 20)) {
		errno = EINVAL;
		return NULL;
	}
	stride = (offsetof(mlw__frame_t, data) + room + MLW_RT_CACHE_LINE - 1) & ~(size_t)(MLW_RT_CACHE_LINE - 1);
	slots = pow2_above(n);	/* > n: the ring never refuses a frame of this pool */
	slots_bytes = ((size_t)slots * sizeof(ck_ring_buffer_t) + MLW_RT_CACHE_LINE - 1) &
		      ~(size_t)(MLW_RT_CACHE_LINE - 1);
	bytes = head + slots_bytes + (size_t)n * stride;
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
	p->ret_slot = (ck_ring_buffer_t *)(mem + head);
	p->frames = mem + head + slots_bytes;
	ck_ring_init(&p->ret, slots);
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
	return p->nstack + ck_ring_size(&p->ret);
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
		while (ck_ring_dequeue_mpsc(&p->ret, p->ret_slot, &f)) {
			MLW_TSAN_ACQUIRE(f);
			f->next = p->stack;
			p->stack = f;
			p->nstack++;
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

void mlw__frame_free(mlw__frame_t *f)
{
	mlw__frame_pool_t *p = f->pool;

	if (p == owned) {
		f->next = p->stack;
		p->stack = f;
		p->nstack++;
		return;
	}
	MLW_TSAN_RELEASE(f);
	/* The ring has a slot for every frame of the pool: never full. */
	(void)ck_ring_enqueue_mpsc(&p->ret, p->ret_slot, f);
}
