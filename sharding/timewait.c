/* timewait.c - the per-shard cap on TIME-WAIT connections ([stack] max_time_wait).
 *
 * lwIP keeps TIME-WAIT PCBs for 2 * TCP_MSL (60 s as mlwip sets it) in a linked list that
 * every connect (local port choice, tcp_bind) and every segment that matches
 * no active connection (a new SYN) walks. A host that closes first at tens
 * of thousands of connections per second keeps millions of them, and each
 * walk then misses the cache at every step: measured with crr (client
 * closes first), 16 connections in flight fell from ~46k to ~2k per second
 * once ~10k PCBs waited. Linux hashes its TIME-WAIT sockets and still caps
 * them (net.ipv4.tcp_max_tw_buckets, ending the oldest); mTCP keeps none by
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

#include "stack_private.h"

/* lwIP puts a PCB that enters TIME-WAIT at the head of tcp_tw_pcbs, so the
 * list runs from the newest to the oldest: what lies beyond the first
 * max_time_wait is the oldest. */
unsigned mlw__tw_trim(struct mlw_shard *sh)
{
	unsigned max = sh->stack->p.max_time_wait, kept = 0, dropped = 0;
	struct tcp_pcb *p = tcp_tw_pcbs, *next;

	for (; p != NULL; p = next) {
		next = p->next;
		if (kept < max) {
			kept++;
			continue;
		}
		tcp_abort(p);
		dropped++;
	}
	sh->stats.tcp_tw_dropped += dropped;
	return dropped;
}
