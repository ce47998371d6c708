/* timewait.c - the per-shard cap on TIME-WAIT connections ([stack] max_time_wait).
 *
 * lwIP keeps TIME-WAIT PCBs for 2 * TCP_MSL (60 s here) as full PCBs on a
 * list. Before the connection table (lwip-port/tcp_table.c) every connect
 * (local port choice, tcp_bind) and every segment that matched no active
 * connection (a new SYN) walked that list: measured with crr (client
 * closes first), 16 connections in flight fell from ~46k to ~2k per second
 * once ~10k PCBs waited. Lookups no longer walk it, but each PCB still
 * holds its memory. Linux caps its TIME-WAIT sockets too
 * (net.ipv4.tcp_max_tw_buckets, ending the oldest); mTCP keeps none by
 * default. Here each shard keeps at most max_time_wait: the shard trims the
 * list every 10 ms (so a burst of closes can exceed the cap by what 10 ms
 * brings, never for longer).
 *
 * tcp_abort() of a TIME-WAIT PCB sends nothing and calls no callback: the
 * PCB just goes. The cost is TIME-WAIT's protection for that 4-tuple: a
 * retransmitted FIN is answered with RST, and a SYN with an older sequence
 * number or timestamp, which TIME-WAIT would answer with an ACK, opens a
 * new connection (an old duplicate could reach it).
 *
 * The peer itself may end a TIME-WAIT sooner, as on Linux
 * (lwip-port/tcp_tw.c): a SYN with a newer sequence number or timestamp
 * goes to the listener, a reset with the expected sequence number ends it.
 */
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "mlw_tcp_table.h"
#include "stack_private.h"

/* lwIP puts a PCB that enters TIME-WAIT at the head of tcp_tw_pcbs and the
 * connection table never reorders it, so the list runs from the newest to
 * the oldest: the table counts it and keeps its tail, and the trim drops
 * from there. A pass under the cap costs one comparison. */
unsigned mlw__tw_trim(struct mlw_shard *sh)
{
	unsigned max = sh->stack->p.max_time_wait, dropped = 0;
	struct tcp_pcb *p;

	while (mlw__tcp_table_tw_count() > max && (p = mlw__tcp_table_tw_oldest()) != NULL) {
		tcp_abort(p);
		dropped++;
	}
	sh->stats.tcp_tw_dropped += dropped;
	return dropped;
}
