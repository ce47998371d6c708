/* mlwip per-shard memory allocator: size classes, free lists, NUMA-local, lock-free by ownership. */
#ifndef MLWIP_ALLOC_H
#define MLWIP_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "mlwip/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Counters of one shard's heap. Only the owning thread writes them; read them
 * from that thread (mlw_alloc_stats) or after it has stopped.
 */
struct mlw_alloc_stats {
	uint64_t bytes_in_use;    /**< bytes handed out and not yet freed (as requested) */
	uint64_t objects_in_use;  /**< blocks handed out and not yet freed */
	uint64_t bytes_reserved;  /**< bytes taken for blocks: 256 KiB chunks (blocks up to 32 KiB),
				       blocks above 32 KiB; the heap's reserved address space beyond
				       them is not counted */
	uint64_t allocs;          /**< successful allocations since the heap was created */
	uint64_t frees;           /**< frees since the heap was created */
	uint64_t failures;        /**< allocations that returned NULL */
	uint64_t bytes_limit;     /**< cap on bytes_reserved (mlw_alloc_set_limit), 0: none */
	uint64_t os_maps;         /**< mmap() calls since the heap was created: its first
				       arena (1), each further arena, each block above 64 MiB */
	uint64_t os_unmaps;       /**< munmap() calls: blocks above 64 MiB freed (and, in the
				       counters mlw_alloc_thread_fini() reports, the arenas) */
};

/** Smallest cap mlw_alloc_set_limit() accepts: two 256 KiB chunks. */
#define MLW_ALLOC_LIMIT_MIN (512u * 1024u)

/**
 * Create the calling thread's heap, with memory from NUMA node @p numa_node
 * (-1: the node of the CPU the thread runs on now).
 *
 * @return 0 on success;
 *   -EEXIST  the thread already has a heap;
 *   -EINVAL  @p numa_node is not a node of this machine;
 *   -ENOMEM  the heap's bookkeeping could not be allocated.
 */
MLW_EXPORT int mlw_alloc_thread_init(int numa_node);

/**
 * Destroy the calling thread's heap and return all its memory to the OS.
 * Blocks still in use are released too; @p leaked (may be NULL) receives the
 * final counters so the caller can report them. A heap is not destroyed when
 * its thread exits: every thread that allocated must call this before it
 * ends, or the heap's memory stays mapped for the life of the process.
 *
 * @return 0 if nothing was in use; -EBUSY if blocks were still in use
 *   (they are freed all the same); -ENOENT if the thread has no heap.
 */
MLW_EXPORT int mlw_alloc_thread_fini(struct mlw_alloc_stats *leaked);

/**
 * Copy the calling thread's counters into @p out.
 * @return 0, or -ENOENT if the thread has no heap, -EINVAL if @p out is NULL.
 */
MLW_EXPORT int mlw_alloc_stats(struct mlw_alloc_stats *out);

/**
 * Cap the calling thread's heap: it takes at most @p bytes for blocks
 * (bytes_reserved: 256 KiB chunks for blocks up to 32 KiB, the block itself
 * for each larger one), 0 for no cap (the default). An allocation that
 * would pass the cap returns NULL with ENOMEM and counts as a failure,
 * like any other.
 *
 * Blocks up to 64 MiB are not returned to the OS: memory freed as a block
 * of one size class is reused by blocks of that class, and at the cap also
 * by smaller requests (a block is then handed out whole, not split). The last
 * chunk below the cap is kept for blocks of at most 64 bytes (lwIP's timers,
 * pbuf and segment headers), so that lwIP can always re-arm its timers
 * while the heap is full; other blocks stop one chunk earlier. A cap below
 * what is reserved already is allowed: the heap then only reuses.
 *
 * @return 0; -EINVAL @p bytes is neither 0 nor at least MLW_ALLOC_LIMIT_MIN;
 *   -ENOENT the thread has no heap.
 */
MLW_EXPORT int mlw_alloc_set_limit(size_t bytes);

/**
 * Make the calling thread's heap fault in, in advance, the memory its next
 * chunks and blocks will be carved from: at most 256 KiB per call, until
 * 1 MiB or an eighth of bytes_reserved (whichever is more, and never past
 * the cap) lies resident ahead. Called when the shard's loop has nothing
 * to do (the socket layer's waiting loop does), so that a burst of growth
 * later takes its pages without a page fault. The memory is not counted
 * in bytes_reserved until it is carved.
 *
 * @return bytes touched by this call, 0 when enough is resident already
 *   or the thread has no heap.
 */
MLW_EXPORT size_t mlw_alloc_prefault(void);

/**
 * malloc/calloc/free on the calling thread's heap. A thread without a heap
 * gets one on its current NUMA node at its first allocation. Blocks are
 * aligned to 16 bytes. malloc(0) returns a unique block that must be freed.
 * On failure malloc/calloc return NULL with errno ENOMEM (also when n * size
 * overflows, and when the heap's cap (mlw_alloc_set_limit) is reached).
 * free(NULL) does nothing. In debug builds (MLW_ALLOC_DEBUG)
 * freeing a block owned by another thread's heap aborts with a message naming
 * both threads' heaps, and so does freeing a small block twice.
 */
MLW_EXPORT void *mlw_alloc_malloc(size_t size);
MLW_EXPORT void *mlw_alloc_calloc(size_t n, size_t size);
MLW_EXPORT void mlw_alloc_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* MLWIP_ALLOC_H */
