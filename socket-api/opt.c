/* opt.c - socket options, addresses, fcntl and ioctl. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
/* <netinet/tcp.h> defines TCP_MSS (536, an old default) as lwipopts.h
 * does (the shard's MSS): lwIP's is the one meant here. */
#undef TCP_MSS
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <sys/ioctl.h>

#include "lwip/ip.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "mlwip/socket.h"
#include "sock_private.h"

/* An accepted socket's PCB is a full tcp_pcb; a listener's is the smaller
 * tcp_pcb_listen, without flags or keepalive fields. */
static struct tcp_pcb *conn_pcb(const struct mlw__sock *s)
{
	return s->state == MLW__S_LISTEN ? NULL : s->pcb;
}

static int get_int(const void *optval, socklen_t optlen, int *v)
{
	/* Linux checks the length first, as a signed int. */
	if ((int)optlen < (int)sizeof(int))
		return EINVAL;
	if (optval == NULL)
		return EFAULT;
	memcpy(v, optval, sizeof(int));
	return 0;
}

static int set_sol_socket(struct mlw__sock *s, int name, const void *optval, socklen_t optlen)
{
	struct tcp_pcb *pcb = conn_pcb(s);
	struct linger lg;
	int v, e;

	if (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
		struct timeval tv;
		uint64_t us;

		/* As Linux's sock_set_timeout: EINVAL short, EDOM bad
		 * microseconds, zero waits forever, a negative time does not
		 * wait at all (kept as 1 us; Linux reads it back as 0). A
		 * time whose microseconds overflow 64 bits (over 584,000
		 * years) waits forever, as Linux's beyond MAX_SCHEDULE_TIMEOUT
		 * (LONG_MAX jiffies) does, and reads back as 0 as there. */
		if ((int)optlen < (int)sizeof(int))
			return EINVAL;	/* Linux reads an int first */
		if (optval == NULL)
			return EFAULT;
		if ((int)optlen < (int)sizeof(tv))
			return EINVAL;
		memcpy(&tv, optval, sizeof(tv));
		if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return EDOM;
		if (tv.tv_sec < 0)
			us = 1;
		else if ((uint64_t)tv.tv_sec >= (UINT64_MAX - 999999) / 1000000)
			us = 0;
		else
			us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
		if (name == SO_RCVTIMEO)
			s->rcvtimeo_us = us;
		else
			s->sndtimeo_us = us;
		return 0;
	}
	if (name == SO_LINGER) {
		if ((int)optlen < (int)sizeof(int))
			return EINVAL;	/* Linux reads an int first */
		if (optval == NULL)
			return EFAULT;
		if ((int)optlen < (int)sizeof(lg))
			return EINVAL;
		memcpy(&lg, optval, sizeof(lg));
		s->linger_on = lg.l_onoff != 0;
		s->linger_sec = lg.l_linger < 0 ? 0 : lg.l_linger;
		return 0;
	}
	switch (name) {
	case SO_REUSEADDR:
	case SO_REUSEPORT:
	case SO_KEEPALIVE:
	case SO_RCVBUF:
	case SO_SNDBUF:
		break;
	default:
		return ENOPROTOOPT;
	}
	e = get_int(optval, optlen, &v);
	if (e != 0)
		return e;
	switch (name) {
	case SO_REUSEADDR:
	case SO_REUSEPORT:
		/* Shards never share a PCB table, so SO_REUSEPORT across
		 * shards is implicit; within one shard both map to lwIP's
		 * SOF_REUSEADDR. */
		s->reuse = v != 0;
		if (s->upcb != NULL) {
			if (v)
				ip_set_option(s->upcb, SOF_REUSEADDR);
			else
				ip_reset_option(s->upcb, SOF_REUSEADDR);
		}
		if (s->pcb != NULL) {
			if (v)
				ip_set_option(s->pcb, SOF_REUSEADDR);
			else
				ip_reset_option(s->pcb, SOF_REUSEADDR);
		}
		break;
	case SO_KEEPALIVE:
		s->keepalive = v != 0;
		if (pcb != NULL) {
			if (v)
				ip_set_option(pcb, SOF_KEEPALIVE);
			else
				ip_reset_option(pcb, SOF_KEEPALIVE);
		}
		break;
	default:
		/* SO_RCVBUF/SO_SNDBUF: lwIP's window and send buffer are
		 * compile-time sizes; accepted and ignored. */
		break;
	}
	return 0;
}

static int set_tcp(struct mlw__sock *s, int name, const void *optval, socklen_t optlen)
{
	struct tcp_pcb *pcb = conn_pcb(s);
	int v, e;

	switch (name) {
	case TCP_NODELAY:
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
	case TCP_KEEPCNT:
	case TCP_SYNCNT:
	case TCP_MAXSEG:
		break;
	default:
		return ENOPROTOOPT;
	}
	e = get_int(optval, optlen, &v);
	if (e != 0)
		return e;
	switch (name) {
	case TCP_NODELAY:
		s->nodelay = v != 0;
		if (pcb != NULL) {
			if (v)
				tcp_nagle_disable(pcb);
			else
				tcp_nagle_enable(pcb);
			mlw__mark_dirty(s);	/* held-back data may go now */
		}
		break;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
		/* Linux's limits: 1 .. 32767 seconds. */
		if (v < 1 || v > 32767)
			return EINVAL;
		if (name == TCP_KEEPIDLE)
			s->keep_idle_ms = (uint32_t)v * 1000;
		else
			s->keep_intvl_ms = (uint32_t)v * 1000;
		if (pcb != NULL) {
			if (name == TCP_KEEPIDLE)
				pcb->keep_idle = s->keep_idle_ms;
			else
				pcb->keep_intvl = s->keep_intvl_ms;
		}
		break;
	case TCP_KEEPCNT:
		if (v < 1 || v > 127)
			return EINVAL;
		s->keep_cnt = (uint32_t)v;
		if (pcb != NULL)
			pcb->keep_cnt = s->keep_cnt;
		break;
	case TCP_MAXSEG:
		/* Linux's limits (TCP_MIN_MSS .. MAX_TCP_WINDOW; 0 clears).
		 * It caps the segments this end sends; the MSS lwIP
		 * announces in its SYN stays TCP_MSS (a compile-time size). */
		if (v != 0 && (v < 88 || v > 32767))
			return EINVAL;
		s->user_mss = (uint16_t)v;
		if (pcb != NULL && s->state == MLW__S_CONNECTED && v != 0 && v < pcb->mss)
			pcb->mss = (u16_t)v;
		break;
	case TCP_SYNCNT:
		/* Linux's MAX_TCP_SYNCNT. Takes effect at the next connect
		 * (tcp.c's SYN watch). */
		if (v < 1 || v > 127)
			return EINVAL;
		s->syn_cnt = (uint8_t)v;
		break;
	}
	return 0;
}

/* IPV6_V6ONLY, before the socket is bound (as Linux: EINVAL after). The
 * PCB's address type decides what lwIP matches: IPADDR_TYPE_ANY takes IPv4
 * and IPv6, IPADDR_TYPE_V6 only IPv6. */
static int set_ipv6(struct mlw__sock *s, int name, const void *optval, socklen_t optlen)
{
	bool bound;
	int v, e;

	if (name != IPV6_V6ONLY)
		return ENOPROTOOPT;
	e = get_int(optval, optlen, &v);
	if (e != 0)
		return e;
	bound = s->f.kind == MLW__KIND_UDP ? s->upcb->local_port != 0
					   : s->state != MLW__S_NEW || s->pcb == NULL;
	if (bound)
		return EINVAL;
	s->v6only = v != 0;
	if (s->f.kind == MLW__KIND_UDP) {
		IP_SET_TYPE_VAL(s->upcb->local_ip, mlw__pcb_type(s->family, s->v6only));
		IP_SET_TYPE_VAL(s->upcb->remote_ip, mlw__pcb_type(s->family, s->v6only));
	} else {
		IP_SET_TYPE_VAL(s->pcb->local_ip, mlw__pcb_type(s->family, s->v6only));
		IP_SET_TYPE_VAL(s->pcb->remote_ip, mlw__pcb_type(s->family, s->v6only));
	}
	return 0;
}

int mlw_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	int e;

	if (s == NULL)
		return -1;
	if (level == SOL_SOCKET)
		e = set_sol_socket(s, optname, optval, optlen);
	else if (level == IPPROTO_TCP && s->f.kind == MLW__KIND_TCP)
		e = set_tcp(s, optname, optval, optlen);
	else if (level == IPPROTO_IPV6 && s->family == AF_INET6)
		e = set_ipv6(s, optname, optval, optlen);
	else
		e = ENOPROTOOPT;
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

/* What a getsockopt returns: an int, or one of the structs. */
union opt_val {
	int i;
	struct linger lg;
	struct timeval tv;
};

/* The value of an option, or ENOPROTOOPT. */
static int get_value(struct mlw__sock *s, int level, int name, union opt_val *out, socklen_t *size)
{
	struct tcp_pcb *pcb = conn_pcb(s);
	int *v = &out->i;

	*size = sizeof(int);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_ERROR:
			*v = mlw__sock_take_error(s);
			return 0;
		case SO_TYPE:
			*v = s->f.kind == MLW__KIND_UDP ? SOCK_DGRAM : SOCK_STREAM;
			return 0;
		case SO_ACCEPTCONN:
			*v = s->state == MLW__S_LISTEN;
			return 0;
		case SO_REUSEADDR:
		case SO_REUSEPORT:
			*v = s->reuse;
			return 0;
		case SO_KEEPALIVE:
			*v = s->keepalive;
			return 0;
		case SO_RCVBUF:
			*v = TCP_WND;
			return 0;
		case SO_SNDBUF:
			*v = TCP_SND_BUF;
			return 0;
		case SO_LINGER:
			out->lg.l_onoff = s->linger_on;
			out->lg.l_linger = s->linger_sec;
			*size = sizeof(out->lg);
			return 0;
		case SO_RCVTIMEO:
		case SO_SNDTIMEO: {
			uint64_t us = name == SO_RCVTIMEO ? s->rcvtimeo_us : s->sndtimeo_us;

			out->tv.tv_sec = (time_t)(us / 1000000);
			out->tv.tv_usec = (suseconds_t)(us % 1000000);
			*size = sizeof(out->tv);
			return 0;
		}
		}
		return ENOPROTOOPT;
	}
	if (level == IPPROTO_IPV6 && s->family == AF_INET6 && name == IPV6_V6ONLY) {
		*v = s->v6only;
		return 0;
	}
	if (level == IPPROTO_TCP && s->f.kind == MLW__KIND_TCP) {
		switch (name) {
		case TCP_NODELAY:
			*v = s->nodelay;
			return 0;
		case TCP_KEEPIDLE:
			*v = (int)((pcb != NULL ? pcb->keep_idle : (s->keep_idle_ms ? s->keep_idle_ms : TCP_KEEPIDLE_DEFAULT)) / 1000);
			return 0;
		case TCP_KEEPINTVL:
			*v = (int)((pcb != NULL ? pcb->keep_intvl : (s->keep_intvl_ms ? s->keep_intvl_ms : TCP_KEEPINTVL_DEFAULT)) / 1000);
			return 0;
		case TCP_KEEPCNT:
			*v = (int)(pcb != NULL ? pcb->keep_cnt : (s->keep_cnt ? s->keep_cnt : TCP_KEEPCNT_DEFAULT));
			return 0;
		case TCP_SYNCNT:
			*v = s->syn_cnt ? s->syn_cnt : TCP_SYNMAXRTX;
			return 0;
		case TCP_MAXSEG:
			if (pcb != NULL && s->state == MLW__S_CONNECTED)
				*v = tcp_mss(pcb);
			else
				*v = s->user_mss != 0 ? s->user_mss : TCP_MSS;
			return 0;
		}
	}
	return ENOPROTOOPT;
}

int mlw_getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	union opt_val v = { 0 };
	socklen_t n;
	int e;

	if (s == NULL)
		return -1;
	if (optval == NULL || optlen == NULL) {
		errno = EFAULT;
		return -1;
	}
	if ((int)*optlen < 0) {
		errno = EINVAL;
		return -1;
	}
	e = get_value(s, level, optname, &v, &n);
	if (e != 0) {
		errno = e;
		return -1;
	}
	if (n > *optlen)
		n = *optlen;
	memcpy(optval, &v, n);
	*optlen = n;
	return 0;
}

int mlw_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);

	if (s == NULL)
		return -1;
	if (addr == NULL || addrlen == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_name(s, false, addr, addrlen);
	if (s->pcb != NULL)
		mlw__ip_to_sockaddr(s->family, &s->pcb->local_ip, s->pcb->local_port, addr, addrlen);
	else if (s->name_port != 0)
		mlw__ip_to_sockaddr(s->family, &s->name_ip, s->name_port, addr, addrlen);
	else
		mlw__ip_to_sockaddr(s->family, IP_ANY_TYPE, 0, addr, addrlen);
	return 0;
}

int mlw_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);

	if (s == NULL)
		return -1;
	if (addr == NULL || addrlen == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_name(s, true, addr, addrlen);
	if (s->pcb == NULL || s->state != MLW__S_CONNECTED) {
		errno = ENOTCONN;
		return -1;
	}
	mlw__ip_to_sockaddr(s->family, &s->pcb->remote_ip, s->pcb->remote_port, addr, addrlen);
	return 0;
}

int mlw_fcntl(int fd, int cmd, ...)
{
	struct mlw__file *f = mlw__fd_get(fd);
	struct mlw__sock *s;
	va_list ap;
	int arg;

	if (f == NULL)
		return -1;
	s = mlw__is_sock(f) ? (struct mlw__sock *)f : NULL;
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | (s != NULL && s->nonblock ? O_NONBLOCK : 0);
	case F_SETFL:
		va_start(ap, cmd);
		arg = va_arg(ap, int);
		va_end(ap);
		if (s != NULL)
			s->nonblock = (arg & O_NONBLOCK) != 0;
		return 0;
	case F_GETFD:
		return 0;
	case F_SETFD:
		return 0;
	}
	errno = EINVAL;
	return -1;
}

int mlw_ioctl(int fd, unsigned long request, ...)
{
	struct mlw__file *f = mlw__fd_get(fd);
	struct mlw__sock *s;
	va_list ap;
	int *argp;

	if (f == NULL)
		return -1;
	if (request != FIONREAD && request != FIONBIO) {
		errno = ENOTTY;
		return -1;
	}
	va_start(ap, request);
	argp = va_arg(ap, int *);
	va_end(ap);
	if (argp == NULL) {
		errno = EFAULT;
		return -1;
	}
	s = mlw__is_sock(f) ? (struct mlw__sock *)f : NULL;
	if (request == FIONBIO) {
		if (s != NULL)
			s->nonblock = *argp != 0;
		return 0;
	}
	if (s == NULL || s->state == MLW__S_LISTEN) {
		errno = EINVAL;
		return -1;
	}
	if (s->f.kind == MLW__KIND_UDP) {
		*argp = mlw__udp_fionread(s);
		return 0;
	}
	*argp = s->rx_bytes > INT32_MAX ? INT32_MAX : (int)s->rx_bytes;
	return 0;
}
