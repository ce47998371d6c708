/* addr.c - struct sockaddr_in/sockaddr_in6 <-> lwIP's ip_addr_t and port, with v4-mapped addresses for AF_INET6. */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "lwip/ip6_addr.h"
#include "lwip/netif.h"

#include "sock_private.h"

/* Returns 0 or an errno value. An AF_INET6 socket takes the wildcard as
 * "any family" (dual-stack) and v4-mapped addresses as IPv4. */
int mlw__sockaddr_to_ip(int family, const struct sockaddr *sa, socklen_t len, ip_addr_t *ip,
			u16_t *port)
{
	return mlw__sock_addr(family, false, sa, len, ip, port);
}

int mlw__sock_addr(int family, bool v6only, const struct sockaddr *sa, socklen_t len,
		   ip_addr_t *ip, u16_t *port)
{
	/* As Linux: move_addr_to_kernel refuses a length outside 0..128
	 * (EINVAL) and copies the address (EFAULT), then the family checks
	 * the length it needs (EINVAL, also for NULL with length 0, which
	 * copies nothing). */
	if ((int)len < 0 || len > (socklen_t)sizeof(struct sockaddr_storage))
		return EINVAL;
	if (family == AF_INET) {
		struct sockaddr_in in;

		if (sa == NULL && len > 0)
			return EFAULT;
		if (len < (socklen_t)sizeof(in))
			return EINVAL;
		memcpy(&in, sa, sizeof(in));
		if (in.sin_family != AF_INET)
			return EAFNOSUPPORT;
		ip_addr_set_ip4_u32_val(*ip, in.sin_addr.s_addr);
		*port = lwip_ntohs(in.sin_port);
		return 0;
	}
	{
		struct sockaddr_in6 in6;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (sa == NULL && len > 0)
			return EFAULT;
		/* Linux takes the RFC 2133 size (no sin6_scope_id), 24. */
		if (len < (socklen_t)offsetof(struct sockaddr_in6, sin6_scope_id))
			return EINVAL;
		memset(&in6, 0, sizeof(in6));
		memcpy(&in6, sa, len < (socklen_t)sizeof(in6) ? len : sizeof(in6));
		if (in6.sin6_family != AF_INET6)
			return EAFNOSUPPORT;
		*port = lwip_ntohs(in6.sin6_port);
		if (memcmp(in6.sin6_addr.s6_addr, mapped, 12) == 0) {
			uint32_t a4;

			if (v6only)
				return ENETUNREACH;

			memcpy(&a4, in6.sin6_addr.s6_addr + 12, 4);
			ip_addr_set_ip4_u32_val(*ip, a4);
			return 0;
		}
		if (IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr)) {
			if (v6only)
				ip_addr_copy(*ip, *IP6_ADDR_ANY);
			else
				ip_addr_copy(*ip, *IP_ANY_TYPE);
			return 0;
		}
		memset(ip, 0, sizeof(*ip));
		memcpy(ip_2_ip6(ip)->addr, in6.sin6_addr.s6_addr, 16);
		IP_SET_TYPE(ip, IPADDR_TYPE_V6);
		ip6_addr_clear_zone(ip_2_ip6(ip));
		return 0;
	}
}

void mlw__ip_to_sockaddr(int family, const ip_addr_t *ip, u16_t port, struct sockaddr *sa,
			 socklen_t *len)
{
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t full;

	memset(&u, 0, sizeof(u));
	if (family == AF_INET) {
		u.in.sin_family = AF_INET;
		u.in.sin_port = lwip_htons(port);
		u.in.sin_addr.s_addr = IP_IS_V4(ip) ? ip4_addr_get_u32(ip_2_ip4(ip)) : 0;
		full = sizeof(u.in);
	} else {
		u.in6.sin6_family = AF_INET6;
		u.in6.sin6_port = lwip_htons(port);
		if (IP_IS_V6(ip) && !IP_IS_ANY_TYPE_VAL(*ip)) {
			memcpy(u.in6.sin6_addr.s6_addr, ip_2_ip6(ip)->addr, 16);
		} else if (IP_IS_V4(ip) && !ip4_addr_isany_val(*ip_2_ip4(ip))) {
			uint32_t a4 = ip4_addr_get_u32(ip_2_ip4(ip));

			u.in6.sin6_addr.s6_addr[10] = 0xff;
			u.in6.sin6_addr.s6_addr[11] = 0xff;
			memcpy(u.in6.sin6_addr.s6_addr + 12, &a4, 4);
		}
		full = sizeof(u.in6);
	}
	memcpy(sa, &u, *len < full ? *len : full);
	*len = full;
}

int mlw__addr_to_user(const struct sockaddr_storage *ss, socklen_t full, struct sockaddr *addr,
		      socklen_t *len)
{
	int n;

	if (len == NULL)
		return EFAULT;
	n = (int)*len;
	if (n > (int)full)
		n = (int)full;
	if (n < 0)
		return EINVAL;
	if (n > 0) {
		if (addr == NULL)
			return EFAULT;
		memcpy(addr, ss, (size_t)n);
	}
	*len = full;
	return 0;
}

/* Is @p ip the wildcard or an address of one of this shard's netifs? */
bool mlw__ip_is_local(const ip_addr_t *ip)
{
	struct netif *nif;

	if (ip_addr_isany(ip))
		return true;
	NETIF_FOREACH(nif) {
		if (IP_IS_V4(ip) && ip4_addr_cmp(ip_2_ip4(ip), netif_ip4_addr(nif)))
			return true;
		if (IP_IS_V6(ip) && netif_get_ip6_addr_match(nif, ip_2_ip6(ip)) >= 0)
			return true;
	}
	return false;
}
