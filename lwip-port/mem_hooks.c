/* mem_hooks.c - lwIP's allocation hooks, routed to the shard allocator.
 *
 * lwIP 2.1 calls them through mem_clib_malloc/calloc/free (MEM_LIBC_MALLOC),
 * lwIP 2.2 through MEM_CUSTOM_MALLOC/CALLOC/FREE (MEM_CUSTOM_ALLOCATOR);
 * lwipopts.h picks the set. The checks below fail the build if the set it
 * picked does not match init.h's version, since lwIP would then fall back to
 * libc malloc without a word (2.2's MEM_LIBC_MALLOC means plain malloc). */
#include "lwip/init.h"
#include "lwip/mem.h"
#include "mlwip/alloc.h"

/* MLW__IS_HOOK(MACRO) is 1 in #if when MACRO expands to exactly one of the
 * identifiers mlw__lwip_malloc/calloc/free (the pasted name is defined only
 * for those), 0 for anything else, such as malloc. */
#define MLW__HOOK_mlw__lwip_malloc 1
#define MLW__HOOK_mlw__lwip_calloc 1
#define MLW__HOOK_mlw__lwip_free 1
#define MLW__CAT_(a, b) a##b
#define MLW__CAT(a, b) MLW__CAT_(a, b)
#define MLW__IS_HOOK(macro) MLW__CAT(MLW__HOOK_, macro)

#if LWIP_VERSION >= 0x02020000
#if !MEM_CUSTOM_ALLOCATOR || MEM_LIBC_MALLOC || !MLW__IS_HOOK(MEM_CUSTOM_MALLOC) || \
	!MLW__IS_HOOK(MEM_CUSTOM_CALLOC) || !MLW__IS_HOOK(MEM_CUSTOM_FREE)
#error "lwIP 2.2: lwipopts.h must set MEM_CUSTOM_ALLOCATOR with MEM_CUSTOM_* = mlw__lwip_*"
#endif
#else
#if !MEM_LIBC_MALLOC || !MLW__IS_HOOK(mem_clib_malloc) || !MLW__IS_HOOK(mem_clib_calloc) || \
	!MLW__IS_HOOK(mem_clib_free)
#error "lwIP 2.1: lwipopts.h must set MEM_LIBC_MALLOC with mem_clib_* = mlw__lwip_*"
#endif
#endif

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
