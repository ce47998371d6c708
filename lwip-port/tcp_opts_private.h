/* tcp_opts_private.h - the options of one received TCP segment as lwIP's LWIP_HOOK_TCP_INPACKET_PCB hands them over (input_guard.c, tcp_tw.c). */
#ifndef MLW_TCP_OPTS_PRIVATE_H
#define MLW_TCP_OPTS_PRIVATE_H

#include "lwip/arch.h"
#include "lwip/err.h"

/* In one or two pieces: @p a holds the first @p alen bytes, @p b the rest
 * (NULL when all are in @p a), @p len in all. */
struct mlw__tcp_opts {
	u8_t *a, *b;
	u16_t alen, len;
};

static inline u8_t *mlw__tcp_opt_at(const struct mlw__tcp_opts *o, u16_t i)
{
	return i < o->alen ? &o->a[i] : &o->b[i - o->alen];
}

/* Length of the option at @p i: 1 for a NOP, 0 for EOL and for a
 * malformed option (no room for its length byte, length < 2 or past the
 * options, where Linux's tcp_parse_options() stops too). */
static inline u16_t mlw__tcp_opt_len(const struct mlw__tcp_opts *o, u16_t i)
{
	u8_t kind = *mlw__tcp_opt_at(o, i), l;

	if (kind <= 1)
		return kind;
	if (o->len - i < 2)
		return 0;
	l = *mlw__tcp_opt_at(o, (u16_t)(i + 1));
	return l < 2 || l > o->len - i ? 0 : l;
}

struct tcp_pcb;
struct tcp_hdr;
struct pbuf;
struct mlw_input_guard_stats;

/* A SYN or RST for the TIME-WAIT PCB @p pcb (tcp_tw.c), after
 * input_guard.c checked its options: ERR_OK lets lwIP's
 * tcp_timewait_input() have it; ERR_ABRT: lwIP drops the segment, which
 * was answered here (a SYN that ended TIME-WAIT went to the listener, a
 * reset ended it, another SYN got an ACK). */
err_t mlw__tcp_tw_input(struct tcp_pcb *pcb, struct tcp_hdr *hdr, const struct mlw__tcp_opts *o,
			struct pbuf *p);

/* @p q, a copy of the segment being processed (checksum verified),
 * through tcp_input() again, counted once (tcp_tw.c). */
void mlw__tcp_redeliver(struct pbuf *q);

/* tcp_tw.c's counters into @p out. */
void mlw__tcp_tw_stats(struct mlw_input_guard_stats *out);

#endif
