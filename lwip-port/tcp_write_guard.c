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
 * twice the queued tail segment (with the room lwIP reserved after it:
 * its oversize check asserts next) keeps lwIP's invariants without changing
 * what is sent: the peer's window still limits every transmission.
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
		u32_t need, half = pcb->snd_wnd_max / 2u;

		while (last->next != NULL)
			last = last->next;
		need = (u32_t)last->len + OPT_LEN(last->flags, pcb);
#if TCP_OVERSIZE
		need += pcb->unsent_oversize;	/* the room lwIP kept at its end */
#endif
		if (half != 0 && half < need)
			pcb->snd_wnd_max = (tcpwnd_size_t)(2u * need);
	}
	return __real_tcp_write(pcb, arg, len, apiflags);
}
