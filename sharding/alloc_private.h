/* alloc_private.h - block header and size-class arithmetic of the shard allocator (not public). */
#ifndef MLW_ALLOC_PRIVATE_H
#define MLW_ALLOC_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Size classes: 16..128 in steps of 16, then four classes per power of two
 * (160, 192, 224, 256, 320, ..., 28672, 32768, ..., 64 MiB). Every class is a multiple of
 * 16, so blocks carved back to back with a 16-byte header stay 16-byte
 * aligned; the geometric part wastes at most 20% of a block to rounding.
 */
#define MLW_ALLOC_ALIGN		16u
#define MLW_ALLOC_LINEAR_CLASSES	8u	/* 16, 32, ..., 128 */
#define MLW_ALLOC_LINEAR_MAX	128u
#define MLW_ALLOC_STEPS_PER_POW2	4u
#define MLW_ALLOC_SMALL_CLASSES	40u	/* classes carved from chunks: up to MLW_ALLOC_MAX_SMALL */
#define MLW_ALLOC_MAX_SMALL	32768u
/* Classes above MLW_ALLOC_MAX_SMALL, up to MLW_ALLOC_MAX_CLASS, are carved
 * from the heap's arena one block at a time; larger blocks get a mapping
 * of their own. */
#define MLW_ALLOC_NCLASSES	84u
#define MLW_ALLOC_MAX_CLASS	(64u << 20)

/* Small blocks are carved from chunks of this size. */
#define MLW_ALLOC_CHUNK_SIZE	(256u * 1024u)

/* Address space a heap reserves at a time (see alloc.c): the first arena,
 * and the smallest later one (each later arena doubles the last). */
#define MLW_ALLOC_ARENA_SIZE	(sizeof(void *) == 8 ? (size_t)1 << 30 : (size_t)64 << 20)

/* mlw_alloc_prefault() keeps this much (or an eighth of the heap, if more)
 * resident ahead of where the next chunk or block is carved. */
#define MLW_ALLOC_PREFAULT_AHEAD	(1u << 20)

/* At the heap's cap, blocks up to this size may still be carved from a
 * reserve chunk that other blocks cannot use (see mlw_alloc_set_limit). */
#define MLW_ALLOC_RESERVE_MAX	64u

/* hdr->cls of a block that has its own mapping (above MLW_ALLOC_MAX_CLASS). */
#define MLW_ALLOC_CLASS_LARGE	0xffffu

/* hdr->state values. Random bytes match either with odds of 1 in 32768, which
 * is what makes the debug build's double-free check cheap and still useful. */
#define MLW_ALLOC_STATE_LIVE	0xa11cu
#define MLW_ALLOC_STATE_FREE	0xf4eeu

struct mlw__heap;

/**
 * The 16 bytes in front of every block. The owner pointer lets free() find
 * the heap without a lookup; size is the size the caller asked for, so the
 * counters report requested bytes (for large blocks it lives in the
 * mapping's own record, because it may not fit in 32 bits).
 */
struct mlw__alloc_hdr {
	struct mlw__heap *owner;
#if UINTPTR_MAX == UINT32_MAX
	uint32_t pad;	/* 32-bit targets (armhf): keep the header 16 bytes */
#endif
	uint32_t size;
	uint16_t cls;
	uint16_t state;
};

_Static_assert(sizeof(struct mlw__alloc_hdr) == MLW_ALLOC_ALIGN,
	       "the block header must keep payloads 16-byte aligned");

/** Header of the block whose payload starts at @p ptr. */
static inline struct mlw__alloc_hdr *mlw__alloc_hdr_of(void *ptr)
{
	return (struct mlw__alloc_hdr *)ptr - 1;
}

/** Payload size of class @p cls (cls < MLW_ALLOC_NCLASSES). */
static inline size_t mlw__alloc_class_size(unsigned int cls)
{
	unsigned int q, r, b;

	if (cls < MLW_ALLOC_LINEAR_CLASSES)
		return (size_t)(cls + 1) * 16u;
	q = (cls - MLW_ALLOC_LINEAR_CLASSES) / MLW_ALLOC_STEPS_PER_POW2;
	r = (cls - MLW_ALLOC_LINEAR_CLASSES) % MLW_ALLOC_STEPS_PER_POW2;
	b = 7 + q;
	return ((size_t)1 << b) + ((size_t)(r + 1) << (b - 2));
}

/**
 * Smallest class whose payload holds @p size bytes (size <= MLW_ALLOC_MAX_CLASS).
 * Above 128 bytes, with s = size - 1 and b = floor(log2(s)), size lies in
 * (2^b, 2^(b+1)] and s >> (b - 2) (4..7) picks the quarter of that octave.
 */
static inline unsigned int mlw__alloc_size_class(size_t size)
{
	size_t s;
	unsigned int b;

	if (size <= MLW_ALLOC_LINEAR_MAX)
		return size ? (unsigned int)((size - 1) >> 4) : 0;
	s = size - 1;
	b = 63u - (unsigned int)__builtin_clzll((unsigned long long)s);
	return MLW_ALLOC_STEPS_PER_POW2 * (b - 7) + (unsigned int)(s >> (b - 2)) + 4;
}

#endif /* MLW_ALLOC_PRIVATE_H */
