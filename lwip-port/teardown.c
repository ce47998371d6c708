/* teardown.c - end of a shard's lwIP: loopback queue, netifs, pending fragments and timeouts (lwIP has no deinit). */
#include "lwip/ip4_frag.h"
#include "lwip/ip6_frag.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "mlwip/lwip_shard.h"
#include "mlw_lwip_hooks.h"
#include "mlw_tcp_table.h"

#if !LWIP_TESTMODE
#error "lwipopts.h must set LWIP_TESTMODE: it exports the timeout list this file walks"
#endif

int mlw_lwip_timers_clear(void)
{
	struct sys_timeo **head = sys_timeouts_get_next_timeout();
	int n = 0;

	/* sys_untimeout() removes the first entry with this handler and
	 * argument, which is the head itself, so the loop always advances. */
	while (*head != NULL) {
		sys_untimeout((*head)->h, (*head)->arg);
		n++;
	}
	return n;
}

int mlw_lwip_teardown(void)
{
	/* Frames sent to the instance's own addresses wait on their netif's
	 * loopback queue until netif_poll(); netif_remove() does not free them
	 * (lwIP's ND timer sends such frames to ::1 after about a second). */
#if LWIP_NETIF_LOOPBACK && !LWIP_NETIF_LOOPBACK_MULTITHREADING
	netif_poll_all();
#endif
	/* Then every netif, the loopback one lwip_init() added included:
	 * multicast memberships are freed only by netif_remove(). */
	while (netif_list != NULL)
		netif_remove(netif_list);
	/* Fragments waiting for the rest of their datagram: age them out, as
	 * their timers would (with no netif left, the "time exceeded" lwIP
	 * would send for a first fragment goes nowhere). */
#if IP_REASSEMBLY
	for (int i = 0; i <= IP_REASS_MAXAGE; i++)
		ip_reass_tmr();
#endif
#if LWIP_IPV6 && LWIP_IPV6_REASS
	for (int i = 0; i <= IPV6_REASS_MAXAGE; i++)
		ip6_reass_tmr();
#endif
	mlw__tcp_timer_fini();
	mlw__tcp_table_fini();
	return mlw_lwip_timers_clear();
}
