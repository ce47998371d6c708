/* mlw_lwip_hooks.h - lwIP hook declarations (included by lwIP via LWIP_HOOK_FILENAME). */
#ifndef MLW_LWIP_HOOKS_H
#define MLW_LWIP_HOOKS_H

#include "lwip/ip_addr.h"

u32_t mlw__tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		   const ip_addr_t *remote_ip, u16_t remote_port);
#define LWIP_HOOK_TCP_ISN(lip, lport, rip, rport) mlw__tcp_isn(lip, lport, rip, rport)

/* ICMP/ICMPv6 errors for the transport that sent the quoted datagram
 * (icmp_err.c). The inline test keeps the packet path at one byte compare;
 * the packet always continues into lwIP (the hooks return 0). */
struct pbuf;
struct netif;
int mlw__icmp4_input(struct pbuf *p, struct netif *inp);
int mlw__icmp6_input(struct pbuf *p, struct netif *inp);
#define LWIP_HOOK_IP4_INPUT(p, inp) \
	((p)->len > 9 && ((const u8_t *)(p)->payload)[9] == 1 /* ICMP */ ? mlw__icmp4_input(p, inp) : 0)
#define LWIP_HOOK_IP6_INPUT(p, inp) \
	((p)->len > 6 && ((const u8_t *)(p)->payload)[6] == 58 /* ICMPv6 */ ? mlw__icmp6_input(p, inp) : 0)

/* Receive those errors (socket-api/udp.c and tcp.c; weak no-ops in
 * icmp_err.c when the socket layer is not linked): the quoted datagram's
 * addresses and ports as seen from this host, TCP's sequence number, and
 * the errno value to report. */
void mlw__udp_icmp_error(const ip_addr_t *local, u16_t local_port, const ip_addr_t *remote,
			 u16_t remote_port, int err);
void mlw__tcp_icmp_error(const ip_addr_t *local, u16_t local_port, const ip_addr_t *remote,
			 u16_t remote_port, u32_t seq, int err);

/* TCP_MAXSEG and SO_RCVBUF in the SYN (syn_opts.c): a SYN or SYN-ACK
 * announces the socket's MSS and window when below lwIP's;
 * mlw__tcp_syn_limits() names them (socket-api/tcp.c; a weak default
 * giving 0, "none", in syn_opts.c). The inline test keeps other segments at
 * one flag compare. */
struct tcp_pcb;
struct tcp_hdr;
void mlw__tcp_syn_limits(const struct tcp_pcb *pcb, u16_t *mss, u32_t *wnd);
void mlw__tcp_syn_opts(struct tcp_pcb *pcb, struct tcp_hdr *hdr);
#define LWIP_HOOK_TCP_OUT_ADD_TCPOPTS(p, hdr, pcb, opts) \
	((TCPH_FLAGS(hdr) & TCP_SYN) ? (mlw__tcp_syn_opts(pcb, hdr), (opts)) : (opts))

#endif /* MLW_LWIP_HOOKS_H */
