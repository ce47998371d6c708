/* mlw_lwip_hooks.h - lwIP hook declarations (included by lwIP via LWIP_HOOK_FILENAME). */
#ifndef MLW_LWIP_HOOKS_H
#define MLW_LWIP_HOOKS_H

#include "lwip/ip_addr.h"

u32_t mlw__tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		   const ip_addr_t *remote_ip, u16_t remote_port);
#define LWIP_HOOK_TCP_ISN(lip, lport, rip, rport) mlw__tcp_isn(lip, lport, rip, rport)

#endif /* MLW_LWIP_HOOKS_H */
