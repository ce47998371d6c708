/* pl_fds.c - descriptors of the LD_PRELOAD layer against Linux's: dup/dup2/dup3/F_DUPFD sharing, close, FD_CLOEXEC, O_NONBLOCK via fcntl and FIONBIO, FIONREAD, fstat, numbers apart from files, and fork.
 *
 *   pl_fds ADDR     (an IPv4 address of this host: 127.0.0.1 natively,
 *                    the mlwip port's address under the layer)
 *
 * The same checks pass on Linux and under the layer, except after fork():
 * on Linux the child shares the socket; under the layer (MLWIP_CONFIG set)
 * the child gets EBADF for it, can still close it, and cannot open a new
 * network socket (EAFNOSUPPORT), while the parent keeps using it. Prints
 * each check; exit 0 when all hold.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what, long got)
{
	printf("%s %s (got %ld, errno %s)\n", ok ? "ok  " : "FAIL", what, got, strerrorname_np(errno) ?: "0");
	fflush(stdout);
	failures += !ok;
}

#define EXPECT(expr, cond, what)                          \
	do {                                              \
		errno = 0;                                \
		long v_ = (long)(expr);                   \
		check((cond), what, v_);                  \
	} while (0)

int main(int argc, char **argv)
{
	int layer = getenv("MLWIP_CONFIG") != NULL;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s, c, d, n, file, on = 1, avail = -1;
	struct stat st;
	pid_t pid;

	if (argc < 2 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
		fprintf(stderr, "usage: pl_fds IPV4_ADDR\n");
		return 2;
	}
	s = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(s, v_ >= 0, "socket");
	EXPECT(bind(s, (struct sockaddr *)&a, sizeof(a)), v_ == 0, "bind");
	EXPECT(listen(s, 8), v_ == 0, "listen");
	EXPECT(getsockname(s, (struct sockaddr *)&a, &len), v_ == 0 && a.sin_port != 0, "getsockname");
	file = open("/dev/null", O_RDONLY);
	EXPECT(file, v_ >= 0 && v_ != s, "a file gets a number of its own");
	EXPECT(fstat(s, &st), v_ == 0 && S_ISSOCK(st.st_mode), "fstat: a socket");

	/* Status flags are shared by duplicates, descriptor flags are not. */
	d = dup(s);
	EXPECT(d, v_ >= 0 && v_ != s && v_ != file, "dup");
	EXPECT(fcntl(s, F_GETFL) & O_NONBLOCK, v_ == 0, "blocking at first");
	EXPECT(ioctl(d, FIONBIO, &on), v_ == 0, "FIONBIO on the duplicate");
	EXPECT(fcntl(s, F_GETFL) & O_NONBLOCK, v_ != 0, "O_NONBLOCK seen through the original");
	EXPECT(accept(s, NULL, NULL), v_ == -1 && errno == EAGAIN, "accept: EAGAIN");
	EXPECT(fcntl(d, F_SETFD, FD_CLOEXEC), v_ == 0, "F_SETFD FD_CLOEXEC");
	EXPECT(fcntl(d, F_GETFD), v_ == FD_CLOEXEC, "F_GETFD on the duplicate");
	EXPECT(fcntl(s, F_GETFD), v_ == 0, "F_GETFD on the original");
	EXPECT(dup2(d, 200), v_ == 200, "dup2 to 200");
	EXPECT(fcntl(200, F_DUPFD_CLOEXEC, 300), v_ >= 300, "F_DUPFD_CLOEXEC from 300");
	n = (int)fcntl(200, F_DUPFD_CLOEXEC, 300);
	EXPECT(fcntl(n, F_GETFD), v_ == FD_CLOEXEC, "F_DUPFD_CLOEXEC sets FD_CLOEXEC");
	EXPECT(close(n), v_ == 0, "close a duplicate");
	EXPECT(close(s), v_ == 0, "close the original");
	EXPECT(close(d), v_ == 0, "close another duplicate");
	EXPECT(getsockname(200, (struct sockaddr *)&a, &len), v_ == 0, "the last duplicate still works");
	EXPECT(dup3(file, 200, O_CLOEXEC), v_ == 200, "dup3 a file over it (closes the socket)");
	EXPECT(getsockname(200, (struct sockaddr *)&a, &len), v_ == -1 && errno == ENOTSOCK,
	       "200 is the file now");
	EXPECT(close(200), v_ == 0, "close 200");
	EXPECT(fcntl(n, F_GETFD), v_ == -1 && errno == EBADF, "a closed descriptor: EBADF");

	/* A connection over the host's own address, FIONREAD, epoll. */
	a.sin_port = 0;
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT(bind(s, (struct sockaddr *)&a, sizeof(a)) | listen(s, 8) |
	       getsockname(s, (struct sockaddr *)&a, &len), v_ == 0, "a second listener");
	c = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(connect(c, (struct sockaddr *)&a, sizeof(a)), v_ == 0, "connect (blocking)");
	{
		int ep = epoll_create1(0), t;
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = s }, out;

		EXPECT(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), v_ == 0, "epoll_ctl ADD listener");
		EXPECT(epoll_wait(ep, &out, 1, 2000), v_ == 1 && out.data.fd == s, "epoll_wait: listener readable");
		t = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		EXPECT(t, v_ >= 0, "accept4");
		EXPECT(fcntl(t, F_GETFD), v_ == FD_CLOEXEC, "accept4 SOCK_CLOEXEC");
		EXPECT(write(c, "hello", 5), v_ == 5, "write");
		ev.data.fd = t;
		EXPECT(epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev), v_ == 0, "epoll_ctl ADD connection");
		EXPECT(epoll_wait(ep, &out, 1, 2000), v_ == 1, "epoll_wait: data");
		EXPECT(ioctl(t, FIONREAD, &avail), v_ == 0 && avail == 5, "FIONREAD 5");
		close(ep);
		close(t);
	}
	close(c);

	/* fork */
	pid = fork();
	if (pid == 0) {
		int r, e;

		failures = 0;
		errno = 0;
		r = getsockname(s, (struct sockaddr *)&a, &len);
		e = errno;
		if (layer)
			check(r == -1 && e == EBADF, "child: the inherited mlwip socket gives EBADF", r);
		else
			check(r == 0, "child: the inherited socket works (Linux)", r);
		EXPECT(close(s), v_ == 0, "child: close it");
		r = socket(AF_INET, SOCK_STREAM, 0);
		e = errno;
		if (layer)
			check(r == -1 && e == EAFNOSUPPORT, "child: a new network socket: EAFNOSUPPORT", r);
		else
			check(r >= 0, "child: a new network socket (Linux)", r);
		_exit(failures ? 1 : 0);
	}
	EXPECT(waitpid(pid, &n, 0), v_ == pid && WIFEXITED(n) && WEXITSTATUS(n) == 0, "child passed");
	EXPECT(getsockname(s, (struct sockaddr *)&a, &len), v_ == 0, "parent: the socket still works");
	EXPECT(close(s), v_ == 0, "parent: close");
	close(file);
	printf("%s: %d failure(s)\n", layer ? "under the layer" : "Linux", failures);
	return failures ? 1 : 0;
}
