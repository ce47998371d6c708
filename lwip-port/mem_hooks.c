/* mem_hooks.c - lwIP's mem_clib_* allocation hooks, routed to the shard allocator. */
#include "mlwip/alloc.h"

void *mlw__lwip_malloc(size_t size);
void *mlw__lwip_calloc(size_t n, size_t size);
void mlw__lwip_free(void *ptr);

void *mlw__lwip_malloc(size_t size)
{
	return mlw_alloc_malloc(size);
}

void *mlw__lwip_calloc(size_t n, size_t size)
{
	return mlw_alloc_calloc(n, size);
}

void mlw__lwip_free(void *ptr)
{
	mlw_alloc_free(ptr);
}
