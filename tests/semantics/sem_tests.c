/* sem_tests.c - the differential test bodies: each written once against struct sem_ops, recording what it observes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "sem.h"

#define R(label, call) sem_rec(label, (long)(call))
#define FD(label, call) sem_rec_fd(label, (call))

/* ---- helpers ---- */

static socklen_t loop_addr(int fam, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (fam == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		return sizeof(*in6);
	}
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Record an address without its port number (ports differ between
 * backends); @p expect_port: 0 = record whether it is zero, else whether
 * it equals this port. */
static void rec_addr(const char *label, const struct sockaddr_storage *ss, socklen_t len,
		     uint16_t expect_port)
{
	char buf[INET6_ADDRSTRLEN] = "?";
	uint16_t p = port_of(ss);

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, sizeof(buf));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, sizeof(buf));
	sem_recf(label, "fam=%d len=%u addr=%s port=%s", ss->ss_family, (unsigned)len, buf,
		 expect_port ? (p == expect_port ? "same" : "other") : (p ? "nonzero" : "0"));
}

static uint16_t local_port(const struct sem_ops *o, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (o->getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return port_of(&ss);
}

/* A listening socket on the loopback address, ephemeral port. */
static int listener(const struct sem_ops *o, int fam, int type_flags, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(fam, 0, &ss);
	int fd = FD("listener.socket", o->socket(fam, SOCK_STREAM | type_flags, 0));

	R("listener.bind", o->bind(fd, (struct sockaddr *)&ss, len));
	R("listener.listen", o->listen(fd, 16));
	*port = local_port(o, fd);
	return fd;
}

/* A port nobody listens on: bound once, then released. */
static uint16_t closed_port(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(fam, 0, &ss);
	int fd = o->socket(fam, SOCK_STREAM, 0);
	uint16_t p;

	o->bind(fd, (struct sockaddr *)&ss, len);
	p = local_port(o, fd);
	o->close(fd);
	return p;
}

/* A connected pair (blocking connect; the accepted end non-blocking). */
static void pair(const struct sem_ops *o, int fam, int *lfd, int *cfd, int *sfd)
{
	struct sockaddr_storage ss;
	uint16_t port;
	socklen_t len;

	*lfd = listener(o, fam, 0, &port);
	len = loop_addr(fam, port, &ss);
	*cfd = FD("pair.socket", o->socket(fam, SOCK_STREAM, 0));
	R("pair.connect", o->connect(*cfd, (struct sockaddr *)&ss, len));
	*sfd = FD("pair.accept", o->accept4(*lfd, NULL, NULL, SOCK_NONBLOCK));
}

static void close3(const struct sem_ops *o, int a, int b, int c)
{
	o->close(a);
	o->close(b);
	o->close(c);
}

static int epoll_for(const struct sem_ops *o, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = 0x5eed };
	int ep = FD("epoll_create1", o->epoll_create1(0));

	R("epoll_ctl.add", o->epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	return ep;
}

/* epoll_wait, recording the count and each event's mask and data. */
static void rec_wait(const struct sem_ops *o, const char *label, int ep, int timeout)
{
	struct epoll_event evs[4];
	int n = o->epoll_wait(ep, evs, 4, timeout);

	if (n <= 0) {
		sem_rec(label, n);
		return;
	}
	for (int i = 0; i < n; i++)
		sem_recf(label, "n=%d events=0x%x data=0x%x", n, evs[i].events, evs[i].data.u32);
}

/* Read until EAGAIN (with settles), returns bytes read. */
static size_t drain(const struct sem_ops *o, int fd)
{
	static char buf[65536];
	size_t total = 0;

	for (int quiet = 0; quiet < 3;) {
		ssize_t n = o->read(fd, buf, sizeof(buf));

		if (n > 0) {
			total += (size_t)n;
			quiet = 0;
			continue;
		}
		if (n == 0)
			break;
		o->settle();
		quiet++;
	}
	return total;
}

/* ---- TCP ---- */

static void t_refused(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(fam, closed_port(o, fam), &ss);
	int fd, ep, v = -1;
	socklen_t vl = sizeof(v);

	fd = FD("socket", o->socket(fam, SOCK_STREAM, 0));
	R("connect.blocking", o->connect(fd, (struct sockaddr *)&ss, len));
	R("close", o->close(fd));

	fd = FD("socket.nb", o->socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0));
	ep = epoll_for(o, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	R("connect.nonblocking", o->connect(fd, (struct sockaddr *)&ss, len));
	rec_wait(o, "wait.refused", ep, 500);
	R("so_error", o->getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &vl));
	sem_recf("so_error.value", "%s", v == ECONNREFUSED ? "ECONNREFUSED" : v ? "other" : "0");
	vl = sizeof(v);
	R("so_error.again", o->getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &vl));
	sem_recf("so_error.again.value", "%d", v);
	R("read.after", o->read(fd, &v, 1));
	R("write.after", o->write(fd, "x", 1));
	R("connect.after", o->connect(fd, (struct sockaddr *)&ss, len));
	R("connect.retry", o->connect(fd, (struct sockaddr *)&ss, len));
	o->settle();
	rec_wait(o, "wait.retry", ep, 500);
	R("connect.retry.result", o->connect(fd, (struct sockaddr *)&ss, len));
	o->close(ep);
	o->close(fd);
}

static void t_reset(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct linger lg = { 1, 0 };
	int lfd, cfd, sfd, ep;
	char buf[16];

	pair(o, fam, &lfd, &cfd, &sfd);
	ep = epoll_for(o, cfd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	rec_wait(o, "wait.connected", ep, 0);
	R("linger", o->setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	R("close.server", o->close(sfd));
	o->settle();
	rec_wait(o, "wait.reset", ep, 500);
	R("read.reset", o->read(cfd, buf, sizeof(buf)));
	R("read.again", o->read(cfd, buf, sizeof(buf)));
	R("write.after", o->write(cfd, "x", 1));
	rec_wait(o, "wait.after", ep, 0);
	len = loop_addr(fam, local_port(o, lfd), &ss);
	R("connect.after", o->connect(cfd, (struct sockaddr *)&ss, len));
	o->close(ep);
	o->close(cfd);
	o->close(lfd);
}

/* Unread data at close resets the connection too; the peer's write
 * fails first with ECONNRESET, then EPIPE. */
static void t_reset_unread(const struct sem_ops *o, int fam)
{
	int lfd, cfd, sfd;
	char buf[16];

	pair(o, fam, &lfd, &cfd, &sfd);
	R("write", o->write(cfd, "hello", 5));
	o->settle();
	R("close.server.unread", o->close(sfd));
	o->settle();
	R("write.reset", o->write(cfd, "x", 1));
	R("write.again", o->write(cfd, "x", 1));
	R("read.after", o->read(cfd, buf, sizeof(buf)));
	o->close(cfd);
	o->close(lfd);
}

static void t_half_close(const struct sem_ops *o, int fam)
{
	int lfd, cfd, sfd, ep;
	char buf[16];

	pair(o, fam, &lfd, &cfd, &sfd);
	ep = epoll_for(o, sfd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	R("write.before", o->write(cfd, "ping", 4));
	R("shutdown.wr", o->shutdown(cfd, SHUT_WR));
	o->settle();
	rec_wait(o, "wait.server", ep, 500);
	R("read.data", o->read(sfd, buf, sizeof(buf)));
	R("read.eof", o->read(sfd, buf, sizeof(buf)));
	R("write.back", o->write(sfd, "pong", 4));
	o->settle();
	R("read.client", o->read(cfd, buf, sizeof(buf)));
	sem_recf("read.client.bytes", "%.4s", buf);
	R("write.client.shut", o->write(cfd, "x", 1));
	R("shutdown.wr.again", o->shutdown(cfd, SHUT_WR));
	R("shutdown.bad", o->shutdown(cfd, 7));
	R("close.server", o->close(sfd));
	o->settle();
	R("read.client.eof", o->read(cfd, buf, sizeof(buf)));
	o->close(ep);
	o->close(cfd);
	o->close(lfd);
}

static void t_shut_rd(const struct sem_ops *o, int fam)
{
	int lfd, cfd, sfd, ep;
	char buf[16];

	pair(o, fam, &lfd, &cfd, &sfd);
	ep = epoll_for(o, sfd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	R("write.before", o->write(cfd, "ab", 2));
	o->settle();
	R("shutdown.rd", o->shutdown(sfd, SHUT_RD));
	rec_wait(o, "wait.shut", ep, 0);
	R("read.queued", o->read(sfd, buf, sizeof(buf)));
	R("read.eof", o->read(sfd, buf, sizeof(buf)));
	R("write.still", o->write(sfd, "cd", 2));
	o->settle();
	R("read.client", o->read(cfd, buf, sizeof(buf)));
	o->close(ep);
	close3(o, lfd, cfd, sfd);
}

static void t_read_after_fin(const struct sem_ops *o, int fam)
{
	int lfd, cfd, sfd;
	char buf[16];

	pair(o, fam, &lfd, &cfd, &sfd);
	R("write", o->write(cfd, "abc", 3));
	R("close.client", o->close(cfd));
	o->settle();
	R("read.data", o->read(sfd, buf, sizeof(buf)));
	R("read.eof", o->read(sfd, buf, sizeof(buf)));
	R("read.eof.again", o->read(sfd, buf, sizeof(buf)));
	R("recv.peek.eof", o->recv(sfd, buf, sizeof(buf), MSG_PEEK));
	o->close(sfd);
	o->close(lfd);
}

static void t_eagain(const struct sem_ops *o, int fam)
{
	int lfd, cfd, sfd, v = 0;
	char buf[16];

	pair(o, fam, &lfd, &cfd, &sfd);
	R("read.nonblock.empty", o->read(sfd, buf, sizeof(buf)));
	R("recv.dontwait.empty", o->recv(cfd, buf, sizeof(buf), MSG_DONTWAIT));
	R("accept.nonblock.empty", o->fcntl(lfd, F_SETFL, O_NONBLOCK));
	R("accept.empty", o->accept4(lfd, NULL, NULL, 0));
	R("getfl", o->fcntl(sfd, F_GETFL, 0) & O_NONBLOCK);
	v = 0;
	R("fionbio.off", o->ioctl(sfd, FIONBIO, &v));
	R("getfl.after", o->fcntl(sfd, F_GETFL, 0) & O_NONBLOCK);
	R("recv.zero.dontwait", o->recv(sfd, buf, 0, MSG_DONTWAIT));
	R("write", o->write(cfd, "xy", 2));
	o->settle();
	R("recv.peek", o->recv(sfd, buf, sizeof(buf), MSG_PEEK));
	R("read", o->read(sfd, buf, sizeof(buf)));
	close3(o, lfd, cfd, sfd);
}

static void t_full_sndbuf(const struct sem_ops *o, int fam)
{
	static char chunk[65536];
	int lfd, cfd, sfd, ep, rounds = 0;
	ssize_t n;
	size_t drained;

	pair(o, fam, &lfd, &cfd, &sfd);
	R("nonblock", o->fcntl(cfd, F_SETFL, O_NONBLOCK));
	ep = epoll_for(o, cfd, EPOLLOUT | EPOLLET);
	rec_wait(o, "wait.fresh", ep, 100);
	rec_wait(o, "wait.et.again", ep, 0);
	/* Fill until even a settle frees no room. */
	for (;;) {
		n = o->write(cfd, chunk, sizeof(chunk));
		if (n > 0)
			continue;
		if (n < 0 && errno != EAGAIN)
			break;
		o->settle();
		n = o->write(cfd, chunk, sizeof(chunk));
		if (n < 0 && errno == EAGAIN)
			break;
		if (++rounds > 10000)
			break;
	}
	R("write.full", n);
	o->settle();
	rec_wait(o, "wait.full", ep, 0);
	drained = drain(o, sfd);
	sem_recf("drained", "%s", drained > 0 ? "some" : "none");
	rec_wait(o, "wait.drained", ep, 500);
	sem_recf("write.again", "%s", o->write(cfd, chunk, 100) == 100 ? "100" : "failed");
	o->close(ep);
	close3(o, lfd, cfd, sfd);
}

static void t_edge_starvation(const struct sem_ops *o, int fam)
{
	int lfd, cfd, sfd, ep;
	char buf[64];

	pair(o, fam, &lfd, &cfd, &sfd);
	ep = epoll_for(o, sfd, EPOLLIN | EPOLLET);
	rec_wait(o, "wait.empty", ep, 0);
	R("write1", o->write(cfd, "0123456789", 10));
	o->settle();
	rec_wait(o, "wait.data", ep, 500);
	R("read.part", o->read(sfd, buf, 4));
	rec_wait(o, "wait.undrained", ep, 0);
	R("write2", o->write(cfd, "abcdefghij", 10));
	o->settle();
	rec_wait(o, "wait.newdata", ep, 500);
	R("read.rest", o->read(sfd, buf, sizeof(buf)));
	R("read.eagain", o->read(sfd, buf, sizeof(buf)));
	rec_wait(o, "wait.drained", ep, 0);
	o->close(ep);
	close3(o, lfd, cfd, sfd);
}

static void t_level(const struct sem_ops *o, int fam)
{
	int lfd, cfd, sfd, ep;
	char buf[64];

	pair(o, fam, &lfd, &cfd, &sfd);
	ep = epoll_for(o, sfd, EPOLLIN);
	R("write", o->write(cfd, "0123456789", 10));
	o->settle();
	rec_wait(o, "wait.1", ep, 500);
	rec_wait(o, "wait.2", ep, 0);
	R("read", o->read(sfd, buf, sizeof(buf)));
	rec_wait(o, "wait.drained", ep, 0);
	R("epoll_ctl.del", o->epoll_ctl(ep, EPOLL_CTL_DEL, sfd, NULL));
	R("epoll_ctl.del.again", o->epoll_ctl(ep, EPOLL_CTL_DEL, sfd, NULL));
	R("epoll_ctl.mod.absent", o->epoll_ctl(ep, EPOLL_CTL_MOD, sfd, &(struct epoll_event){ .events = EPOLLIN }));
	R("epoll_ctl.add", o->epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &(struct epoll_event){ .events = EPOLLOUT }));
	R("epoll_ctl.add.again", o->epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &(struct epoll_event){ .events = EPOLLOUT }));
	R("close.watched", o->close(sfd));
	rec_wait(o, "wait.closed", ep, 0);
	o->close(ep);
	o->close(cfd);
	o->close(lfd);
}

static void t_oneshot(const struct sem_ops *o, int fam)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u32 = 0x5eed };
	int lfd, cfd, sfd, ep;
	char buf[64];

	pair(o, fam, &lfd, &cfd, &sfd);
	ep = epoll_for(o, sfd, EPOLLIN | EPOLLONESHOT);
	R("write", o->write(cfd, "0123456789", 10));
	o->settle();
	rec_wait(o, "wait.first", ep, 500);
	rec_wait(o, "wait.disarmed", ep, 0);
	R("write2", o->write(cfd, "x", 1));
	o->settle();
	rec_wait(o, "wait.disarmed.newdata", ep, 0);
	R("epoll_ctl.mod", o->epoll_ctl(ep, EPOLL_CTL_MOD, sfd, &ev));
	rec_wait(o, "wait.rearmed", ep, 500);
	rec_wait(o, "wait.disarmed.again", ep, 0);
	R("read", o->read(sfd, buf, sizeof(buf)));
	o->close(ep);
	close3(o, lfd, cfd, sfd);
}

static void t_listen_epollin(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss, peer, name;
	socklen_t len, plen = sizeof(peer), nlen = sizeof(name);
	uint16_t port;
	int lfd, cfd, sfd, ep, v = 0;
	socklen_t vl = sizeof(v);

	lfd = listener(o, fam, SOCK_NONBLOCK, &port);
	ep = epoll_for(o, lfd, EPOLLIN | EPOLLOUT);
	rec_wait(o, "wait.idle", ep, 0);
	R("accept.empty", o->accept4(lfd, NULL, NULL, 0));
	R("acceptconn", o->getsockopt(lfd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
	sem_recf("acceptconn.value", "%d", v);
	R("fionread.listener", o->ioctl(lfd, FIONREAD, &v));
	len = loop_addr(fam, port, &ss);
	cfd = FD("socket.nb", o->socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0));
	R("connect.nb", o->connect(cfd, (struct sockaddr *)&ss, len));
	o->settle();
	rec_wait(o, "wait.pending", ep, 500);
	sfd = FD("accept", o->accept4(lfd, (struct sockaddr *)&peer, &plen, 0));
	rec_addr("accept.addr", &peer, plen, 0);
	o->getsockname(cfd, (struct sockaddr *)&name, &nlen);
	sem_recf("accept.addr.is_client", "%d", port_of(&name) == port_of(&peer));
	rec_wait(o, "wait.taken", ep, 0);
	R("connect.done", o->connect(cfd, (struct sockaddr *)&ss, len));
	R("listen.again", o->listen(lfd, 5));
	R("connect.listener", o->connect(lfd, (struct sockaddr *)&ss, len));
	o->close(ep);
	close3(o, lfd, cfd, sfd);
}

/* A full accept queue drops SYNs: the third connect of a backlog-1
 * listener stays in progress (EALREADY) until one is accepted. */
static void t_backlog(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t port;
	int lfd, c[3], a[3], ep;

	lfd = FD("socket", o->socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0));
	len = loop_addr(fam, 0, &ss);
	R("bind", o->bind(lfd, (struct sockaddr *)&ss, len));
	R("listen.1", o->listen(lfd, 1));
	port = local_port(o, lfd);
	len = loop_addr(fam, port, &ss);
	for (int i = 0; i < 3; i++) {
		c[i] = FD("socket.client", o->socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0));
		R("connect", o->connect(c[i], (struct sockaddr *)&ss, len));
		o->settle();
	}
	ep = epoll_for(o, c[2], EPOLLOUT);
	rec_wait(o, "wait.third", ep, 0);
	for (int i = 0; i < 3; i++)
		R("connect.again", o->connect(c[i], (struct sockaddr *)&ss, len));
	for (int i = 0; i < 3; i++)
		a[i] = FD("accept", o->accept4(lfd, NULL, NULL, 0));
	for (int i = 0; i < 3; i++) {
		o->close(c[i]);
		if (a[i] >= 0)
			o->close(a[i]);
	}
	o->close(ep);
	o->close(lfd);
}

/* The connect state machine after a non-blocking connect. */
static void t_connect_states(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t port;
	int lfd, cfd, sfd;

	lfd = listener(o, fam, 0, &port);
	len = loop_addr(fam, port, &ss);
	cfd = FD("socket", o->socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0));
	R("connect", o->connect(cfd, (struct sockaddr *)&ss, len));
	R("connect.immediate", o->connect(cfd, (struct sockaddr *)&ss, len));
	o->settle();
	R("connect.settled", o->connect(cfd, (struct sockaddr *)&ss, len));
	R("connect.again", o->connect(cfd, (struct sockaddr *)&ss, len));
	sfd = FD("accept", o->accept4(lfd, NULL, NULL, 0));
	R("listen.connected", o->listen(cfd, 1));
	close3(o, lfd, cfd, sfd);
}

static void t_bind_errors(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss, other;
	socklen_t len = loop_addr(fam, 0, &ss), olen;
	uint16_t port;
	int a, b, c, one = 1;

	a = FD("socket.a", o->socket(fam, SOCK_STREAM, 0));
	R("bind.a", o->bind(a, (struct sockaddr *)&ss, len));
	port = local_port(o, a);
	R("bind.a.again", o->bind(a, (struct sockaddr *)&ss, len));
	b = FD("socket.b", o->socket(fam, SOCK_STREAM, 0));
	len = loop_addr(fam, port, &ss);
	R("bind.b.inuse", o->bind(b, (struct sockaddr *)&ss, len));
	R("listen.a", o->listen(a, 4));
	R("reuseaddr.b", o->setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	R("bind.b.inuse.listening", o->bind(b, (struct sockaddr *)&ss, len));
	R("bind.b.short", o->bind(b, (struct sockaddr *)&ss, fam == AF_INET ? len - 1 : 23));
	olen = loop_addr(fam == AF_INET ? AF_INET6 : AF_INET, 0, &other);
	if (fam == AF_INET)
		R("bind.b.family", o->bind(b, (struct sockaddr *)&other, olen));
	/* An address that is not the host's. */
	if (fam == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_addr.s_addr = htonl(0xc0000201);	/* 192.0.2.1, TEST-NET-1 */
		in->sin_port = 0;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_pton(AF_INET6, "2001:db8::1", &in6->sin6_addr);
		in6->sin6_port = 0;
	}
	R("bind.b.notlocal", o->bind(b, (struct sockaddr *)&ss, len));
	c = FD("socket.c", o->socket(fam, SOCK_STREAM, 0));
	if (fam == AF_INET)
		R("connect.family", o->connect(c, (struct sockaddr *)&other, olen));
	R("connect.short", o->connect(c, (struct sockaddr *)&ss, fam == AF_INET ? len - 1 : 23));
	close3(o, a, b, c);
}

static void t_socket_errors(const struct sem_ops *o, int fam)
{
	int ep;

	R("socket.badfamily", o->socket(12345, SOCK_STREAM, 0));
	R("socket.badtype", o->socket(fam, 12, 0));
	R("socket.badproto", o->socket(fam, SOCK_STREAM, IPPROTO_UDP));
	R("epoll_create1.badflags", o->epoll_create1(1));
	ep = FD("epoll_create1", o->epoll_create1(EPOLL_CLOEXEC));
	R("epoll_ctl.self", o->epoll_ctl(ep, EPOLL_CTL_ADD, ep, &(struct epoll_event){ .events = EPOLLIN }));
	R("epoll_wait.maxevents0", o->epoll_wait(ep, &(struct epoll_event){ 0 }, 0, 0));
	R("epoll_wait.timeout", o->epoll_wait(ep, &(struct epoll_event){ 0 }, 1, 20));
	o->close(ep);
}

static void t_enotconn(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	uint16_t port;
	int fd, lfd, v = 0;
	char buf[4];

	fd = FD("socket", o->socket(fam, SOCK_STREAM, 0));
	R("getpeername", o->getpeername(fd, (struct sockaddr *)&ss, &len));
	R("recv", o->recv(fd, buf, sizeof(buf), 0));
	R("read", o->read(fd, buf, sizeof(buf)));
	R("write", o->write(fd, "x", 1));
	R("shutdown", o->shutdown(fd, SHUT_RDWR));
	R("fionread", o->ioctl(fd, FIONREAD, &v));
	sem_recf("fionread.value", "%d", v);
	len = sizeof(ss);
	R("getsockname.unbound", o->getsockname(fd, (struct sockaddr *)&ss, &len));
	rec_addr("getsockname.unbound.addr", &ss, len, 0);
	lfd = listener(o, fam, 0, &port);
	R("recv.listener", o->recv(lfd, buf, sizeof(buf), 0));
	R("write.listener", o->write(lfd, "x", 1));
	R("accept.notlistening", o->accept4(fd, NULL, NULL, 0));
	R("accept4.badflags", o->accept4(lfd, NULL, NULL, 0x4));
	o->close(fd);
	o->close(lfd);
}

static void t_ebadf(const struct sem_ops *o, int fam)
{
	int fd = FD("socket", o->socket(fam, SOCK_STREAM, 0)), ep, v;
	socklen_t vl = sizeof(v);
	char buf[4];

	ep = FD("epoll_create1", o->epoll_create1(0));
	R("close", o->close(fd));
	R("close.again", o->close(fd));
	R("read", o->read(fd, buf, sizeof(buf)));
	R("write", o->write(fd, "x", 1));
	R("getsockopt", o->getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &vl));
	R("fcntl", o->fcntl(fd, F_GETFL, 0));
	R("epoll_ctl.closed", o->epoll_ctl(ep, EPOLL_CTL_ADD, fd, &(struct epoll_event){ .events = EPOLLIN }));
	R("epoll_wait.notepoll", o->epoll_wait(fd, &(struct epoll_event){ 0 }, 1, 0));
	R("close.ep", o->close(ep));
	R("epoll_wait.closed", o->epoll_wait(ep, &(struct epoll_event){ 0 }, 1, 0));
	R("read.negative", o->read(-1, buf, sizeof(buf)));
}

/* Set an int option to @p val and read it back: steps "set.<name>",
 * "get.<name>" and "get.<name>.value" (@p as_bool: the value as 0/1). */
static void set_get_int(const struct sem_ops *o, int fd, int level, int opt, const char *name, int val,
			bool as_bool)
{
	char label[64];
	socklen_t vl = sizeof(val);

	snprintf(label, sizeof(label), "set.%s", name);
	R(label, o->setsockopt(fd, level, opt, &val, sizeof(val)));
	snprintf(label, sizeof(label), "get.%s", name);
	R(label, o->getsockopt(fd, level, opt, &val, &vl));
	snprintf(label, sizeof(label), "get.%s.value", name);
	sem_recf(label, "%d", as_bool ? val != 0 : val);
}

static void t_options(const struct sem_ops *o, int fam)
{
	int fd = FD("socket", o->socket(fam, SOCK_STREAM, 0)), v = 1;
	struct linger lg = { 0, 0 };
	socklen_t vl = sizeof(v);

	R("get.unknown.sol", o->getsockopt(fd, SOL_SOCKET, 9999, &v, &vl));
	R("set.unknown.tcp", o->setsockopt(fd, IPPROTO_TCP, 9999, &v, sizeof(v)));
	R("set.unknown.level", o->setsockopt(fd, 9999, 1, &v, sizeof(v)));
	vl = sizeof(v);
	R("get.type", o->getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl));
	sem_recf("get.type.value", "%d len=%u", v, (unsigned)vl);
	vl = sizeof(v);
	R("get.error", o->getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &vl));
	sem_recf("get.error.value", "%d", v);
	set_get_int(o, fd, IPPROTO_TCP, TCP_NODELAY, "nodelay", 1, true);
	set_get_int(o, fd, SOL_SOCKET, SO_KEEPALIVE, "keepalive", 1, true);
	set_get_int(o, fd, IPPROTO_TCP, TCP_KEEPIDLE, "keepidle", 30, false);
	v = 0;
	R("set.keepidle.zero", o->setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)));
	set_get_int(o, fd, IPPROTO_TCP, TCP_KEEPCNT, "keepcnt", 5, false);
	v = 5;
	R("set.short", o->setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, 2));
	R("set.linger", o->setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 7 }, sizeof(lg)));
	vl = sizeof(lg);
	R("get.linger", o->getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &vl));
	sem_recf("get.linger.value", "%d %d len=%u", lg.l_onoff != 0, lg.l_linger, (unsigned)vl);
	set_get_int(o, fd, SOL_SOCKET, SO_REUSEADDR, "reuseaddr", 5, true);
	v = 1;
	R("set.error.readonly", o->setsockopt(fd, SOL_SOCKET, SO_ERROR, &v, sizeof(v)));
	set_get_int(o, fd, IPPROTO_TCP, TCP_KEEPINTVL, "keepintvl", 7, false);
	v = 40000;
	R("set.keepintvl.big", o->setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v)));
	set_get_int(o, fd, SOL_SOCKET, SO_REUSEPORT, "reuseport", 1, true);
	/* Buffer sizes and the MSS are sizes of the implementation (Linux
	 * doubles SO_RCVBUF, autotunes, uses loopback's 64 KiB MTU): only
	 * that they are given and positive is compared. */
	v = 65536;
	R("set.rcvbuf", o->setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	R("set.sndbuf", o->setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	vl = sizeof(v);
	R("get.rcvbuf", o->getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &vl));
	sem_recf("get.rcvbuf.value", "%s len=%u", v > 0 ? "positive" : "not positive", (unsigned)vl);
	vl = sizeof(v);
	R("get.sndbuf", o->getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &vl));
	sem_recf("get.sndbuf.value", "%s", v > 0 ? "positive" : "not positive");
	vl = sizeof(v);
	R("get.maxseg", o->getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, &vl));
	sem_recf("get.maxseg.value", "%s", v > 0 ? "positive" : "not positive");
	R("set.maxseg.tiny", o->setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &(int){ 1 }, sizeof(int)));
	R("set.maxseg", o->setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &(int){ 536 }, sizeof(int)));
	vl = sizeof(v);
	R("get.maxseg.user", o->getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, &vl));
	sem_recf("get.maxseg.user.value", "%d", v);
	vl = sizeof(v);
	R("get.acceptconn", o->getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
	sem_recf("get.acceptconn.value", "%d", v);
	o->close(fd);
}

static void t_names(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, cfd, sfd;
	uint16_t cport, lport;

	pair(o, fam, &lfd, &cfd, &sfd);
	lport = local_port(o, lfd);
	cport = local_port(o, cfd);
	len = sizeof(ss);
	R("getsockname.listener", o->getsockname(lfd, (struct sockaddr *)&ss, &len));
	rec_addr("getsockname.listener.addr", &ss, len, 0);
	len = sizeof(ss);
	R("getsockname.client", o->getsockname(cfd, (struct sockaddr *)&ss, &len));
	rec_addr("getsockname.client.addr", &ss, len, 0);
	len = sizeof(ss);
	R("getpeername.client", o->getpeername(cfd, (struct sockaddr *)&ss, &len));
	rec_addr("getpeername.client.addr", &ss, len, lport);
	len = sizeof(ss);
	R("getsockname.server", o->getsockname(sfd, (struct sockaddr *)&ss, &len));
	rec_addr("getsockname.server.addr", &ss, len, lport);
	len = sizeof(ss);
	R("getpeername.server", o->getpeername(sfd, (struct sockaddr *)&ss, &len));
	rec_addr("getpeername.server.addr", &ss, len, cport);
	len = 4;
	R("getsockname.truncated", o->getsockname(sfd, (struct sockaddr *)&ss, &len));
	sem_recf("getsockname.truncated.len", "%u", (unsigned)len);
	close3(o, lfd, cfd, sfd);
}

static void t_fionread(const struct sem_ops *o, int fam)
{
	int lfd, cfd, sfd, v = -1;
	char buf[8];

	pair(o, fam, &lfd, &cfd, &sfd);
	R("fionread.empty", o->ioctl(sfd, FIONREAD, &v));
	sem_recf("fionread.empty.value", "%d", v);
	R("write", o->write(cfd, "hello", 5));
	o->settle();
	R("fionread", o->ioctl(sfd, FIONREAD, &v));
	sem_recf("fionread.value", "%d", v);
	R("read", o->read(sfd, buf, 2));
	R("fionread.after", o->ioctl(sfd, FIONREAD, &v));
	sem_recf("fionread.after.value", "%d", v);
	R("ioctl.unknown", o->ioctl(sfd, 0x5401 /* TCGETS */, &v));
	close3(o, lfd, cfd, sfd);
}

static void t_echo(const struct sem_ops *o, int fam)
{
	static uint8_t out[200000], back[200000];
	size_t sent = 0, got = 0;
	int lfd, cfd, sfd, rounds = 0;
	uint8_t tmp[32768];
	struct iovec iov[3];

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + (i >> 8));
	pair(o, fam, &lfd, &cfd, &sfd);
	R("nonblock", o->fcntl(cfd, F_SETFL, O_NONBLOCK));
	/* Client writes, server echoes, client reads: all non-blocking. */
	while (got < sizeof(out) && rounds++ < 5000) {
		ssize_t n;

		if (sent < sizeof(out)) {
			n = o->write(cfd, out + sent, sizeof(out) - sent);
			if (n > 0)
				sent += (size_t)n;
		}
		while ((n = o->read(sfd, tmp, sizeof(tmp))) > 0)
			o->write(sfd, tmp, (size_t)n);
		while ((n = o->read(cfd, back + got, sizeof(back) - got)) > 0)
			got += (size_t)n;
		o->settle();
	}
	sem_recf("echo.bytes", "%zu", got);
	sem_recf("echo.equal", "%d", got == sizeof(out) && memcmp(out, back, got) == 0);
	/* writev/readv keep byte order across the vectors. */
	iov[0] = (struct iovec){ "ab", 2 };
	iov[1] = (struct iovec){ "", 0 };
	iov[2] = (struct iovec){ "cdef", 4 };
	R("writev", o->writev(cfd, iov, 3));
	o->settle();
	memset(tmp, 0, 8);
	iov[0] = (struct iovec){ tmp, 1 };
	iov[1] = (struct iovec){ tmp + 1, 3 };
	iov[2] = (struct iovec){ tmp + 4, 4 };
	R("readv", o->readv(sfd, iov, 3));
	sem_recf("readv.bytes", "%.6s", (char *)tmp);
	R("readv.eagain", o->readv(sfd, iov, 3));
	close3(o, lfd, cfd, sfd);
}

/* ---- UDP ---- */

static int udp_bound(const struct sem_ops *o, int fam, const char *label)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(fam, 0, &ss);
	int fd = FD(label, o->socket(fam, SOCK_DGRAM | SOCK_NONBLOCK, 0));

	R("udp.bind", o->bind(fd, (struct sockaddr *)&ss, len));
	return fd;
}

static void t_udp_boundaries(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage to, from;
	socklen_t tolen, fromlen;
	int a = udp_bound(o, fam, "socket.a"), b = udp_bound(o, fam, "socket.b"), v = -1, ep;
	uint16_t aport = local_port(o, a);
	char buf[256], big[100];

	memset(big, 'z', sizeof(big));
	tolen = loop_addr(fam, local_port(o, b), &to);
	ep = epoll_for(o, b, EPOLLIN | EPOLLOUT);
	rec_wait(o, "wait.empty", ep, 0);
	R("recv.empty", o->recv(b, buf, sizeof(buf), 0));
	R("fionread.empty", o->ioctl(b, FIONREAD, &v));
	sem_recf("fionread.empty.value", "%d", v);
	R("sendto.10", o->sendto(a, big, 10, 0, (struct sockaddr *)&to, tolen));
	R("sendto.20", o->sendto(a, big, 20, 0, (struct sockaddr *)&to, tolen));
	R("sendto.0", o->sendto(a, big, 0, 0, (struct sockaddr *)&to, tolen));
	R("sendto.30", o->sendto(a, big, 30, 0, (struct sockaddr *)&to, tolen));
	o->settle();
	rec_wait(o, "wait.data", ep, 500);
	R("fionread", o->ioctl(b, FIONREAD, &v));
	sem_recf("fionread.value", "%d", v);
	for (int i = 0; i < 5; i++) {
		fromlen = sizeof(from);
		memset(&from, 0, sizeof(from));
		R("recvfrom", o->recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen));
		if (i < 4)
			rec_addr("recvfrom.addr", &from, fromlen, aport);
	}
	/* Truncation: the rest of the datagram is discarded. */
	R("sendto.100", o->sendto(a, big, 100, 0, (struct sockaddr *)&to, tolen));
	R("sendto.100.again", o->sendto(a, big, 100, 0, (struct sockaddr *)&to, tolen));
	R("sendto.5", o->sendto(a, big, 5, 0, (struct sockaddr *)&to, tolen));
	o->settle();
	R("recv.trunc", o->recv(b, buf, 40, 0));
	R("recv.flag_trunc", o->recv(b, buf, 40, MSG_TRUNC));
	R("recv.peek", o->recv(b, buf, sizeof(buf), MSG_PEEK));
	R("read.next", o->read(b, buf, sizeof(buf)));
	R("read.eagain", o->read(b, buf, sizeof(buf)));
	o->close(ep);
	o->close(a);
	o->close(b);
}

static void t_udp_connected(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage to, ss;
	socklen_t tolen, len;
	int a = udp_bound(o, fam, "socket.a"), b = udp_bound(o, fam, "socket.b"), c, v;
	socklen_t vl = sizeof(v);
	char buf[64];
	struct iovec iov[2] = { { "he", 2 }, { "llo", 3 } };

	R("send.nodest", o->send(a, "x", 1, 0));
	len = sizeof(ss);
	R("getpeername.unconnected", o->getpeername(a, (struct sockaddr *)&ss, &len));
	tolen = loop_addr(fam, local_port(o, b), &to);
	R("connect", o->connect(a, (struct sockaddr *)&to, tolen));
	len = sizeof(ss);
	R("getpeername", o->getpeername(a, (struct sockaddr *)&ss, &len));
	rec_addr("getpeername.addr", &ss, len, local_port(o, b));
	len = sizeof(ss);
	R("getsockname", o->getsockname(a, (struct sockaddr *)&ss, &len));
	rec_addr("getsockname.addr", &ss, len, local_port(o, a));
	R("send", o->send(a, "hello", 5, 0));
	R("writev", o->writev(a, iov, 2));
	R("write", o->write(a, "abc", 3));
	o->settle();
	R("recv", o->recv(b, buf, sizeof(buf), 0));
	R("readv", o->readv(b, (struct iovec[]){ { buf, 2 }, { buf + 2, 10 } }, 2));
	sem_recf("readv.bytes", "%.5s", buf);
	R("read", o->read(b, buf, sizeof(buf)));
	/* A connected socket takes only its peer's datagrams. */
	c = udp_bound(o, fam, "socket.c");
	tolen = loop_addr(fam, local_port(o, a), &to);
	R("sendto.stranger", o->sendto(c, "zz", 2, 0, (struct sockaddr *)&to, tolen));
	tolen = loop_addr(fam, local_port(o, b), &to);
	tolen = loop_addr(fam, local_port(o, a), &to);
	R("sendto.peer", o->sendto(b, "ok", 2, 0, (struct sockaddr *)&to, tolen));
	o->settle();
	R("recv.peer_only", o->recv(a, buf, sizeof(buf), 0));
	R("recv.eagain", o->recv(a, buf, sizeof(buf), 0));
	vl = sizeof(v);
	R("get.type", o->getsockopt(a, SOL_SOCKET, SO_TYPE, &v, &vl));
	sem_recf("get.type.value", "%d", v);
	R("listen.udp", o->listen(a, 1));
	R("accept.udp", o->accept4(a, NULL, NULL, 0));
	R("shutdown.udp", o->shutdown(b, SHUT_RDWR));
	R("bind.again", o->bind(b, (struct sockaddr *)&to, tolen));
	o->close(a);
	o->close(b);
	o->close(c);
}

/* A connected UDP socket and a port nobody listens on: the ICMP port
 * unreachable comes back as ECONNREFUSED, once, to whichever call looks
 * first (recv, send, SO_ERROR), and epoll shows EPOLLERR meanwhile. An
 * unconnected socket hears nothing of it. */
static void t_udp_refused(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage to;
	socklen_t tolen, vl = sizeof(int);
	int a = udp_bound(o, fam, "socket.a"), b = udp_bound(o, fam, "socket.b"), c, ep, v = -1;
	uint16_t closed = local_port(o, b);
	char buf[8];

	R("close.b", o->close(b));
	tolen = loop_addr(fam, closed, &to);
	R("connect", o->connect(a, (struct sockaddr *)&to, tolen));
	ep = epoll_for(o, a, EPOLLIN | EPOLLOUT);
	R("send", o->send(a, "x", 1, 0));
	o->settle();
	rec_wait(o, "wait.after_icmp", ep, 0);
	R("recv.after_icmp", o->recv(a, buf, sizeof(buf), 0));
	rec_wait(o, "wait.after_recv", ep, 0);
	R("recv.again", o->recv(a, buf, sizeof(buf), 0));
	R("send.again", o->send(a, "x", 1, 0));
	o->settle();
	R("send.after_icmp", o->send(a, "x", 1, 0));
	R("send.after_error", o->send(a, "x", 1, 0));
	o->settle();
	R("so_error", o->getsockopt(a, SOL_SOCKET, SO_ERROR, &v, &vl));
	sem_recf("so_error.value", "%s", v == ECONNREFUSED ? "ECONNREFUSED" : v ? "other" : "0");
	vl = sizeof(v);
	R("so_error.again", o->getsockopt(a, SOL_SOCKET, SO_ERROR, &v, &vl));
	sem_recf("so_error.again.value", "%d", v);
	/* Not connected: the same error is not reported. */
	c = udp_bound(o, fam, "socket.c");
	R("sendto.unconnected", o->sendto(c, "x", 1, 0, (struct sockaddr *)&to, tolen));
	o->settle();
	R("recv.unconnected", o->recv(c, buf, sizeof(buf), 0));
	vl = sizeof(v);
	R("so_error.unconnected", o->getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &vl));
	sem_recf("so_error.unconnected.value", "%d", v);
	o->close(c);
	o->close(ep);
	o->close(a);
}

/* ---- recvmsg / sendmsg ---- */

static void rec_msg(const char *label, const struct msghdr *m, const char *buf, ssize_t n)
{
	sem_recf(label, "flags=%s namelen=%s controllen=%zu bytes=%.*s",
		 (m->msg_flags & MSG_TRUNC) ? "TRUNC" : m->msg_flags ? "other" : "0",
		 m->msg_namelen == 0 ? "0" : "addr", (size_t)m->msg_controllen, n > 0 ? (int)n : 0,
		 buf);
}

static void t_msg(const struct sem_ops *o, int fam)
{
	int lfd, cfd, sfd;
	char a[8], b[8], cbuf[64], joined[16];
	struct sockaddr_storage ss;
	struct iovec out[2] = { { "hel", 3 }, { "lo", 2 } }, in[2] = { { a, 2 }, { b, 8 } };
	struct msghdr m = { .msg_iov = out, .msg_iovlen = 2 };
	ssize_t n;

	pair(o, fam, &lfd, &cfd, &sfd);
	R("sendmsg", o->sendmsg(cfd, &m, 0));
	o->settle();
	m = (struct msghdr){ .msg_name = &ss, .msg_namelen = sizeof(ss), .msg_iov = in,
			     .msg_iovlen = 2, .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
			     .msg_flags = -1 };
	n = R("recvmsg", o->recvmsg(sfd, &m, 0));
	snprintf(joined, sizeof(joined), "%.2s%.*s", a, n > 2 ? (int)n - 2 : 0, b);
	rec_msg("recvmsg.msg", &m, joined, n);
	R("recvmsg.eagain", o->recvmsg(sfd, &m, MSG_DONTWAIT));
	R("write", o->write(cfd, "abcdef", 6));
	o->settle();
	in[0] = (struct iovec){ a, 3 };
	in[1] = (struct iovec){ b, 3 };
	m = (struct msghdr){ .msg_iov = in, .msg_iovlen = 2 };
	n = R("recvmsg.peek", o->recvmsg(sfd, &m, MSG_PEEK));
	sem_recf("recvmsg.peek.bytes", "%.3s%.3s", a, b);
	in[0] = (struct iovec){ a, 4 };
	m = (struct msghdr){ .msg_iov = in, .msg_iovlen = 1 };
	n = R("recvmsg.part", o->recvmsg(sfd, &m, 0));
	sem_recf("recvmsg.part.bytes", "%.4s", a);
	R("recvmsg.rest", o->recvmsg(sfd, &m, 0));
	sem_recf("recvmsg.rest.bytes", "%.2s", a);
	m = (struct msghdr){ .msg_iov = in, .msg_iovlen = 2000 };
	R("recvmsg.too_many", o->recvmsg(sfd, &m, 0));
	R("sendmsg.too_many", o->sendmsg(cfd, &m, 0));
	R("shutdown.wr", o->shutdown(cfd, SHUT_WR));
	o->settle();
	m = (struct msghdr){ .msg_iov = in, .msg_iovlen = 1 };
	R("recvmsg.eof", o->recvmsg(sfd, &m, 0));
	m = (struct msghdr){ .msg_iov = out, .msg_iovlen = 2 };
	R("sendmsg.after_shut", o->sendmsg(cfd, &m, 0));
	close3(o, lfd, cfd, sfd);
}

static void t_udp_msg(const struct sem_ops *o, int fam)
{
	int a = udp_bound(o, fam, "socket.a"), b = udp_bound(o, fam, "socket.b");
	uint16_t aport = local_port(o, a);
	struct sockaddr_storage to, from;
	char big[100], buf[256];
	struct iovec out[2] = { { big, 10 }, { big, 20 } }, in[1] = { { buf, 10 } };
	struct msghdr m;

	memset(big, 'q', sizeof(big));
	m = (struct msghdr){ .msg_iov = out, .msg_iovlen = 2 };
	R("sendmsg.nodest", o->sendmsg(a, &m, 0));
	m.msg_name = &to;
	m.msg_namelen = loop_addr(fam, local_port(o, b), &to);
	R("sendmsg.30", o->sendmsg(a, &m, 0));
	out[0].iov_len = 100;
	m.msg_iovlen = 1;
	R("sendmsg.100", o->sendmsg(a, &m, 0));
	out[0].iov_len = 50;
	R("sendmsg.50", o->sendmsg(a, &m, 0));
	o->settle();
	m = (struct msghdr){ .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = in,
			     .msg_iovlen = 1 };
	R("recvmsg.trunc", o->recvmsg(b, &m, 0));
	rec_msg("recvmsg.trunc.msg", &m, buf, 0);
	rec_addr("recvmsg.trunc.addr", &from, m.msg_namelen, aport);
	in[0].iov_len = sizeof(buf);
	m = (struct msghdr){ .msg_iov = in, .msg_iovlen = 1, .msg_flags = -1 };
	R("recvmsg.whole", o->recvmsg(b, &m, 0));
	rec_msg("recvmsg.whole.msg", &m, buf, 0);
	in[0].iov_len = 10;
	m = (struct msghdr){ .msg_iov = in, .msg_iovlen = 1 };
	R("recvmsg.flag_trunc", o->recvmsg(b, &m, MSG_TRUNC));
	rec_msg("recvmsg.flag_trunc.msg", &m, buf, 0);
	R("recvmsg.eagain", o->recvmsg(b, &m, MSG_DONTWAIT));
	o->close(a);
	o->close(b);
}

/* ---- IPV6_V6ONLY ---- */

/* ::ffff:127.0.0.1, port @p port. */
static socklen_t mapped_loopback(uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6->sin6_addr);
	return sizeof(*in6);
}

/* An IPv6-only listener and an IPv4 one share a port; each family's
 * connection reaches its own. */
static void t_v6only(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in any4 = { .sin_family = AF_INET };
	socklen_t vl, len;
	int a, b, c4, c6, u, v, x, one = 1;
	uint16_t port;

	(void)fam;
	a = FD("socket.v6", o->socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0));
	vl = sizeof(v);
	R("get.v6only.default", o->getsockopt(a, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl));
	sem_recf("get.v6only.default.value", "%d", v);
	R("set.v6only", o->setsockopt(a, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
	vl = sizeof(v);
	R("get.v6only", o->getsockopt(a, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl));
	sem_recf("get.v6only.value", "%d", v);
	R("bind.v6.any", o->bind(a, (struct sockaddr *)&any6, sizeof(any6)));
	port = local_port(o, a);
	R("set.v6only.bound", o->setsockopt(a, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
	R("listen.v6", o->listen(a, 4));
	b = FD("socket.v4", o->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	R("set.v6only.inet", o->setsockopt(b, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
	any4.sin_port = htons(port);
	R("bind.v4.same_port", o->bind(b, (struct sockaddr *)&any4, sizeof(any4)));
	R("listen.v4", o->listen(b, 4));
	/* A dual-stack socket wants both: the port is taken. */
	u = FD("socket.dual", o->socket(AF_INET6, SOCK_STREAM, 0));
	any6.sin6_port = htons(port);
	R("bind.dual.same_port", o->bind(u, (struct sockaddr *)&any6, sizeof(any6)));
	o->close(u);

	c4 = FD("socket.c4", o->socket(AF_INET, SOCK_STREAM, 0));
	len = loop_addr(AF_INET, port, &ss);
	R("connect.c4", o->connect(c4, (struct sockaddr *)&ss, len));
	c6 = FD("socket.c6", o->socket(AF_INET6, SOCK_STREAM, 0));
	len = loop_addr(AF_INET6, port, &ss);
	R("connect.c6", o->connect(c6, (struct sockaddr *)&ss, len));
	o->settle();
	x = FD("accept.v4", o->accept4(b, NULL, NULL, 0));
	o->close(x);
	R("accept.v4.again", o->accept4(b, NULL, NULL, 0));
	x = FD("accept.v6", o->accept4(a, NULL, NULL, 0));
	o->close(x);
	R("accept.v6.again", o->accept4(a, NULL, NULL, 0));
	o->close(c4);
	o->close(c6);

	/* v4-mapped addresses are refused by a v6-only socket. */
	c6 = FD("socket.c6only", o->socket(AF_INET6, SOCK_STREAM, 0));
	R("set.v6only.c6only", o->setsockopt(c6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
	len = mapped_loopback(port, &ss);
	R("connect.mapped", o->connect(c6, (struct sockaddr *)&ss, len));
	len = mapped_loopback(0, &ss);
	R("bind.mapped", o->bind(c6, (struct sockaddr *)&ss, len));
	o->close(c6);
	u = FD("socket.udp6only", o->socket(AF_INET6, SOCK_DGRAM, 0));
	R("set.v6only.udp", o->setsockopt(u, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
	len = mapped_loopback(port, &ss);
	R("sendto.mapped", o->sendto(u, "x", 1, 0, (struct sockaddr *)&ss, len));
	R("connect.udp.mapped", o->connect(u, (struct sockaddr *)&ss, len));
	o->close(u);
	o->close(a);
	o->close(b);
}

/* ---- SO_RCVTIMEO / SO_SNDTIMEO ---- */

static void rec_tv(const char *label, const struct sem_ops *o, int fd, int name)
{
	struct timeval tv = { -1, -1 };
	socklen_t len = sizeof(tv);

	R(label, o->getsockopt(fd, SOL_SOCKET, name, &tv, &len));
	sem_recf(label, "%ld.%06ld len=%u", (long)tv.tv_sec, (long)tv.tv_usec, (unsigned)len);
}

static void t_timeouts(const struct sem_ops *o, int fam)
{
	struct timeval tv = { 0, 100000 };
	int lfd, cfd, sfd, afd;
	/* Past Linux's largest autotuned send and receive buffers together
	 * (tcp_wmem/tcp_rmem maxima 4 + 6 MiB) and mlwip's (2 + 2 MiB). */
	static char big[16 << 20];
	uint16_t port;
	char buf[8];
	ssize_t n;

	/* struct timeval is 8 bytes on a 32-bit ABI (armhf), 16 on the x86-64
	 * host whose Linux traces the emulated run compares with. */
	if (sizeof(long) < 8) {
		sem_skip("struct timeval of a 32-bit ABI (the Linux traces are x86-64's)");
		return;
	}

	lfd = listener(o, fam, 0, &port);
	rec_tv("get.rcvtimeo.default", o, lfd, SO_RCVTIMEO);
	R("set.rcvtimeo.short", o->setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, 4));
	R("set.rcvtimeo.edom", o->setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO,
					     &(struct timeval){ 0, 1000000 }, sizeof(tv)));
	R("set.rcvtimeo", o->setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	R("set.sndtimeo", o->setsockopt(lfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	rec_tv("get.rcvtimeo", o, lfd, SO_RCVTIMEO);
	R("accept.timeout", o->accept4(lfd, NULL, NULL, 0));
	o->close(lfd);
	/* An accepted socket inherits both (the listener's are set here too). */
	lfd = listener(o, fam, 0, &port);
	R("set.rcvtimeo.listener", o->setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	R("set.sndtimeo.listener", o->setsockopt(lfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	{
		struct sockaddr_storage ss;
		socklen_t len = loop_addr(fam, port, &ss);

		cfd = FD("socket", o->socket(fam, SOCK_STREAM, 0));
		R("connect", o->connect(cfd, (struct sockaddr *)&ss, len));
	}
	afd = FD("accept", o->accept4(lfd, NULL, NULL, 0));
	rec_tv("get.rcvtimeo.accepted", o, afd, SO_RCVTIMEO);
	rec_tv("get.sndtimeo.accepted", o, afd, SO_SNDTIMEO);
	R("read.timeout", o->read(afd, buf, sizeof(buf)));
	/* A blocking write larger than both buffers: what fitted in the time
	 * (how much depends on buffer sizes), then EAGAIN. */
	n = o->write(afd, big, sizeof(big));
	sem_recf("write.partial", "%s", n > 0 && n < (ssize_t)sizeof(big) ? "partial" : "other");
	n = o->write(afd, big, sizeof(big));
	/* Then either nothing fitted in the time (EAGAIN) or, where buffers
	 * grow (Linux's autotuning), some more did; never a block. */
	sem_recf("write.full", "%s", (n < 0 && errno == EAGAIN) || n > 0 ? "EAGAIN or more" : "other");
	sfd = afd;
	close3(o, lfd, cfd, sfd);
}

/* ---- ETIMEDOUT: SYNs nobody answers, TCP_SYNCNT ---- */

static void t_syn_timeout(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	socklen_t len, vl;
	char why[200];
	int fd, ep, v;

	(void)fam;
	if (o->blackhole_enter(&ss, &len, why, sizeof(why)) != 0) {
		sem_skip(why);
		return;
	}
	fd = FD("socket", o->socket(AF_INET, SOCK_STREAM, 0));
	v = 0;
	R("set.syncnt.zero", o->setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v)));
	v = 128;
	R("set.syncnt.big", o->setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v)));
	vl = sizeof(v);
	R("get.syncnt.default", o->getsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &v, &vl));
	sem_recf("get.syncnt.default.value", "%d", v);
	v = 1;
	R("set.syncnt", o->setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v)));
	vl = sizeof(v);
	R("get.syncnt", o->getsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &v, &vl));
	sem_recf("get.syncnt.value", "%d", v);
	R("connect.blocking", o->connect(fd, (struct sockaddr *)&ss, len));
	R("read.after", o->read(fd, &v, 1));
	R("close", o->close(fd));

	fd = FD("socket.nb", o->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	v = 1;
	R("set.syncnt.nb", o->setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v)));
	ep = epoll_for(o, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	R("connect.nonblocking", o->connect(fd, (struct sockaddr *)&ss, len));
	rec_wait(o, "wait.short", ep, 200);
	rec_wait(o, "wait.timeout", ep, 20000);
	vl = sizeof(v);
	R("so_error", o->getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &vl));
	sem_recf("so_error.value", "%s", v == ETIMEDOUT ? "ETIMEDOUT" : v ? "other" : "0");
	R("connect.after", o->connect(fd, (struct sockaddr *)&ss, len));
	o->close(ep);
	o->close(fd);

	/* A blocking connect with SO_SNDTIMEO: EINPROGRESS when it runs out,
	 * the handshake goes on. */
	fd = FD("socket.timeo", o->socket(AF_INET, SOCK_STREAM, 0));
	R("set.sndtimeo", o->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){ 0, 200000 },
					sizeof(struct timeval)));
	R("connect.sndtimeo", o->connect(fd, (struct sockaddr *)&ss, len));
	R("connect.sndtimeo.again", o->connect(fd, (struct sockaddr *)&ss, len));
	o->close(fd);
	o->blackhole_leave();
}

/* ---- argument checks: NULL buffers, lengths, flags, addresses (issue 10) ---- */

/* Read whatever is queued (non-blocking), recording count and bytes. */
static void rec_read(const struct sem_ops *o, const char *label, int fd)
{
	char buf[64];
	ssize_t n = R(label, o->recv(fd, buf, sizeof(buf), MSG_DONTWAIT));

	if (n > 0)
		sem_recf(label, "bytes=%.*s", (int)n, buf);
}

/* A copy through a NULL buffer faults (EFAULT, TCP keeps the data); an
 * empty buffer never does; what is checked before the copy (readiness,
 * connection state) comes first. */
static void t_null_bufs(const struct sem_ops *o, int fam)
{
	int lfd, cfd, sfd, u;
	char buf[8];
	struct iovec nul = { NULL, 10 }, two[2] = { { buf, 2 }, { NULL, 10 } };
	struct iovec wtwo[2] = { { "ab", 2 }, { NULL, 3 } };
	struct msghdr m;

	pair(o, fam, &lfd, &cfd, &sfd);
	R("read.null.empty", o->read(sfd, NULL, 10));
	R("read.null0.empty", o->read(sfd, NULL, 0));
	R("read.zero.empty", o->read(sfd, buf, 0));
	R("recv.zero.empty", o->recv(sfd, buf, 0, 0));
	R("recv.null0.empty", o->recv(sfd, NULL, 0, 0));
	R("readv.null.empty", o->readv(sfd, &nul, 1));
	R("write.null", o->write(cfd, NULL, 10));
	R("write.null0", o->write(cfd, NULL, 0));
	R("send.null", o->send(cfd, NULL, 10, 0));
	R("send.null0", o->send(cfd, NULL, 0, 0));
	R("sendto.null", o->sendto(cfd, NULL, 10, 0, NULL, 0));
	R("writev.null", o->writev(cfd, &nul, 1));
	R("writev.ab_null", o->writev(cfd, wtwo, 2));
	m = (struct msghdr){ .msg_iov = NULL, .msg_iovlen = 1 };
	R("sendmsg.iov_null", o->sendmsg(cfd, &m, 0));
	m = (struct msghdr){ .msg_iov = wtwo + 1, .msg_iovlen = 1 };
	R("sendmsg.base_null", o->sendmsg(cfd, &m, 0));
	R("sendmsg.null", o->sendmsg(cfd, NULL, 0));
	R("writev.iov_null", o->writev(cfd, NULL, 1));
	R("writev.iov_null0", o->writev(cfd, NULL, 0));
	o->settle();
	rec_read(o, "read.nothing_sent", sfd);

	R("write", o->write(cfd, "hello", 5));
	o->settle();
	R("read.null", o->read(sfd, NULL, 10));
	R("recv.null", o->recv(sfd, NULL, 10, 0));
	R("recv.null.peek", o->recv(sfd, NULL, 10, MSG_PEEK));
	R("recvfrom.null", o->recvfrom(sfd, NULL, 10, 0, NULL, NULL));
	R("read.null0", o->read(sfd, NULL, 0));
	R("recv.null0", o->recv(sfd, NULL, 0, 0));
	R("readv.null", o->readv(sfd, &nul, 1));
	R("readv.buf_null", o->readv(sfd, two, 2));
	R("readv.iov_null", o->readv(sfd, NULL, 1));
	R("readv.iov_null0", o->readv(sfd, NULL, 0));
	m = (struct msghdr){ .msg_iov = NULL, .msg_iovlen = 1 };
	R("recvmsg.iov_null", o->recvmsg(sfd, &m, 0));
	m = (struct msghdr){ .msg_iov = &nul, .msg_iovlen = 1 };
	R("recvmsg.base_null", o->recvmsg(sfd, &m, 0));
	R("recvmsg.null", o->recvmsg(sfd, NULL, 0));
	/* MSG_TRUNC on TCP discards without copying: no buffer needed. */
	R("recv.trunc.null", o->recv(sfd, NULL, 2, MSG_TRUNC));
	rec_read(o, "read.rest", sfd);

	/* Not connected: the state is checked before the copy. */
	u = FD("socket.unconnected", o->socket(fam, SOCK_STREAM, 0));
	R("write.null.unconnected", o->write(u, NULL, 10));
	R("read.null.unconnected", o->read(u, NULL, 10));
	o->close(u);
	close3(o, lfd, cfd, sfd);
}

static void t_null_bufs_udp(const struct sem_ops *o, int fam)
{
	int a = udp_bound(o, fam, "socket.a"), b = udp_bound(o, fam, "socket.b");
	struct sockaddr_storage to, from;
	socklen_t tolen = loop_addr(fam, local_port(o, b), &to), fl;
	char buf[16];

	R("sendto.null", o->sendto(a, NULL, 10, 0, (struct sockaddr *)&to, tolen));
	R("sendto.null0", o->sendto(a, NULL, 0, 0, (struct sockaddr *)&to, tolen));
	o->settle();
	R("recv.null0", o->recv(b, NULL, 0, 0));
	R("recv.after_null0", o->recv(b, buf, sizeof(buf), MSG_DONTWAIT));
	R("sendto.hello", o->sendto(a, "hello", 5, 0, (struct sockaddr *)&to, tolen));
	o->settle();
	R("recv.null.peek", o->recv(b, NULL, 10, MSG_PEEK));
	R("recv.null", o->recv(b, NULL, 10, 0));
	R("recv.null.dropped", o->recv(b, buf, sizeof(buf), MSG_DONTWAIT));
	R("sendto.hi", o->sendto(a, "hi", 2, 0, (struct sockaddr *)&to, tolen));
	o->settle();
	R("recvfrom.addrlen_null", o->recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, NULL));
	R("recvfrom.addrlen_null.taken", o->recv(b, buf, sizeof(buf), MSG_DONTWAIT));
	R("sendto.hi.again", o->sendto(a, "hi", 2, 0, (struct sockaddr *)&to, tolen));
	o->settle();
	fl = (socklen_t)-1;
	R("recvfrom.addrlen_negative", o->recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl));
	sem_recf("recvfrom.addrlen_negative.len", "%d", (int)fl);
	fl = 0;
	R("sendto.hi.third", o->sendto(a, "hi", 2, 0, (struct sockaddr *)&to, tolen));
	o->settle();
	R("recvfrom.addr_null_len0", o->recvfrom(b, buf, sizeof(buf), 0, NULL, &fl));
	sem_recf("recvfrom.addr_null_len0.len", "%d", (int)fl);
	R("sendto.addrlen_negative", o->sendto(a, "x", 1, 0, (struct sockaddr *)&to, (socklen_t)-1));
	R("sendto.addrlen_200", o->sendto(a, "x", 1, 0, (struct sockaddr *)&to, 200));
	R("sendto.addrlen_3", o->sendto(a, "x", 1, 0, (struct sockaddr *)&to, 3));
	R("sendto.addr_null", o->sendto(a, "x", 1, 0, NULL, tolen));
	loop_addr(fam, 0, &from);
	R("sendto.port0", o->sendto(a, "x", 1, 0, (struct sockaddr *)&from, tolen));
	R("sendto.oob", o->sendto(a, "x", 1, MSG_OOB, (struct sockaddr *)&to, tolen));
	R("sendto.unknown_flag", o->sendto(a, "y", 1, 0x400000, (struct sockaddr *)&to, tolen));
	o->settle();
	R("recv.unknown_flag", o->recv(b, buf, sizeof(buf), 0x400000));
	R("recv.errqueue", o->recv(b, buf, sizeof(buf), MSG_ERRQUEUE));
	R("connect.null0", o->connect(a, NULL, 0));
	R("connect.null", o->connect(a, NULL, tolen));
	R("connect.addrlen_negative", o->connect(a, (struct sockaddr *)&to, (socklen_t)-1));
	o->close(a);
	o->close(b);
}

/* Lengths: the VFS checks of read/write/readv/writev (beyond user space:
 * EFAULT), recv/send clamped, msghdr and address lengths, flags. */
static void t_lengths(const struct sem_ops *o, int fam)
{
	int lfd, cfd, sfd, ep;
	char buf[16], nbuf[128];
	struct iovec v = { buf, SIZE_MAX }, w[2] = { { buf, 1 }, { buf, 1 } };
	char *near_top = (char *)(uintptr_t)0x7ffffffff000ull - 64;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct msghdr m;

	/* The lengths and the address near the top of user space below are
	 * x86-64's (its TASK_SIZE); elsewhere (the ARM builds under qemu,
	 * whose Linux side comes from an x86-64 host: test_semantics.c,
	 * SEM_LINUX_FROM) they mean something else. */
#if !defined(__x86_64__)
	sem_skip("x86-64 lengths and user-space top (this is another architecture)");
	return;
#endif
	pair(o, fam, &lfd, &cfd, &sfd);
	/* No Nagle on either end: a small write must not wait for the ACK
	 * of the previous one (Linux delays that ACK up to 40 ms, longer
	 * than a settle). */
	R("set.nodelay.c", o->setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)));
	R("set.nodelay.s", o->setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)));
	R("read.size_max", o->read(sfd, buf, SIZE_MAX));
	R("read.null.size_max", o->read(sfd, NULL, SIZE_MAX));
	R("write.size_max", o->write(cfd, buf, SIZE_MAX));
	/* recv caps the length at 2^31 - 4096 before it checks the range, so
	 * whether a huge length faults depends on where the buffer is (ASLR
	 * put it within 2 GiB of the top of user space in some runs, not in
	 * others). This address is within 2 GiB of the top on every x86-64
	 * layout, and is never touched. */
	R("recv.size_max.empty", o->recv(sfd, near_top, SIZE_MAX, 0));
	R("recv.null.size_max.empty", o->recv(sfd, NULL, SIZE_MAX, 0));
	R("readv.len_size_max", o->readv(sfd, &v, 1));
	v.iov_len = SSIZE_MAX;
	R("readv.len_ssize_max", o->readv(sfd, &v, 1));
	w[0].iov_len = SSIZE_MAX;
	R("readv.two.len_ssize_max", o->readv(sfd, w, 2));
	R("writev.two.len_ssize_max", o->writev(cfd, w, 2));
	w[0].iov_len = 1;
	R("readv.count_negative", o->readv(sfd, w, -1));
	R("readv.count_1025", o->readv(sfd, w, 1025));
	R("recv.oob", o->recv(sfd, buf, sizeof(buf), MSG_OOB));
	R("recv.errqueue", o->recv(sfd, buf, sizeof(buf), MSG_ERRQUEUE));
	R("recv.unknown_flag", o->recv(sfd, buf, sizeof(buf), 0x400000));
	R("send.unknown_flag", o->send(cfd, "a", 1, 0x400000));
	R("send.waitall_flag", o->send(cfd, "b", 1, MSG_WAITALL));
	o->settle();
	rec_read(o, "read.flags", sfd);
	R("write.hey", o->write(cfd, "hey", 3));
	o->settle();
	R("recv.size_max", o->recv(sfd, near_top, SIZE_MAX, 0));

	/* MSG_WAITALL: all of it, or what came before end of stream. */
	R("write.six", o->write(sfd, "abcdef", 6));
	o->settle();
	R("recv.waitall", o->recv(cfd, buf, 6, MSG_WAITALL));
	R("write.two", o->write(sfd, "gh", 2));
	R("shutdown.wr", o->shutdown(sfd, SHUT_WR));
	o->settle();
	R("recv.waitall.eof", o->recv(cfd, buf, 6, MSG_WAITALL));
	sem_recf("recv.waitall.eof.bytes", "%.2s", buf);

	/* msghdr lengths, and addresses: written after the data is taken. */
	R("write.yzwv", o->write(cfd, "yzwv", 4));
	o->settle();
	m = (struct msghdr){ .msg_name = nbuf, .msg_namelen = (socklen_t)-1, .msg_iov = w, .msg_iovlen = 1 };
	R("recvmsg.namelen_negative", o->recvmsg(sfd, &m, 0));
	R("sendmsg.namelen_negative", o->sendmsg(cfd, &m, 0));
	m = (struct msghdr){ .msg_name = NULL, .msg_namelen = 16, .msg_iov = w, .msg_iovlen = 1 };
	R("recvmsg.name_null", o->recvmsg(sfd, &m, 0));
	sem_recf("recvmsg.name_null.namelen", "%d", (int)m.msg_namelen);
	m = (struct msghdr){ .msg_name = nbuf, .msg_namelen = 200, .msg_iov = w, .msg_iovlen = 1 };
	R("recvmsg.namelen_200", o->recvmsg(sfd, &m, 0));
	sem_recf("recvmsg.namelen_200.namelen", "%d", (int)m.msg_namelen);
	R("sendmsg.namelen_200", o->sendmsg(cfd, &m, 0));
	m = (struct msghdr){ .msg_iov = w, .msg_iovlen = 1, .msg_control = NULL, .msg_controllen = 16 };
	R("sendmsg.control_null", o->sendmsg(cfd, &m, 0));
	R("recvfrom.addrlen_null", o->recvfrom(sfd, buf, 1, 0, (struct sockaddr *)&ss, NULL));
	sl = (socklen_t)-1;
	R("recvfrom.addrlen_negative", o->recvfrom(sfd, buf, 1, 0, (struct sockaddr *)&ss, &sl));
	o->settle();
	rec_read(o, "read.left", sfd);	/* the byte sendmsg.namelen_200 sent */

	/* Data calls on an epoll descriptor: files without read/write. */
	ep = FD("epoll_create1", o->epoll_create1(0));
	R("read.epoll", o->read(ep, buf, 1));
	R("write.epoll", o->write(ep, buf, 1));
	R("readv.epoll", o->readv(ep, w, 1));
	R("recv.epoll", o->recv(ep, buf, 1, 0));
	o->close(ep);
	close3(o, lfd, cfd, sfd);
}

/* accept() with an address it cannot store: the connection is taken,
 * closed again, and the call fails. */
static void t_accept_addr(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	uint16_t port;
	int lfd = listener(o, fam, SOCK_NONBLOCK, &port), c1, c2;
	socklen_t len = loop_addr(fam, port, &ss), al;
	char buf[4];

	c1 = FD("socket.c1", o->socket(fam, SOCK_STREAM, 0));
	R("connect.c1", o->connect(c1, (struct sockaddr *)&ss, len));
	o->settle();
	R("accept.addrlen_null", o->accept4(lfd, (struct sockaddr *)&ss, NULL, 0));
	R("accept.addrlen_null.again", o->accept4(lfd, NULL, NULL, 0));
	o->settle();
	R("read.c1", o->recv(c1, buf, sizeof(buf), MSG_DONTWAIT));
	c2 = FD("socket.c2", o->socket(fam, SOCK_STREAM, 0));
	len = loop_addr(fam, port, &ss);
	R("connect.c2", o->connect(c2, (struct sockaddr *)&ss, len));
	o->settle();
	al = (socklen_t)-1;
	R("accept.addrlen_negative", o->accept4(lfd, (struct sockaddr *)&ss, &al, 0));
	R("accept.addr_null_len", o->accept4(lfd, NULL, &al, 0));
	o->close(c1);
	o->close(c2);
	o->close(lfd);
}

static void t_bad_args(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(fam, 0, &ss);
	struct epoll_event ev = { .events = EPOLLIN }, evs[2];
	int fd, ep, lfd, cfd, sfd;

	R("socket.proto_negative", o->socket(fam, SOCK_STREAM, -1));
	R("socket.proto_300", o->socket(fam, SOCK_DGRAM, 300));
	R("socket.udp_proto_tcp", o->socket(fam, SOCK_DGRAM, IPPROTO_TCP));
	R("socket.badflag_badfamily", o->socket(12345, SOCK_STREAM | 0x100000, 0));
	R("socket.type_negative", o->socket(fam, -1, 0));
	fd = FD("socket", o->socket(fam, SOCK_STREAM, 0));
	R("bind.null", o->bind(fd, NULL, len));
	R("bind.null0", o->bind(fd, NULL, 0));
	R("bind.len_negative", o->bind(fd, (struct sockaddr *)&ss, (socklen_t)-1));
	R("bind.len_200", o->bind(fd, (struct sockaddr *)&ss, 200));
	R("connect.null", o->connect(fd, NULL, len));
	R("connect.null0", o->connect(fd, NULL, 0));
	R("connect.len_negative", o->connect(fd, (struct sockaddr *)&ss, (socklen_t)-1));
	R("connect.len_200", o->connect(fd, (struct sockaddr *)&ss, 200));
	R("bind.len_128", o->bind(fd, (struct sockaddr *)&ss, 128));
	o->close(fd);

	pair(o, fam, &lfd, &cfd, &sfd);
	ep = FD("epoll_create1", o->epoll_create1(0));
	R("epoll_ctl.ev_null", o->epoll_ctl(ep, EPOLL_CTL_ADD, sfd, NULL));
	R("epoll_ctl.ev_null.badfd", o->epoll_ctl(-1, EPOLL_CTL_ADD, sfd, NULL));
	R("epoll_ctl.ev_null.badop", o->epoll_ctl(ep, 99, sfd, NULL));
	R("epoll_ctl.badop", o->epoll_ctl(ep, 99, sfd, &ev));
	R("epoll_ctl.del.ev_null", o->epoll_ctl(ep, EPOLL_CTL_DEL, sfd, NULL));
	R("epoll_ctl.notepoll.badfd", o->epoll_ctl(sfd, EPOLL_CTL_ADD, -1, &ev));
	ev.events = EPOLLIN | 0x00100000;
	R("epoll_ctl.unknown_bit", o->epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	R("epoll_ctl.mod.exclusive", o->epoll_ctl(ep, EPOLL_CTL_MOD, sfd, &ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	R("epoll_ctl.add.exclusive_oneshot", o->epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	R("epoll_ctl.add.exclusive", o->epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev));
	ev.events = EPOLLIN;
	R("epoll_ctl.mod.of_exclusive", o->epoll_ctl(ep, EPOLL_CTL_MOD, cfd, &ev));
	R("epoll_wait.maxevents_negative", o->epoll_wait(ep, evs, -1, 0));
	R("epoll_wait.maxevents_int_max", o->epoll_wait(ep, evs, INT_MAX, 0));
	R("epoll_wait.maxevents_over", o->epoll_wait(ep, evs, (int)(INT_MAX / sizeof(ev)) + 1, 0));
	R("epoll_wait.maxevents0.badfd", o->epoll_wait(-1, evs, 0, 0));
	R("epoll_wait.null.none_ready", o->epoll_wait(ep, NULL, 1, 0));
	R("write", o->write(cfd, "x", 1));
	o->settle();
	R("epoll_wait.null.ready", o->epoll_wait(ep, NULL, 1, 0));
	rec_wait(o, "epoll_wait.kept", ep, 0);
	o->close(ep);
	close3(o, lfd, cfd, sfd);
}

/* SO_RCVTIMEO/SO_SNDTIMEO beyond what 64-bit microseconds hold: Linux
 * waits for ever (MAX_SCHEDULE_TIMEOUT) and reads 0 back; a blocking call
 * that must wait a loop pass (mlwip's loopback) completes. */
static void t_huge_timeouts(const struct sem_ops *o, int fam)
{
#if LONG_MAX > 0x7fffffffL
	struct timeval huge = { LONG_MAX, 0 }, big = { (time_t)1 << 40, 0 };
#else
	/* 32-bit time_t (armhf): no second count beyond 2^31 to try. */
	struct timeval huge = { LONG_MAX, 0 }, big = { LONG_MAX, 0 };
#endif
	struct sockaddr_storage ss;
	int lfd, cfd, sfd, v = 1;
	uint16_t port;
	socklen_t len;
	char buf[4];

	/* struct timeval is 8 bytes on a 32-bit ABI (armhf), 16 on the x86-64
	 * host whose Linux traces the emulated run compares with. */
	if (sizeof(long) < 8) {
		sem_skip("struct timeval of a 32-bit ABI (the Linux traces are x86-64's)");
		return;
	}

	lfd = listener(o, fam, 0, &port);
	R("set.rcvtimeo.huge", o->setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &huge, sizeof(huge)));
	R("set.sndtimeo.huge", o->setsockopt(lfd, SOL_SOCKET, SO_SNDTIMEO, &huge, sizeof(huge)));
	rec_tv("get.rcvtimeo.huge", o, lfd, SO_RCVTIMEO);
	R("set.rcvtimeo.big", o->setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &big, sizeof(big)));
	rec_tv("get.rcvtimeo.big", o, lfd, SO_RCVTIMEO);
	R("set.rcvtimeo.huge.again", o->setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &huge, sizeof(huge)));
	R("set.rcvtimeo.len_negative", o->setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &huge, (socklen_t)-1));
	R("set.rcvtimeo.null", o->setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, NULL, sizeof(huge)));
	R("set.rcvtimeo.null0", o->setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, NULL, 0));
	R("set.keepalive.len_negative", o->setsockopt(lfd, SOL_SOCKET, SO_KEEPALIVE, &v, (socklen_t)-1));
	R("set.keepalive.null0", o->setsockopt(lfd, SOL_SOCKET, SO_KEEPALIVE, NULL, 0));
	R("set.linger.null_int", o->setsockopt(lfd, SOL_SOCKET, SO_LINGER, NULL, sizeof(int)));
	R("set.linger.int", o->setsockopt(lfd, SOL_SOCKET, SO_LINGER, &v, sizeof(int)));
	cfd = FD("socket", o->socket(fam, SOCK_STREAM, 0));
	R("set.sndtimeo.client", o->setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &huge, sizeof(huge)));
	len = loop_addr(fam, port, &ss);
	R("connect", o->connect(cfd, (struct sockaddr *)&ss, len));
	sfd = FD("accept", o->accept4(lfd, NULL, NULL, 0));
	rec_tv("get.rcvtimeo.accepted", o, sfd, SO_RCVTIMEO);
	R("write", o->write(cfd, "x", 1));
	R("read", o->read(sfd, buf, sizeof(buf)));
	close3(o, lfd, cfd, sfd);
}

/* ---- issue 10, item 4: the options people use ---- */

static void get_int_rec(const struct sem_ops *o, int fd, int level, int opt, const char *label)
{
	char l2[64];
	int v = -12345;
	socklen_t vl = sizeof(v);

	R(label, o->getsockopt(fd, level, opt, &v, &vl));
	snprintf(l2, sizeof(l2), "%s.value", label);
	sem_recf(l2, "%d len=%u", v, (unsigned)vl);
}

/* TCP_INFO's state (Linux's numbering) and the length returned for a
 * buffer of @p len bytes. */
static void tcp_info_rec(const struct sem_ops *o, int fd, socklen_t len, const char *label)
{
	struct tcp_info ti;
	char l2[64];

	memset(&ti, 0xee, sizeof(ti));
	R(label, o->getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len));
	snprintf(l2, sizeof(l2), "%s.value", label);
	sem_recf(l2, "state=%u len=%u", len > 0 ? ti.tcpi_state : 999u, (unsigned)len);
}

/* setsockopt/getsockopt of TCP_QUICKACK, TCP_CORK, TCP_USER_TIMEOUT,
 * SO_SNDBUF/SO_RCVBUF (doubled; Linux's minimums), TCP_INFO's state and
 * length; inheritance by an accepted socket. */
static void t_sockopts_item4(const struct sem_ops *o, int fam)
{
	struct sockaddr_storage ss;
	int fd = FD("socket", o->socket(fam, SOCK_STREAM, 0)), lfd, cfd, sfd, v;
	uint16_t port;
	socklen_t len;

	get_int_rec(o, fd, IPPROTO_TCP, TCP_QUICKACK, "get.quickack.default");
	set_get_int(o, fd, IPPROTO_TCP, TCP_QUICKACK, "quickack.0", 0, false);
	set_get_int(o, fd, IPPROTO_TCP, TCP_QUICKACK, "quickack.2", 2, false);
	R("set.quickack.short", o->setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 }, 2));
	get_int_rec(o, fd, IPPROTO_TCP, TCP_CORK, "get.cork.default");
	set_get_int(o, fd, IPPROTO_TCP, TCP_CORK, "cork.5", 5, false);
	set_get_int(o, fd, IPPROTO_TCP, TCP_CORK, "cork.0", 0, false);
	R("set.cork.short", o->setsockopt(fd, IPPROTO_TCP, TCP_CORK, &(int){ 1 }, 3));
	get_int_rec(o, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, "get.user_timeout.default");
	v = -1;
	R("set.user_timeout.negative", o->setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof(v)));
	set_get_int(o, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, "user_timeout", 1234, false);
	set_get_int(o, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, "user_timeout.0", 0, false);
	set_get_int(o, fd, SOL_SOCKET, SO_RCVBUF, "rcvbuf.64k", 65536, false);
	set_get_int(o, fd, SOL_SOCKET, SO_SNDBUF, "sndbuf.64k", 65536, false);
	set_get_int(o, fd, SOL_SOCKET, SO_RCVBUF, "rcvbuf.1", 1, false);
	set_get_int(o, fd, SOL_SOCKET, SO_SNDBUF, "sndbuf.1", 1, false);
	set_get_int(o, fd, SOL_SOCKET, SO_RCVBUF, "rcvbuf.0", 0, false);
	set_get_int(o, fd, SOL_SOCKET, SO_SNDBUF, "sndbuf.3000", 3000, false);
	R("set.rcvbuf.short", o->setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ 1 }, 2));
	tcp_info_rec(o, fd, sizeof(struct tcp_info), "tcp_info.new");
	tcp_info_rec(o, fd, 4, "tcp_info.short");
	tcp_info_rec(o, fd, 0, "tcp_info.zero");
	len = (socklen_t)-1;
	R("tcp_info.negative", o->getsockopt(fd, IPPROTO_TCP, TCP_INFO, &v, &len));
	o->close(fd);

	/* A listener's options go to the connections it accepts. */
	lfd = FD("listener.socket", o->socket(fam, SOCK_STREAM, 0));
	v = 65536;
	R("listener.rcvbuf", o->setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	R("listener.sndbuf", o->setsockopt(lfd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	v = 777;
	R("listener.user_timeout", o->setsockopt(lfd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof(v)));
	v = 1;
	R("listener.cork", o->setsockopt(lfd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v)));
	len = loop_addr(fam, 0, &ss);
	R("listener.bind", o->bind(lfd, (struct sockaddr *)&ss, len));
	R("listener.listen", o->listen(lfd, 4));
	tcp_info_rec(o, lfd, sizeof(struct tcp_info), "tcp_info.listener");
	port = local_port(o, lfd);
	len = loop_addr(fam, port, &ss);
	cfd = FD("client.socket", o->socket(fam, SOCK_STREAM, 0));
	R("client.connect", o->connect(cfd, (struct sockaddr *)&ss, len));
	sfd = FD("accept", o->accept4(lfd, NULL, NULL, SOCK_NONBLOCK));
	get_int_rec(o, sfd, SOL_SOCKET, SO_RCVBUF, "accepted.rcvbuf");
	get_int_rec(o, sfd, SOL_SOCKET, SO_SNDBUF, "accepted.sndbuf");
	get_int_rec(o, sfd, IPPROTO_TCP, TCP_USER_TIMEOUT, "accepted.user_timeout");
	get_int_rec(o, sfd, IPPROTO_TCP, TCP_CORK, "accepted.cork");
	tcp_info_rec(o, cfd, sizeof(struct tcp_info), "tcp_info.client");
	tcp_info_rec(o, sfd, sizeof(struct tcp_info), "tcp_info.accepted");
	R("client.shutdown", o->shutdown(cfd, SHUT_WR));
	o->settle();
	tcp_info_rec(o, sfd, sizeof(struct tcp_info), "tcp_info.close_wait");
	close3(o, lfd, cfd, sfd);
}

/* TCP_CORK holds a partial segment until uncorked (Linux's 200 ms cap is
 * longer than a settle); shutdown sends what is corked. */
static void t_cork(const struct sem_ops *o, int fam)
{
	char buf[4096];
	int lfd, cfd, sfd;

	pair(o, fam, &lfd, &cfd, &sfd);
	R("set.cork", o->setsockopt(cfd, IPPROTO_TCP, TCP_CORK, &(int){ 1 }, sizeof(int)));
	R("write.corked", o->write(cfd, "0123456789", 10));
	o->settle();
	R("read.corked", o->read(sfd, buf, sizeof(buf)));
	R("set.uncork", o->setsockopt(cfd, IPPROTO_TCP, TCP_CORK, &(int){ 0 }, sizeof(int)));
	o->settle();
	R("read.uncorked", o->read(sfd, buf, sizeof(buf)));
	R("set.cork.again", o->setsockopt(cfd, IPPROTO_TCP, TCP_CORK, &(int){ 1 }, sizeof(int)));
	R("write.corked.again", o->write(cfd, "abc", 3));
	o->settle();
	R("read.corked.again", o->read(sfd, buf, sizeof(buf)));
	R("shutdown.corked", o->shutdown(cfd, SHUT_WR));
	o->settle();
	R("read.after_shutdown", o->read(sfd, buf, sizeof(buf)));
	R("read.eof", o->read(sfd, buf, sizeof(buf)));
	R("set.quickack", o->setsockopt(sfd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 }, sizeof(int)));
	close3(o, lfd, cfd, sfd);
}

const struct sem_test sem_tests[] = {
	{ "refused", t_refused, AF_INET, 0 },
	{ "refused6", t_refused, AF_INET6, 0 },
	{ "reset", t_reset, AF_INET, 0 },
	{ "reset6", t_reset, AF_INET6, 0 },
	{ "reset_unread", t_reset_unread, AF_INET, 0 },
	{ "half_close", t_half_close, AF_INET, 0 },
	{ "half_close6", t_half_close, AF_INET6, 0 },
	{ "shut_rd", t_shut_rd, AF_INET, 0 },
	{ "read_after_fin", t_read_after_fin, AF_INET, 0 },
	{ "eagain", t_eagain, AF_INET, 0 },
	{ "full_sndbuf", t_full_sndbuf, AF_INET, 0 },
	{ "edge_starvation", t_edge_starvation, AF_INET, 0 },
	{ "level", t_level, AF_INET, 0 },
	{ "oneshot", t_oneshot, AF_INET, 0 },
	{ "listen_epollin", t_listen_epollin, AF_INET, 0 },
	{ "listen_epollin6", t_listen_epollin, AF_INET6, 0 },
	{ "backlog", t_backlog, AF_INET, 0 },
	{ "backlog6", t_backlog, AF_INET6, 0 },
	{ "connect_states", t_connect_states, AF_INET, 0 },
	{ "bind_errors", t_bind_errors, AF_INET, 0 },
	{ "bind_errors6", t_bind_errors, AF_INET6, 0 },
	{ "socket_errors", t_socket_errors, AF_INET, 0 },
	{ "enotconn", t_enotconn, AF_INET, 0 },
	{ "enotconn6", t_enotconn, AF_INET6, 0 },
	{ "ebadf", t_ebadf, AF_INET, 0 },
	{ "options", t_options, AF_INET, 0 },
	{ "names", t_names, AF_INET, 0 },
	{ "names6", t_names, AF_INET6, 0 },
	{ "fionread", t_fionread, AF_INET, 0 },
	{ "echo", t_echo, AF_INET, 0 },
	{ "echo6", t_echo, AF_INET6, 0 },
	{ "udp_boundaries", t_udp_boundaries, AF_INET, 1 },
	{ "udp_boundaries6", t_udp_boundaries, AF_INET6, 1 },
	{ "udp_connected", t_udp_connected, AF_INET, 1 },
	{ "udp_connected6", t_udp_connected, AF_INET6, 1 },
	{ "udp_refused", t_udp_refused, AF_INET, 1 },
	{ "udp_refused6", t_udp_refused, AF_INET6, 1 },
	{ "msg", t_msg, AF_INET, 0 },
	{ "msg6", t_msg, AF_INET6, 0 },
	{ "udp_msg", t_udp_msg, AF_INET, 1 },
	{ "udp_msg6", t_udp_msg, AF_INET6, 1 },
	{ "v6only", t_v6only, AF_INET6, 0 },
	{ "timeouts", t_timeouts, AF_INET, 0 },
	{ "syn_timeout", t_syn_timeout, AF_INET, 0 },
	{ "null_bufs", t_null_bufs, AF_INET, 0 },
	{ "null_bufs_udp", t_null_bufs_udp, AF_INET, 1 },
	{ "null_bufs_udp6", t_null_bufs_udp, AF_INET6, 1 },
	{ "lengths", t_lengths, AF_INET, 0 },
	{ "accept_addr", t_accept_addr, AF_INET, 0 },
	{ "bad_args", t_bad_args, AF_INET, 0 },
	{ "bad_args6", t_bad_args, AF_INET6, 0 },
	{ "huge_timeouts", t_huge_timeouts, AF_INET, 0 },
	{ "sockopts_item4", t_sockopts_item4, AF_INET, 0 },
	{ "sockopts_item4_6", t_sockopts_item4, AF_INET6, 0 },
	{ "cork", t_cork, AF_INET, 0 },
};
const size_t sem_ntests = sizeof(sem_tests) / sizeof(sem_tests[0]);
