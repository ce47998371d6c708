/* teardown.c - end of a shard's lwIP: remove its timeouts (lwIP has no deinit). */
#include "lwip/timeouts.h"
#include "mlwip/lwip_shard.h"

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
