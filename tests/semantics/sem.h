/* sem.h - the socket interface the differential semantics suite is written against, and the trace its bodies record. */
#ifndef MLW_SEM_H
#define MLW_SEM_H

#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

/* One backend: Linux's own sockets (sem_linux.c) or mlwip's (sem_mlwip.c).
 * fcntl and ioctl take their one argument explicitly (no varargs). */
struct sem_ops {
	const char *name;
	int (*socket)(int domain, int type, int protocol);
	int (*bind)(int fd, const struct sockaddr *a, socklen_t len);
	int (*listen)(int fd, int backlog);
	int (*accept4)(int fd, struct sockaddr *a, socklen_t *len, int flags);
	int (*connect)(int fd, const struct sockaddr *a, socklen_t len);
	ssize_t (*read)(int fd, void *buf, size_t len);
	ssize_t (*write)(int fd, const void *buf, size_t len);
	ssize_t (*readv)(int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*writev)(int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*recvfrom)(int fd, void *buf, size_t len, int flags, struct sockaddr *a,
			    socklen_t *alen);
	ssize_t (*sendto)(int fd, const void *buf, size_t len, int flags, const struct sockaddr *a,
			  socklen_t alen);
	int (*close)(int fd);
	int (*shutdown)(int fd, int how);
	int (*setsockopt)(int fd, int level, int name, const void *val, socklen_t len);
	int (*getsockopt)(int fd, int level, int name, void *val, socklen_t *len);
	int (*getsockname)(int fd, struct sockaddr *a, socklen_t *len);
	int (*getpeername)(int fd, struct sockaddr *a, socklen_t *len);
	int (*fcntl)(int fd, int cmd, int arg);
	int (*ioctl)(int fd, unsigned long req, int *arg);
	int (*epoll_create1)(int flags);
	int (*epoll_ctl)(int epfd, int op, int fd, struct epoll_event *ev);
	int (*epoll_wait)(int epfd, struct epoll_event *evs, int max, int timeout_ms);
	ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
	ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
	/* Let the stack make progress (deliver what was sent, run timers). */
	void (*settle)(void);
	/* Make sockets created from now on reach an IPv4 address that never
	 * answers (no SYN-ACK, no RST) and put it in @p ss. Returns 0, or -1
	 * with a reason in @p why when the backend cannot (the test is then
	 * skipped on both). blackhole_leave() undoes it after the test. */
	int (*blackhole_enter)(struct sockaddr_storage *ss, socklen_t *len, char *why, size_t whylen);
	void (*blackhole_leave)(void);
};

extern const struct sem_ops sem_linux_ops;
extern const struct sem_ops sem_mlwip_ops;

/* A test body: written once, run on each backend with AF_INET or AF_INET6. */
struct sem_test {
	const char *name;
	void (*fn)(const struct sem_ops *o, int family);
	int family;
	int udp;	/* needs SOCK_DGRAM */
};

extern const struct sem_test sem_tests[];
extern const size_t sem_ntests;

/* Trace recording: one line "label: value" per step. sem_trace_begin(),
 * sem_skip() and sem_trace_add() belong to the program running the bodies
 * (test_semantics.c, tests/preload/pl_semantics.c); sem_rec(), sem_rec_fd()
 * and sem_recf() (sem_trace.c) format a value and call sem_trace_add(). */
void sem_trace_begin(int backend, size_t test);
void sem_trace_add(const char *label, const char *value);
/* The result of a call: "n", or "-1 ENAME" (errno read at once). */
long sem_rec(const char *label, long rc);
/* A descriptor: "fd" or "-1 ENAME"; returns @p fd. */
int sem_rec_fd(const char *label, int fd);
/* Skip the current test on every backend, saying why. */
void sem_skip(const char *why);
/* Any other observation, printf-style. */
void sem_recf(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* MLW_SEM_H */
