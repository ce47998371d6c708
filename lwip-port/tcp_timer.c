/* tcp_timer.c - TCP timers per connection on a timing wheel: RTO, persist, keepalive, delayed ACK, state timeouts and poll, each due to the millisecond, at a cost per tick that does not grow with the number of connections.
 *
 * lwIP drives all of these from tcp_tmr(): every TCP_TMR_INTERVAL ms it
 * walks every active and TIME-WAIT connection, counting ticks in each
 * (pcb->rtime, persist_cnt, polltmr). At lwIP's 250/500 ms that makes the
 * initial RTO 3 s, the minimum ~1.5 s and a delayed ACK up to 250 ms; at
 * the few milliseconds Linux-grade timing needs, the walk over 10^5
 * connections would cost a core. Here lwIP's tcp_tmr() is replaced at link
 * time (-Wl,--wrap=tcp_tmr, lwip-port/CMakeLists.txt; lwIP's source stays
 * pristine) by mlw__tcp_timer_tick(), and each connection carries a small
 * node (an lwIP ext arg) on a wheel of 1 ms slots, due when its nearest
 * timer is.
 *
 * Call chain:
 *   segment in  (LWIP_HOOK_TCP_INPACKET_PCB) -> mlw__tcp_touch(pcb)
 *   segment out (LWIP_HOOK_TCP_OUT_ADD_TCPOPTS) -> mlw__tcp_touch(pcb)
 *   a touch adds the node to the shard's touched array (the node stays
 *   where it is on the wheel); at the start of the shard's next pass, or
 *   at the next tick, mlw__tcp_timer_settle() -> arm(): reads what lwIP changed
 *   (retransmission timer restarted, persist started, delayed ACK wanted,
 *   state) and records the nearest deadline in the node. The node moves
 *   to that deadline's slot only if its slot would fire too late; if it
 *   fires earlier, fire_slot() sees the deadline still ahead and moves it
 *   then. A request/response connection restarts its retransmission
 *   timer with every segment, each time a little later: moved at every
 *   touch, its node (and its two neighbours in the slot's list, other
 *   connections' nodes, cold at 10^4 connections) would be written per
 *   segment; this way it moves about once per RTO.
 *   lwIP's TCP timer (every TCP_TMR_INTERVAL while connections exist)
 *   -> __wrap_tcp_tmr -> mlw__tcp_timer_tick(): advance tcp_ticks, settle,
 *   then fire() the nodes of every slot up to now -> expire() does what
 *   is due for that one connection and arm() places it again.
 *
 * Times are sys_now() milliseconds, which truncates: a timer started
 * during millisecond t counts from t + 1, so it never ends early.
 *
 * What lwIP's counters become: pcb->rtime is kept at -1 (stopped), 0
 * (lwIP just started or restarted it) or 1 (running, seen here): the time
 * it started is the node's. persist_cnt is 0 when lwIP (re)starts persist
 * and 1 once seen. tcp_ticks (lwIP's clock for pcb->tmr, RTT samples and
 * so for pcb->rto) advances with sys_now(), in TCP_SLOW_INTERVAL units.
 *
 * Behaviour, as Linux where lwIP differs (each a setting in lwipopts.h):
 *  - RTO: lwIP's estimate (pcb->sa, pcb->sv) clamped to MLW_TCP_RTO_MIN_MS
 *    .. MLW_TCP_RTO_MAX_MS; the first RTO without a sample is
 *    MLW_TCP_RTO_INIT_MS. It doubles on every timeout, SYNs included
 *    (lwIP keeps a SYN's fixed), up to the maximum. The connection ends
 *    when the RTO expires after the last allowed retransmission
 *    (TCP_MAXRTX, or TCP_SYNMAXRTX / the socket's TCP_SYNCNT for a SYN),
 *    as Linux's tcp_write_timeout(); lwIP ended it at the next tick.
 *  - Persist: the first probe one RTO after the window closed, then
 *    doubling to MLW_TCP_RTO_MAX_MS (lwIP: a fixed table of ticks).
 *  - Delayed ACK: sent MLW_TCP_DELACK_MS after the data (lwIP: next fast
 *    tick). The socket layer ACKs at the end of each pass anyway; this is
 *    for raw-API applications.
 *  - Poll callbacks (tcp_poll): every interval x 500 ms, lwIP's documented
 *    unit, whatever TCP_TMR_INTERVAL is.
 *  - Initial window: raised to RFC 6928's when the connection is
 *    established (lwIP 2.1.3 and 2.2.1 fix RFC 5681's three segments in
 *    tcp_in.c with no option to change it).
 *
 * Cost: a touch is a pointer move; an armed connection sits in one slot.
 * Deadlines further than MLW_TT_SLOTS ms away are capped, so an idle
 * connection is looked at once every ~4 s (one visit, nothing done) - the
 * only cost that grows with the number of connections, 1/4096 of them per
 * millisecond. That visit also repairs any state change that reached no
 * touch (a raw-API application that sets SOF_KEEPALIVE on an idle
 * connection).
 */
#include <stdbool.h>
#include <string.h>

#include "lwip/opt.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "mlw_lwip_hooks.h"
#include "mlw_syn_cookie.h"
#include "tcp_recovery_private.h"

#if LWIP_TCP_PCB_NUM_EXT_ARGS < 1
#error "lwipopts.h must give TCP PCBs an ext arg slot (LWIP_TCP_PCB_NUM_EXT_ARGS) for their timers"
#endif
#if !LWIP_CALLBACK_API
#error "tcp_timer.c calls poll callbacks directly (LWIP_CALLBACK_API)"
#endif

#define MLW_TT_SLOTS 4096u		/* 1 ms each: the horizon, ~4 s */
#define MLW_TT_RETRY_MS 10u		/* refused data, a pending FIN, a failed probe */
#define MLW_TT_POLL_UNIT_MS 500u	/* tcp_poll()'s interval unit */

enum { TT_NONE, TT_WHEEL, TT_FIRING };

/* 48 bytes: with the shard heap's 16-byte block header, one cache line. */
struct tt_node {
	struct tcp_pcb *pcb;		/* NULL: the PCB is gone, the node waits in touched[] to be freed */
	struct tt_node *next, **pprev;	/* the list named by where */
	u32_t due;			/* ms, sys_now(): the nearest deadline, valid on the wheel */
	u32_t rto_t0;			/* when the retransmission timer started */
	u32_t persist_t0;		/* when the current persist interval started */
	u32_t poll_t0;			/* the last poll */
	u32_t delack_t0;		/* when a delayed ACK was first seen wanted */
	u32_t slot : 12;		/* the wheel slot it is in (due or earlier) */
	u32_t where : 2;
	u32_t touched : 1;		/* in tt->touched[] */
	u32_t delack : 1;		/* delack_t0 is valid */
	u32_t backoff : 5;		/* RTO timeouts since the last ACK of new data (<= 16) */
	u32_t state : 4;		/* pcb->state at the last arm() */
};

_Static_assert(MLW_TT_SLOTS == 1u << 12, "tt_node.slot holds a slot number");

struct tt_shard {
	struct tt_node *slot[MLW_TT_SLOTS];
	/* Nodes touched since the last settle, in touch order (shard heap,
	 * grown by doubling, kept until the shard ends). */
	struct tt_node **touched;
	u32_t ntouched, touched_cap;
	struct tt_node *firing;
	struct tt_node *running;	/* in expire() */
	bool gone;			/* running's PCB was freed */
	bool started;
	u32_t wheel_ms;			/* slots up to this are done */
	u32_t tick_ms;			/* tcp_ticks counts from here */
	struct mlw_tcp_timer_stats st;
};

/* The shard's wheel: thread-local, static (32 KiB of slots, never taken
 * from the heap on the packet path). The ext arg index is the thread's
 * for good: lwIP hands out a new one per call and never takes one back. */
static _Thread_local struct tt_shard tt_s;
static _Thread_local int tt_id = -1;
#define tt (&tt_s)

static void tt_destroy(u8_t id, void *data);
static const struct tcp_ext_arg_callbacks tt_callbacks = { .destroy = tt_destroy };

__attribute__((weak)) u8_t mlw__tcp_syn_retries(const struct tcp_pcb *pcb)
{
	(void)pcb;
	return TCP_SYNMAXRTX;
}

/* ---- lists ---- */

static void unlink_node(struct tt_node *n)
{
	if (n->pprev != NULL) {
		*n->pprev = n->next;
		if (n->next != NULL)
			n->next->pprev = n->pprev;
	}
	n->next = NULL;
	n->pprev = NULL;
	n->where = TT_NONE;
}

static void push(struct tt_node **head, struct tt_node *n, u8_t where)
{
	n->next = *head;
	if (n->next != NULL)
		n->next->pprev = &n->next;
	n->pprev = head;
	*head = n;
	n->where = where;
}

static void push_slot(struct tt_node *n, u32_t ms)
{
	n->slot = ms % MLW_TT_SLOTS;
	push(&tt->slot[ms % MLW_TT_SLOTS], n, TT_WHEEL);
}

/* The millisecond at which the wheel next visits the node's slot. */
static u32_t slot_visit(const struct tt_node *n)
{
	u32_t first = tt->wheel_ms + 1;

	return first + ((n->slot - first) & (MLW_TT_SLOTS - 1));
}

/* ---- the shard's state ---- */

/* The wheel starts at the first touch or tick of a run. */
static bool ready(void)
{
	if (tt_id < 0)
		tt_id = tcp_ext_arg_alloc_id();
	if (tt_id >= LWIP_TCP_PCB_NUM_EXT_ARGS)
		return false;
	if (!tt->started) {
		tt->wheel_ms = tt->tick_ms = sys_now();
		tt->started = true;
	}
	return true;
}

static void tt_destroy(u8_t id, void *data)
{
	struct tt_node *n = data;

	(void)id;
	if (n == NULL)
		return;
	if (tt->running == n)
		tt->gone = true;
	unlink_node(n);
	if (n->touched) {
		n->pcb = NULL;	/* freed by the next settle */
		return;
	}
	mlw__lwip_free(n);
}

/* ---- time ---- */

static u32_t ms_clamp(u32_t v, u32_t lo, u32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* lwIP's RTO estimate, (sa >> 3) + sv ticks, in ms within Linux's bounds.
 * Not pcb->rto: lwIP rewrites that from every RTT sample, which would undo
 * a backoff (it kept its backoff there only between its own ticks). */
static u32_t base_rto_ms(const struct tcp_pcb *pcb)
{
	s32_t t = (s32_t)(pcb->sa >> 3) + pcb->sv;

	return ms_clamp(t > 0 ? (u32_t)t * TCP_SLOW_INTERVAL : 0, MLW_TCP_RTO_MIN_MS, MLW_TCP_RTO_MAX_MS);
}

/* The RTO with its backoff: doubled per timeout since the peer last
 * acknowledged new data, up to the maximum. */
static u32_t rto_of(const struct tt_node *n, const struct tcp_pcb *pcb)
{
	u32_t b = n != NULL ? n->backoff : 0;
	u32_t r = base_rto_ms(pcb);

	return b >= 16 || (r << b) > MLW_TCP_RTO_MAX_MS ? MLW_TCP_RTO_MAX_MS : r << b;
}

u32_t mlw__tcp_rto_ms(const struct tcp_pcb *pcb)
{
	const struct tt_node *n = NULL;

	if (tt_id >= 0 && pcb->state != LISTEN && pcb->state != CLOSED)
		n = tcp_ext_arg_get(pcb, (u8_t)tt_id);
	return rto_of(n, pcb);
}

/* The current persist interval: one RTO, doubling per probe. */
static u32_t persist_iv(const struct tcp_pcb *pcb)
{
	u32_t b = pcb->persist_backoff - 1u, r = base_rto_ms(pcb);

	return b >= 16 || (r << b) > MLW_TCP_RTO_MAX_MS ? MLW_TCP_RTO_MAX_MS : r << b;
}

/* Milliseconds since lwIP last saw a segment of this connection
 * (pcb->tmr, in tcp_ticks). */
static u32_t idle_ms(const struct tcp_pcb *pcb)
{
	return (u32_t)(tcp_ticks - pcb->tmr) * TCP_SLOW_INTERVAL;
}

/* The idle time after which the connection's state ends it (lwIP's
 * SYN-RCVD, LAST-ACK, orphaned FIN-WAIT-2 and TIME-WAIT timeouts); 0: none. */
static u32_t state_limit_ms(const struct tcp_pcb *pcb)
{
	switch (pcb->state) {
	case SYN_RCVD:
		return mlw__syn_rcvd_timeout_ms();	/* [stack] syn_timeout_ms */
	case LAST_ACK:
	case TIME_WAIT:
		return 2u * TCP_MSL;
	case FIN_WAIT_2:
		return (pcb->flags & TF_RXCLOSED) ? MLW_TCP_FIN_WAIT_MS : 0;
	default:
		return 0;
	}
}

/* Keepalive: whether it runs, and the idle time of its next probe (or of
 * the end, once every probe went unanswered). */
static bool keep_on(const struct tcp_pcb *pcb)
{
	return ip_get_option(pcb, SOF_KEEPALIVE) && (pcb->state == ESTABLISHED || pcb->state == CLOSE_WAIT);
}

static u32_t keep_limit_ms(const struct tcp_pcb *pcb)
{
	return pcb->keep_idle + pcb->keep_cnt_sent * pcb->keep_intvl;
}

/* When @p limit ms of idle time will have passed. */
static u32_t idle_due(const struct tcp_pcb *pcb, u32_t now, u32_t limit)
{
	return now + limit - LWIP_MIN(idle_ms(pcb), limit);
}

/* Keep lwIP's tcp_ticks in step with sys_now(), carrying the remainder. */
static void advance_ticks(u32_t now)
{
	u32_t d = now - tt->tick_ms;

	if (d >= TCP_SLOW_INTERVAL) {
		tcp_ticks += d / TCP_SLOW_INTERVAL;
		tt->tick_ms += d - d % TCP_SLOW_INTERVAL;
	}
}

static bool before(u32_t a, u32_t b)
{
	return (s32_t)(a - b) < 0;
}

/* ---- arming ---- */

static void raise_initial_window(struct tcp_pcb *pcb)
{
	u32_t iw = LWIP_MIN(10u * pcb->mss, LWIP_MAX(2u * pcb->mss, 14600u));

	if (pcb->cwnd < iw) {
		pcb->cwnd = (tcpwnd_size_t)iw;
		tt->st.iw_raised++;
		if (pcb->unsent != NULL)
			tcp_output(pcb);
	}
}

/* Data waits to be sent with nothing in flight and no zero window: the
 * last tcp_output() failed (no memory for a segment, the port refused
 * it), and no ACK will come to call it again. lwIP's slow timer called
 * tcp_output() for every connection at every poll tick, which covered
 * this; here such a connection is retried every MLW_TT_RETRY_MS. */
static bool output_stuck(const struct tcp_pcb *pcb)
{
	return pcb->unsent != NULL && pcb->unacked == NULL && pcb->persist_backoff == 0 &&
	       pcb->state >= ESTABLISHED && pcb->state != TIME_WAIT;
}

/* Read what lwIP changed since the last look and compute the nearest
 * deadline; put the node in its slot. */
static void arm(struct tt_node *n, u32_t now)
{
	struct tcp_pcb *pcb = n->pcb;
	u32_t due = now + MLW_TT_SLOTS - 1, t;
	u8_t st = (u8_t)pcb->state;

#define DUE(x)                                   \
	do {                                     \
		t = (x);                         \
		if (before(t, due))              \
			due = before(t, now) ? now : t; \
	} while (0)

	if ((n->state == SYN_SENT || n->state == SYN_RCVD) && st >= ESTABLISHED && st != TIME_WAIT)
		raise_initial_window(pcb);
	n->state = st & 0xfu;

	if (st == TIME_WAIT) {
		DUE(idle_due(pcb, now, state_limit_ms(pcb)));
		goto place;
	}
	/* Delayed ACK, pending FIN, refused data (lwIP's fast timer). */
	if (pcb->flags & TF_ACK_DELAY) {
		if (!n->delack) {
			n->delack = 1;
			n->delack_t0 = now + 1;
		}
		DUE(n->delack_t0 + MLW_TCP_DELACK_MS);
	} else {
		n->delack = 0;
	}
	if ((pcb->flags & TF_CLOSEPEND) || pcb->refused_data != NULL || output_stuck(pcb))
		DUE(now + MLW_TT_RETRY_MS);

	/* Retransmission or persist (lwIP runs one or the other). */
	if (pcb->persist_backoff > 0) {
		if (pcb->persist_cnt == 0) {
			pcb->persist_cnt = 1;
			n->persist_t0 = now + 1;
		}
		DUE(n->persist_t0 + persist_iv(pcb));
	} else if (pcb->rtime >= 0) {
		if (pcb->nrtx == 0)
			n->backoff = 0;	/* new data acknowledged (lwIP reset nrtx) */
		if (pcb->rtime == 0) {
			pcb->rtime = 1;
			n->rto_t0 = now + 1;
		}
		DUE(n->rto_t0 + rto_of(n, pcb));
	}

	/* Timeouts counted from the last segment received. */
	if (keep_on(pcb))
		DUE(idle_due(pcb, now, keep_limit_ms(pcb)));
#if TCP_QUEUE_OOSEQ
	if (pcb->ooseq != NULL)
		DUE(idle_due(pcb, now, TCP_OOSEQ_TIMEOUT * rto_of(n, pcb)));
#endif
	if (state_limit_ms(pcb) != 0)
		DUE(idle_due(pcb, now, state_limit_ms(pcb)));
	if (pcb->poll != NULL && pcb->pollinterval > 0)
		DUE(n->poll_t0 + pcb->pollinterval * MLW_TT_POLL_UNIT_MS);
	if (mlw__tcp_rec_deadline(pcb, &t))	/* tcp_recovery.c's probe timer */
		DUE(t);
#undef DUE
place:
	/* Slots behind the wheel are done: a deadline there waits for the
	 * next slot the wheel visits. */
	if (before(due, tt->wheel_ms + 1))
		due = tt->wheel_ms + 1;
	n->due = due;
	/* A slot that fires no later than the deadline keeps the node. */
	if (n->where == TT_WHEEL && !before(due, slot_visit(n)))
		return;
	unlink_node(n);
	push_slot(n, due);
}

/* Arm every node touched since the last settle; free those whose PCB went
 * meanwhile. arm() may touch a node again (tcp_output() from
 * raise_initial_window()): while it runs the node is still marked, so it
 * is not added twice; a node touched again later in the loop is. */
static void settle_touched(u32_t now)
{
	for (u32_t i = 0; i < tt->ntouched; i++) {
		struct tt_node *n = tt->touched[i];

		if (n->pcb != NULL)
			arm(n, now);
		n->touched = 0;
		if (n->pcb == NULL)
			mlw__lwip_free(n);
	}
	tt->ntouched = 0;
}

static bool touched_grow(void)
{
	u32_t cap = tt->touched_cap ? 2 * tt->touched_cap : 64;
	struct tt_node **a;

	if (cap < tt->touched_cap)
		return false;
	a = mlw__lwip_malloc(cap * sizeof(*a));
	if (a == NULL)
		return false;
	if (tt->ntouched > 0)
		memcpy(a, tt->touched, tt->ntouched * sizeof(*a));
	mlw__lwip_free(tt->touched);
	tt->touched = a;
	tt->touched_cap = cap;
	return true;
}

/* ---- touching ---- */

static struct tt_node *node_of(struct tcp_pcb *pcb, u32_t now)
{
	struct tt_node *n = tcp_ext_arg_get(pcb, (u8_t)tt_id);

	if (n != NULL)
		return n;
	n = mlw__lwip_calloc(1, sizeof(*n));
	if (n == NULL) {
		tt->st.node_alloc_fails++;
		return NULL;
	}
	n->pcb = pcb;
	n->state = (u8_t)pcb->state;
	n->poll_t0 = now;
	/* No RTT sample yet: the initial RTO (lwIP 2.1.3 fixes 3 s; 2.2.1
	 * takes LWIP_TCP_RTO_TIME, which lwipopts.h sets to the same). */
	if (pcb->sa == 0 && pcb->nrtx == 0 && pcb->state <= SYN_RCVD)
		pcb->rto = pcb->sv = (s16_t)(MLW_TCP_RTO_INIT_MS / TCP_SLOW_INTERVAL);
	tcp_ext_arg_set_callbacks(pcb, (u8_t)tt_id, &tt_callbacks);
	tcp_ext_arg_set(pcb, (u8_t)tt_id, n);
	return n;
}

void mlw__tcp_touch(struct tcp_pcb *pcb)
{
	struct tt_node *n;

	/* Listeners and closed PCBs keep no timers (and tcp_listen() copies
	 * a closed PCB's ext args to the listener it frees it for). */
	if (pcb == NULL || pcb->state == LISTEN || pcb->state == CLOSED)
		return;
	if (!ready())
		return;
	n = node_of(pcb, tt->wheel_ms);
	if (n == NULL || n->touched || n == tt->running)
		return;
	if (tt->ntouched == tt->touched_cap && !touched_grow()) {
		/* No memory for the array: arm it now instead. */
		u32_t now = sys_now();

		advance_ticks(now);
		arm(n, now);
		return;
	}
	n->touched = 1;
	tt->touched[tt->ntouched++] = n;
}

void mlw__tcp_touch_in(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const struct pbuf *p)
{
	if (pcb == NULL || pcb->state == LISTEN)
		return;
#if TCP_QUEUE_OOSEQ
	/* Data that fills (part of) a hole: RFC 5681 4.2 wants the ACK at
	 * once. lwIP delays it (tcp_ack()); with TF_ACK_DELAY already set,
	 * tcp_ack() turns into an immediate ACK. */
	if (pcb->ooseq != NULL && p->tot_len > 0 && hdr->seqno == pcb->rcv_nxt /* host order here (tcp_input) */) {
		tcp_set_flags(pcb, TF_ACK_DELAY);
		tt->st.hole_fill_acks++;
	}
#else
	(void)hdr;
	(void)p;
#endif
	mlw__tcp_touch(pcb);
}

void mlw__tcp_timer_settle(void)
{
	u32_t now;

	mlw__tcp_recovery_run();	/* tcp_recovery.c: after lwIP read the last pass's ACKs */
	if (tt->ntouched == 0)
		return;
	now = sys_now();
	advance_ticks(now);
	settle_touched(now);
}

/* ---- expiry: what lwIP's tcp_slowtmr()/tcp_fasttmr() do, for one PCB ---- */

/* lwIP's RTO timeout: retransmit from the oldest unacknowledged segment,
 * back off, halve ssthresh and restart from one segment. */
static void rto_expired(struct tt_node *n, struct tcp_pcb *pcb, u32_t now)
{
	tcpwnd_size_t eff;
	u8_t limit = pcb->state == SYN_SENT ? mlw__tcp_syn_retries(pcb) : (u8_t)TCP_MAXRTX;

	if (pcb->nrtx >= limit) {
		tt->st.rto_aborts++;
		tcp_abandon(pcb, 0);
		return;
	}
	if (pcb->unacked == NULL && pcb->unsent == NULL) {
		pcb->rtime = -1;	/* nothing outstanding: the timer stops */
		return;
	}
	if (tcp_rexmit_rto_prepare(pcb) != ERR_OK && !(pcb->unacked == NULL && pcb->unsent != NULL)) {
		/* Nothing it can resend now (the oldest segment is still
		 * held by the port): look again soon, as lwIP's next tick
		 * would. */
		n->rto_t0 = now + MLW_TT_RETRY_MS - rto_of(n, pcb);
		return;
	}
	if (n->backoff < 16)
		n->backoff++;
	pcb->rto = (s16_t)(rto_of(n, pcb) / TCP_SLOW_INTERVAL);	/* as lwIP keeps it */
	pcb->rtime = 0;
	eff = LWIP_MIN(pcb->cwnd, pcb->snd_wnd);
	pcb->ssthresh = LWIP_MAX(eff >> 1, (tcpwnd_size_t)(2 * pcb->mss));
	pcb->cwnd = pcb->mss;
	pcb->bytes_acked = 0;
	tt->st.rto_fired++;
	mlw__tcp_rec_rto(pcb);	/* tcp_recovery.c: the episode ends */
	tcp_rexmit_rto_commit(pcb);
}

/* A zero-window probe as Linux sends it (tcp_xmit_probe_skb()): an ACK
 * whose sequence number is snd_una - 1, with the timestamps and SACK
 * blocks of every ACK. The receiver finds it old and answers with its
 * window. lwIP's probe (tcp_zero_window_probe()) is a byte of data without
 * timestamps that moves snd_nxt past the closed window: every ACK after it
 * carries a sequence number a receiver with a closed window does not
 * accept (RFC 9293 3.10.7.4; Linux drops it without reading its ACK). A
 * peer whose send buffer waited for those ACKs, and whose reader waited
 * for its sends, never opened the window again. Counted as lwIP counts its
 * probes (persist_probe, for the abort after TCP_MAXRTX). */
static err_t window_probe(struct tcp_pcb *pcb)
{
	u32_t nxt = pcb->snd_nxt;
	err_t err;

	if (pcb->persist_probe < 0xFF)
		pcb->persist_probe++;
	pcb->snd_nxt = pcb->lastack - 1;
	err = tcp_send_empty_ack(pcb);
	pcb->snd_nxt = nxt;
	return err;
}

static void persist_expired(struct tt_node *n, struct tcp_pcb *pcb, u32_t now)
{
	bool next = true;

	if (pcb->persist_probe >= TCP_MAXRTX) {
		tcp_abandon(pcb, 0);
		return;
	}
	if (pcb->snd_wnd == 0) {
		next = window_probe(pcb) == ERR_OK;
		tt->st.persist_probes += next;
	} else if (tcp_split_unsent_seg(pcb, (u16_t)pcb->snd_wnd) == ERR_OK && tcp_output(pcb) == ERR_OK) {
		next = false;	/* sent: tcp_output() ended persist */
	}
	if (next) {
		if (pcb->persist_backoff < 0xff)
			pcb->persist_backoff++;
		n->persist_t0 = now + 1;
	} else if (pcb->persist_backoff > 0) {
		/* The probe could not be sent (no memory): lwIP counts it all
		 * the same, so a connection that never gets one out ends after
		 * TCP_MAXRTX tries; try again after the same interval, as
		 * lwIP's next tick did, not at once. */
		n->persist_t0 = now + 1;
	}
}

err_t mlw__tcp_output_ack(struct tcp_pcb *pcb)
{
	err_t err = tcp_output(pcb);

	if (pcb->flags & (TF_ACK_NOW | TF_ACK_DELAY)) {
		err_t e = tcp_send_empty_ack(pcb);

		if (err == ERR_OK)
			err = e;
	}
	return err;
}

/* Returns false if the PCB is gone. */
static bool expire(struct tt_node *n, u32_t now)
{
	struct tcp_pcb *pcb = n->pcb;
	u8_t st = (u8_t)pcb->state;
	u32_t idle = idle_ms(pcb);

#define GONE() (tt->gone)
	if (st == TIME_WAIT) {
		if (idle >= state_limit_ms(pcb)) {
			tt->st.tw_expired++;
			tcp_abort(pcb);
			return false;
		}
		return true;
	}
	if ((pcb->flags & TF_ACK_DELAY) && n->delack && !before(now, n->delack_t0 + MLW_TCP_DELACK_MS)) {
		tcp_ack_now(pcb);
		mlw__tcp_output_ack(pcb);
		tcp_clear_flags(pcb, TF_ACK_DELAY | TF_ACK_NOW);
		n->delack = 0;
		tt->st.delayed_acks++;
	}
	if (pcb->flags & TF_CLOSEPEND) {
		tcp_clear_flags(pcb, TF_CLOSEPEND);
		tcp_shutdown(pcb, 0, 1);
		if (GONE())
			return false;
	}
	if (pcb->refused_data != NULL) {
		tcp_process_refused_data(pcb);
		if (GONE())
			return false;
	}
	if (output_stuck(pcb)) {
		tt->st.output_retries++;
		tcp_output(pcb);
	}
	if (pcb->persist_backoff > 0) {
		if (!before(now, n->persist_t0 + persist_iv(pcb))) {
			persist_expired(n, pcb, now);
			if (GONE())
				return false;
		}
	} else if (pcb->rtime > 0 && !before(now, n->rto_t0 + rto_of(n, pcb))) {
		rto_expired(n, pcb, now);
		if (GONE())
			return false;
	}
	if (pcb->persist_backoff == 0 && pcb->rtime > 0) {
		u32_t t;

		if (mlw__tcp_rec_deadline(pcb, &t) && !before(now, t))
			mlw__tcp_rec_timer(pcb, now);	/* tcp_recovery.c: loss probe */
	}
	if (keep_on(pcb) && idle >= keep_limit_ms(pcb)) {
		if (pcb->keep_cnt_sent >= pcb->keep_cnt) {
			tt->st.keepalive_aborts++;
			tcp_abandon(pcb, 1);
			return false;
		}
		if (tcp_keepalive(pcb) == ERR_OK) {
			pcb->keep_cnt_sent++;
			tt->st.keepalive_probes++;
		}
	}
#if TCP_QUEUE_OOSEQ
	if (pcb->ooseq != NULL && idle >= TCP_OOSEQ_TIMEOUT * rto_of(n, pcb))
		tcp_free_ooseq(pcb);
#endif
	if (state_limit_ms(pcb) != 0 && idle >= state_limit_ms(pcb)) {
		tt->st.state_timeouts++;
		tcp_abandon(pcb, 0);
		return false;
	}
	if (pcb->poll != NULL && pcb->pollinterval > 0 &&
	    !before(now, n->poll_t0 + pcb->pollinterval * MLW_TT_POLL_UNIT_MS)) {
		err_t err = pcb->poll(pcb->callback_arg, pcb);

		n->poll_t0 = now;
		if (GONE() || err == ERR_ABRT)
			return false;
		if (err == ERR_OK)
			tcp_output(pcb);
	}
#undef GONE
	return true;
}

static void fire_slot(u32_t ms, u32_t now)
{
	struct tt_node *n, **slot = &tt->slot[ms % MLW_TT_SLOTS];

	/* Move the slot to the firing list first: expire() may free or touch
	 * any node, and unlink_node() keeps that list consistent too. */
	while ((n = *slot) != NULL) {
		unlink_node(n);
		push(&tt->firing, n, TT_FIRING);
	}
	while ((n = tt->firing) != NULL) {
		unlink_node(n);
		if (before(now, n->due)) {	/* kept early (see arm()), or a lap ahead */
			push_slot(n, n->due);
			continue;
		}
		tt->running = n;
		tt->gone = false;
		tt->st.visits++;
		if (expire(n, now) && !tt->gone) {
			tt->running = NULL;
			arm(n, now);
		}
		tt->running = NULL;
	}
}

void mlw__tcp_timer_tick(void)
{
	u32_t now;

	if (!ready())
		return;
	now = sys_now();
	advance_ticks(now);
	/* After a stall longer than the wheel, one lap visits every slot. */
	if (now - tt->wheel_ms > MLW_TT_SLOTS)
		tt->wheel_ms = now - MLW_TT_SLOTS;
	while (before(tt->wheel_ms, now)) {
		settle_touched(now);
		/* The slot is marked done first, so a node armed while it
		 * fires goes to a later slot. */
		tt->wheel_ms++;
		fire_slot(tt->wheel_ms, now);
	}
	tt->st.ticks++;
}

/* lwIP's tcp_tmr(), called by its own cyclic timer while connections exist. */
void __wrap_tcp_tmr(void);
void __wrap_tcp_tmr(void)
{
	mlw__tcp_timer_tick();
}

/* lwIP's tcp_output() (linked with --wrap=tcp_output). It starts persist
 * when the peer's window is closed and nothing is in flight, and then
 * sends nothing: no segment out, no touch, and the wheel never armed the
 * probe. A connection whose peer closed its window with the ACK of the
 * last data in flight, and whose application wrote more afterwards,
 * waited until the peer happened to send something (forever, if the peer
 * waited too). */
err_t __real_tcp_output(struct tcp_pcb *pcb);
err_t __wrap_tcp_output(struct tcp_pcb *pcb);
err_t __wrap_tcp_output(struct tcp_pcb *pcb)
{
	err_t err = __real_tcp_output(pcb);

	if (pcb->persist_backoff != 0 && pcb->persist_cnt == 0)
		mlw__tcp_touch(pcb);
	return err;
}

/* TCP_EVENT_ACCEPT (mlw_lwip_hooks.h): a connection goes to its listener. */
void mlw__tcp_accepted(void)
{
	tt->st.accepts++;
}

void mlw__tcp_timer_stats(struct mlw_tcp_timer_stats *out)
{
	*out = tt->st;
}

int mlw__tcp_timer_fini(void)
{
	int left = 0;

	for (unsigned i = 0; i < MLW_TT_SLOTS; i++)
		for (struct tt_node *n = tt->slot[i]; n != NULL; n = n->next)
			left++;
	for (u32_t i = 0; i < tt->ntouched; i++) {
		struct tt_node *n = tt->touched[i];

		if (n->pcb == NULL) {
			mlw__lwip_free(n);
			continue;
		}
		n->touched = 0;	/* a PCB freed later frees its node */
		if (n->where != TT_WHEEL)
			left++;
	}
	mlw__lwip_free(tt->touched);
	{
		/* The counters outlive the wheel: the stop's stats table
		 * (sharding/shard.c collects after the teardown) reports them. */
		struct mlw_tcp_timer_stats st = tt->st;

		memset(tt, 0, sizeof(*tt));
		tt->st = st;
	}
	return left;
}
