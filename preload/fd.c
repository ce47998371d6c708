/* fd.c - the layer's descriptors: a kernel descriptor reserved per mlwip socket or watched epoll instance, and close/dup as Linux.
 *
 * An mlwip socket is shown to the application as a kernel descriptor: a
 * duplicate of one unbound AF_UNIX datagram socket (the placeholder), so
 * the number is the kernel's, can never collide with a file, pipe or kernel
 * socket the program opens, and fstat() calls it a socket. The table maps
 * that number to the mlwip descriptor. dup()s share one entry, as they
 * share an open file description on Linux: the mlwip socket closes with
 * the last of them. FD_CLOEXEC lives on the kernel descriptor, where
 * F_GETFD/F_SETFD find it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mlwip/socket.h"
#include "preload_private.h"

/* Linux's largest descriptor number is below fs.nr_open (default 2^20). */
#define TAB_SIZE (1 << 20)

struct mlw__pl **mlw__pl_tab;
int mlw__pl_size;
static int placeholder = -1;

__attribute__((constructor(101))) static void fd_init(void)
{
	void *m;

	mlw__real_init();
	/* Reserved, not touched: pages appear as descriptors are used. */
	m = mmap(NULL, TAB_SIZE * sizeof(*mlw__pl_tab), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		static const char msg[] = "libmlwip-preload: cannot reserve the descriptor table\n";

		(void)!mlw__real.write(2, msg, sizeof(msg) - 1);
		_exit(1);
	}
	placeholder = mlw__real.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (placeholder < 0) {
		static const char msg[] = "libmlwip-preload: cannot create the placeholder socket\n";

		(void)!mlw__real.write(2, msg, sizeof(msg) - 1);
		_exit(1);
	}
	mlw__pl_tab = m;
	mlw__pl_size = TAB_SIZE;
}

int mlw__pl_attach_fd(int kfd, enum mlw__pl_kind kind, int mfd)
{
	struct mlw__pl *p;

	if (kfd < 0 || kfd >= mlw__pl_size) {
		errno = EMFILE;
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		errno = ENOMEM;
		return -1;
	}
	p->kind = kind;
	p->refs = 1;
	p->mfd = mfd;
	mlw__pl_tab[kfd] = p;
	return kfd;
}

int mlw__pl_new_fd(enum mlw__pl_kind kind, int mfd, bool cloexec)
{
	int kfd = mlw__real.fcntl(placeholder, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);

	if (kfd < 0)
		return -1;	/* EMFILE/ENFILE, as socket() on Linux */
	if (mlw__pl_attach_fd(kfd, kind, mfd) < 0) {
		int e = errno;

		mlw__real.close(kfd);
		errno = e;
		return -1;
	}
	return kfd;
}

/* Drop one reference; the last closes the mlwip side. */
static void put(struct mlw__pl *p)
{
	if (--p->refs > 0)
		return;
	if (!p->inherited && p->mfd >= 0 && mlw_close(p->mfd) != 0)
		mlw__pl_log_once("close-thread", "close() of an mlwip %s off the shard thread: "
				 "the mlwip descriptor stays open",
				 p->kind == MLW__PL_SOCK ? "socket" : "epoll set");
	free(p);
}

/* Forget @p fd's entry (the kernel descriptor was closed or replaced). */
int mlw__pl_release(int fd)
{
	struct mlw__pl *p = mlw__pl_get(fd);

	if (p == NULL)
		return 0;
	mlw__pl_tab[fd] = NULL;
	put(p);
	return 0;
}

int mlw__pl_bad(struct mlw__pl *p)
{
	(void)p;
	mlw__pl_log_once("inherited", "an mlwip socket inherited across fork() is unusable in the "
			 "child (the stack runs in the parent): EBADF");
	errno = EBADF;
	return -1;
}

/* dup/dup2/dup3/F_DUPFD of a descriptor the layer knows (@p how: 0 dup
 * via F_DUPFD from @p newfd up, 1 dup2, 2 dup3 with @p flags, 3 F_DUPFD_CLOEXEC). */
int mlw__pl_dup_to(int oldfd, int newfd, int flags, int how)
{
	struct mlw__pl *po = mlw__pl_get(oldfd), *pn;
	int rc;

	switch (how) {
	case 0: rc = mlw__real.fcntl(oldfd, F_DUPFD, newfd); break;
	case 3: rc = mlw__real.fcntl(oldfd, F_DUPFD_CLOEXEC, newfd); break;
	case 1: rc = mlw__real.dup2(oldfd, newfd); break;
	default: rc = mlw__real.dup3(oldfd, newfd, flags); break;
	}
	if (rc < 0 || rc == oldfd)
		return rc;
	/* dup2/dup3 closed whatever @p newfd was. */
	pn = mlw__pl_get(rc);
	if (pn != NULL) {
		mlw__pl_tab[rc] = NULL;
		put(pn);
	}
	if (po != NULL) {
		if (rc >= mlw__pl_size) {
			mlw__real.close(rc);
			errno = EMFILE;
			return -1;
		}
		po->refs++;
		mlw__pl_tab[rc] = po;
	}
	return rc;
}

/* In a child of fork(): the stack, its shard and every mlwip descriptor
 * stay with the parent. */
void mlw__pl_forked(void)
{
	for (int fd = 0; fd < mlw__pl_size && mlw__pl_tab != NULL; fd++)
		if (mlw__pl_tab[fd] != NULL)
			mlw__pl_tab[fd]->inherited = true;
}

MLW_PL_API int close(int fd)
{
	struct mlw__pl *p = mlw__pl_get(fd);
	int rc;

	if (p == NULL)
		return mlw__real.close(fd);
	mlw__pl_tab[fd] = NULL;
	rc = mlw__real.close(fd);
	put(p);
	return rc;
}

MLW_PL_API int dup(int fd)
{
	if (mlw__pl_get(fd) == NULL)
		return mlw__real.dup(fd);
	return mlw__pl_dup_to(fd, 0, 0, 0);
}

MLW_PL_API int dup2(int oldfd, int newfd)
{
	if (oldfd == newfd || (mlw__pl_get(oldfd) == NULL && mlw__pl_get(newfd) == NULL))
		return mlw__real.dup2(oldfd, newfd);
	return mlw__pl_dup_to(oldfd, newfd, 0, 1);
}

MLW_PL_API int dup3(int oldfd, int newfd, int flags)
{
	if (oldfd == newfd || (mlw__pl_get(oldfd) == NULL && mlw__pl_get(newfd) == NULL))
		return mlw__real.dup3(oldfd, newfd, flags);
	return mlw__pl_dup_to(oldfd, newfd, flags, 2);
}
