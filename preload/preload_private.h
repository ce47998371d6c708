/* preload_private.h - the LD_PRELOAD layer's shared state: libc's own calls, the descriptor table, start-up (private). */
#ifndef MLW_PRELOAD_PRIVATE_H
#define MLW_PRELOAD_PRIVATE_H

#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/* The libc names this library defines (the rest is hidden). */
#define MLW_PL_API __attribute__((visibility("default")))

/* libc's functions behind the ones this library defines, from
 * dlsym(RTLD_NEXT) (real.c). */
struct mlw__real {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*close)(int);
	int (*shutdown)(int, int);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*epoll_create)(int);
	int (*epoll_create1)(int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	pid_t (*fork)(void);
};
extern struct mlw__real mlw__real;
void mlw__real_init(void);

/* What an application descriptor (a kernel descriptor number) stands for. */
enum mlw__pl_kind { MLW__PL_SOCK = 1, MLW__PL_EPOLL };

/* One mlwip socket or one epoll instance the layer watches. Kernel
 * descriptors made with dup() share it (refs), as they share an open file
 * description on Linux. */
struct mlw__pl {
	enum mlw__pl_kind kind;
	int refs;
	/* SOCK: the mlwip socket. EPOLL: the mlwip epoll instance holding
	 * the set's mlwip sockets, -1 until one is added. */
	int mfd;
	/* EPOLL: kernel descriptors added and not deleted (at least as many
	 * as the kernel set holds: one closed without EPOLL_CTL_DEL still
	 * counts); 0 lets a busy wait skip the kernel's epoll_wait. */
	int kfds;
	bool inherited;		/* created before a fork(): unusable in the child */
};

/* The table, indexed by kernel descriptor; NULL: the kernel's alone. */
extern struct mlw__pl **mlw__pl_tab;
extern int mlw__pl_size;

/* Also the first thing every wrapper does: calls that arrive before the
 * constructors ran (from other libraries' constructors) find libc's
 * functions resolved. */
static inline struct mlw__pl *mlw__pl_get(int fd)
{
	if (__builtin_expect(mlw__real.close == NULL, 0))
		mlw__real_init();
	if (fd < 0 || fd >= mlw__pl_size || mlw__pl_tab == NULL)
		return NULL;
	return mlw__pl_tab[fd];
}

/* Set while the layer itself runs kernel code that makes socket calls
 * (DPDK's EAL and drivers during start-up): they go to the kernel. */
extern _Thread_local int mlw__pl_inside;

/* start.c */
int mlw__pl_ensure_stack(void);		/* 0: the calling thread runs a shard */
bool mlw__pl_on_shard(void);
bool mlw__pl_started(void);
/* How long an idle wait may sleep in the kernel after this idle pass, per
 * the shard's idle policy: 0 none (poll on). */
long mlw__pl_idle_ns(unsigned *idle);
void mlw__pl_log_once(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern atomic_uint mlw__pl_signals;	/* signals delivered through the layer's handlers */

/* fd.c */
int mlw__pl_new_fd(enum mlw__pl_kind kind, int mfd, bool cloexec);
int mlw__pl_attach_fd(int kfd, enum mlw__pl_kind kind, int mfd);
int mlw__pl_release(int fd);
int mlw__pl_bad(struct mlw__pl *p);	/* -1 with EBADF and a message for inherited entries */
int mlw__pl_dup_to(int oldfd, int newfd, int flags, int how);
void mlw__pl_forked(void);

#endif /* MLW_PRELOAD_PRIVATE_H */
