/* wait.c - epoll, poll and select over sets that mix mlwip sockets and kernel descriptors.
 *
 * The program's epoll instance is a kernel one (its kernel descriptors stay
 * in it); its mlwip sockets go to an mlwip epoll instance made on first
 * use and kept beside it. On a shard thread every wait is the shard's
 * loop:
 *
 *   pass: mlw_epoll_wait(mlwip set, 0) (flush + one shard pass)
 *         -> epoll_wait(kernel set, 0) -> events? return them
 *   idle: the shard's idle policy: poll on, or sleep in the kernel wait
 *         (epoll_pwait2 on the kernel set) for idle_sleep_us, so a kernel
 *         descriptor wakes the program at once and an idle program does
 *         not spin a core.
 *
 * A wait on any other thread is the kernel's (mlwip sockets cannot be
 * waited for there). poll and select build a temporary mlwip epoll set for
 * their mlwip sockets. A signal handled during a wait ends it with EINTR
 * (start.c counts deliveries).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "preload_private.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A shard pass for a wait with no mlwip set. */
static void shard_pass(void)
{
	mlw_socket_flush();
	mlw_shard_poll();
}

/* Sleep length for this idle pass, cut to the time left (ns; -1: no deadline). */
static int idle_sleep(unsigned *idle, int64_t deadline, struct timespec *ts)
{
	long ns = mlw__pl_idle_ns(idle);

	if (ns == 0) {
		__builtin_ia32_pause();
		return 0;
	}
	if (deadline >= 0) {
		int64_t left = deadline - now_ns();

		if (left < ns)
			ns = left > 0 ? (long)left : 0;
	}
	ts->tv_sec = 0;
	ts->tv_nsec = ns;
	return 1;
}

static int track_epoll(int kfd)
{
	int e;

	if (kfd < 0 || mlw__pl_size == 0)
		return kfd;
	if (mlw__pl_attach_fd(kfd, MLW__PL_EPOLL, -1) < 0) {
		e = errno;
		mlw__real.close(kfd);
		errno = e;
		return -1;
	}
	return kfd;
}

MLW_PL_API int epoll_create1(int flags)
{
	(void)mlw__pl_get(-1);
	return track_epoll(mlw__real.epoll_create1(flags));
}

MLW_PL_API int epoll_create(int size)
{
	(void)mlw__pl_get(-1);
	return track_epoll(mlw__real.epoll_create(size));
}

MLW_PL_API int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct mlw__pl *ps = mlw__pl_get(fd), *pe;

	if (ps == NULL || ps->kind != MLW__PL_SOCK) {
		int rc = mlw__real.epoll_ctl(epfd, op, fd, ev);

		pe = mlw__pl_get(epfd);
		if (rc == 0 && pe != NULL && pe->kind == MLW__PL_EPOLL)
			pe->kfds += op == EPOLL_CTL_ADD ? 1 : op == EPOLL_CTL_DEL ? -1 : 0;
		return rc;
	}
	if (ps->inherited)
		return mlw__pl_bad(ps);
	/* Linux copies the event in before it looks at either descriptor. */
	if (ev == NULL && op != EPOLL_CTL_DEL) {
		errno = EFAULT;
		return -1;
	}
	pe = mlw__pl_get(epfd);
	if (pe == NULL || pe->kind != MLW__PL_EPOLL) {
		/* Not an epoll instance: the kernel's answer for this epfd. */
		errno = mlw__real.fcntl(epfd, F_GETFD) < 0 ? EBADF : EINVAL;
		return -1;
	}
	if (pe->inherited)
		return mlw__pl_bad(pe);
	if (pe->mfd < 0) {
		pe->mfd = mlw_epoll_create1(0);
		if (pe->mfd < 0)
			return -1;
	}
	return mlw_epoll_ctl(pe->mfd, op, ps->mfd, ev);
}

static int wait_mixed(int epfd, struct epoll_event *ev, int max, int64_t timeout_ns,
		      const sigset_t *mask)
{
	struct mlw__pl *pe = mlw__pl_get(epfd);
	bool known = pe != NULL && pe->kind == MLW__PL_EPOLL && !pe->inherited;
	int mfd = known ? pe->mfd : -1;
	static _Thread_local unsigned busy;
	unsigned sig0 = atomic_load_explicit(&mlw__pl_signals, memory_order_relaxed), idle = 0;
	int64_t deadline = timeout_ns > 0 ? now_ns() + timeout_ns : -1;
	struct timespec ts;
	int n, k;

	/* An epoll instance the layer did not see created (inherited over
	 * exec) is waited for as a kernel set; not an epoll instance at all,
	 * or a bad count: the kernel's error, from the first pass. */
	if (max <= 0)
		return mlw__real.epoll_wait(epfd, ev, max, 0);
	for (;;) {
		n = 0;
		if (mfd >= 0) {
			n = mlw_epoll_wait(mfd, ev, max, 0);
			if (n < 0) {
				if (errno != EINTR)
					return -1;
				n = 0;	/* the stack is stopping (exit) */
			}
		} else {
			shard_pass();
		}
		/* The kernel set costs a system call: skipped while it is
		 * empty, and looked at on every 8th call only while mlwip
		 * sockets keep the program busy. */
		if (n < max && (!known || pe->kfds > 0 || mfd < 0) && (n == 0 || (++busy & 7) == 0)) {
			k = mlw__real.epoll_wait(epfd, ev + n, max - n, 0);
			if (k < 0 && n == 0)
				return -1;
			n += k > 0 ? k : 0;
		}
		if (n > 0 || timeout_ns == 0)
			return n;
		if (atomic_load_explicit(&mlw__pl_signals, memory_order_relaxed) != sig0) {
			errno = EINTR;
			return -1;
		}
		if (deadline >= 0 && now_ns() >= deadline)
			return 0;
		if (idle_sleep(&idle, deadline, &ts)) {
			if (mlw__real.epoll_pwait2 != NULL)
				k = mlw__real.epoll_pwait2(epfd, ev, max, &ts, mask);
			else
				k = mlw__real.epoll_pwait(epfd, ev, max, 1, mask);
			if (k != 0)
				return k;	/* kernel events, or EINTR from a signal */
		}
	}
}

static int wait_ms(int epfd, struct epoll_event *ev, int max, int timeout_ms, const sigset_t *mask)
{
	struct mlw__pl *pe = mlw__pl_get(epfd);

	if (!mlw__pl_on_shard()) {
		if (pe != NULL && pe->kind == MLW__PL_EPOLL && pe->mfd >= 0 && !pe->inherited)
			mlw__pl_log_once("epoll-thread", "epoll_wait off a shard thread sees only "
					 "the set's kernel descriptors, not its mlwip sockets");
		return mlw__real.epoll_pwait(epfd, ev, max, timeout_ms, mask);
	}
	return wait_mixed(epfd, ev, max, timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000, mask);
}

MLW_PL_API int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout_ms)
{
	return wait_ms(epfd, ev, max, timeout_ms, NULL);
}

MLW_PL_API int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout_ms, const sigset_t *mask)
{
	return wait_ms(epfd, ev, max, timeout_ms, mask);
}

MLW_PL_API int epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *t,
		 const sigset_t *mask)
{
	if (!mlw__pl_on_shard() || mlw__real.epoll_pwait2 == NULL) {
		if (mlw__real.epoll_pwait2 == NULL) {
			errno = ENOSYS;
			return -1;
		}
		return mlw__real.epoll_pwait2(epfd, ev, max, t, mask);
	}
	return wait_mixed(epfd, ev, max, t == NULL ? -1 : (int64_t)t->tv_sec * 1000000000 + t->tv_nsec,
			  mask);
}

/* poll(2) events <-> epoll events (the same bits on Linux for these). */
static uint32_t poll_to_epoll(short e)
{
	return (uint32_t)(e & (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDHUP | POLLWRNORM));
}

/*
 * The poll loop: mlwip sockets through a temporary mlwip epoll set,
 * everything else through the kernel's poll. Returns as poll(2).
 */
static int poll_core(struct pollfd *fds, nfds_t nfds, int64_t timeout_ns, const sigset_t *mask)
{
	unsigned sig0 = atomic_load_explicit(&mlw__pl_signals, memory_order_relaxed), idle = 0;
	int64_t deadline = timeout_ns > 0 ? now_ns() + timeout_ns : -1;
	struct pollfd *kf = NULL;
	struct epoll_event *evs = NULL;
	nfds_t *kidx = NULL, nk = 0, nm = 0;
	int mep = -1, rc = -1;
	struct timespec ts;

	kf = malloc((nfds + 1) * (sizeof(*kf) + sizeof(*kidx) + sizeof(*evs)));
	if (kf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	kidx = (nfds_t *)(kf + nfds + 1);
	evs = (struct epoll_event *)(kidx + nfds + 1);
	for (nfds_t i = 0; i < nfds; i++) {
		struct mlw__pl *p = mlw__pl_get(fds[i].fd);

		fds[i].revents = 0;
		if (p == NULL || p->kind != MLW__PL_SOCK) {
			kf[nk] = fds[i];
			kidx[nk++] = i;
			continue;
		}
		if (p->inherited) {
			fds[i].revents = POLLNVAL;
			continue;
		}
		if (mep < 0 && (mep = mlw_epoll_create1(0)) < 0)
			goto out;
		{
			struct epoll_event e = { .events = poll_to_epoll(fds[i].events), .data.u64 = i };

			/* The same socket twice in one set: the first entry reports. */
			if (mlw_epoll_ctl(mep, EPOLL_CTL_ADD, p->mfd, &e) != 0 && errno != EEXIST)
				goto out;
		}
		nm++;
	}
	for (;;) {
		int n = 0, k;

		for (nfds_t i = 0; i < nfds; i++)
			if (fds[i].revents != POLLNVAL)
				fds[i].revents = 0;
		if (mep >= 0) {
			k = mlw_epoll_wait(mep, evs, (int)(nm > 0 ? nm : 1), 0);
			for (int j = 0; j < k; j++) {
				struct pollfd *f = &fds[evs[j].data.u64];

				f->revents = (short)(evs[j].events & (poll_to_epoll(f->events) | POLLERR | POLLHUP));
			}
		} else {
			shard_pass();
		}
		k = nk > 0 ? mlw__real.poll(kf, nk, 0) : 0;
		if (k < 0)
			goto out;
		for (nfds_t j = 0; j < nk; j++)
			fds[kidx[j]].revents = kf[j].revents;
		for (nfds_t i = 0; i < nfds; i++)
			n += fds[i].revents != 0;
		if (n > 0 || timeout_ns == 0) {
			rc = n;
			goto out;
		}
		if (atomic_load_explicit(&mlw__pl_signals, memory_order_relaxed) != sig0) {
			errno = EINTR;
			goto out;
		}
		if (deadline >= 0 && now_ns() >= deadline) {
			rc = 0;
			goto out;
		}
		if (idle_sleep(&idle, deadline, &ts)) {
			k = mlw__real.ppoll(kf, nk, &ts, mask);
			if (k < 0)
				goto out;
			if (k > 0) {
				for (nfds_t j = 0; j < nk; j++)
					fds[kidx[j]].revents = kf[j].revents;
				rc = k;
				goto out;
			}
		}
	}
out:
	if (mep >= 0) {
		int e = errno;

		mlw_close(mep);
		errno = e;
	}
	free(kf);
	return rc;
}

static bool any_mlwip(const struct pollfd *fds, nfds_t nfds)
{
	for (nfds_t i = 0; i < nfds; i++) {
		struct mlw__pl *p = mlw__pl_get(fds[i].fd);

		if (p != NULL && p->kind == MLW__PL_SOCK)
			return true;
	}
	return false;
}

MLW_PL_API int poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	(void)mlw__pl_get(-1);
	if (!mlw__pl_on_shard()) {
		if (any_mlwip(fds, nfds))
			mlw__pl_log_once("poll-thread", "poll/select on mlwip sockets off a shard "
					 "thread: they report POLLNVAL");
		return mlw__real.poll(fds, nfds, timeout_ms);
	}
	return poll_core(fds, nfds, timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000, NULL);
}

MLW_PL_API int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *t, const sigset_t *mask)
{
	(void)mlw__pl_get(-1);
	if (!mlw__pl_on_shard())
		return mlw__real.ppoll(fds, nfds, t, mask);
	return poll_core(fds, nfds, t == NULL ? -1 : (int64_t)t->tv_sec * 1000000000 + t->tv_nsec, mask);
}

/* select as poll: readable = POLLIN (or HUP/ERR), writable = POLLOUT (or
 * ERR), exceptional = POLLPRI, as Linux's select reports them. */
static int select_core(int nfds, fd_set *r, fd_set *w, fd_set *x, int64_t timeout_ns,
		       const sigset_t *mask)
{
	struct pollfd *fds;
	nfds_t n = 0;
	int rc, count = 0;

	if (nfds < 0 || nfds > FD_SETSIZE) {
		errno = EINVAL;
		return -1;
	}
	fds = calloc((size_t)nfds + 1, sizeof(*fds));
	if (fds == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (int fd = 0; fd < nfds; fd++) {
		short ev = 0;

		if (r != NULL && FD_ISSET(fd, r))
			ev |= POLLIN;
		if (w != NULL && FD_ISSET(fd, w))
			ev |= POLLOUT;
		if (x != NULL && FD_ISSET(fd, x))
			ev |= POLLPRI;
		if (ev != 0) {
			fds[n].fd = fd;
			fds[n++].events = ev;
		}
	}
	rc = poll_core(fds, n, timeout_ns, mask);
	if (rc >= 0) {
		for (nfds_t i = 0; i < n; i++)
			if (fds[i].revents & POLLNVAL) {
				free(fds);
				errno = EBADF;
				return -1;
			}
		if (r != NULL)
			FD_ZERO(r);
		if (w != NULL)
			FD_ZERO(w);
		if (x != NULL)
			FD_ZERO(x);
		for (nfds_t i = 0; i < n; i++) {
			short re = fds[i].revents, ev = fds[i].events;

			if ((ev & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
				FD_SET(fds[i].fd, r);
				count++;
			}
			if ((ev & POLLOUT) && (re & (POLLOUT | POLLERR))) {
				FD_SET(fds[i].fd, w);
				count++;
			}
			if ((ev & POLLPRI) && (re & POLLPRI)) {
				FD_SET(fds[i].fd, x);
				count++;
			}
		}
		rc = count;
	}
	free(fds);
	return rc;
}

MLW_PL_API int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	(void)mlw__pl_get(-1);
	if (!mlw__pl_on_shard())
		return mlw__real.select(nfds, r, w, x, tv);
	return select_core(nfds, r, w, x,
			   tv == NULL ? -1 : (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000, NULL);
}

MLW_PL_API int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *t, const sigset_t *mask)
{
	(void)mlw__pl_get(-1);
	if (!mlw__pl_on_shard())
		return mlw__real.pselect(nfds, r, w, x, t, mask);
	return select_core(nfds, r, w, x, t == NULL ? -1 : (int64_t)t->tv_sec * 1000000000 + t->tv_nsec, mask);
}
