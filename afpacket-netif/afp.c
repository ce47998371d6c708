/* afp.c - AF_PACKET TPACKET_V3 ports: RX block rings and TX frame rings per queue, the queues of a port in one fanout group (see afp.h).
 */
#include "afp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef PACKET_FANOUT_FLAG_UNIQUEID
#define PACKET_FANOUT_FLAG_UNIQUEID 0x2000
#endif

#define DEF_RX_BLOCK_SIZE (256u * 1024)
#define DEF_RX_BLOCKS 8u
#define DEF_RX_TOV_MS 1u
#define DEF_TX_FRAME_SIZE 2048u
#define DEF_TX_FRAMES 512u
/* Where a TX frame's data starts in its slot: the kernel reads it at
 * tp_hdrlen - sizeof(struct sockaddr_ll) without PACKET_TX_HAS_OFF. */
#define TX_DATA_OFF (TPACKET3_HDRLEN - sizeof(struct sockaddr_ll))
/* The RX frame size lwIP never sees: V3 packs frames of any size into a
 * block; tp_frame_size only has to divide the block. */
#define RX_FRAME_UNIT 2048u

struct mlw_afp_queue {
	int fd;
	uint8_t *map;		/* RX ring, then TX ring */
	size_t map_len;
	/* RX */
	unsigned rx_bs, rx_nb;
	unsigned rx_cur;		/* block being read */
	struct tpacket3_hdr *rx_next;	/* next frame in it, or NULL: block not open */
	unsigned rx_left;		/* frames left in it */
	unsigned rel_head, rel_n;	/* blocks read to the end, not yet given back */
	/* TX */
	uint8_t *tx;
	unsigned tx_fs, tx_nf;
	unsigned tx_head;		/* next slot to fill */
	unsigned tx_queued;		/* committed since the last flush */
	uint32_t tx_max_len;		/* longest frame the interface takes */
	struct mlw_afp_stats st;
};

struct mlw_afp_port {
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint8_t mac[6];
	unsigned mtu;
	unsigned nq;
	struct mlw_afp_queue q[];
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static unsigned or_default(unsigned v, unsigned def)
{
	return v != 0 ? v : def;
}

static struct tpacket_block_desc *rx_block(const struct mlw_afp_queue *q, unsigned i)
{
	return (struct tpacket_block_desc *)(q->map + (size_t)i * q->rx_bs);
}

static struct tpacket3_hdr *tx_frame(const struct mlw_afp_queue *q, unsigned i)
{
	return (struct tpacket3_hdr *)(q->tx + (size_t)i * q->tx_fs);
}

/* The ring's status words are shared with the kernel: acquire to read a
 * block or slot the kernel handed over, release to hand one back. */
static uint32_t status_load(const volatile uint32_t *s)
{
	return __atomic_load_n(s, __ATOMIC_ACQUIRE);
}

static void status_store(volatile uint32_t *s, uint32_t v)
{
	__atomic_store_n(s, v, __ATOMIC_RELEASE);
}

static int setopt(int fd, int opt, const void *v, socklen_t len, const char *what, const char *ifname,
		  char *err, size_t errlen)
{
	if (setsockopt(fd, SOL_PACKET, opt, v, len) == 0)
		return 0;
	return fail(err, errlen, -errno, "%s: %s: %s", ifname, what, strerror(errno));
}

/*
 * The fanout program of MLW_AFP_STEER_PORTS (classic BPF; the kernel takes
 * its result modulo the number of sockets). It sees the frame from the
 * network header on; the EtherType comes from the ancillary load.
 */
static const struct sock_filter steer_ports_prog[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL)),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 10),	/* IPv4, else 12 */
	/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),			/* flags, fragment offset */
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 21, 0),	/* a fragment: 25 */
	/* 4 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),			/* protocol */
	/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 1, 0),
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 18),	/* else 25 */
	/* 7 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),			/* X = header length */
	/* 8 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),			/* source port */
	/* 9 */ BPF_STMT(BPF_ST, 0),
	/* 10 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),			/* destination port */
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JA, 7, 0, 0),			/* to 19 */
	/* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 12),	/* IPv6, else 25 */
	/* 13 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),			/* next header */
	/* 14 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 1, 0),
	/* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 9),	/* else 25 */
	/* 16 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 40),			/* source port */
	/* 17 */ BPF_STMT(BPF_ST, 0),
	/* 18 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 42),			/* destination port */
	/* 19 */ BPF_STMT(BPF_LDX | BPF_MEM, 0),
	/* 20 */ BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
	/* 21 */ BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, MLW_AFP_STEER_MUL),	/* mlw_afp_steer_ports() */
	/* 22 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xffff),
	/* 23 */ BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, MLW_AFP_STEER_SHIFT),
	/* 24 */ BPF_STMT(BPF_RET | BPF_A, 0),
	/* 25 */ BPF_STMT(BPF_RET | BPF_K, 0),
};

static int queue_open(struct mlw_afp_port *p, struct mlw_afp_queue *q, const struct mlw_afp_conf *c,
		      int *fanout_id, char *err, size_t errlen)
{
	struct tpacket_req3 rx = {0}, tx = {0};
	struct sockaddr_ll sll = {0};
	int v3 = TPACKET_V3, one = 1, rc;
	unsigned page = (unsigned)sysconf(_SC_PAGESIZE);
	unsigned tx_bs;

	q->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (q->fd < 0) {
		if (errno == EPERM || errno == EACCES)
			return fail(err, errlen, -EPERM,
				    "%s: AF_PACKET sockets need CAP_NET_RAW: run as root or give the "
				    "program the capability (setcap cap_net_raw+ep)", p->ifname);
		return fail(err, errlen, -errno, "%s: socket(AF_PACKET): %s", p->ifname, strerror(errno));
	}
	q->rx_bs = or_default(c->rx_block_size, DEF_RX_BLOCK_SIZE);
	q->rx_nb = or_default(c->rx_blocks, DEF_RX_BLOCKS);
	q->tx_fs = or_default(c->tx_frame_size, DEF_TX_FRAME_SIZE);
	q->tx_nf = or_default(c->tx_frames, DEF_TX_FRAMES);
	if (q->rx_bs % page != 0 || q->rx_bs < RX_FRAME_UNIT)
		return fail(err, errlen, -EINVAL, "%s: rx_block_size %u is not a multiple of the page size (%u)",
			    p->ifname, q->rx_bs, page);
	if (q->tx_fs % TPACKET_ALIGNMENT != 0 || q->tx_fs < TX_DATA_OFF + 64 || q->tx_fs > page)
		return fail(err, errlen, -EINVAL,
			    "%s: tx_frame_size %u must be a multiple of %u between %zu and the page size (%u)",
			    p->ifname, q->tx_fs, TPACKET_ALIGNMENT, TX_DATA_OFF + 64, page);
	if (q->rx_nb < 2 || q->tx_nf < 2)
		return fail(err, errlen, -EINVAL, "%s: rings need at least 2 blocks and 2 TX frames", p->ifname);
	rc = setopt(q->fd, PACKET_VERSION, &v3, sizeof(v3), "TPACKET_V3", p->ifname, err, errlen);
	if (rc != 0)
		return rc;
	/* (Before the rings: the kernel refuses it after.) A frame the kernel
	 * cannot send is skipped (marked free) instead of stopping the ring
	 * there; commit checks lengths first. */
	rc = setopt(q->fd, PACKET_LOSS, &one, sizeof(one), "PACKET_LOSS", p->ifname, err, errlen);
	if (rc != 0)
		return rc;
	rx.tp_block_size = q->rx_bs;
	rx.tp_block_nr = q->rx_nb;
	rx.tp_frame_size = RX_FRAME_UNIT;
	rx.tp_frame_nr = q->rx_bs / RX_FRAME_UNIT * q->rx_nb;
	rx.tp_retire_blk_tov = or_default(c->rx_block_tov_ms, DEF_RX_TOV_MS);
	rx.tp_feature_req_word = TP_FT_REQ_FILL_RXHASH;
	rc = setopt(q->fd, PACKET_RX_RING, &rx, sizeof(rx), "RX ring", p->ifname, err, errlen);
	if (rc != 0)
		return rc;
	/* TX slots never span a block: blocks of one page, page / frame slots each. */
	tx_bs = page;
	q->tx_nf -= q->tx_nf % (tx_bs / q->tx_fs);
	if (q->tx_nf < tx_bs / q->tx_fs)
		q->tx_nf = tx_bs / q->tx_fs;
	tx.tp_block_size = tx_bs;
	tx.tp_frame_size = q->tx_fs;
	tx.tp_block_nr = q->tx_nf / (tx_bs / q->tx_fs);
	tx.tp_frame_nr = q->tx_nf;
	rc = setopt(q->fd, PACKET_TX_RING, &tx, sizeof(tx), "TX ring", p->ifname, err, errlen);
	if (rc != 0)
		return rc;
	/* Our own frames, and what the host sends on the interface, are not input. */
	rc = setopt(q->fd, PACKET_IGNORE_OUTGOING, &one, sizeof(one), "PACKET_IGNORE_OUTGOING", p->ifname,
		    err, errlen);
	if (rc != 0)
		return rc;
	if (c->qdisc_bypass) {
		rc = setopt(q->fd, PACKET_QDISC_BYPASS, &one, sizeof(one), "PACKET_QDISC_BYPASS", p->ifname,
			    err, errlen);
		if (rc != 0)
			return rc;
	}
	q->map_len = (size_t)q->rx_bs * q->rx_nb + (size_t)tx_bs * tx.tp_block_nr;
	q->map = mmap(NULL, q->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, q->fd, 0);
	if (q->map == MAP_FAILED) {
		q->map = NULL;
		return fail(err, errlen, -errno, "%s: mmap of the rings (%zu bytes): %s", p->ifname, q->map_len,
			    strerror(errno));
	}
	q->tx = q->map + (size_t)q->rx_bs * q->rx_nb;
	q->tx_max_len = p->mtu + 18;	/* Ethernet header + one VLAN tag */
	if (q->tx_max_len > q->tx_fs - TX_DATA_OFF)
		q->tx_max_len = (uint32_t)(q->tx_fs - TX_DATA_OFF);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = p->ifindex;
	if (bind(q->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		return fail(err, errlen, -errno, "%s: bind: %s", p->ifname, strerror(errno));
	if (p->nq > 1) {
		/* The first socket asks the kernel for a group id no one else
		 * uses; the others join it. */
		int mode = c->steer == MLW_AFP_STEER_PORTS ? PACKET_FANOUT_CBPF : PACKET_FANOUT_HASH;
		int arg = *fanout_id < 0 ? (mode | PACKET_FANOUT_FLAG_UNIQUEID) << 16
					 : (*fanout_id & 0xffff) | (mode << 16);

		rc = setopt(q->fd, PACKET_FANOUT, &arg, sizeof(arg), "fanout group", p->ifname, err, errlen);
		if (rc != 0)
			return rc;
		if (*fanout_id < 0) {
			socklen_t len = sizeof(arg);

			if (getsockopt(q->fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) != 0)
				return fail(err, errlen, -errno, "%s: fanout group id: %s", p->ifname,
					    strerror(errno));
			*fanout_id = arg & 0xffff;
			if (mode == PACKET_FANOUT_CBPF) {
				/* The group's program: set once, through any member. */
				struct sock_fprog prog = {
					.len = sizeof(steer_ports_prog) / sizeof(steer_ports_prog[0]),
					.filter = (struct sock_filter *)steer_ports_prog,
				};

				rc = setopt(q->fd, PACKET_FANOUT_DATA, &prog, sizeof(prog),
					    "fanout steering program", p->ifname, err, errlen);
				if (rc != 0)
					return rc;
			}
		}
	}
	return 0;
}

static int read_if(struct mlw_afp_port *p, char *err, size_t errlen)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (fd < 0)
		return fail(err, errlen, -errno, "%s: socket: %s", p->ifname, strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		rc = fail(err, errlen, -errno, "%s: %s", p->ifname, strerror(errno));
	else if (!(ifr.ifr_flags & IFF_UP))
		rc = fail(err, errlen, -ENETDOWN, "%s: the interface is down (ip link set %s up)", p->ifname,
			  p->ifname);
	else if (ioctl(fd, SIOCGIFMTU, &ifr) != 0)
		rc = fail(err, errlen, -errno, "%s: MTU: %s", p->ifname, strerror(errno));
	if (rc == 0) {
		p->mtu = (unsigned)ifr.ifr_mtu;
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0)
			rc = fail(err, errlen, -errno, "%s: MAC address: %s", p->ifname, strerror(errno));
		else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
			rc = fail(err, errlen, -EPROTONOSUPPORT, "%s: not an Ethernet interface (type %u)",
				  p->ifname, ifr.ifr_hwaddr.sa_family);
		else
			memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	close(fd);
	return rc;
}

int mlw_afp_open(const struct mlw_afp_conf *c, struct mlw_afp_port **out, char *err, size_t errlen)
{
	struct mlw_afp_port *p;
	int fanout_id = -1, rc = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || c == NULL || c->ifname == NULL)
		return fail(err, errlen, -EINVAL, "no interface name");
	*out = NULL;
	if (c->ifname[0] == '\0' || strlen(c->ifname) >= IF_NAMESIZE)
		return fail(err, errlen, -EINVAL, "\"%s\" is not an interface name", c->ifname);
	if (c->nqueues < 1 || c->nqueues > MLW_AFP_MAX_QUEUES)
		return fail(err, errlen, -EINVAL, "%s: %u queues (1..%u)", c->ifname, c->nqueues,
			    MLW_AFP_MAX_QUEUES);
	p = calloc(1, sizeof(*p) + c->nqueues * sizeof(p->q[0]));
	if (p == NULL)
		return fail(err, errlen, -ENOMEM, "%s: no memory", c->ifname);
	snprintf(p->ifname, sizeof(p->ifname), "%s", c->ifname);
	p->nq = c->nqueues;
	for (unsigned i = 0; i < p->nq; i++)
		p->q[i].fd = -1;
	p->ifindex = (int)if_nametoindex(c->ifname);
	if (p->ifindex == 0)
		rc = fail(err, errlen, -ENODEV, "%s: no such interface", c->ifname);
	if (rc == 0)
		rc = read_if(p, err, errlen);
	for (unsigned i = 0; rc == 0 && i < p->nq; i++)
		rc = queue_open(p, &p->q[i], c, &fanout_id, err, errlen);
	if (rc != 0) {
		mlw_afp_close(p);
		return rc;
	}
	*out = p;
	return 0;
}

void mlw_afp_close(struct mlw_afp_port *p)
{
	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->nq; i++) {
		if (p->q[i].map != NULL)
			munmap(p->q[i].map, p->q[i].map_len);
		if (p->q[i].fd >= 0)
			close(p->q[i].fd);
	}
	free(p);
}

unsigned mlw_afp_nqueues(const struct mlw_afp_port *p)
{
	return p->nq;
}

struct mlw_afp_queue *mlw_afp_queue(struct mlw_afp_port *p, unsigned q)
{
	return q < p->nq ? &p->q[q] : NULL;
}

void mlw_afp_mac(const struct mlw_afp_port *p, uint8_t mac[6])
{
	memcpy(mac, p->mac, 6);
}

unsigned mlw_afp_mtu(const struct mlw_afp_port *p)
{
	return p->mtu;
}

int mlw_afp_fd(const struct mlw_afp_queue *q)
{
	return q->fd;
}

void mlw_afp_rx_release(struct mlw_afp_queue *q)
{
	for (; q->rel_n > 0; q->rel_n--) {
		status_store(&rx_block(q, q->rel_head)->hdr.bh1.block_status, TP_STATUS_KERNEL);
		q->rel_head = (q->rel_head + 1) % q->rx_nb;
	}
}

bool mlw_afp_rx_ready(const struct mlw_afp_queue *q)
{
	return q->rx_left > 0 || (status_load(&rx_block(q, q->rx_cur)->hdr.bh1.block_status) & TP_STATUS_USER);
}

unsigned mlw_afp_rx_burst(struct mlw_afp_queue *q, struct mlw_afp_frame *f, unsigned n)
{
	unsigned got = 0;

	mlw_afp_rx_release(q);
	while (got < n) {
		struct tpacket3_hdr *h;

		if (q->rx_left == 0) {
			struct tpacket_block_desc *b = rx_block(q, q->rx_cur);

			/* Every block read in this burst: the next is one of
			 * them, still ours until the next call gives it back. */
			if (q->rel_n == q->rx_nb)
				break;
			if (!(status_load(&b->hdr.bh1.block_status) & TP_STATUS_USER))
				break;
			q->st.rx_blocks++;
			q->rx_left = b->hdr.bh1.num_pkts;
			q->rx_next = (struct tpacket3_hdr *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
			if (q->rx_left == 0) {
				/* An empty block (retired by the timer): straight back. */
				if (q->rel_n++ == 0)
					q->rel_head = q->rx_cur;
				q->rx_cur = (q->rx_cur + 1) % q->rx_nb;
				continue;
			}
		}
		h = q->rx_next;
		f[got].data = (const uint8_t *)h + h->tp_mac;
		f[got].len = h->tp_snaplen;
		f[got].wire_len = h->tp_len;
		f[got].hash = h->hv1.tp_rxhash;
		f[got].vlan = (h->tp_status & TP_STATUS_VLAN_VALID) != 0;
		f[got].vlan_tci = h->hv1.tp_vlan_tci;
		f[got].csum_partial = (h->tp_status & TP_STATUS_CSUMNOTREADY) != 0;
		f[got].csum_valid = (h->tp_status & TP_STATUS_CSUM_VALID) != 0;
		if (h->tp_snaplen < h->tp_len)
			q->st.rx_truncated++;
		q->st.rx_pkts++;
		q->st.rx_bytes += h->tp_snaplen;
		got++;
		if (--q->rx_left == 0) {
			if (q->rel_n++ == 0)
				q->rel_head = q->rx_cur;
			q->rx_cur = (q->rx_cur + 1) % q->rx_nb;
		} else {
			q->rx_next = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
		}
	}
	return got;
}

uint8_t *mlw_afp_tx_slot(struct mlw_afp_queue *q, uint32_t *room)
{
	struct tpacket3_hdr *h = tx_frame(q, q->tx_head);

	if (status_load(&h->tp_status) != TP_STATUS_AVAILABLE) {
		q->st.tx_full++;
		return NULL;
	}
	if (room != NULL)
		*room = q->tx_max_len;
	return (uint8_t *)h + TX_DATA_OFF;
}

void mlw_afp_tx_commit(struct mlw_afp_queue *q, uint32_t len)
{
	struct tpacket3_hdr *h = tx_frame(q, q->tx_head);

	if (len < ETH_HLEN || len > q->tx_max_len) {
		q->st.tx_rejected++;
		return;
	}
	h->tp_len = len;
	h->tp_snaplen = len;
	h->tp_next_offset = 0;
	status_store(&h->tp_status, TP_STATUS_SEND_REQUEST);
	q->tx_head = (q->tx_head + 1) % q->tx_nf;
	q->tx_queued++;
	q->st.tx_pkts++;
	q->st.tx_bytes += len;
}

int mlw_afp_tx_copy(struct mlw_afp_queue *q, const void *frame, uint32_t len)
{
	uint32_t room;
	uint8_t *slot = mlw_afp_tx_slot(q, &room);

	if (slot == NULL)
		return -ENOBUFS;
	if (len > room || len < ETH_HLEN) {
		q->st.tx_rejected++;
		return -EMSGSIZE;
	}
	memcpy(slot, frame, len);
	mlw_afp_tx_commit(q, len);
	return 0;
}

int mlw_afp_tx_flush(struct mlw_afp_queue *q)
{
	int n = (int)q->tx_queued;

	if (n == 0)
		return 0;
	if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
		/* No socket buffer room: the frames stay SEND_REQUEST and the
		 * next flush asks again (tx_queued is kept for that). */
		if (errno == EAGAIN || errno == ENOBUFS)
			return -EAGAIN;
		q->st.tx_flush_errors++;
		return -errno;
	}
	q->tx_queued = 0;
	return n;
}

void mlw_afp_stats(struct mlw_afp_queue *q, struct mlw_afp_stats *out)
{
	struct tpacket_stats_v3 ks;
	socklen_t len = sizeof(ks);

	/* The kernel's counters reset when read: add them up. */
	if (getsockopt(q->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0)
		q->st.rx_kernel_drops += ks.tp_drops;
	*out = q->st;
}

unsigned mlw_afp_tx_queued(const struct mlw_afp_queue *q)
{
	return q->tx_queued;
}

void mlw_afp_counters(const struct mlw_afp_queue *q, struct mlw_afp_stats *out)
{
	*out = q->st;
}
