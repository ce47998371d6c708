/* alloc.c - per-shard heap: size-class free lists over NUMA-local chunks, owned by one thread, no locks, optionally capped.
 *
 * mlw_alloc_malloc -> free list of the block's class, else carve: small
 * classes (up to 32 KiB) from the newest 256 KiB chunk, bigger ones (up to
 * 64 MiB) on their own; chunks and big blocks both come from the heap's
 * arena, address space reserved in one mapping when the heap is made.
 * So growing a class, or the heap, makes no system call: the kernel
 * supplies a page at its first touch, and mlw_alloc_prefault() (called when
 * the shard's loop is idle) touches pages ahead of need so that even that
 * page fault happens off the packet path. Only an exhausted arena (1 GiB
 * on 64-bit targets, then twice the last) and blocks above 64 MiB map
 * memory; only those blocks are unmapped before the heap's end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mlwip/alloc.h"
#include "alloc_private.h"

#if defined(MLW_ALLOC_DEBUG) && MLW_ALLOC_DEBUG
#define MLW_ALLOC_CHECKS 1
#else
#define MLW_ALLOC_CHECKS 0
#endif

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* Node masks handed to mbind() cover this many nodes (the kernel's
 * MAX_NUMNODES is at most 1024). */
#define MLW_ALLOC_MAX_NODES	1024
#define ULONG_BITS		(8 * sizeof(unsigned long))

/* A free block's payload holds the link to the next free block of its class. */
struct mlw__alloc_free {
	struct mlw__alloc_free *next;
};

/* Start of every arena: the heap's reserved address space, carved from
 * the front (the first arena holds the heap itself). */
struct mlw__alloc_arena {
	struct mlw__alloc_arena *next;
	size_t size;
#if UINTPTR_MAX == UINT32_MAX
	uint32_t pad[2];	/* 32-bit targets (armhf): keep blocks 16-byte aligned */
#endif
};

/* Start of every huge block's mapping (above MLW_ALLOC_MAX_CLASS), in
 * front of the block header. Huge blocks are doubly linked so free()
 * unlinks one in O(1). */
struct mlw__alloc_large {
	struct mlw__alloc_large *next;
	struct mlw__alloc_large *prev;
	size_t map_size;
	size_t size;	/* requested size */
};

_Static_assert(sizeof(struct mlw__alloc_arena) % MLW_ALLOC_ALIGN == 0,
	       "arena header must keep blocks 16-byte aligned");
_Static_assert(sizeof(struct mlw__alloc_large) % MLW_ALLOC_ALIGN == 0,
	       "large-block record must keep the payload 16-byte aligned");
_Static_assert(MLW_ALLOC_CHUNK_SIZE % MLW_ALLOC_ALIGN == 0, "chunk size must be a multiple of 16");
_Static_assert(MLW_ALLOC_CHUNK_SIZE >= 2 * (MLW_ALLOC_MAX_SMALL + sizeof(struct mlw__alloc_hdr)),
	       "a chunk must hold at least two blocks of the biggest class");
_Static_assert(MLW_ALLOC_LIMIT_MIN >= 2 * MLW_ALLOC_CHUNK_SIZE,
	       "a capped heap needs one chunk for ordinary blocks and one in reserve");
_Static_assert(MLW_ALLOC_LINEAR_CLASSES + 8 * MLW_ALLOC_STEPS_PER_POW2 == MLW_ALLOC_SMALL_CLASSES,
	       "classes 128 < size <= 32768 span eight octaves");
_Static_assert(MLW_ALLOC_SMALL_CLASSES + 11 * MLW_ALLOC_STEPS_PER_POW2 == MLW_ALLOC_NCLASSES,
	       "classes 32768 < size <= 64 MiB span eleven octaves");
_Static_assert(MLW_ALLOC_MAX_CLASS <= UINT32_MAX, "a class block's size must fit its header");

/* One shard's heap. Only the owning thread reads or writes it. */
struct mlw__heap {
	struct mlw__alloc_free *free[MLW_ALLOC_NCLASSES];
	char *bump;			/* unused tail of the newest chunk */
	char *bump_end;
	char *rbump;			/* unused tail of the reserve chunk (at the cap, */
	char *rbump_end;		/* blocks of at most MLW_ALLOC_RESERVE_MAX bytes) */
	char *abump;			/* unused part of the newest arena */
	char *aend;
	char *touched;			/* abump..touched is resident (mlw_alloc_prefault) */
	struct mlw_alloc_stats stats;	/* stats.bytes_limit is the cap, 0: none */
	struct mlw__alloc_arena *arenas;
	struct mlw__alloc_large *large;
	size_t page_size;
	int node;
	bool bind;			/* libnuma works: bind mappings to node */
};

/* The calling thread's heap. initial-exec: one %fs-relative load on the fast
 * path instead of a __tls_get_addr() call when linked into a shared object. */
static _Thread_local struct mlw__heap *mlw_heap __attribute__((tls_model("initial-exec")));

static size_t round_up(size_t n, size_t align)
{
	return (n + align - 1) & ~(align - 1);
}

/*
 * Map @p size bytes of fresh, zeroed memory on @p node. This is mmap() plus
 * mbind() rather than numa_alloc_onnode(), which malloc()s a node mask on
 * every call, and the policy is MPOL_PREFERRED rather than MPOL_BIND so a
 * full node makes the kernel place pages elsewhere instead of invoking the
 * OOM killer. A failing mbind() (e.g. refused by a container's seccomp
 * filter) leaves the memory usable, only not placed, so it is ignored.
 */
static void *os_map(int node, bool bind, size_t size)
{
	unsigned long mask[MLW_ALLOC_MAX_NODES / ULONG_BITS];
	void *p;

	/* MAP_NORESERVE: an arena is address space; memory is committed page
	 * by page as it is touched, and bytes_limit caps what is carved. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (bind && node >= 0 && node < MLW_ALLOC_MAX_NODES) {
		memset(mask, 0, sizeof(mask));
		mask[node / ULONG_BITS] = 1ul << (node % ULONG_BITS);
		/* The kernel reads maxnode - 1 bits of the mask. */
		(void)mbind(p, size, MPOL_PREFERRED, mask, MLW_ALLOC_MAX_NODES + 1, 0);
	}
	return p;
}

static void os_unmap(void *p, size_t size)
{
	munmap(p, size);
}

static int current_node(void)
{
	unsigned int cpu, node;

	/* getcpu() reports the node directly (vDSO on x86), where
	 * numa_node_of_cpu(sched_getcpu()) would malloc() a cpumask per node. */
	if (getcpu(&cpu, &node) != 0)
		return 0;
	return (int)node;
}

/*
 * Reserve an arena of @p size bytes, or, if the OS refuses that much
 * address space (RLIMIT_AS, strict overcommit), of the largest half, quarter,
 * ... of it that still holds @p need bytes. NULL if none does.
 */
static struct mlw__alloc_arena *arena_map(int node, bool bind, size_t size, size_t need)
{
	struct mlw__alloc_arena *a;

	for (; size >= need; size /= 2) {
		a = os_map(node, bind, size);
		if (a) {
			a->size = size;
			return a;
		}
	}
	return NULL;
}

static struct mlw__heap *heap_create(int node, bool bind)
{
	size_t need = sizeof(struct mlw__alloc_arena) + sizeof(struct mlw__heap);
	struct mlw__alloc_arena *a;
	struct mlw__heap *h;

	if (node == -1)
		node = current_node();
	a = arena_map(node, bind, MLW_ALLOC_ARENA_SIZE, need + MLW_ALLOC_CHUNK_SIZE);
	if (!a)
		return NULL;
	/* Fresh anonymous memory is zero: free lists, chunk lists and counters
	 * start empty. The heap is not counted in bytes_reserved. */
	h = (struct mlw__heap *)(a + 1);
	h->arenas = a;
	h->abump = h->touched = (char *)a + round_up(need, MLW_ALLOC_ALIGN);
	h->aend = (char *)a + a->size;
	h->page_size = (size_t)sysconf(_SC_PAGESIZE);
	h->node = node;
	h->bind = bind;
	h->stats.os_maps = 1;
	mlw_heap = h;
	return h;
}

static bool node_valid(int node, bool numa)
{
	if (node == -1)
		return true;
	if (node < 0)
		return false;
	if (!numa)
		return node == 0;
	return node <= numa_max_node() && numa_bitmask_isbitset(numa_nodes_ptr, (unsigned int)node);
}

int mlw_alloc_thread_init(int numa_node)
{
	bool numa;

	if (mlw_heap)
		return -EEXIST;
	numa = numa_available() >= 0;
	if (!node_valid(numa_node, numa))
		return -EINVAL;
	return heap_create(numa_node, numa) ? 0 : -ENOMEM;
}

int mlw_alloc_thread_fini(struct mlw_alloc_stats *leaked)
{
	struct mlw__heap *h = mlw_heap;
	struct mlw__alloc_large *l, *lnext;
	struct mlw__alloc_arena *a, *anext;
	bool busy;

	if (!h)
		return -ENOENT;
	busy = h->stats.objects_in_use != 0;
	for (l = h->large; l; l = lnext) {
		lnext = l->next;
		os_unmap(l, l->map_size);
		h->stats.os_unmaps++;
	}
	for (a = h->arenas; a; a = a->next)
		h->stats.os_unmaps++;
	if (leaked)
		*leaked = h->stats;
	mlw_heap = NULL;
	/* The heap lives in the last arena of the list, the first mapped. */
	for (a = h->arenas; a; a = anext) {
		anext = a->next;
		os_unmap(a, a->size);
	}
	return busy ? -EBUSY : 0;
}

int mlw_alloc_set_limit(size_t bytes)
{
	if (bytes != 0 && bytes < MLW_ALLOC_LIMIT_MIN)
		return -EINVAL;
	if (!mlw_heap)
		return -ENOENT;
	mlw_heap->stats.bytes_limit = bytes;
	return 0;
}

int mlw_alloc_stats(struct mlw_alloc_stats *out)
{
	if (!out)
		return -EINVAL;
	if (!mlw_heap)
		return -ENOENT;
	*out = mlw_heap->stats;
	return 0;
}

static __attribute__((noinline)) struct mlw__heap *heap_create_lazy(void)
{
	return heap_create(-1, numa_available() >= 0);
}

static __attribute__((noinline)) void *alloc_fail(struct mlw__heap *h)
{
	h->stats.failures++;
	errno = ENOMEM;
	return NULL;
}

/*
 * May the heap take @p size more bytes from the OS? Under a cap, ordinary
 * blocks stop one chunk below it: that chunk is the reserve of small
 * blocks (@p reserve), see at_cap().
 */
static bool may_map(const struct mlw__heap *h, size_t size, bool reserve)
{
	uint64_t limit = h->stats.bytes_limit, used = h->stats.bytes_reserved;

	if (limit == 0)
		return true;
	if (!reserve)
		limit -= MLW_ALLOC_CHUNK_SIZE;	/* the cap is at least two chunks */
	return used <= limit && size <= limit - used;
}

/*
 * @p size bytes (a multiple of 16) from the arena, counted as reserved.
 * When the newest arena cannot hold them, a new one is mapped, twice the
 * size of the last (the rest of the old one is left unused: at most one
 * big block's worth). NULL if the OS refuses. The caller checked the cap.
 */
static void *arena_take(struct mlw__heap *h, size_t size)
{
	char *p;

	if ((size_t)(h->aend - h->abump) < size) {
		size_t hdr = sizeof(struct mlw__alloc_arena);
		size_t want = h->arenas->size * 2;
		struct mlw__alloc_arena *a;

		if (want < size + hdr)
			want = round_up(size + hdr, h->page_size);
		a = arena_map(h->node, h->bind, want, size + hdr);
		if (!a)
			return NULL;
		h->stats.os_maps++;
		a->next = h->arenas;
		h->arenas = a;
		h->abump = h->touched = (char *)(a + 1);
		h->aend = (char *)a + a->size;
	}
	p = h->abump;
	h->abump += size;
	if (h->touched < h->abump)
		h->touched = h->abump;
	h->stats.bytes_reserved += size;
	return p;
}

/* A new chunk; NULL if the OS refuses. */
static char *chunk_new(struct mlw__heap *h)
{
	return arena_take(h, MLW_ALLOC_CHUNK_SIZE);
}

/* Carve a block of class @p cls at @p *p (the caller checked that it fits) and advance *p. */
static struct mlw__alloc_hdr *carve(struct mlw__heap *h, char **p, unsigned int cls)
{
	struct mlw__alloc_hdr *hdr = (struct mlw__alloc_hdr *)*p;

	*p += sizeof(*hdr) + mlw__alloc_class_size(cls);
	hdr->owner = h;
	hdr->cls = (uint16_t)cls;
	return hdr;
}

/*
 * The newest chunk cannot fit a block of class @p cls: cut what is left of it
 * into the largest blocks that fit (so the tail is not wasted), then carve
 * the block from a new chunk, if the heap's cap leaves room for one.
 */
static __attribute__((noinline)) struct mlw__alloc_hdr *refill(struct mlw__heap *h, unsigned int cls)
{
	const size_t hdr_size = sizeof(struct mlw__alloc_hdr);
	struct mlw__alloc_hdr *hdr;
	char *c;
	struct mlw__alloc_free *f;
	unsigned int tcls;
	size_t avail;

	while ((size_t)(h->bump_end - h->bump) >= hdr_size + mlw__alloc_class_size(0)) {
		avail = (size_t)(h->bump_end - h->bump) - hdr_size;
		if (avail >= MLW_ALLOC_MAX_SMALL) {
			tcls = MLW_ALLOC_SMALL_CLASSES - 1;
		} else {
			tcls = mlw__alloc_size_class(avail);
			if (mlw__alloc_class_size(tcls) > avail)
				tcls--;
		}
		hdr = carve(h, &h->bump, tcls);
		hdr->size = 0;
		hdr->state = MLW_ALLOC_STATE_FREE;
		f = (struct mlw__alloc_free *)(hdr + 1);
		f->next = h->free[tcls];
		h->free[tcls] = f;
	}

	if (!may_map(h, MLW_ALLOC_CHUNK_SIZE, false) || !(c = chunk_new(h)))
		return NULL;
	h->bump = c;
	h->bump_end = c + MLW_ALLOC_CHUNK_SIZE;
	return carve(h, &h->bump, cls);
}

/* A block of a class above MLW_ALLOC_MAX_SMALL: carved from the arena on
 * its own, if the cap leaves room (the caller found its free list empty). */
static __attribute__((noinline)) struct mlw__alloc_hdr *big_new(struct mlw__heap *h, unsigned int cls)
{
	size_t stride = sizeof(struct mlw__alloc_hdr) + mlw__alloc_class_size(cls);
	char *p;

	if (!may_map(h, stride, false) || !(p = arena_take(h, stride)))
		return NULL;
	return carve(h, &p, cls);
}

/* Above MLW_ALLOC_MAX_CLASS: a mapping of the block's own, unmapped at free. */
static __attribute__((noinline)) void *huge_alloc(struct mlw__heap *h, size_t size)
{
	const size_t overhead = sizeof(struct mlw__alloc_large) + sizeof(struct mlw__alloc_hdr);
	struct mlw__alloc_large *l;
	struct mlw__alloc_hdr *hdr;
	size_t map_size;

	if (size > SIZE_MAX - overhead - h->page_size)
		return alloc_fail(h);
	map_size = round_up(size + overhead, h->page_size);
	if (!may_map(h, map_size, false))
		return alloc_fail(h);
	l = os_map(h->node, h->bind, map_size);
	if (!l)
		return alloc_fail(h);
	h->stats.os_maps++;
	l->map_size = map_size;
	l->size = size;
	l->prev = NULL;
	l->next = h->large;
	if (h->large)
		h->large->prev = l;
	h->large = l;

	hdr = (struct mlw__alloc_hdr *)(l + 1);
	hdr->owner = h;
	hdr->size = 0;
	hdr->cls = MLW_ALLOC_CLASS_LARGE;
	hdr->state = MLW_ALLOC_STATE_LIVE;

	h->stats.bytes_reserved += map_size;
	h->stats.bytes_in_use += size;
	h->stats.objects_in_use++;
	h->stats.allocs++;
	return hdr + 1;
}

static void huge_free(struct mlw__heap *h, struct mlw__alloc_hdr *hdr)
{
	struct mlw__alloc_large *l = (struct mlw__alloc_large *)hdr - 1;

	if (l->prev)
		l->prev->next = l->next;
	else
		h->large = l->next;
	if (l->next)
		l->next->prev = l->prev;
	h->stats.bytes_reserved -= l->map_size;
	h->stats.bytes_in_use -= l->size;
	h->stats.objects_in_use--;
	h->stats.frees++;
	h->stats.os_unmaps++;
	os_unmap(l, l->map_size);
}

#if MLW_ALLOC_CHECKS
/* free() got a pointer it must not touch: say which and why, then abort. The
 * owner heap is only printed, never dereferenced, as it may be gone. */
static __attribute__((noreturn, noinline)) void bad_free(void *ptr, const struct mlw__alloc_hdr *hdr)
{
	struct mlw__heap *mine = mlw_heap;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	if (hdr->state == MLW_ALLOC_STATE_FREE)
		fprintf(stderr, "mlw_alloc: double free of block %p (heap %p) by thread %d (heap %p)\n",
			ptr, (void *)hdr->owner, (int)tid, (void *)mine);
	else if (hdr->state != MLW_ALLOC_STATE_LIVE)
		fprintf(stderr, "mlw_alloc: free of %p by thread %d (heap %p): not a live mlw_alloc block "
			"(header state 0x%04x)\n", ptr, (int)tid, (void *)mine, (unsigned int)hdr->state);
	else
		fprintf(stderr, "mlw_alloc: block %p owned by heap %p freed by thread %d whose heap is %p; "
			"only the owning shard may free it\n",
			ptr, (void *)hdr->owner, (int)tid, (void *)mine);
	abort();
}

static __attribute__((noreturn, noinline)) void bad_free_list(struct mlw__heap *h, unsigned int cls,
							      const struct mlw__alloc_hdr *hdr)
{
	fprintf(stderr, "mlw_alloc: heap %p: free list of class %u holds block %p with state 0x%04x "
		"(written after it was freed?)\n", (void *)h, cls, (const void *)(hdr + 1),
		(unsigned int)hdr->state);
	abort();
}
#endif

/*
 * No new chunk for a block of class @p cls: the cap is reached (or the OS
 * refused). Before failing, hand out a free block of a larger class whole:
 * it keeps its class, so free() puts it back on its own list, and memory
 * that big blocks (e.g. packet buffers) gave back serves new small ones
 * (connections, sockets) without splitting anything for good. Then, for
 * blocks of at most MLW_ALLOC_RESERVE_MAX bytes, the reserve chunk, which
 * only they may use: lwIP re-arms each cyclic timer with a fresh 32-byte
 * allocation right after its handler ran and asserts that it succeeds, so
 * a full heap must still be able to give these.
 */
static __attribute__((noinline)) struct mlw__alloc_hdr *at_cap(struct mlw__heap *h, unsigned int cls)
{
	size_t stride = sizeof(struct mlw__alloc_hdr) + mlw__alloc_class_size(cls);
	char *c;

	for (unsigned int k = cls + 1; k < MLW_ALLOC_NCLASSES; k++) {
		struct mlw__alloc_free *f = h->free[k];
		struct mlw__alloc_hdr *hdr;

		if (!f)
			continue;
		h->free[k] = f->next;
		hdr = mlw__alloc_hdr_of(f);
#if MLW_ALLOC_CHECKS
		if (unlikely(hdr->state != MLW_ALLOC_STATE_FREE || hdr->owner != h))
			bad_free_list(h, k, hdr);
#endif
		return hdr;
	}
	if (mlw__alloc_class_size(cls) > MLW_ALLOC_RESERVE_MAX)
		return NULL;
	if ((size_t)(h->rbump_end - h->rbump) < stride) {
		if (!may_map(h, MLW_ALLOC_CHUNK_SIZE, true) || !(c = chunk_new(h)))
			return NULL;
		h->rbump = c;
		h->rbump_end = c + MLW_ALLOC_CHUNK_SIZE;
	}
	return carve(h, &h->rbump, cls);
}

void *mlw_alloc_malloc(size_t size)
{
	struct mlw__heap *h = mlw_heap;
	struct mlw__alloc_hdr *hdr;
	struct mlw__alloc_free *f;
	unsigned int cls;
	size_t stride;

	if (unlikely(!h)) {
		h = heap_create_lazy();
		if (!h) {
			errno = ENOMEM;
			return NULL;
		}
	}
	if (unlikely(size > MLW_ALLOC_MAX_CLASS))
		return huge_alloc(h, size);

	cls = mlw__alloc_size_class(size);
	f = h->free[cls];
	if (likely(f != NULL)) {
		h->free[cls] = f->next;
		hdr = mlw__alloc_hdr_of(f);
#if MLW_ALLOC_CHECKS
		if (unlikely(hdr->state != MLW_ALLOC_STATE_FREE || hdr->owner != h))
			bad_free_list(h, cls, hdr);
#endif
	} else if (unlikely(cls >= MLW_ALLOC_SMALL_CLASSES)) {
		if (!(hdr = big_new(h, cls)) && !(hdr = at_cap(h, cls)))
			return alloc_fail(h);
	} else {
		stride = sizeof(*hdr) + mlw__alloc_class_size(cls);
		if (likely((size_t)(h->bump_end - h->bump) >= stride))
			hdr = carve(h, &h->bump, cls);
		else if (!(hdr = refill(h, cls)) && !(hdr = at_cap(h, cls)))
			return alloc_fail(h);
	}
	hdr->size = (uint32_t)size;
	hdr->state = MLW_ALLOC_STATE_LIVE;
	h->stats.bytes_in_use += size;
	h->stats.objects_in_use++;
	h->stats.allocs++;
	return hdr + 1;
}

void *mlw_alloc_calloc(size_t n, size_t size)
{
	struct mlw__heap *h;
	size_t total;
	void *p;

	if (unlikely(__builtin_mul_overflow(n, size, &total))) {
		h = mlw_heap;
		if (!h && !(h = heap_create_lazy())) {
			errno = ENOMEM;
			return NULL;
		}
		return alloc_fail(h);
	}
	p = mlw_alloc_malloc(total);
	/* Huge blocks are fresh mappings and already zero. Class blocks may
	 * be reused; a fresh one is zero too, but writing it now also takes
	 * its page faults here, where the caller expects the cost of a
	 * large calloc, rather than at first use. */
	if (p && total <= MLW_ALLOC_MAX_CLASS)
		memset(p, 0, total);
	return p;
}

void mlw_alloc_free(void *ptr)
{
	struct mlw__alloc_hdr *hdr;
	struct mlw__alloc_free *f;
	struct mlw__heap *h;
	unsigned int cls;

	if (!ptr)
		return;
	hdr = mlw__alloc_hdr_of(ptr);
	h = hdr->owner;
#if MLW_ALLOC_CHECKS
	if (unlikely(hdr->state != MLW_ALLOC_STATE_LIVE || h != mlw_heap))
		bad_free(ptr, hdr);
#endif
	/* Without checks, a block freed by a foreign thread still goes back to
	 * its owner's lists: a data race on the owner's heap unless the owner
	 * is stopped. Only the owning shard may free. */
	cls = hdr->cls;
	if (unlikely(cls == MLW_ALLOC_CLASS_LARGE)) {
		huge_free(h, hdr);
		return;
	}
	hdr->state = MLW_ALLOC_STATE_FREE;
	f = ptr;
	f->next = h->free[cls];
	h->free[cls] = f;
	h->stats.bytes_in_use -= hdr->size;
	h->stats.objects_in_use--;
	h->stats.frees++;
}

size_t mlw_alloc_prefault(void)
{
	struct mlw__heap *h = mlw_heap;
	size_t ahead, room, n;
	char *end;

	if (!h)
		return 0;
	ahead = h->stats.bytes_reserved / 8;
	if (ahead < MLW_ALLOC_PREFAULT_AHEAD)
		ahead = MLW_ALLOC_PREFAULT_AHEAD;
	/* Under a cap, only what may still be carved. */
	if (h->stats.bytes_limit != 0) {
		room = h->stats.bytes_limit > h->stats.bytes_reserved ?
		       h->stats.bytes_limit - h->stats.bytes_reserved : 0;
		if (ahead > room)
			ahead = room;
	}
	if ((size_t)(h->aend - h->abump) < ahead)
		ahead = (size_t)(h->aend - h->abump);
	end = h->abump + ahead;
	if (h->touched >= end)
		return 0;
	/* One chunk per call, so an idle pass stays short. */
	n = (size_t)(end - h->touched);
	if (n > MLW_ALLOC_CHUNK_SIZE)
		n = MLW_ALLOC_CHUNK_SIZE;
	/* The pages are fresh (never carved): writing zero keeps them zero. */
	for (size_t off = 0; off < n; off += h->page_size)
		((volatile char *)h->touched)[off] = 0;
	h->touched += n;
	return n;
}
