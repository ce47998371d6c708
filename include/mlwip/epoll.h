/* mlwip/epoll.h - epoll over mlwip sockets on the calling shard, driving the shard loop while it waits.
 *
 * struct epoll_event and the EPOLL* constants are the kernel's (<sys/epoll.h>),
 * so code written for Linux epoll carries over by renaming the three calls.
 * An epoll instance is an mlwip descriptor of the shard that created it and
 * watches only that shard's sockets.
 */
#ifndef MLWIP_EPOLL_H
#define MLWIP_EPOLL_H

#include <sys/epoll.h>

#include "mlwip/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Create an epoll instance on the calling shard.
 * @param flags 0 or EPOLL_CLOEXEC (accepted, meaningless here).
 * @return the descriptor, or -1 with errno: EINVAL unknown flags; EMFILE
 *   the shard has max_sockets descriptors open; ENOMEM the shard heap is
 *   exhausted (heap_limit_mb); EPERM not on a shard thread.
 */
MLW_EXPORT int mlw_epoll_create1(int flags);

/**
 * Add, modify or remove @p fd in @p epfd's interest list.
 * @p ev->events: EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLET, EPOLLONESHOT
 * (EPOLLERR and EPOLLHUP are always reported); bits Linux does not know
 * are accepted and never reported; EPOLLEXCLUSIVE is accepted on ADD with
 * Linux's rules (one waiter per shard: no effect). @p ev->data is returned
 * unchanged by mlw_epoll_wait(). EPOLL_CTL_MOD re-arms a oneshot entry.
 * @return 0, or -1 with errno, in Linux's order: EFAULT @p ev NULL for any
 *   @p op but DEL (checked first); EBADF @p epfd or @p fd is not a
 *   descriptor of this shard; EINVAL @p epfd is not an epoll instance,
 *   @p fd == @p epfd, EPOLLEXCLUSIVE with MOD, on an entry that has it, or
 *   with bits other than IN/OUT/RDNORM/RDBAND/WRNORM/WRBAND/PRI/ERR/HUP/
 *   WAKEUP/ET, unknown @p op; EPERM @p fd is an epoll instance (nesting is
 *   not supported), or not on a shard thread; EEXIST ADD of a watched fd;
 *   ENOENT MOD/DEL of an unwatched fd; ENOMEM no memory for the entry
 *   (ADD).
 */
MLW_EXPORT int mlw_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);

/**
 * Wait for events, running the shard loop (flush written sockets, one
 * mlw_shard_poll() pass, with a short back-off when idle) until at least
 * one is ready or @p timeout_ms passes: -1 waits for ever, 0 runs one pass
 * and returns. Level-triggered entries are reported while the condition
 * holds; EPOLLET entries once per change; EPOLLONESHOT entries once, then
 * not until EPOLL_CTL_MOD.
 * @p timeout_ms below -1 waits for ever, as on Linux.
 * @return the number of events in @p events (0 on timeout), or -1 with
 *   errno, in the order of Linux 6.18: EBADF; EINVAL @p maxevents <= 0 or
 *   over INT_MAX / sizeof(struct epoll_event); EFAULT @p events reaches
 *   past user space, or is NULL when an event is ready (the event stays
 *   pending); EINVAL @p epfd is not an epoll instance; EINTR the stack is
 *   stopping; EPERM.
 */
MLW_EXPORT int mlw_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* MLWIP_EPOLL_H */
