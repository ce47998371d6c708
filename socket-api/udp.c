/* udp.c - UDP sockets on lwIP's raw API: a bounded queue of whole datagrams per socket, sendto/recvfrom with Linux's truncation.
 *
 * udp_input -> on_dgram (queue the pbuf chain with its source, or drop it
 * when the queue is full, as a full socket buffer drops on Linux) ->
 * mlw__sock_notify. mlw__udp_recv copies one datagram into the caller's
 * vectors and discards what did not fit; mlw__udp_send gathers the vectors
 * into one pbuf and hands it to udp_sendto at once (no batching: a
 * datagram is complete when the call returns).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>

#include "lwip/ip.h"
#include "lwip/udp.h"
#include "mlw_lwip_hooks.h"

#include "mlwip/alloc.h"
#include "mlwip/socket.h"
#include "sock_private.h"

/* Receive queue bounds: whichever is reached first drops new datagrams. */
#define DGRAM_QUEUE_MAX 512
#define DGRAM_QUEUE_BYTES (1024 * 1024)
/* Linux's limit for an IPv4 UDP payload (65535 - 20 - 8). */
#define DGRAM_MAX 65507

struct mlw__dgram {
	struct mlw__dgram *next;
	struct pbuf *p;
	ip_addr_t addr;
	u16_t port;
};

static void dq_pop(struct mlw__sock *s)
{
	struct mlw__dgram *d = s->dqh;

	s->dqh = d->next;
	if (s->dqh == NULL)
		s->dqt = NULL;
	s->dq_n--;
	s->dq_bytes -= d->p->tot_len;
	pbuf_free(d->p);
	mlw_alloc_free(d);
}

static void on_dgram(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		     u16_t port)
{
	struct mlw__sock *s = arg;
	struct mlw__dgram *d;

	(void)pcb;
	if (s->rd_shut || s->dq_n >= DGRAM_QUEUE_MAX ||
	    s->dq_bytes + p->tot_len > DGRAM_QUEUE_BYTES ||
	    (d = mlw_alloc_calloc(1, sizeof(*d))) == NULL) {
		pbuf_free(p);
		return;
	}
	d->p = p;
	ip_addr_copy(d->addr, *addr);
	d->port = port;
	if (s->dqt != NULL)
		s->dqt->next = d;
	else
		s->dqh = d;
	s->dqt = d;
	s->dq_n++;
	s->dq_bytes += p->tot_len;
	mlw__sock_notify(s);
}

int mlw__udp_socket(int domain, bool nonblock)
{
	struct mlw__sock *s = mlw_alloc_calloc(1, sizeof(*s));
	int fd;

	if (s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	mlw__sock_init(s, MLW__KIND_UDP, domain);
	s->nonblock = nonblock;
	s->upcb = udp_new_ip_type(domain == AF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_ANY);
	if (s->upcb == NULL) {
		mlw_alloc_free(s);
		errno = ENOMEM;
		return -1;
	}
	udp_recv(s->upcb, on_dgram, s);
	fd = mlw__fd_alloc(&s->f);
	if (fd < 0)
		mlw__udp_free(s);
	return fd;
}

void mlw__udp_free(struct mlw__sock *s)
{
	mlw__sock_unwatch(s);
	if (s->upcb != NULL)
		udp_remove(s->upcb);
	while (s->dqh != NULL)
		dq_pop(s);
	mlw_alloc_free(s);
}

static bool udp_connected(const struct mlw__sock *s)
{
	return (udp_flags(s->upcb) & UDP_FLAGS_CONNECTED) != 0;
}

/* An ICMP error about a datagram this shard sent (lwip-port/icmp_err.c
 * decided it is one Linux reports). As Linux without IP_RECVERR: only a
 * connected socket hears of it, and the next recv, send or SO_ERROR
 * reports it once; epoll shows EPOLLERR until then. */
void mlw__udp_icmp_error(const ip_addr_t *local, u16_t local_port, const ip_addr_t *remote,
			 u16_t remote_port, int err)
{
	struct udp_pcb *pcb;

	for (pcb = udp_pcbs; pcb != NULL; pcb = pcb->next) {
		struct mlw__sock *s = pcb->recv_arg;

		if (pcb->recv != on_dgram || !(udp_flags(pcb) & UDP_FLAGS_CONNECTED) ||
		    pcb->local_port != local_port || pcb->remote_port != remote_port ||
		    !ip_addr_cmp_zoneless(&pcb->remote_ip, remote) ||
		    (!ip_addr_isany(&pcb->local_ip) && !ip_addr_cmp_zoneless(&pcb->local_ip, local)))
			continue;
		s->so_error = err;
		mlw__sock_notify(s);
		return;
	}
}

int mlw__udp_bind(struct mlw__sock *s, const struct sockaddr *addr, socklen_t len)
{
	ip_addr_t ip;
	u16_t port;
	err_t err;
	int e;

	/* As Linux: a socket bound (explicitly, or by sending) stays so. */
	if (s->upcb->local_port != 0) {
		errno = EINVAL;
		return -1;
	}
	e = mlw__sock_addr(s->family, s->v6only, addr, len, &ip, &port);
	if (e == ENETUNREACH)
		e = EINVAL;	/* Linux: binding a v6-only socket to a v4-mapped address */
	if (e == 0 && !mlw__ip_is_local(&ip))
		e = EADDRNOTAVAIL;
	if (e != 0) {
		errno = e;
		return -1;
	}
	err = udp_bind(s->upcb, &ip, port);
	if (err != ERR_OK) {
		errno = mlw__errno_from_err(err);
		return -1;
	}
	s->state = MLW__S_BOUND;
	return 0;
}

int mlw__udp_connect(struct mlw__sock *s, const struct sockaddr *addr, socklen_t len)
{
	ip_addr_t ip;
	u16_t port;
	err_t err;
	int e;

	/* AF_UNSPEC dissolves the association, as on Linux. */
	if (addr != NULL && len >= (socklen_t)sizeof(sa_family_t) &&
	    len <= (socklen_t)sizeof(struct sockaddr_storage) && addr->sa_family == AF_UNSPEC) {
		udp_disconnect(s->upcb);
		return 0;
	}
	e = mlw__sock_addr(s->family, s->v6only, addr, len, &ip, &port);
	if (e != 0) {
		errno = e;
		return -1;
	}
	err = udp_connect(s->upcb, &ip, port);
	if (err != ERR_OK) {
		errno = mlw__errno_from_err(err);
		return -1;
	}
	return 0;
}

ssize_t mlw__udp_send(struct mlw__sock *s, const struct iovec *iov, int iovcnt, int flags,
		      const struct sockaddr *to, socklen_t tolen)
{
	size_t total = 0, off = 0;
	struct pbuf *p;
	ip_addr_t ip;
	u16_t port;
	err_t err;

	/* Linux's UDP ignores flags it does not know, and IPv4's refuses
	 * MSG_OOB (IPv6's takes it; to a v4-mapped address it is IPv4's,
	 * see below); MSG_MORE (corking) is not supported here. */
	if ((flags & MSG_MORE) || ((flags & MSG_OOB) && s->family == AF_INET)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (s->so_error != 0) {
		errno = mlw__sock_take_error(s);	/* and nothing is sent, as on Linux */
		return -1;
	}
	if (s->wr_shut) {
		errno = EPIPE;
		return -1;
	}
	if (to != NULL) {
		int e = mlw__sock_addr(s->family, s->v6only, to, tolen, &ip, &port);

		if (e == 0 && port == 0)
			e = EINVAL;	/* as Linux's udp_sendmsg */
		if (e != 0) {
			errno = e;
			return -1;
		}
	} else if (!udp_connected(s)) {
		errno = EDESTADDRREQ;
		return -1;
	} else {
		ip_addr_copy(ip, s->upcb->remote_ip);
		port = s->upcb->remote_port;
	}
	if ((flags & MSG_OOB) && IP_IS_V4(&ip)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (iovcnt < 0 || iovcnt > 1024) {
		errno = EINVAL;
		return -1;
	}
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total > DGRAM_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (mlw__iov_faults(iov, iovcnt, total)) {
		errno = EFAULT;	/* Linux's copy into the datagram faults */
		return -1;
	}
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)total, PBUF_RAM);
	if (p == NULL) {
		errno = ENOBUFS;
		return -1;
	}
	for (int i = 0; i < iovcnt; i++) {
		pbuf_take_at(p, iov[i].iov_base, (u16_t)iov[i].iov_len, (u16_t)off);
		off += iov[i].iov_len;
	}
	err = udp_sendto(s->upcb, p, &ip, port);
	pbuf_free(p);
	if (err != ERR_OK) {
		/* ERR_VAL: the pcb's family cannot reach this address. */
		errno = err == ERR_VAL ? EAFNOSUPPORT : err == ERR_MEM ? ENOBUFS
						    : mlw__errno_from_err(err);
		return -1;
	}
	return (ssize_t)total;
}

ssize_t mlw__udp_recv(struct mlw__sock *s, const struct iovec *iov, int iovcnt, int flags,
		      struct sockaddr *from, socklen_t *fromlen, int *msg_flags)
{
	struct mlw__dgram *d;
	uint64_t deadline = 0;
	unsigned idle = 0;
	size_t off = 0;

	/* Linux's UDP ignores flags it does not know; its error queue is
	 * always empty here (no IP_RECVERR). */
	if (flags & MSG_ERRQUEUE) {
		errno = EAGAIN;
		return -1;
	}
	/* As Linux's __skb_recv_udp: a pending error comes before the data. */
	while (s->so_error != 0 || s->dqh == NULL) {
		if (s->so_error != 0) {
			errno = mlw__sock_take_error(s);
			return -1;
		}
		if (s->rd_shut)
			return 0;
		if (s->nonblock || (flags & MSG_DONTWAIT)) {
			errno = EAGAIN;
			return -1;
		}
		if (deadline == 0)
			deadline = mlw__deadline(s->rcvtimeo_us);
		if (mlw__wait_once(&idle, deadline) < 0)
			return -1;
	}
	d = s->dqh;
	/* A copy through a NULL buffer faults: EFAULT, and the datagram is
	 * gone unless peeked, as with Linux's udp_recvmsg. */
	{
		size_t total = 0;

		for (int i = 0; i < iovcnt; i++)
			total += iov[i].iov_len;
		if (mlw__iov_faults(iov, iovcnt, total < d->p->tot_len ? total : d->p->tot_len)) {
			if (!(flags & MSG_PEEK))
				dq_pop(s);
			errno = EFAULT;
			return -1;
		}
	}
	for (int i = 0; i < iovcnt && off < d->p->tot_len; i++) {
		size_t n = d->p->tot_len - off;

		if (n > iov[i].iov_len)
			n = iov[i].iov_len;
		pbuf_copy_partial(d->p, iov[i].iov_base, (u16_t)n, (u16_t)off);
		off += n;
	}
	if (from != NULL && fromlen != NULL)
		mlw__ip_to_sockaddr(s->family, &d->addr, d->port, from, fromlen);
	if (msg_flags != NULL && off < d->p->tot_len)
		*msg_flags |= MSG_TRUNC;	/* recvmsg: part was discarded */
	/* MSG_TRUNC: the datagram's real length, as Linux's udp_recvmsg. */
	if (flags & MSG_TRUNC)
		off = d->p->tot_len;
	if (!(flags & MSG_PEEK))
		dq_pop(s);	/* what did not fit is discarded */
	return (ssize_t)off;
}

int mlw__udp_shutdown(struct mlw__sock *s, int how)
{
	if (!udp_connected(s)) {
		errno = ENOTCONN;
		return -1;
	}
	if (how != SHUT_WR)
		s->rd_shut = true;
	if (how != SHUT_RD)
		s->wr_shut = true;
	mlw__sock_notify(s);
	return 0;
}

int mlw__udp_name(struct mlw__sock *s, bool peer, struct sockaddr *addr, socklen_t *len)
{
	if (!peer) {
		mlw__ip_to_sockaddr(s->family, &s->upcb->local_ip, s->upcb->local_port, addr, len);
		return 0;
	}
	if (!udp_connected(s)) {
		errno = ENOTCONN;
		return -1;
	}
	mlw__ip_to_sockaddr(s->family, &s->upcb->remote_ip, s->upcb->remote_port, addr, len);
	return 0;
}

/* As Linux's datagram_poll for UDP: always writable. */
uint32_t mlw__udp_events(const struct mlw__sock *s)
{
	uint32_t m = EPOLLOUT;

	if (s->so_error != 0)
		m |= EPOLLERR;
	if (s->dqh != NULL || s->rd_shut)
		m |= EPOLLIN;
	if (s->rd_shut)
		m |= EPOLLRDHUP;
	if (s->rd_shut && s->wr_shut)
		m |= EPOLLHUP;
	return m;
}

/* FIONREAD on UDP: the size of the next datagram (Linux's SIOCINQ). */
int mlw__udp_fionread(const struct mlw__sock *s)
{
	return s->dqh != NULL ? s->dqh->p->tot_len : 0;
}

/* sharding/conns.c (connection listing): the bytes of the datagrams a UDP
 * socket holds for the application; false for a raw-API UDP PCB. */
bool mlw__sock_udp_queue(const struct udp_pcb *pcb, uint32_t *recv_q);
bool mlw__sock_udp_queue(const struct udp_pcb *pcb, uint32_t *recv_q)
{
	const struct mlw__sock *s = pcb->recv_arg;

	if (pcb->recv != on_dgram || s == NULL)
		return false;
	*recv_q = s->dq_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)s->dq_bytes;
	return true;
}
