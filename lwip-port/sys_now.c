/* sys_now.c - lwIP's millisecond clock, from CLOCK_MONOTONIC (vDSO: no system call). */
#include <time.h>

#include "lwip/sys.h"

u32_t sys_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* lwIP compares times with wrap-around arithmetic, so truncating to
	 * 32 bits is what it expects. */
	return (u32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}
