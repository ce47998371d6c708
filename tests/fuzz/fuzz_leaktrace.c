/* fuzz_leaktrace.c - with FUZZ_SHARD_DEBUG set, remember where every live block of the shard heap was allocated (link-time wraps of mlw_alloc_malloc/calloc/free), so that a heap leak fuzz_shard.c finds can name its allocation sites (fs_leaktrace_dump). */
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_shard.h"

void *__real_mlw_alloc_malloc(size_t size);
void *__real_mlw_alloc_calloc(size_t n, size_t size);
void __real_mlw_alloc_free(void *p);
void *__wrap_mlw_alloc_malloc(size_t size);
void *__wrap_mlw_alloc_calloc(size_t n, size_t size);
void __wrap_mlw_alloc_free(void *p);

#define LT_MAX 4096
#define LT_DEPTH 12

struct lt_entry {
	void *p;
	size_t size;
	int depth;
	void *bt[LT_DEPTH];
};

static struct lt_entry lt[LT_MAX];
static int lt_on = -1;

static void note(void *p, size_t size)
{
	if (lt_on < 0)
		lt_on = getenv("FUZZ_SHARD_DEBUG") != NULL;
	if (!lt_on || p == NULL)
		return;
	for (int i = 0; i < LT_MAX; i++)
		if (lt[i].p == NULL) {
			lt[i].p = p;
			lt[i].size = size;
			lt[i].depth = backtrace(lt[i].bt, LT_DEPTH);
			return;
		}
}

void *__wrap_mlw_alloc_malloc(size_t size)
{
	void *p = __real_mlw_alloc_malloc(size);

	note(p, size);
	return p;
}

void *__wrap_mlw_alloc_calloc(size_t n, size_t size)
{
	void *p = __real_mlw_alloc_calloc(n, size);

	note(p, n * size);
	return p;
}

void __wrap_mlw_alloc_free(void *p)
{
	if (lt_on > 0 && p != NULL)
		for (int i = 0; i < LT_MAX; i++)
			if (lt[i].p == p) {
				lt[i].p = NULL;
				break;
			}
	__real_mlw_alloc_free(p);
}

void fs_leaktrace_dump(void)
{
	for (int i = 0; i < LT_MAX; i++)
		if (lt[i].p != NULL) {
			fprintf(stderr, "live block %p of %zu bytes from:\n", lt[i].p, lt[i].size);
			backtrace_symbols_fd(lt[i].bt, lt[i].depth, 2);
		}
}
