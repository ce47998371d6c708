/* rand_private.h - entropy for lwip-port (not public). */
#ifndef MLW_RAND_PRIVATE_H
#define MLW_RAND_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf from the kernel's CSPRNG. Returns 0 or -errno. */
int mlw__random_bytes(void *buf, size_t len);
uint32_t mlw__lwip_rand(void);

#endif
