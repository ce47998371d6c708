/* tcp_write_guard.c - keep lwIP's tcp_write() from asserting on segments a peer's window made "too large".
 *
 * Call chain: socket layer (socket-api/io.c), lwIP apps, applications ->
 * tcp_write -> __wrap_tcp_write (link-time wrap) -> __real_tcp_write.
 *
 * lwIP sizes new segments by mss_local = min(mss, snd_wnd_max / 2), and
 * uses the full MSS while snd_wnd_max / 2 is 0. A peer that offers window
 * 0 in its SYN-ACK (no MSS option: 536), lets the application queue full
 * segments, then opens a small window (792) makes mss_local (396) smaller
 * than the queued tail segment, and the next tcp_write() aborts the shard
 * with lwIP's assertion "mss_local is too small" (without assertions its
 * u16 free space would wrap). Found by the fuzz_input harness
 * (tests/fuzz/repro/input-lwip-mss_local-assert); test_small_window replays
 * it on the wire. snd_wnd_max only sizes segments in lwIP, so raising it to
 * twice the queued tail segment keeps lwIP's invariant without changing
 * what is sent (the peer's window still limits every transmission); the
 * room lwIP reserved after the tail is cut to what fits (its oversize
 * check asserts next). The long fuzz run found the same assertion with the
 * MSS itself shrinking below a queued segment (536 -> 255): then the write
 * waits, as on a full buffer (ERR_MEM), until that segment has been sent.
 */
#include "lwip/opt.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

/* As tcp_out.c measures a segment's options. */
#ifdef LWIP_HOOK_TCP_OUT_TCPOPT_LENGTH
#define OPT_LEN(flags, pcb) LWIP_HOOK_TCP_OUT_TCPOPT_LENGTH(pcb, LWIP_TCP_OPT_LENGTH(flags))
#else
#define OPT_LEN(flags, pcb) LWIP_TCP_OPT_LENGTH(flags)
#endif

err_t __real_tcp_write(struct tcp_pcb *pcb, const void *arg, u16_t len, u8_t apiflags);
err_t __wrap_tcp_write(struct tcp_pcb *pcb, const void *arg, u16_t len, u8_t apiflags);

err_t __wrap_tcp_write(struct tcp_pcb *pcb, const void *arg, u16_t len, u8_t apiflags)
{
	if (pcb != NULL && pcb->unsent != NULL) {
		struct tcp_seg *last = pcb->unsent;
		u32_t seglen, mss_local, half = pcb->snd_wnd_max / 2u;

		while (last->next != NULL)
			last = last->next;
		seglen = (u32_t)last->len + OPT_LEN(last->flags, pcb);
		/* The MSS shrank below a queued segment (e.g. TCP_MAXSEG, or a
		 * peer's MSS option after data was queued): nothing may be
		 * appended until that segment has gone; as a full buffer. */
		if (seglen > pcb->mss)
			return ERR_MEM;
		if (half != 0 && half < seglen) {
			pcb->snd_wnd_max = (tcpwnd_size_t)(2u * seglen);
			half = seglen;
		}
		mss_local = half != 0 && half < pcb->mss ? half : pcb->mss;
#if TCP_OVERSIZE
		/* The room lwIP kept after the tail must fit too (its next
		 * assertion): what does not is given up. */
		if (seglen + pcb->unsent_oversize > mss_local) {
			pcb->unsent_oversize = (u16_t)(mss_local - seglen);
#if TCP_OVERSIZE_DBGCHECK
			last->oversize_left = pcb->unsent_oversize;
#endif
		}
#endif
	}
	return __real_tcp_write(pcb, arg, len, apiflags);
}
