/* telemetry_none.c - the stack's telemetry hooks in a build without DPDK: there is no DPDK telemetry socket to register commands on, so nothing is served (mlwip-stat needs the DPDK build; docs/engine.md plans a socket of mlwip's own). */
#include "stack_private.h"

int mlw__telemetry_start(struct mlw_stack *st)
{
	(void)st;
	return 0;
}

void mlw__telemetry_stop(struct mlw_stack *st)
{
	(void)st;
}
