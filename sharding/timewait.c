/* timewait.c - the per-shard TIME-WAIT housekeeping: compact records settled and expired, and the cap ([stack] max_time_wait).
 *
 * A closed connection in TIME-WAIT is kept as a compact record of 120
 * bytes (a 128-byte block of the shard heap) in the connection table
 * (lwip-port/tcp_table_tw.c), not as a whole PCB (~530 bytes with its
 * nodes), and lookups find it by 4-tuple in O(1) like any connection: so
 * many TIME-WAIT connections cost little memory and no time per lookup.
 * Every 10 ms the shard calls mlw__tw_trim(): PCBs closed after they
 * entered TIME-WAIT become records, records that have waited 2 * TCP_MSL
 * (60 s) end, and the shard keeps at most max_time_wait TIME-WAIT
 * connections (PCBs and records), ending the oldest first, so a burst of
 * closes can exceed the cap by what 10 ms brings, never for longer.
 *
 * The cap is a safety limit on memory, as Linux's
 * net.ipv4.tcp_max_tw_buckets (which Linux sizes from memory: 131072 on a
 * 4 GiB machine, ending new TIME-WAIT sockets beyond it, where this ends
 * the oldest). The default, 131072 per shard, is 16 MiB of records. Ending
 * a TIME-WAIT early sends nothing and calls no callback; the cost is
 * TIME-WAIT's protection for that 4-tuple: a retransmitted FIN is answered
 * with RST, and a SYN with an older sequence number or timestamp, which
 * TIME-WAIT would answer with an ACK, opens a new connection (an old
 * duplicate could reach it).
 *
 * The peer itself may end a TIME-WAIT sooner, as on Linux
 * (lwip-port/tcp_tw.c): a SYN with a newer sequence number or timestamp
 * goes to the listener, a reset with the expected sequence number ends it.
 * connect() reuses a 4-tuple that has been in TIME-WAIT for 1 s when its
 * search meets it (sharding/connect.c, as net.ipv4.tcp_tw_reuse=1).
 */
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "mlw_tcp_table.h"
#include "stack_private.h"

/* Records (oldest first) and lwIP's TIME-WAIT list (newest to oldest; the
 * table keeps its tail) are each in time order: the trim drops the older
 * of their oldest. A pass under the cap with nothing to expire costs a
 * few comparisons. */
unsigned mlw__tw_trim(struct mlw_shard *sh)
{
	unsigned max = sh->stack->p.max_time_wait, dropped = 0;

	mlw__tcp_table_tw_settle();
	while (mlw__tcp_table_tw_count() > max && mlw__tcp_table_tw_drop_oldest())
		dropped++;
	sh->stats.tcp_tw_dropped += dropped;
	return dropped;
}
