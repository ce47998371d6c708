/* real.c - libc's own socket, file and wait calls (dlsym(RTLD_NEXT)), which the layer calls for kernel descriptors. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "preload_private.h"

struct mlw__real mlw__real;

/* Resolved once, before any call can reach the layer (the constructor in
 * start.c runs first; calls that come earlier, from other libraries'
 * constructors, resolve it themselves). A function libc lacks is fatal
 * unless optional: the layer would otherwise crash later. */
#define RESOLVE(name, optional)                                                              \
	do {                                                                                 \
		*(void **)&mlw__real.name = dlsym(RTLD_NEXT, #name);                         \
		if (mlw__real.name == NULL && !(optional)) {                                 \
			static const char msg[] = "libmlwip-preload: libc has no " #name "\n"; \
			(void)!write(2, msg, sizeof(msg) - 1);                              \
			_exit(127);                                                          \
		}                                                                            \
	} while (0)

void mlw__real_init(void)
{
	static atomic_int done;

	if (atomic_load_explicit(&done, memory_order_acquire))
		return;
	RESOLVE(socket, 0);
	RESOLVE(bind, 0);
	RESOLVE(listen, 0);
	RESOLVE(accept, 0);
	RESOLVE(accept4, 0);
	RESOLVE(connect, 0);
	RESOLVE(read, 0);
	RESOLVE(readv, 0);
	RESOLVE(recv, 0);
	RESOLVE(recvfrom, 0);
	RESOLVE(recvmsg, 0);
	RESOLVE(write, 0);
	RESOLVE(writev, 0);
	RESOLVE(send, 0);
	RESOLVE(sendto, 0);
	RESOLVE(sendmsg, 0);
	RESOLVE(close, 0);
	RESOLVE(shutdown, 0);
	RESOLVE(getsockopt, 0);
	RESOLVE(setsockopt, 0);
	RESOLVE(getsockname, 0);
	RESOLVE(getpeername, 0);
	RESOLVE(fcntl, 0);
	RESOLVE(fcntl64, 1);
	RESOLVE(ioctl, 0);
	RESOLVE(dup, 0);
	RESOLVE(dup2, 0);
	RESOLVE(dup3, 0);
	RESOLVE(epoll_create, 0);
	RESOLVE(epoll_create1, 0);
	RESOLVE(epoll_ctl, 0);
	RESOLVE(epoll_wait, 0);
	RESOLVE(epoll_pwait, 0);
	RESOLVE(epoll_pwait2, 1);
	RESOLVE(poll, 0);
	RESOLVE(ppoll, 0);
	RESOLVE(select, 0);
	RESOLVE(pselect, 0);
	RESOLVE(sendfile, 0);
	RESOLVE(sigaction, 0);
	RESOLVE(fork, 0);
	if (mlw__real.fcntl64 == NULL)
		mlw__real.fcntl64 = mlw__real.fcntl;
	atomic_store_explicit(&done, 1, memory_order_release);
}
