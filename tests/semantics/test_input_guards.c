/* test_input_guards.c - malformed TCP options are cut where Linux stops parsing them, segments without ACK are dropped in ESTABLISHED, and neighbour discovery messages lwIP would mis-parse are dropped or fixed (lwip-port/input_guard.c).
 *
 * main -> test_stack_run(one shard on net_ring0, 10.0.0.2/24, fd00::2/64)
 * -> run() on the shard: a raw lwIP listener on port 8000; crafted frames
 * straight into ip4_input()/ip6_input(); the netif's linkoutput replaced
 * by a capture of what lwIP sends; lwIP's PCBs and the shard's counters
 * read afterwards (the counters as the shard's stats take them) -> CMocka
 * checks.
 *
 * TCP options: SYNs whose options end in a malformed one (kind in the last
 * byte, length 1, length past the options); the first lies at the very
 * end of a page followed by an inaccessible page, so lwIP reading the byte
 * after the options (as it does without the guard) is a SIGSEGV. Each must
 * still open a connection with the MSS the options before the bad one give
 * (536), as on Linux. No ACK: "hello" with PSH only, then a bare FIN, into
 * an established connection must deliver nothing and leave it ESTABLISHED;
 * with ACK it is delivered. ND: an NS with a zero-length option (lwIP
 * copied the 6 bytes after the packet, de:ad:be:ef:00:01, as the sender's
 * address and answered there), an NS whose address option follows a nonce
 * option (lwIP answered the nonce's bytes), a fragmented NS, an NA with
 * a zero-length option; duplicate address detection NSs with a source
 * address option or to a unicast address, and a solicited NA to all nodes
 * (lwIP answered or took them; a valid DAD NS is answered). Resets: in reply to an ACK, to a SYN whose
 * acknowledgment field is not 0, and from an application's abort.
 * linux_guards.py sends the TCP cases to Linux with the same expectations.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"	/* tcp_active_pcbs */
#include "lwip/tcp.h"
#include "mlw_lwip_hooks.h"
#include "mlwip/stack.h"
#include "test_frame.h"
#include "test_stack.h"

#define LPORT 8000

static const uint8_t v4_us[4] = { 10, 0, 0, 2 }, v4_peer[4] = { 10, 0, 0, 99 };
static const uint8_t v6_us[16] = { 0xfd, [15] = 2 };

struct opt_case {
	const char *name;
	int v6;
	uint8_t opts[8];
	bool cut;	/* malformed or fixed: counted */
	bool guard;	/* packet ends at a page end */
	uint16_t mss;	/* the MSS the connection must take; 0: 536 */
};

static const struct opt_case opt_cases[] = {
	{ "v4 kind in last byte", 0, { 2, 4, 2, 0x18, 1, 1, 1, 8 }, true, true, 0 },
	{ "v4 length 1", 0, { 2, 4, 2, 0x18, 0xfe, 1, 0, 0 }, true, false, 0 },
	{ "v4 length past options", 0, { 2, 4, 2, 0x18, 1, 30, 8, 0 }, true, false, 0 },
	{ "v4 well formed", 0, { 2, 4, 2, 0x18, 1, 3, 3, 7 }, false, false, 0 },
	{ "v6 kind in last byte", 1, { 2, 4, 2, 0x18, 1, 1, 1, 8 }, true, false, 0 },
	/* MSS of length 3 (ignored: 536 by default), then window scale 7. */
	{ "v4 MSS length 3, WS", 0, { 2, 3, 0, 1, 3, 3, 7, 0 }, true, false, 0 },
	/* MSS 0: ignored, as Linux does (536); lwIP took its own TCP_MSS. */
	{ "v4 MSS 0", 0, { 2, 4, 0, 0, 1, 1, 1, 0 }, true, false, 0 },
	/* MSS 10: raised to 48, Linux's net.ipv4.tcp_min_snd_mss; lwIP sent
	 * 10-byte segments (and 1-byte ones for MSS 1). */
	{ "v4 MSS 10", 0, { 2, 4, 0, 10, 1, 1, 1, 0 }, true, false, 48 },
	{ "v6 MSS 1", 1, { 2, 4, 0, 1, 1, 1, 1, 0 }, true, false, 48 },
	{ "v4 MSS 1000", 0, { 2, 4, 0x03, 0xe8, 1, 1, 1, 0 }, false, false, 1000 },
};
#define NOPT (sizeof(opt_cases) / sizeof(opt_cases[0]))

static struct {
	bool ran;
	char why[256];
	uint16_t mss[NOPT];	/* of the SYN_RCVD PCB, 0: none */
	int snd_scale[NOPT];	/* its window scale, -1: not negotiated */
	unsigned delivered_noack, delivered_ack;	/* bytes */
	uint16_t mss_before_ack_opt, mss_after_ack_opt;	/* an MSS option without SYN */
	int state_after_noack;
	uint8_t na_dst[16][6];	/* destination MACs of the NAs sent */
	unsigned na_all_before, na_all_after;	/* count_na_all() around the DAD cases */
	unsigned n_na;
	struct seg {
		uint16_t dport, wnd;
		uint32_t seq, ack;
		uint8_t flags;
		bool csum_ok;
	} seg[8];	/* TCP segments sent over IPv6, headers without options */
	unsigned n_seg;
	unsigned rst_case_seg[4];	/* index into seg[] + 1 of each reset case's segment */
	uint64_t rst_rewritten;
	struct mlw_input_guard_stats st0, st1;	/* the shard's counters before and after */
} res;

static unsigned recv_bytes;
static uint16_t dport = LPORT;	/* of the segments build_tcp() makes */
static struct tcp_pcb *accepted;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* IPv4 or IPv6 header + TCP header (+ 8 bytes of options when @p opts)
 * + @p data, checksums right, into @p m; returns the length. */
static unsigned build_tcp(uint8_t *m, int v6, const uint8_t *src, uint16_t sport, uint32_t seq,
			  uint32_t ack, uint8_t flags, const uint8_t *opts, const char *data)
{
	unsigned ih = v6 ? 40 : 20, th = opts ? 28 : 20, dl = data ? (unsigned)strlen(data) : 0;
	uint8_t *t = m + ih;
	uint32_t s;

	memset(m, 0, ih + th);
	if (v6) {
		m[0] = 0x60;
		put16(m + 4, (uint16_t)(th + dl));
		m[6] = 6;
		m[7] = 64;
		memcpy(m + 8, src, 16);
		memcpy(m + 24, v6_us, 16);
	} else {
		m[0] = 0x45;
		put16(m + 2, (uint16_t)(ih + th + dl));
		m[8] = 64;
		m[9] = 6;
		memcpy(m + 12, src, 4);
		memcpy(m + 16, v4_us, 4);
		put16(m + 10, (uint16_t)~test_fold(test_sum16(m, 20, 0)));
	}
	put16(t, sport);
	put16(t + 2, dport);
	test_put32(t + 4, seq);
	test_put32(t + 8, ack);
	t[12] = (uint8_t)((th / 4) << 4);
	t[13] = flags;
	put16(t + 14, 65535);
	if (opts)
		memcpy(t + 20, opts, 8);
	if (dl)
		memcpy(t + th, data, dl);
	s = v6 ? test_sum16(m + 8, 32, 0) : test_sum16(m + 12, 8, 0);
	s += 6 + th + dl;
	put16(t + 16, (uint16_t)~test_fold(test_sum16(t, th + dl, s)));
	return ih + th + dl;
}

static err_t inject(const uint8_t *m, unsigned len, unsigned extra)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(len + extra), PBUF_RAM);
	struct netif *nif = test_dpdk_netif();

	if (p == NULL)
		return ERR_MEM;
	pbuf_take(p, m, (u16_t)(len + extra));
	return (m[0] >> 4) == 4 ? ip4_input(p, nif) : ip6_input(p, nif);
}

/* @p m (@p len bytes) placed so that its last byte is the last of a page
 * whose next page cannot be read, as a PBUF_REF. */
static void inject_guarded(const uint8_t *m, unsigned len)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *two = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pbuf *p;

	if (two == MAP_FAILED || mprotect(two + pg, pg, PROT_NONE) != 0)
		return;
	memcpy(two + pg - len, m, len);
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_REF);
	if (p != NULL) {
		p->payload = two + pg - len;
		ip4_input(p, test_dpdk_netif());
	}
	munmap(two, 2 * pg);
}

static struct tcp_pcb *find_pcb(uint16_t rport)
{
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next)
		if (pcb->remote_port == rport)
			return pcb;
	return NULL;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg, (void)err;
	if (p == NULL)
		return ERR_OK;
	recv_bytes += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg, (void)err;
	accepted = pcb;
	tcp_recv(pcb, on_recv);
	return ERR_OK;
}

static err_t capture(struct netif *nif, struct pbuf *p)
{
	uint8_t f[14 + 40 + 20];
	u16_t n = pbuf_copy_partial(p, f, sizeof(f), 0);

	(void)nif;
	if (n < 14 + 40 + 1 || f[12] != 0x86 || f[13] != 0xdd)
		return ERR_OK;
	if (f[14 + 6] == 58 && f[14 + 40] == 136 && res.n_na < 16)
		memcpy(res.na_dst[res.n_na++], f, 6);
	if (f[14 + 6] == 6 && n == sizeof(f) && p->tot_len == sizeof(f) && res.n_seg < 8) {
		uint8_t all[14 + 40 + 20];
		struct seg *sg = &res.seg[res.n_seg++];

		pbuf_copy_partial(p, all, sizeof(all), 0);
		sg->dport = test_get16(all + 54 + 2);
		sg->seq = test_get32(all + 54 + 4);
		sg->ack = test_get32(all + 54 + 8);
		sg->flags = all[54 + 13];
		sg->wnd = test_get16(all + 54 + 14);
		/* pseudo header + segment: 0xffff when the checksum is right */
		sg->csum_ok = test_fold(test_sum16(all + 54, 20, test_sum16(all + 22, 32, 6 + 20))) == 0xffff;
	}
	return ERR_OK;
}

/* An ICMPv6 ND message from fd00::<@p from> to @p dst: header @p icmp
 * (@p ilen bytes, checksum filled in), with a fragment header first when
 * @p frag, and 6 bytes de:ad:be:ef:00:01 after the packet in the pbuf. */
static void nd(uint8_t from, const uint8_t *dst, uint8_t *icmp, unsigned ilen, bool frag)
{
	static const uint8_t after[6] = { 0xde, 0xad, 0xbe, 0xef, 0, 1 };
	uint8_t m[40 + 8 + 64 + 6];
	unsigned fh = frag ? 8 : 0;
	uint32_t s;

	memset(m, 0, sizeof(m));
	m[0] = 0x60;
	put16(m + 4, (uint16_t)(fh + ilen));
	m[6] = frag ? 44 : 58;
	m[7] = 255;
	if (from != 0) {	/* else the unspecified address */
		m[8] = 0xfd;
		m[23] = from;
	}
	memcpy(m + 24, dst, 16);
	if (frag) {
		m[40] = 58;
		test_put32(m + 44, 0x1234);	/* offset 0, no more fragments */
	}
	icmp[2] = icmp[3] = 0;
	s = test_sum16(m + 8, 32, 0) + 58 + ilen;
	put16(icmp + 2, (uint16_t)~test_fold(test_sum16(icmp, ilen, s)));
	memcpy(m + 40 + fh, icmp, ilen);
	memcpy(m + 40 + fh + ilen, after, 6);
	inject(m, 40 + fh + ilen, 6);
}

/* A neighbour solicitation for fd00::2 to @p dst with @p opts. */
static void ns_to(uint8_t from, const uint8_t *dst, const uint8_t *opts, unsigned olen, bool frag)
{
	uint8_t icmp[24 + 32];

	memset(icmp, 0, 24);
	icmp[0] = 135;
	memcpy(icmp + 8, v6_us, 16);
	if (olen != 0)
		memcpy(icmp + 24, opts, olen);
	nd(from, dst, icmp, 24 + olen, frag);
}

static void ns(uint8_t from, const uint8_t *opts, unsigned olen, bool frag)
{
	ns_to(from, v6_us, opts, olen, frag);
}

/* NAs sent to all nodes (33:33:00:00:00:01) so far. */
static unsigned count_na_all(void)
{
	static const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	unsigned n = 0;

	for (unsigned i = 0; i < res.n_na; i++)
		n += memcmp(res.na_dst[i], mac, 6) == 0;
	return n;
}

static void run(void)
{
	struct netif *nif = test_dpdk_netif();
	struct tcp_pcb *l, *pcb;
	uint8_t m[200], v6_peer[16] = { 0xfd, [15] = 0x99 };
	netif_linkoutput_fn saved;

	if (nif == NULL) {
		snprintf(res.why, sizeof(res.why), "no DPDK netif");
		return;
	}
	l = tcp_new_ip_type(IPADDR_TYPE_ANY);
	if (l == NULL || tcp_bind(l, IP_ANY_TYPE, LPORT) != ERR_OK ||
	    (l = tcp_listen(l)) == NULL) {
		snprintf(res.why, sizeof(res.why), "no listener");
		return;
	}
	tcp_accept(l, on_accept);
	saved = nif->linkoutput;
	nif->linkoutput = capture;
	mlw__input_guard_stats(&res.st0);

	for (unsigned i = 0; i < NOPT; i++) {
		const struct opt_case *c = &opt_cases[i];
		uint16_t sport = (uint16_t)(40000 + i);
		unsigned n = build_tcp(m, c->v6, c->v6 ? v6_peer : v4_peer, sport, 1000, 0, TCP_SYN,
				       c->opts, NULL);

		if (c->guard)
			inject_guarded(m, n);
		else
			inject(m, n, 0);
		pcb = find_pcb(sport);
		res.mss[i] = pcb != NULL && pcb->state == SYN_RCVD ? pcb->mss : 0;
		res.snd_scale[i] = pcb != NULL && (pcb->flags & TF_WND_SCALE) ? pcb->snd_scale : -1;
		if (pcb != NULL)
			tcp_abort(pcb);
	}

	/* An established connection; then segments without ACK. */
	inject(m, build_tcp(m, 0, v4_peer, 50000, 1000, 0, TCP_SYN, NULL, NULL), 0);
	pcb = find_pcb(50000);
	if (pcb == NULL) {
		snprintf(res.why, sizeof(res.why), "no PCB for the SYN");
		goto out;
	}
	inject(m, build_tcp(m, 0, v4_peer, 50000, 1001, pcb->snd_nxt, TCP_ACK, NULL, NULL), 0);
	if (accepted == NULL) {
		snprintf(res.why, sizeof(res.why), "connection not accepted");
		goto out;
	}
	inject(m, build_tcp(m, 0, v4_peer, 50000, 1001, 0, TCP_PSH, NULL, "hello"), 0);
	inject(m, build_tcp(m, 0, v4_peer, 50000, 1001, 0, TCP_FIN, NULL, NULL), 0);
	res.delivered_noack = recv_bytes;
	res.state_after_noack = accepted->state;
	inject(m, build_tcp(m, 0, v4_peer, 50000, 1001, accepted->snd_nxt, TCP_PSH | TCP_ACK, NULL,
			    "hello"), 0);
	res.delivered_ack = recv_bytes - res.delivered_noack;
	/* An MSS option in a segment without SYN (RFC 9293 3.7.1: only in
	 * SYNs; Linux reads it only there). lwIP took it on any segment, even
	 * one outside the window: anyone who knew the 4-tuple could shrink the
	 * connection's segments to 1 byte. */
	res.mss_before_ack_opt = accepted->mss;
	inject(m, build_tcp(m, 0, v4_peer, 50000, 1006, accepted->snd_nxt, TCP_ACK,
			    (const uint8_t[8]){ 2, 4, 0, 100, 1, 1, 1, 0 }, NULL), 0);
	inject(m, build_tcp(m, 0, v4_peer, 50000, 900000, accepted->snd_nxt, TCP_ACK,
			    (const uint8_t[8]){ 2, 4, 0, 1, 1, 1, 1, 0 }, NULL), 0);
	res.mss_after_ack_opt = accepted->mss;
	tcp_abort(accepted);

	/* Neighbour discovery. */
	{
		static const uint8_t zero_len[2] = { 1, 0 };
		static const uint8_t nonce_first[16] = { 14, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
							 1, 1, 2, 0, 0, 0, 0, 0x98 };
		static const uint8_t good97[8] = { 1, 1, 2, 0, 0, 0, 0, 0x97 };
		static const uint8_t good96[8] = { 1, 1, 2, 0, 0, 0, 0, 0x96 };
		static const uint8_t all_nodes[16] = { 0xff, 2, [15] = 1 };
		static const uint8_t sol_node[16] = { 0xff, 2, [11] = 1, [12] = 0xff, [15] = 2 };
		uint8_t na[24 + 2];

		ns(0x99, zero_len, 2, false);
		ns(0x98, nonce_first, 16, false);
		ns(0x97, good97, 8, false);
		ns(0x96, good96, 8, true);
		memset(na, 0, sizeof(na));
		na[0] = 136;
		na[4] = 0x20;	/* override */
		memcpy(na + 8, v6_peer, 16);
		na[24] = 2;
		nd(0x99, all_nodes, na, sizeof(na), false);
		/* Duplicate address detection (source ::): lwIP defends fd00::2
		 * with an NA to all nodes. With a source address option, or to
		 * a unicast address, the NS is invalid; a solicited NA to all
		 * nodes too. */
		res.na_all_before = count_na_all();
		ns_to(0, sol_node, good96, 8, false);
		ns_to(0, v6_us, NULL, 0, false);
		na[4] = 0x60;	/* solicited, override */
		nd(0x99, all_nodes, na, sizeof(na), false);
		ns_to(0, sol_node, NULL, 0, false);	/* valid */
		res.na_all_after = count_na_all();
	}

	/* Resets, over IPv6 from fd00::97 (its address known from its NS). */
	{
		uint8_t v6_97[16] = { 0xfd, [15] = 0x97 };
		uint64_t r0 = mlw__tcp_rst_rewritten();
		unsigned before;

		dport = 8001;	/* closed: an ACK, then a SYN with a stray ack field */
		before = res.n_seg;
		inject(m, build_tcp(m, 1, v6_97, 51000, 5000, 7777, TCP_ACK, NULL, NULL), 0);
		res.rst_case_seg[0] = res.n_seg > before ? before + 1 : 0;
		before = res.n_seg;
		inject(m, build_tcp(m, 1, v6_97, 51001, 5000, 1234, TCP_SYN, NULL, NULL), 0);
		res.rst_case_seg[1] = res.n_seg > before ? before + 1 : 0;
		dport = LPORT;	/* the listener: an ACK for no connection */
		before = res.n_seg;
		inject(m, build_tcp(m, 1, v6_97, 51002, 5000, 8888, TCP_ACK, NULL, NULL), 0);
		res.rst_case_seg[2] = res.n_seg > before ? before + 1 : 0;
		res.rst_rewritten = mlw__tcp_rst_rewritten() - r0;
		/* An established connection aborted by the application. */
		accepted = NULL;
		inject(m, build_tcp(m, 1, v6_97, 51003, 1000, 0, TCP_SYN, NULL, NULL), 0);
		pcb = find_pcb(51003);
		if (pcb != NULL)
			inject(m, build_tcp(m, 1, v6_97, 51003, 1001, pcb->snd_nxt, TCP_ACK, NULL, NULL), 0);
		if (accepted != NULL) {
			before = res.n_seg;
			tcp_abort(accepted);
			res.rst_case_seg[3] = res.n_seg > before ? before + 1 : 0;
		}
	}
	res.ran = true;
out:
	mlw__input_guard_stats(&res.st1);
	nif->linkoutput = saved;
	tcp_close(l);
}

static bool na_sent_to(uint8_t last, const uint8_t *mac)
{
	static const uint8_t base[5] = { 2, 0, 0, 0, 0 };

	for (unsigned i = 0; i < res.n_na; i++)
		if (mac != NULL ? memcmp(res.na_dst[i], mac, 6) == 0
				: memcmp(res.na_dst[i], base, 5) == 0 && res.na_dst[i][5] == last)
			return true;
	return false;
}

static void t_tcp_options(void **state)
{
	unsigned cut = 0;

	(void)state;
	if (!res.ran)
		fail_msg("the shard did not run the cases: %s", res.why);
	for (unsigned i = 0; i < NOPT; i++) {
		/* Linux takes the window scale after the ignored MSS. */
		int want_scale = i == 5 || i == 3 ? 7 : -1;

		unsigned want_mss = opt_cases[i].mss ? opt_cases[i].mss : 536;

		printf("  %-26s mss %u window scale %d (want %u, %d)\n", opt_cases[i].name, res.mss[i],
		       res.snd_scale[i], want_mss, want_scale);
		assert_int_equal(res.mss[i], want_mss);
		assert_int_equal(res.snd_scale[i], want_scale);
		cut += opt_cases[i].cut;
	}
	printf("  MSS options without SYN: mss %u before, %u after (want the same)\n",
	       res.mss_before_ack_opt, res.mss_after_ack_opt);
	assert_int_equal(res.mss_before_ack_opt, 536);
	assert_int_equal(res.mss_after_ack_opt, res.mss_before_ack_opt);
	cut += 2;
	printf("  rx_tcp_opts_cut %llu (want %u)\n",
	       (unsigned long long)(res.st1.rx_tcp_opts_cut - res.st0.rx_tcp_opts_cut), cut);
	assert_int_equal(res.st1.rx_tcp_opts_cut - res.st0.rx_tcp_opts_cut, cut);
}

static void t_no_ack(void **state)
{
	(void)state;
	if (!res.ran)
		fail_msg("the shard did not run the cases: %s", res.why);
	printf("  without ACK: %u bytes delivered, state %d; with ACK: %u bytes; drops %llu\n",
	       res.delivered_noack, res.state_after_noack, res.delivered_ack,
	       (unsigned long long)(res.st1.rx_tcp_noack_drops - res.st0.rx_tcp_noack_drops));
	assert_int_equal(res.delivered_noack, 0);
	assert_int_equal(res.state_after_noack, ESTABLISHED);
	assert_int_equal(res.delivered_ack, 5);
	assert_int_equal(res.st1.rx_tcp_noack_drops - res.st0.rx_tcp_noack_drops, 2);
}

static void t_nd(void **state)
{
	static const uint8_t past[6] = { 0xde, 0xad, 0xbe, 0xef, 0, 1 };
	static const uint8_t nonce[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

	(void)state;
	if (!res.ran)
		fail_msg("the shard did not run the cases: %s", res.why);
	for (unsigned i = 0; i < res.n_na; i++)
		printf("  NA sent to %02x:%02x:%02x:%02x:%02x:%02x\n", res.na_dst[i][0], res.na_dst[i][1],
		       res.na_dst[i][2], res.na_dst[i][3], res.na_dst[i][4], res.na_dst[i][5]);
	printf("  NAs to all nodes for the DAD cases: %u (want 1)\n", res.na_all_after - res.na_all_before);
	printf("  rx_nd_drops %llu (want 6)\n",
	       (unsigned long long)(res.st1.rx_nd_drops - res.st0.rx_nd_drops));
	assert_false(na_sent_to(0, past));	/* zero-length option: dropped */
	assert_false(na_sent_to(0, nonce));	/* the nonce is no address */
	assert_true(na_sent_to(0x98, NULL));	/* the address option after it */
	assert_true(na_sent_to(0x97, NULL));	/* well formed */
	assert_false(na_sent_to(0x96, NULL));	/* fragmented: dropped */
	assert_int_equal(res.na_all_after - res.na_all_before, 1);	/* the valid DAD NS only */
	assert_int_equal(res.st1.rx_nd_drops - res.st0.rx_nd_drops, 6);
}

static void t_rst(void **state)
{
	static const char *const what[4] = { "ACK to a closed port", "SYN to a closed port",
					     "ACK to the listener", "abort (application)" };
	/* As Linux (linux_guards.py): tcp_v6_send_reset for the first three,
	 * tcp_send_active_reset for the abort. */
	static const uint8_t want_flags[4] = { TCP_RST, TCP_RST | TCP_ACK, TCP_RST, TCP_RST | TCP_ACK };
	static const uint32_t want_seq[4] = { 7777, 0, 8888, 0 /* not checked */ };
	static const uint32_t want_ack[4] = { 0, 5001, 0, 1001 };
	unsigned bad = 0;

	(void)state;
	if (!res.ran)
		fail_msg("the shard did not run the cases: %s", res.why);
	for (unsigned i = 0; i < 4; i++) {
		const struct seg *sg = res.rst_case_seg[i] ? &res.seg[res.rst_case_seg[i] - 1] : NULL;

		if (sg == NULL) {
			printf("  %-22s no segment sent  <-- WRONG\n", what[i]);
			bad++;
			continue;
		}
		printf("  %-22s flags 0x%02x seq %u ack %u wnd %u checksum %s (want 0x%02x seq %u ack %u)\n",
		       what[i], sg->flags, sg->seq, sg->ack, sg->wnd, sg->csum_ok ? "ok" : "BAD",
		       want_flags[i], want_seq[i], want_ack[i]);
		bad += sg->flags != want_flags[i] || (i != 3 && sg->seq != want_seq[i]) ||
		       sg->ack != want_ack[i] || !sg->csum_ok || (i != 3 && sg->wnd != 0);
	}
	printf("  tx_tcp_rst_replies %llu (want 3)\n", (unsigned long long)res.rst_rewritten);
	assert_int_equal(bad, 0);
	assert_int_equal(res.rst_rewritten, 3);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_tcp_options),
		cmocka_unit_test(t_no_ack),
		cmocka_unit_test(t_nd),
		cmocka_unit_test(t_rst),
	};
	unsigned bad_heaps = 0;
	int rc = test_stack_run("mlwguard",
				"[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\nipv6 = fd00::2/64\n",
				run, &bad_heaps);

	if (rc != 0)
		return rc;
	if (bad_heaps != 0) {
		fprintf(stderr, "FAIL: %u shard heap(s) not empty at the end\n", bad_heaps);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
