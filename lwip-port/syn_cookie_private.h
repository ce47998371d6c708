/* syn_cookie_private.h - SYN cookies for lwIP's listeners (syn_cookie.c): called from input_guard.c (segments for a listener) and isn.c (the ISN of a connection a cookie completes). */
#ifndef MLW_SYN_COOKIE_PRIVATE_H
#define MLW_SYN_COOKIE_PRIVATE_H

#include <stdbool.h>

#include "lwip/arch.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"

struct tcp_pcb;
struct tcp_hdr;
struct pbuf;
struct mlw__tcp_opts;

/* A segment for the listener @p lpcb, options checked (input_guard.c).
 * ERR_OK: lwIP's tcp_listen_input() has it. ERR_ABRT: answered here (a
 * SYN got a cookie SYN-ACK, an ACK carrying a valid cookie became a
 * connection) or dropped; lwIP frees it. */
err_t mlw__syn_cookie_listen(struct tcp_pcb *lpcb, struct tcp_hdr *hdr,
			     const struct mlw__tcp_opts *o, struct pbuf *p);

/* While a cookie's connection is created, the ISN lwIP asks for (isn.c):
 * true and *@p iss set then; @p local_ip is &pcb->local_ip of the new PCB. */
bool mlw__syn_cookie_iss(const ip_addr_t *local_ip, u32_t *iss);

#endif
