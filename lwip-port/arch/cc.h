/* arch/cc.h - compiler and platform glue for lwIP on Linux/glibc or musl (any CPU). */
#ifndef MLW_ARCH_CC_H
#define MLW_ARCH_CC_H

#include <endian.h>     /* BYTE_ORDER for big- and little-endian boards */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

/* struct timeval comes from the C library (stdlib.h pulls it in); lwIP's
 * socket layer, used only by lwIP's own unit suite, must not define it. */
#define LWIP_TIMEVAL_PRIVATE 0

/* errno values and errno itself (thread-local in every C library) come from
 * the system, so lwIP and the application agree on them. */
#ifndef LWIP_ERRNO_STDINCLUDE
#define LWIP_ERRNO_STDINCLUDE 1
#endif

#define LWIP_PLATFORM_DIAG(x)   do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { \
		fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", x, __FILE__, __LINE__); \
		fflush(NULL); abort(); } while (0)

/* Thread-safe: each shard thread has its own generator (lwip-port/rand.c). */
uint32_t mlw__lwip_rand(void);
#define LWIP_RAND() (mlw__lwip_rand())

#endif /* MLW_ARCH_CC_H */
