/* config.c - mlw_config: defaults, INI loading through libinih, validation, EAL argv splitting. */
/*
 * Call chain: mlw_config_load_file / mlw_config_load_string -> load ->
 * ini_parse_stream (libinih) -> read_line (ours: counts lines, refuses long
 * ones, stops after the first error) and on_entry (one call per key) ->
 * eal_entry / stack_entry / port_entry; then finish (shards vs cores, port
 * numbering) -> mlw_config_validate.
 *
 * libinih's handler gets no line number (Debian builds it without
 * INI_HANDLER_LINENO), and it keeps calling the handler after one failed.
 * Feeding it through our own reader solves both: the reader knows which line
 * inih is on, and returns EOF once an error is recorded. libinih's run-time
 * option globals (ini_max_line, ...) are process-wide, so they are left alone.
 *
 * All state lives in a struct parse on the caller's stack: this file has no
 * writable globals, so any number of threads may load configurations at once.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mlwip/config.h"
#include "config_capture_private.h"
#include "config_limits_private.h"
#include "mbuf_budget.h"
#include "mlwip/socket.h"

#define IDLE_SLEEP_MIN	1
#define IDLE_SLEEP_MAX	100000
#define IDLE_SLEEP_DEF	50
#define IDLE_WAIT_MIN	1
#define IDLE_WAIT_MAX	10000
#define IDLE_WAIT_DEF	100
#define BURST_MIN	1
#define BURST_MAX	512
#define BURST_DEF	32
#define MTU_MIN		576
#define MTU_MAX		9000
#define MTU_DEF		1500
#define MTU_MIN_IPV6	1280	/* RFC 8200: every IPv6 link carries 1280-byte packets */

/* How much of an offending value an error message quotes. */
#define QUOTE		"\"%.64s%s\""
#define QUOTED(v)	(v), (strlen(v) > 64 ? "..." : "")

/* Sections and keys. Arrays of char, not of pointers, so they stay in .rodata. */
enum {
	STACK_SHARDS, STACK_CORES, STACK_IDLE, STACK_IDLE_SLEEP_US, STACK_BURST, STACK_MAX_SOCKETS,
	STACK_HEAP_LIMIT_MB, STACK_MAX_TIME_WAIT, STACK_RX_DESC, STACK_TX_DESC, STACK_RX_ZERO_COPY,
	STACK_MBUFS, STACK_MBUF_CACHE, STACK_TCP_RCVBUF, STACK_TCP_SNDBUF, STACK_LOCAL_PORTS,
	STACK_SYNCOOKIES, STACK_SYN_BACKLOG, STACK_SYN_RCVD_TIMEOUT_MS, STACK_RING_SIZE, STACK_IDLE_WAIT_MS,
	STACK_NKEYS
};
static const char stack_keys[STACK_NKEYS][16] = {
	"shards", "cores", "idle", "idle_sleep_us", "burst", "max_sockets", "heap_limit_mb",
	"max_time_wait", "rx_desc", "tx_desc", "rx_zero_copy", "mbufs", "mbuf_cache",
	"tcp_rcvbuf", "tcp_sndbuf", "local_ports", "syncookies", "syn_backlog", "syn_timeout_ms",
	"ring_size", "idle_wait_ms",
};
enum { PORT_IPV4, PORT_GATEWAY, PORT_IPV6, PORT_MAC, PORT_MTU, PORT_CHECKSUM, PORT_ENGINE, PORT_IFACE,
       PORT_STEER, PORT_RX_BLOCK_KB, PORT_RX_BLOCKS, PORT_TX_FRAMES, PORT_NKEYS };
static const char port_keys[PORT_NKEYS][16] = {
	"ipv4", "gateway", "ipv6", "mac", "mtu", "checksum", "engine", "iface", "steer", "rx_block_kb",
	"rx_blocks", "tx_frames",
};
static const char engine_names[][10] = {
	[MLW_ENGINE_DPDK] = "dpdk", [MLW_ENGINE_AFPACKET] = "afpacket", [MLW_ENGINE_LOOP] = "loop",
};
#define NENGINE	(sizeof(engine_names) / sizeof(engine_names[0]))
static const char steer_names[][8] = {
	[MLW_PORT_STEER_PORTS] = "ports", [MLW_PORT_STEER_HASH] = "hash",
};
/* The afpacket engine's ring sizes ([portN] rx_block_kb, rx_blocks,
 * tx_frames): what afpacket-netif/afp.c accepts, within memory a board
 * has (a shard's RX ring is rx_block_kb * rx_blocks). */
#define AFP_BLOCK_KB_MIN	4
#define AFP_BLOCK_KB_MAX	65536
#define AFP_BLOCKS_MIN		2
#define AFP_BLOCKS_MAX		4096
#define AFP_TX_FRAMES_MIN	16
#define AFP_TX_FRAMES_MAX	65536
static const char checksum_names[][8] = {
	[MLW_CHECKSUM_VERIFY] = "verify", [MLW_CHECKSUM_TRUST] = "trust",
};
#define NCHECKSUM	(sizeof(checksum_names) / sizeof(checksum_names[0]))
static const char idle_names[][10] = {
	[MLW_IDLE_POLL] = "poll", [MLW_IDLE_BACKOFF] = "backoff", [MLW_IDLE_SLEEP] = "sleep",
	[MLW_IDLE_INTERRUPT] = "interrupt",
};
#define NIDLE	(sizeof(idle_names) / sizeof(idle_names[0]))

_Static_assert(MLW_MAX_PORTS <= 10, "port_index() parses one digit");
_Static_assert(MLW_CONFIG_MAX_CORE <= UINT16_MAX, "cores[] holds uint16_t");
_Static_assert(BURST_MAX <= UINT16_MAX && MTU_MAX <= UINT16_MAX, "burst and mtu are uint16_t");

/* One load in progress. */
struct parse {
	struct mlw_config cfg;		/* built here, copied out only when valid */
	struct mlw_config_error *err;
	FILE *file;			/* source: a file ... */
	const char *text;		/* ... or a string */
	int line;			/* line inih is working on */
	int rc;				/* 0, or the negative errno of the first error */
	int rc_line;			/* line of that error */
	bool indented;			/* that line starts with a blank */
	char last_section[64];		/* section and key of the previous entry, */
	char last_key[64];		/* to tell continuation lines from repeated keys */
	unsigned int ncores;		/* entries parsed from [stack] cores */
	unsigned int ports_seen;	/* bit i: [port i] had a key */
	/* Line of each key that was set (0: not set), for duplicate detection
	 * and for giving validation errors a line. */
	int eal_line;
	int stack_line[STACK_NKEYS];
	int port_line[MLW_MAX_PORTS][PORT_NKEYS];
	int port_first_line[MLW_MAX_PORTS];
};

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void vset_error(struct mlw_config_error *err, int line, const char *section, const char *key,
		       const char *fmt, va_list ap)
{
	if (!err)
		return;
	err->line = line;
	copy_str(err->section, sizeof(err->section), section ? section : "");
	copy_str(err->key, sizeof(err->key), key ? key : "");
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

/* Record an error found by validation; returns -EINVAL. */
__attribute__((format(printf, 4, 5)))
static int verr(struct mlw_config_error *err, const char *section, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_error(err, 0, section, key, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Record the first error of a load, at the current line; returns 0 (inih's "failed"). */
__attribute__((format(printf, 4, 5)))
static int fail(struct parse *p, const char *section, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (p->rc)
		return 0;
	va_start(ap, fmt);
	vset_error(p->err, p->line, section, key, fmt, ap);
	va_end(ap);
	p->rc = -EINVAL;
	p->rc_line = p->line;
	return 0;
}

/* Index of @p name in a key table, or -1. */
static int key_index(const char (*keys)[16], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(keys[i], name) == 0)
			return i;
	return -1;
}

/* "port0".."port7" -> 0..7; -1 if not "port<decimal>"; -2 if the number is too big. */
static int port_index(const char *section)
{
	unsigned long n = 0;
	const char *s;

	if (strncmp(section, "port", 4) != 0)
		return -1;
	s = section + 4;
	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (unsigned long)(*s - '0');
		if (n >= MLW_MAX_PORTS)
			return -2;
	}
	return (int)n;
}

/* Strict unsigned decimal: digits only, no sign, no blanks, at most @p max. */
static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long n = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (n > (max - (unsigned long)(*s - '0')) / 10)
			return false;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	*out = n;
	return true;
}

static uint32_t prefix_to_netmask(unsigned int prefix)
{
	return htonl(prefix == 0 ? 0 : ~(uint32_t)0 << (32 - prefix));
}

/* Render a network-order IPv4 address; @p buf has INET_ADDRSTRLEN bytes. */
static const char *ip4_str(uint32_t addr, char *buf)
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

/*
 * "addr/prefix" -> address and prefix length. @p af is AF_INET or AF_INET6,
 * @p addr has room for that family's address.
 * Returns 0; -1 if malformed; -2 if there is no "/prefix"; -3 if the prefix
 * is out of 1..max (*prefix then holds it, clamped to 999).
 */
static int parse_addr_prefix(int af, const char *v, void *addr, unsigned int *prefix)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned int max = af == AF_INET ? 32 : 128;
	const char *slash = strchr(v, '/');
	size_t alen = slash ? (size_t)(slash - v) : strlen(v);
	unsigned long n;

	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, v, alen);
	buf[alen] = '\0';
	if (inet_pton(af, buf, addr) != 1)
		return -1;
	if (!slash)
		return -2;
	if (!parse_ulong(slash + 1, 999, &n))
		return -1;
	*prefix = (unsigned int)n;
	return n >= 1 && n <= max ? 0 : -3;
}

/* "xx:xx:xx:xx:xx:xx", two hex digits per byte. */
static bool parse_mac(const char *v, uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";

	if (strlen(v) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		const char *hi, *lo;
		char c0 = v[3 * i], c1 = v[3 * i + 1];

		if (i < 5 && v[3 * i + 2] != ':')
			return false;
		if (c0 >= 'A' && c0 <= 'F')
			c0 = (char)(c0 - 'A' + 'a');
		if (c1 >= 'A' && c1 <= 'F')
			c1 = (char)(c1 - 'A' + 'a');
		hi = c0 ? strchr(hex, c0) : NULL;
		lo = c1 ? strchr(hex, c1) : NULL;
		if (!hi || !lo)
			return false;
		mac[i] = (uint8_t)((hi - hex) << 4 | (lo - hex));
	}
	return true;
}

/*
 * "0-3,6" -> cores[] in the order written. Blanks around items are allowed.
 * Errors (too many, out of range) go through fail(). A core may be listed
 * more than once: shards then share it (validate_stack() allows that only
 * when they do not busy-poll).
 */
/* "LO-HI", 1 <= LO <= HI <= 65535. */
static int parse_local_ports(struct parse *p, const char *sec, const char *key, const char *v)
{
	char item[32];
	const char *dash = strchr(v, '-');
	unsigned long lo, hi;

	if (dash == NULL || (size_t)(dash - v) >= sizeof(item))
		return fail(p, sec, key, QUOTE " is not a port range like 49152-65535", QUOTED(v));
	memcpy(item, v, (size_t)(dash - v));
	item[dash - v] = '\0';
	if (!parse_ulong(item, 65535, &lo) || !parse_ulong(dash + 1, 65535, &hi) || lo == 0)
		return fail(p, sec, key, QUOTE " is not a port range within 1-65535", QUOTED(v));
	if (lo > hi)
		return fail(p, sec, key, "range %lu-%lu runs backwards", lo, hi);
	p->cfg.local_port_lo = (uint16_t)lo;
	p->cfg.local_port_hi = (uint16_t)hi;
	return 1;
}

static int parse_cores(struct parse *p, const char *sec, const char *key, const char *v)
{
	unsigned int n = 0;
	const char *s = v;

	for (;;) {
		char item[32];
		size_t len;
		const char *end, *dash;
		unsigned long lo, hi;

		while (*s == ' ' || *s == '\t')
			s++;
		end = strchr(s, ',');
		len = end ? (size_t)(end - s) : strlen(s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(item))
			return fail(p, sec, key, QUOTE " is not a list of cores like 0,1 or 0-3,6",
				    QUOTED(v));
		memcpy(item, s, len);
		item[len] = '\0';
		dash = strchr(item, '-');
		if (dash) {
			item[dash - item] = '\0';
			if (!parse_ulong(item, ULONG_MAX, &lo) || !parse_ulong(dash + 1, ULONG_MAX, &hi))
				return fail(p, sec, key, QUOTE " is not a list of cores like 0,1 or 0-3,6",
					    QUOTED(v));
			if (lo > hi)
				return fail(p, sec, key, "range %lu-%lu in " QUOTE " runs backwards",
					    lo, hi, QUOTED(v));
		} else {
			if (!parse_ulong(item, ULONG_MAX, &lo))
				return fail(p, sec, key, QUOTE " is not a list of cores like 0,1 or 0-3,6",
					    QUOTED(v));
			hi = lo;
		}
		if (hi > MLW_CONFIG_MAX_CORE)
			return fail(p, sec, key, "core %lu is out of range (0..%d)", hi, MLW_CONFIG_MAX_CORE);
		for (unsigned long c = lo; c <= hi; c++) {
			if (n == MLW_MAX_SHARDS)
				return fail(p, sec, key, "lists more than %d cores", MLW_MAX_SHARDS);
			p->cfg.cores[n++] = (uint16_t)c;
		}
		if (!end)
			break;
		s = end + 1;
	}
	p->ncores = n;
	return 1;
}

/* A number for @p key in lo..hi, or an error naming the range. */
static bool parse_range(struct parse *p, const char *sec, const char *key, const char *v,
			unsigned long lo, unsigned long hi, unsigned long *out)
{
	if (!parse_ulong(v, ULONG_MAX, out)) {
		fail(p, sec, key, QUOTE " is not a number", QUOTED(v));
		return false;
	}
	if (*out < lo || *out > hi) {
		fail(p, sec, key, "%lu is out of range (%lu..%lu)", *out, lo, hi);
		return false;
	}
	return true;
}

static int eal_entry(struct parse *p, const char *sec, const char *key, const char *v, bool cont)
{
	char *args = p->cfg.eal_args;
	size_t used = strlen(args), add = strlen(v);

	if (strcmp(key, "args") != 0)
		return fail(p, sec, key, "unknown key in [eal] (known: args)");
	if (cont) {
		/* An indented line continues the value: join with one blank. */
		if (add == 0)
			return 1;
		if (used + 1 + add >= sizeof(p->cfg.eal_args))
			return fail(p, sec, key, "is longer than %zu bytes", sizeof(p->cfg.eal_args) - 1);
		if (used > 0)
			args[used++] = ' ';
		memcpy(args + used, v, add + 1);
		return 1;
	}
	if (p->eal_line)
		return fail(p, sec, key, "duplicate key (first set on line %d)", p->eal_line);
	p->eal_line = p->line;
	if (add >= sizeof(p->cfg.eal_args))
		return fail(p, sec, key, "is longer than %zu bytes", sizeof(p->cfg.eal_args) - 1);
	memcpy(args, v, add + 1);
	return 1;
}

static int stack_entry(struct parse *p, const char *sec, const char *key, const char *v)
{
	int k = key_index(stack_keys, STACK_NKEYS, key);
	unsigned long n;

	if (k < 0)
		return fail(p, sec, key, "unknown key in [stack] (known: shards, cores, idle, idle_sleep_us, "
			    "burst, max_sockets, heap_limit_mb, max_time_wait, rx_desc, tx_desc, "
			    "rx_zero_copy, mbufs, mbuf_cache, tcp_rcvbuf, tcp_sndbuf, local_ports, "
			    "syncookies, syn_backlog, syn_timeout_ms, ring_size, idle_wait_ms)");
	if (p->stack_line[k])
		return fail(p, sec, key, "duplicate key (first set on line %d)", p->stack_line[k]);
	p->stack_line[k] = p->line;
	switch (k) {
	case STACK_SHARDS:
		if (!parse_range(p, sec, key, v, 1, MLW_MAX_SHARDS, &n))
			return 0;
		p->cfg.shards = (unsigned int)n;
		return 1;
	case STACK_CORES:
		return parse_cores(p, sec, key, v);
	case STACK_IDLE:
		for (size_t i = 0; i < NIDLE; i++) {
			if (strcmp(v, idle_names[i]) == 0) {
				p->cfg.idle = (enum mlw_idle_policy)i;
				return 1;
			}
		}
		return fail(p, sec, key, QUOTE " is not an idle policy (poll, backoff, sleep or interrupt)", QUOTED(v));
	case STACK_IDLE_SLEEP_US:
		if (!parse_range(p, sec, key, v, IDLE_SLEEP_MIN, IDLE_SLEEP_MAX, &n))
			return 0;
		p->cfg.idle_sleep_us = (uint32_t)n;
		return 1;
	case STACK_IDLE_WAIT_MS:
		if (!parse_range(p, sec, key, v, IDLE_WAIT_MIN, IDLE_WAIT_MAX, &n))
			return 0;
		p->cfg.idle_wait_ms = (uint32_t)n;
		return 1;
	case STACK_BURST:
		if (!parse_range(p, sec, key, v, BURST_MIN, BURST_MAX, &n))
			return 0;
		p->cfg.burst = (uint16_t)n;
		return 1;
	case STACK_MAX_SOCKETS:
		if (!parse_range(p, sec, key, v, 1, MLW_FD_MAX_PER_SHARD, &n))
			return 0;
		p->cfg.max_sockets = (uint32_t)n;
		return 1;
	case STACK_HEAP_LIMIT_MB:
		if (!parse_range(p, sec, key, v, 0, MLW_CONFIG_HEAP_LIMIT_MB_MAX, &n))
			return 0;
		p->cfg.heap_limit_mb = (uint32_t)n;
		return 1;
	case STACK_MAX_TIME_WAIT:
		if (!parse_range(p, sec, key, v, 0, MLW_CONFIG_MAX_TIME_WAIT_MAX, &n))
			return 0;
		p->cfg.max_time_wait = (uint32_t)n;
		return 1;
	case STACK_SYNCOOKIES:
		if (!parse_range(p, sec, key, v, 0, 2, &n))
			return 0;
		p->cfg.syncookies = (uint32_t)n;
		return 1;
	case STACK_SYN_BACKLOG:
		if (!parse_range(p, sec, key, v, 1, MLW_CONFIG_SYN_BACKLOG_MAX, &n))
			return 0;
		p->cfg.syn_backlog = (uint32_t)n;
		return 1;
	case STACK_SYN_RCVD_TIMEOUT_MS:
		if (!parse_range(p, sec, key, v, MLW_CONFIG_SYN_RCVD_TIMEOUT_MIN,
				 MLW_CONFIG_SYN_RCVD_TIMEOUT_MAX, &n))
			return 0;
		p->cfg.syn_rcvd_timeout_ms = (uint32_t)n;
		return 1;
	case STACK_RING_SIZE:
		if (!parse_range(p, sec, key, v, 0, MLW_CONFIG_RING_SIZE_MAX, &n))
			return 0;
		if (n != 0 && (n < MLW_CONFIG_RING_SIZE_MIN || (n & (n - 1)) != 0))
			return fail(p, sec, key, "%lu is not 0 or a power of two in %u..%u", n,
				    MLW_CONFIG_RING_SIZE_MIN, MLW_CONFIG_RING_SIZE_MAX);
		p->cfg.ring_size = (uint32_t)n;
		return 1;
	case STACK_TCP_RCVBUF:
	case STACK_TCP_SNDBUF:
		if (!parse_range(p, sec, key, v, 0, MLW_CONFIG_TCP_BUF_MAX, &n))
			return 0;
		*(k == STACK_TCP_RCVBUF ? &p->cfg.tcp_rcvbuf : &p->cfg.tcp_sndbuf) = (uint32_t)n;
		return 1;
	case STACK_RX_DESC:
	case STACK_TX_DESC:
		if (!parse_range(p, sec, key, v, MLW_CONFIG_DESC_MIN, MLW_CONFIG_DESC_MAX, &n))
			return 0;
		*(k == STACK_RX_DESC ? &p->cfg.rx_desc : &p->cfg.tx_desc) = (uint32_t)n;
		return 1;
	case STACK_RX_ZERO_COPY:
		if (!parse_range(p, sec, key, v, 0, MLW_CONFIG_RX_ZERO_COPY_MAX, &n))
			return 0;
		p->cfg.rx_zero_copy = (uint32_t)n;
		return 1;
	case STACK_MBUFS:
		if (!parse_range(p, sec, key, v, 0, MLW_CONFIG_MBUFS_MAX, &n))
			return 0;
		p->cfg.mbufs = (uint32_t)n;
		return 1;
	case STACK_MBUF_CACHE:
		if (!parse_range(p, sec, key, v, 0, MLW_CONFIG_MBUF_CACHE_MAX, &n))
			return 0;
		p->cfg.mbuf_cache = (uint32_t)n;
		return 1;
	case STACK_LOCAL_PORTS:
		return parse_local_ports(p, sec, key, v);
	}
	return fail(p, sec, key, "internal error: unhandled key");
}

static int port_entry(struct parse *p, unsigned int idx, const char *sec, const char *key, const char *v)
{
	struct mlw_config_port *port = &p->cfg.ports[idx];
	int k = key_index(port_keys, PORT_NKEYS, key);
	unsigned int prefix = 0;
	unsigned long n;
	int rc;

	if (!(p->ports_seen & (1u << idx))) {
		p->ports_seen |= 1u << idx;
		p->port_first_line[idx] = p->line;
	}
	if (k < 0)
		return fail(p, sec, key, "unknown key in [%s] (known: ipv4, gateway, ipv6, mac, mtu, checksum, "
			    "engine, iface, steer, rx_block_kb, rx_blocks, tx_frames)", sec);
	if (p->port_line[idx][k])
		return fail(p, sec, key, "duplicate key (first set on line %d)", p->port_line[idx][k]);
	p->port_line[idx][k] = p->line;
	switch (k) {
	case PORT_IPV4:
		rc = parse_addr_prefix(AF_INET, v, &port->ipv4_addr, &prefix);
		if (rc == -1)
			return fail(p, sec, key, QUOTE " is not an IPv4 address/prefix", QUOTED(v));
		if (rc == -2)
			return fail(p, sec, key, QUOTE " has no prefix length (write it as address/prefix, e.g. 10.0.0.1/24)",
				    QUOTED(v));
		if (rc == -3)
			return fail(p, sec, key, "prefix length %u in " QUOTE " is out of range (1..32)",
				    prefix, QUOTED(v));
		port->ipv4_prefix = (uint8_t)prefix;
		port->ipv4_netmask = prefix_to_netmask(prefix);
		port->has_ipv4 = true;
		return 1;
	case PORT_GATEWAY:
		if (inet_pton(AF_INET, v, &port->ipv4_gateway) != 1)
			return fail(p, sec, key, QUOTE " is not an IPv4 address", QUOTED(v));
		return 1;
	case PORT_IPV6:
		rc = parse_addr_prefix(AF_INET6, v, port->ipv6_addr, &prefix);
		if (rc == -1)
			return fail(p, sec, key, QUOTE " is not an IPv6 address/prefix", QUOTED(v));
		if (rc == -2)
			return fail(p, sec, key, QUOTE " has no prefix length (write it as address/prefix, e.g. fd00::1/64)",
				    QUOTED(v));
		if (rc == -3)
			return fail(p, sec, key, "prefix length %u in " QUOTE " is out of range (1..128)",
				    prefix, QUOTED(v));
		port->ipv6_prefix = (uint8_t)prefix;
		port->has_ipv6 = true;
		return 1;
	case PORT_MAC:
		if (!parse_mac(v, port->mac))
			return fail(p, sec, key, QUOTE " is not a MAC address like 02:00:00:00:00:01", QUOTED(v));
		port->has_mac = true;
		return 1;
	case PORT_MTU:
		if (!parse_range(p, sec, key, v, MTU_MIN, MTU_MAX, &n))
			return 0;
		port->mtu = (uint16_t)n;
		return 1;
	case PORT_CHECKSUM:
		for (size_t i = 0; i < NCHECKSUM; i++) {
			if (strcmp(v, checksum_names[i]) == 0) {
				port->checksum = (enum mlw_checksum_mode)i;
				return 1;
			}
		}
		return fail(p, sec, key, QUOTE " is not a checksum mode (verify or trust)", QUOTED(v));
	case PORT_ENGINE:
		for (size_t i = 0; i < NENGINE; i++) {
			if (strcmp(v, engine_names[i]) == 0) {
				port->engine = (enum mlw_engine)i;
				return 1;
			}
		}
		return fail(p, sec, key, QUOTE " is not a packet engine (dpdk, afpacket or loop)", QUOTED(v));
	case PORT_IFACE:
		if (v[0] == '\0' || strlen(v) >= sizeof(port->iface) || strpbrk(v, " \t/") != NULL)
			return fail(p, sec, key, QUOTE " is not a Linux interface name (1..%zu characters, no "
				    "blanks or '/')", QUOTED(v), sizeof(port->iface) - 1);
		copy_str(port->iface, sizeof(port->iface), v);
		return 1;
	case PORT_STEER:
		if (strcmp(v, steer_names[MLW_PORT_STEER_PORTS]) == 0)
			port->steer = MLW_PORT_STEER_PORTS;
		else if (strcmp(v, steer_names[MLW_PORT_STEER_HASH]) == 0)
			port->steer = MLW_PORT_STEER_HASH;
		else
			return fail(p, sec, key, QUOTE " is not a steering mode (ports or hash)", QUOTED(v));
		return 1;
	case PORT_RX_BLOCK_KB:
		if (!parse_range(p, sec, key, v, AFP_BLOCK_KB_MIN, AFP_BLOCK_KB_MAX, &n))
			return 0;
		port->rx_block_kb = (uint32_t)n;
		return 1;
	case PORT_RX_BLOCKS:
		if (!parse_range(p, sec, key, v, AFP_BLOCKS_MIN, AFP_BLOCKS_MAX, &n))
			return 0;
		port->rx_blocks = (uint32_t)n;
		return 1;
	case PORT_TX_FRAMES:
		if (!parse_range(p, sec, key, v, AFP_TX_FRAMES_MIN, AFP_TX_FRAMES_MAX, &n))
			return 0;
		port->tx_frames = (uint32_t)n;
		return 1;
	}
	return fail(p, sec, key, "internal error: unhandled key");
}

/* libinih handler: one call per "key = value" line (and per continuation line). */
static int on_entry(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;
	bool cont;
	int idx;

	if (p->rc)
		return 0;
	/* inih hands an indented line after a key to the handler again under
	 * that key's name; a key that is really repeated arrives unindented. */
	cont = p->indented && p->last_key[0] && strcmp(section, p->last_section) == 0 &&
	       strcmp(key, p->last_key) == 0;
	copy_str(p->last_section, sizeof(p->last_section), section);
	copy_str(p->last_key, sizeof(p->last_key), key);

	if (section[0] == '\0')
		return fail(p, section, key, "key outside any section (put it under [eal], [stack] or [portN])");
	if (strcmp(section, "eal") == 0)
		return eal_entry(p, section, key, value, cont);
	if (cont)
		return fail(p, section, key, "indented line continues the value of %s; only [eal] args may "
			    "span lines (remove the indentation)", key);
	if (strcmp(section, "limits") == 0) {
		char why[160];

		if (mlw__config_limits_set(&p->cfg.limits, key, value, why, sizeof(why)) != 0)
			return fail(p, section, key, "%s", why);
		return 1;
	}
	if (strcmp(section, "capture") == 0) {
		char why[160];

		if (mlw__config_capture_set(&p->cfg.capture, key, value, why, sizeof(why)) != 0)
			return fail(p, section, key, "%s", why);
		return 1;
	}
	idx = port_index(section);
	if (strcmp(section, "stack") != 0 && idx == -1)
		return fail(p, section, key, "unknown section [%s] (known: eal, stack, limits, capture, port0..port%d)",
			    section, MLW_MAX_PORTS - 1);
	if (idx == -2)
		return fail(p, section, key, "port number out of range: at most %d ports, [port0]..[port%d]",
			    MLW_MAX_PORTS, MLW_MAX_PORTS - 1);
	if (value[0] == '\0')
		return fail(p, section, key, "has no value");
	if (idx < 0)
		return stack_entry(p, section, key, value);
	return port_entry(p, (unsigned int)idx, section, key, value);
}

/*
 * libinih reader: one line of the file or string per call, like fgets.
 * Returning NULL ends the parse, which is how the first error stops it.
 */
static char *read_line(char *buf, int num, void *stream)
{
	struct parse *p = stream;
	size_t n = 0;
	bool more;

	if (p->rc || num < 3)
		return NULL;
	if (p->file) {
		int c;

		if (!fgets(buf, num, p->file))
			return NULL;
		n = strlen(buf);
		more = n == (size_t)num - 1 && buf[n - 1] != '\n' && (c = getc(p->file)) != EOF &&
		       ungetc(c, p->file) != EOF;
	} else {
		if (*p->text == '\0')
			return NULL;
		while (n < (size_t)num - 1 && p->text[n] != '\0') {
			buf[n] = p->text[n];
			if (buf[n++] == '\n')
				break;
		}
		buf[n] = '\0';
		p->text += n;
		more = n == (size_t)num - 1 && buf[n - 1] != '\n' && *p->text != '\0';
	}
	p->line++;
	/* libinih would read the rest as a line of its own. */
	if (more) {
		fail(p, NULL, NULL, "line is longer than %d characters", num - 2);
		return NULL;
	}
	p->indented = buf[0] == ' ' || buf[0] == '\t';
	return buf;
}

/* The line where @p section / @p key was set, for errors found by validation. */
static int line_of(const struct parse *p, const char *section, const char *key)
{
	int idx = port_index(section), k;

	if (strcmp(section, "eal") == 0)
		return p->eal_line;
	if (strcmp(section, "stack") == 0) {
		k = key_index(stack_keys, STACK_NKEYS, key);
		return k < 0 ? 0 : p->stack_line[k];
	}
	if (idx >= 0) {
		k = key_index(port_keys, PORT_NKEYS, key);
		if (k >= 0 && p->port_line[idx][k])
			return p->port_line[idx][k];
		return p->port_first_line[idx];
	}
	return 0;
}

/* After the last line: settle shards vs cores and count the ports. */
static void finish(struct parse *p)
{
	struct mlw_config *cfg = &p->cfg;
	int have_shards = p->stack_line[STACK_SHARDS], have_cores = p->stack_line[STACK_CORES];

	p->line = have_cores;
	if (have_shards && have_cores && cfg->shards != p->ncores) {
		fail(p, "stack", "cores", "lists %u core%s but shards = %u (line %d)",
		     p->ncores, p->ncores == 1 ? "" : "s", cfg->shards, have_shards);
		return;
	}
	if (have_cores) {
		cfg->shards = p->ncores;
	} else {
		for (unsigned int i = 0; i < MLW_MAX_SHARDS; i++)
			cfg->cores[i] = (uint16_t)i;
	}

	cfg->port_count = 0;
	for (unsigned int i = 0; i < MLW_MAX_PORTS; i++) {
		char sec[16];

		if (!(p->ports_seen & (1u << i)))
			continue;
		if (cfg->port_count != i) {
			snprintf(sec, sizeof(sec), "port%u", i);
			p->line = p->port_first_line[i];
			fail(p, sec, NULL, "[port%u] is missing: ports are numbered from port0 without gaps",
			     cfg->port_count);
			return;
		}
		cfg->port_count = i + 1;
	}
}

/* Common part of the two loaders: parse, settle, validate, copy out. */
static int load(struct mlw_config *cfg, struct parse *p, struct mlw_config_error *err)
{
	int rc;

	p->err = err;
	mlw_config_defaults(&p->cfg);
	rc = ini_parse_stream(read_line, p, on_entry, p);
	/* A positive rc is the first line that failed. When that is before the
	 * error we recorded (or we recorded none), inih could not read the line
	 * itself: no '=' in a key line, or no ']' after a section name. inih
	 * reports those only at the end, so the error we stopped at may come
	 * later; the earlier one wins. */
	if (rc > 0 && (!p->rc || rc < p->rc_line)) {
		p->rc = 0;
		p->line = rc;
		fail(p, NULL, NULL, "syntax error: expected [section] or key = value");
	} else if (rc < 0 && !p->rc) {
		p->line = 0;
		fail(p, NULL, NULL, "libinih failed (%d)", rc);
		p->rc = -ENOMEM;
	}
	if (!p->rc && p->file && ferror(p->file)) {
		int e = errno ? errno : EIO;

		p->line = 0;
		errno = e;
		fail(p, NULL, NULL, "read error: %m");
		p->rc = -e;
	}
	if (!p->rc)
		finish(p);
	if (!p->rc) {
		p->rc = mlw_config_validate(&p->cfg, err);
		if (p->rc && err)
			err->line = line_of(p, err->section, err->key);
	}
	if (p->rc) {
		mlw_config_defaults(cfg);
		return p->rc;
	}
	*cfg = p->cfg;
	return 0;
}

void mlw_config_defaults(struct mlw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->shards = 1;
	for (unsigned int i = 0; i < MLW_MAX_SHARDS; i++)
		cfg->cores[i] = (uint16_t)i;
	cfg->idle = MLW_IDLE_BACKOFF;
	cfg->idle_sleep_us = IDLE_SLEEP_DEF;
	cfg->idle_wait_ms = IDLE_WAIT_DEF;
	cfg->burst = BURST_DEF;
	cfg->max_sockets = MLW_FD_MAX_PER_SHARD;
	cfg->max_time_wait = MLW_CONFIG_MAX_TIME_WAIT_DEFAULT;
	cfg->syncookies = MLW_CONFIG_SYNCOOKIES_DEFAULT;
	cfg->syn_backlog = MLW_CONFIG_SYN_BACKLOG_DEFAULT;
	cfg->syn_rcvd_timeout_ms = MLW_CONFIG_SYN_RCVD_TIMEOUT_DEFAULT;
	cfg->ring_size = MLW_CONFIG_RING_SIZE_DEFAULT;
	cfg->tcp_rcvbuf = cfg->tcp_sndbuf = MLW_CONFIG_TCP_BUF_DEFAULT;
	cfg->local_port_lo = MLW_CONFIG_LOCAL_PORT_LO_DEFAULT;
	cfg->local_port_hi = MLW_CONFIG_LOCAL_PORT_HI_DEFAULT;
	cfg->rx_desc = cfg->tx_desc = MLW_CONFIG_DESC_DEFAULT;
	cfg->rx_zero_copy = MLW_CONFIG_RX_ZERO_COPY_DEFAULT;
	cfg->mbuf_cache = MLW_CONFIG_MBUF_CACHE_DEFAULT;
	cfg->limits = (struct mlw_limits)MLW_LIMITS_DEFAULT_INIT;
	mlw__config_capture_defaults(&cfg->capture);
	for (unsigned int i = 0; i < MLW_MAX_PORTS; i++)
		cfg->ports[i].mtu = MTU_DEF;
}

int mlw_config_load_file(struct mlw_config *cfg, const char *path, struct mlw_config_error *err)
{
	struct parse p = {0};
	int rc;

	if (err)
		memset(err, 0, sizeof(*err));
	if (!cfg || !path) {
		if (cfg)
			mlw_config_defaults(cfg);
		return verr(err, NULL, NULL, "no configuration or no path given");
	}
	p.file = fopen(path, "re");
	if (!p.file) {
		int e = errno;

		mlw_config_defaults(cfg);
		errno = e;
		verr(err, NULL, NULL, "cannot open: %m");
		return -e;
	}
	rc = load(cfg, &p, err);
	fclose(p.file);
	return rc;
}

int mlw_config_load_string(struct mlw_config *cfg, const char *text, struct mlw_config_error *err)
{
	struct parse p = {0};

	if (err)
		memset(err, 0, sizeof(*err));
	if (!cfg || !text) {
		if (cfg)
			mlw_config_defaults(cfg);
		return verr(err, NULL, NULL, "no configuration or no text given");
	}
	p.text = text;
	return load(cfg, &p, err);
}

/*
 * Split @p in into NUL-terminated words appended to out->buf at @p used,
 * pointers into out->argv from index 1. See mlw_config_eal_argv().
 */
static int split_words(const char *in, struct mlw_config_argv *out, size_t used,
		       struct mlw_config_error *err)
{
	char *w = out->buf + used;
	const char *s = in;
	int argc = 1;

	/* Every input byte yields at most one output byte and each word ends
	 * in a blank or the input's NUL, so the words fit in strlen(in) + 1. */
	if (strlen(in) + 1 > sizeof(out->buf) - used) {
		verr(err, "eal", "args", "is longer than %zu bytes", sizeof(out->buf) - used - 1);
		return -E2BIG;
	}
	for (;;) {
		bool quoted = false;

		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (*s == '\0')
			break;
		if (argc > MLW_CONFIG_EAL_ARGV_MAX) {
			verr(err, "eal", "args", "splits into more than %d words", MLW_CONFIG_EAL_ARGV_MAX);
			return -E2BIG;
		}
		out->argv[argc++] = w;
		for (; *s; s++) {
			if (*s == '"') {
				quoted = !quoted;
			} else if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) {
				*w++ = *++s;
			} else if (!quoted && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
				break;
			} else {
				*w++ = *s;
			}
		}
		if (quoted)
			return verr(err, "eal", "args", "has a '\"' that is never closed");
		*w++ = '\0';
	}
	out->argv[argc] = NULL;
	out->argc = argc;
	return 0;
}

int mlw_config_eal_argv(const struct mlw_config *cfg, const char *prog, struct mlw_config_argv *out,
			struct mlw_config_error *err)
{
	size_t plen;

	if (!cfg || !out)
		return verr(err, NULL, NULL, "no configuration or no output given");
	if (!memchr(cfg->eal_args, '\0', sizeof(cfg->eal_args)))
		return verr(err, "eal", "args", "is not NUL-terminated");
	if (!prog)
		prog = "mlwip";
	plen = strlen(prog);
	if (plen >= MLW_CONFIG_PROG_MAX) {
		verr(err, NULL, NULL, "program name is longer than %d bytes", MLW_CONFIG_PROG_MAX - 1);
		return -E2BIG;
	}
	memcpy(out->buf, prog, plen + 1);
	out->argv[0] = out->buf;
	out->argc = 1;
	out->argv[1] = NULL;
	return split_words(cfg->eal_args, out, plen + 1, err);
}

static int validate_stack(const struct mlw_config *cfg, struct mlw_config_error *err)
{
	uint64_t seen[(MLW_CONFIG_MAX_CORE + 64) / 64] = {0};

	if (cfg->shards < 1 || cfg->shards > MLW_MAX_SHARDS)
		return verr(err, "stack", "shards", "%u is out of range (1..%d)", cfg->shards, MLW_MAX_SHARDS);
	for (unsigned int i = 0; i < cfg->shards; i++) {
		unsigned int c = cfg->cores[i];

		if (c > MLW_CONFIG_MAX_CORE)
			return verr(err, "stack", "cores", "core %u is out of range (0..%d)", c, MLW_CONFIG_MAX_CORE);
		/* Shards that share a core take turns; busy-polling ones would
		 * hold it for a whole scheduler slice each. */
		if ((seen[c / 64] & (UINT64_C(1) << (c % 64))) && cfg->idle == MLW_IDLE_POLL)
			return verr(err, "stack", "cores", "core %u is used by two shards, which with "
				    "idle = poll starve each other (use idle = backoff or sleep to share a core)", c);
		seen[c / 64] |= UINT64_C(1) << (c % 64);
	}
	if ((unsigned int)cfg->idle >= NIDLE)
		return verr(err, "stack", "idle", "%d is not an idle policy", (int)cfg->idle);
	if (cfg->idle_sleep_us < IDLE_SLEEP_MIN || cfg->idle_sleep_us > IDLE_SLEEP_MAX)
		return verr(err, "stack", "idle_sleep_us", "%u is out of range (%d..%d)",
			    (unsigned int)cfg->idle_sleep_us, IDLE_SLEEP_MIN, IDLE_SLEEP_MAX);
	if (cfg->idle_wait_ms < IDLE_WAIT_MIN || cfg->idle_wait_ms > IDLE_WAIT_MAX)
		return verr(err, "stack", "idle_wait_ms", "%u is out of range (%d..%d)",
			    (unsigned int)cfg->idle_wait_ms, IDLE_WAIT_MIN, IDLE_WAIT_MAX);
	if (cfg->burst < BURST_MIN || cfg->burst > BURST_MAX)
		return verr(err, "stack", "burst", "%u is out of range (%d..%d)",
			    (unsigned int)cfg->burst, BURST_MIN, BURST_MAX);
	if (cfg->max_sockets < 1 || cfg->max_sockets > MLW_FD_MAX_PER_SHARD)
		return verr(err, "stack", "max_sockets", "%u is out of range (1..%d)",
			    (unsigned int)cfg->max_sockets, MLW_FD_MAX_PER_SHARD);
	if (cfg->max_time_wait > MLW_CONFIG_MAX_TIME_WAIT_MAX)
		return verr(err, "stack", "max_time_wait", "%u is out of range (0..%u)",
			    (unsigned int)cfg->max_time_wait, MLW_CONFIG_MAX_TIME_WAIT_MAX);
	if (cfg->syncookies > 2)
		return verr(err, "stack", "syncookies", "%u is out of range (0..2)",
			    (unsigned int)cfg->syncookies);
	if (cfg->syn_backlog < 1 || cfg->syn_backlog > MLW_CONFIG_SYN_BACKLOG_MAX)
		return verr(err, "stack", "syn_backlog", "%u is out of range (1..%u)",
			    (unsigned int)cfg->syn_backlog, MLW_CONFIG_SYN_BACKLOG_MAX);
	if (cfg->syn_rcvd_timeout_ms < MLW_CONFIG_SYN_RCVD_TIMEOUT_MIN ||
	    cfg->syn_rcvd_timeout_ms > MLW_CONFIG_SYN_RCVD_TIMEOUT_MAX)
		return verr(err, "stack", "syn_timeout_ms", "%u is out of range (%u..%u)",
			    (unsigned int)cfg->syn_rcvd_timeout_ms, MLW_CONFIG_SYN_RCVD_TIMEOUT_MIN,
			    MLW_CONFIG_SYN_RCVD_TIMEOUT_MAX);
	if (cfg->ring_size != 0 &&
	    (cfg->ring_size < MLW_CONFIG_RING_SIZE_MIN || cfg->ring_size > MLW_CONFIG_RING_SIZE_MAX ||
	     (cfg->ring_size & (cfg->ring_size - 1)) != 0))
		return verr(err, "stack", "ring_size", "%u is not 0 or a power of two in %u..%u",
			    (unsigned int)cfg->ring_size, MLW_CONFIG_RING_SIZE_MIN, MLW_CONFIG_RING_SIZE_MAX);
	if (cfg->tcp_rcvbuf != 0 &&
	    (cfg->tcp_rcvbuf < MLW_CONFIG_TCP_BUF_MIN || cfg->tcp_rcvbuf > MLW_CONFIG_TCP_BUF_MAX))
		return verr(err, "stack", "tcp_rcvbuf", "%u is out of range (0 or %u..%u)",
			    (unsigned int)cfg->tcp_rcvbuf, MLW_CONFIG_TCP_BUF_MIN, MLW_CONFIG_TCP_BUF_MAX);
	if (cfg->tcp_sndbuf != 0 &&
	    (cfg->tcp_sndbuf < MLW_CONFIG_TCP_BUF_MIN || cfg->tcp_sndbuf > MLW_CONFIG_TCP_BUF_MAX))
		return verr(err, "stack", "tcp_sndbuf", "%u is out of range (0 or %u..%u)",
			    (unsigned int)cfg->tcp_sndbuf, MLW_CONFIG_TCP_BUF_MIN, MLW_CONFIG_TCP_BUF_MAX);
	if (cfg->local_port_lo == 0 || cfg->local_port_lo > cfg->local_port_hi)
		return verr(err, "stack", "local_ports", "%u-%u is not a port range within 1-65535",
			    (unsigned int)cfg->local_port_lo, (unsigned int)cfg->local_port_hi);
	if (cfg->heap_limit_mb > MLW_CONFIG_HEAP_LIMIT_MB_MAX)
		return verr(err, "stack", "heap_limit_mb", "%u is out of range (0..%u)",
			    (unsigned int)cfg->heap_limit_mb, (unsigned int)MLW_CONFIG_HEAP_LIMIT_MB_MAX);
	if (cfg->rx_desc < MLW_CONFIG_DESC_MIN || cfg->rx_desc > MLW_CONFIG_DESC_MAX)
		return verr(err, "stack", "rx_desc", "%u is out of range (%u..%u)", (unsigned int)cfg->rx_desc,
			    MLW_CONFIG_DESC_MIN, MLW_CONFIG_DESC_MAX);
	if (cfg->tx_desc < MLW_CONFIG_DESC_MIN || cfg->tx_desc > MLW_CONFIG_DESC_MAX)
		return verr(err, "stack", "tx_desc", "%u is out of range (%u..%u)", (unsigned int)cfg->tx_desc,
			    MLW_CONFIG_DESC_MIN, MLW_CONFIG_DESC_MAX);
	if (cfg->rx_zero_copy > MLW_CONFIG_RX_ZERO_COPY_MAX)
		return verr(err, "stack", "rx_zero_copy", "%u is out of range (0..%u)",
			    (unsigned int)cfg->rx_zero_copy, MLW_CONFIG_RX_ZERO_COPY_MAX);
	if (cfg->mbufs > MLW_CONFIG_MBUFS_MAX)
		return verr(err, "stack", "mbufs", "%u is out of range (0..%u)", (unsigned int)cfg->mbufs,
			    MLW_CONFIG_MBUFS_MAX);
	if (cfg->mbuf_cache > MLW_CONFIG_MBUF_CACHE_MAX)
		return verr(err, "stack", "mbuf_cache", "%u is out of range (0..%u)",
			    (unsigned int)cfg->mbuf_cache, MLW_CONFIG_MBUF_CACHE_MAX);
	return 0;
}

/* What one pool holds at most, part by part (see config.h). The constants
 * are the data path's own sizes: TX buffering per queue (MLW_TX_BATCH +
 * MLW_TX_ACKS, dpdk-netif/dpdk_netif.h), which asserts that they fit;
 * the ring per pair of shards is [stack] ring_size. */
uint32_t mlw_config_forward_zero_copy(const struct mlw_config *cfg)
{
	return cfg->rx_zero_copy < MLW_CONFIG_FWD_ZC_MAX ? cfg->rx_zero_copy : MLW_CONFIG_FWD_ZC_MAX;
}

uint32_t mlw_config_time_wait_cap(const struct mlw_config *cfg)
{
	uint64_t fit = ((uint64_t)cfg->heap_limit_mb << 20) / 8 / MLW_CONFIG_TW_RECORD_BYTES;

	if (cfg->heap_limit_mb == 0 || fit >= cfg->max_time_wait)
		return cfg->max_time_wait;
	return (uint32_t)fit;
}

unsigned mlw__config_ring_size(const struct mlw_config *cfg)
{
	unsigned others = cfg->shards > 1 ? cfg->shards - 1 : 1, n = 1024;

	if (cfg->ring_size != 0)
		return cfg->ring_size;
	while (n * 2 <= 4096 / others)
		n *= 2;
	return n;
}

uint32_t mlw_config_mbufs_needed(const struct mlw_config *cfg)
{
	uint64_t others = cfg->shards ? cfg->shards - 1 : 0, ports = 0;
	uint64_t n;

	/* A DPDK port holds a shard's mbufs in its RX and TX descriptors and
	 * TX batch; a kernel engine port only the burst being copied in (its
	 * rings are the kernel's, and it sends from pbufs). */
	for (unsigned i = 0; i < cfg->port_count && i < MLW_MAX_PORTS; i++)
		ports += cfg->ports[i].engine != MLW_ENGINE_DPDK ?
				 cfg->burst :
				 (uint64_t)cfg->rx_desc + cfg->tx_desc + MLW_CONFIG_TXQ_HELD + cfg->burst;
	/* With other shards, a full ring holds back at most one burst
	 * (sharding/fwd_hold.h: the shard reads no more until it has gone). */
	n = ports + cfg->rx_zero_copy + others * ((uint64_t)mlw__config_ring_size(cfg) + mlw_config_forward_zero_copy(cfg)) +
	    (others ? cfg->burst : 0) + (uint64_t)cfg->shards * cfg->mbuf_cache * 3 / 2 + MLW_CONFIG_SPARE;

	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* [portN] engine and the afpacket keys. */
static int validate_engine(const struct mlw_config_port *port, const char *sec, struct mlw_config_error *err)
{
	if ((unsigned int)port->engine >= NENGINE)
		return verr(err, sec, "engine", "%d is not a packet engine", (int)port->engine);
	if ((unsigned int)port->steer > MLW_PORT_STEER_HASH)
		return verr(err, sec, "steer", "%d is not a steering mode", (int)port->steer);
	if (port->engine == MLW_ENGINE_DPDK || port->engine == MLW_ENGINE_LOOP) {
		/* A key of the other engine is a mistake worth saying: the
		 * port would silently be another kind. */
		static const char afp_only[][12] = { "iface", "steer", "rx_block_kb", "rx_blocks", "tx_frames" };
		bool set[] = { port->iface[0] != '\0', port->steer != MLW_PORT_STEER_DEFAULT,
			       port->rx_block_kb != 0, port->rx_blocks != 0, port->tx_frames != 0 };

		for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
			if (set[i])
				return verr(err, sec, afp_only[i], "is a key of engine = afpacket; this "
					    "port's engine is %s (add engine = afpacket, or remove it)",
					    engine_names[port->engine]);
		return 0;
	}
	if (port->iface[0] == '\0')
		return verr(err, sec, "engine", "afpacket needs the Linux interface: add iface = NAME "
			    "(e.g. iface = eth0)");
	if (memchr(port->iface, '\0', sizeof(port->iface)) == NULL)
		return verr(err, sec, "iface", "is not NUL-terminated");
	if (port->rx_block_kb != 0 && (port->rx_block_kb < AFP_BLOCK_KB_MIN || port->rx_block_kb > AFP_BLOCK_KB_MAX ||
				       port->rx_block_kb % 4 != 0))
		return verr(err, sec, "rx_block_kb", "%u is not a multiple of 4 (the page size) in %d..%d",
			    (unsigned int)port->rx_block_kb, AFP_BLOCK_KB_MIN, AFP_BLOCK_KB_MAX);
	if (port->rx_blocks != 0 && (port->rx_blocks < AFP_BLOCKS_MIN || port->rx_blocks > AFP_BLOCKS_MAX))
		return verr(err, sec, "rx_blocks", "%u is out of range (%d..%d)", (unsigned int)port->rx_blocks,
			    AFP_BLOCKS_MIN, AFP_BLOCKS_MAX);
	if (port->tx_frames != 0 && (port->tx_frames < AFP_TX_FRAMES_MIN || port->tx_frames > AFP_TX_FRAMES_MAX))
		return verr(err, sec, "tx_frames", "%u is out of range (%d..%d)", (unsigned int)port->tx_frames,
			    AFP_TX_FRAMES_MIN, AFP_TX_FRAMES_MAX);
	return 0;
}

static int validate_port(const struct mlw_config_port *port, const char *sec, struct mlw_config_error *err)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	static const uint8_t zero6[16];

	if (!port->has_ipv4 && !port->has_ipv6)
		return verr(err, sec, "", "needs an address: ipv4 and/or ipv6");
	if (port->has_ipv4) {
		uint32_t addr = ntohl(port->ipv4_addr), mask, host;

		if (port->ipv4_prefix < 1 || port->ipv4_prefix > 32)
			return verr(err, sec, "ipv4", "prefix length %u is out of range (1..32)",
				    (unsigned int)port->ipv4_prefix);
		if (port->ipv4_netmask != prefix_to_netmask(port->ipv4_prefix))
			return verr(err, sec, "ipv4", "netmask %s does not match prefix length /%u",
				    ip4_str(port->ipv4_netmask, a), (unsigned int)port->ipv4_prefix);
		mask = ntohl(port->ipv4_netmask);
		host = addr & ~mask;
		if (addr == 0 || addr >> 24 == 127 || addr >> 28 >= 0xe)
			return verr(err, sec, "ipv4", "%s is not a unicast host address",
				    ip4_str(port->ipv4_addr, a));
		/* /31 (RFC 3021) and /32 have no network or broadcast address. */
		if (port->ipv4_prefix <= 30 && (host == 0 || host == ~mask))
			return verr(err, sec, "ipv4", "%s/%u is the %s address of its subnet, not a host address",
				    ip4_str(port->ipv4_addr, a), (unsigned int)port->ipv4_prefix,
				    host == 0 ? "network" : "broadcast");
	}
	if (port->ipv4_gateway) {
		uint32_t gw = ntohl(port->ipv4_gateway), mask = ntohl(port->ipv4_netmask);

		if (!port->has_ipv4)
			return verr(err, sec, "gateway", "needs ipv4 in the same port");
		if ((gw & mask) != (ntohl(port->ipv4_addr) & mask))
			return verr(err, sec, "gateway", "%s is outside the subnet %s/%u of ipv4",
				    ip4_str(port->ipv4_gateway, a), ip4_str(htonl(ntohl(port->ipv4_addr) & mask), b),
				    (unsigned int)port->ipv4_prefix);
		if (port->ipv4_gateway == port->ipv4_addr)
			return verr(err, sec, "gateway", "%s is this port's own address",
				    ip4_str(port->ipv4_gateway, a));
		if (port->ipv4_prefix <= 30 && ((gw & ~mask) == 0 || (gw & ~mask) == ~mask))
			return verr(err, sec, "gateway", "%s is the network or broadcast address of its subnet",
				    ip4_str(port->ipv4_gateway, a));
	}
	if (port->has_ipv6) {
		if (port->ipv6_prefix < 1 || port->ipv6_prefix > 128)
			return verr(err, sec, "ipv6", "prefix length %u is out of range (1..128)",
				    (unsigned int)port->ipv6_prefix);
		if (memcmp(port->ipv6_addr, zero6, 15) == 0 && port->ipv6_addr[15] <= 1)
			return verr(err, sec, "ipv6", "the unspecified (::) and loopback (::1) addresses "
				    "cannot be a port's address");
		if (port->ipv6_addr[0] == 0xff)
			return verr(err, sec, "ipv6", "a multicast address cannot be a port's address");
	}
	if (port->has_mac) {
		static const uint8_t zero_mac[6];

		if (port->mac[0] & 1)
			return verr(err, sec, "mac", "%02x:%02x:%02x:%02x:%02x:%02x is a multicast address; "
				    "a port's MAC must be unicast (lowest bit of the first byte clear)",
				    port->mac[0], port->mac[1], port->mac[2], port->mac[3], port->mac[4],
				    port->mac[5]);
		if (memcmp(port->mac, zero_mac, 6) == 0)
			return verr(err, sec, "mac", "00:00:00:00:00:00 is not a usable MAC address");
	}
	if (port->mtu < MTU_MIN || port->mtu > MTU_MAX)
		return verr(err, sec, "mtu", "%u is out of range (%d..%d)", (unsigned int)port->mtu, MTU_MIN, MTU_MAX);
	if (port->has_ipv6 && port->mtu < MTU_MIN_IPV6)
		return verr(err, sec, "mtu", "%u is below %d, the minimum for IPv6", (unsigned int)port->mtu,
			    MTU_MIN_IPV6);
	if ((unsigned int)port->checksum >= NCHECKSUM)
		return verr(err, sec, "checksum", "%d is not a checksum mode", (int)port->checksum);
	return validate_engine(port, sec, err);
}

int mlw_config_validate(const struct mlw_config *cfg, struct mlw_config_error *err)
{
	struct mlw_config_argv argv;
	const char *lkey;
	char lwhy[96], cwhy[128];
	int rc;

	if (err)
		memset(err, 0, sizeof(*err));
	if (!cfg)
		return verr(err, NULL, NULL, "no configuration given");
	rc = mlw_config_eal_argv(cfg, NULL, &argv, err);
	if (rc)
		return -EINVAL;
	rc = validate_stack(cfg, err);
	if (rc)
		return rc;
	if (mlw__config_limits_check(&cfg->limits, &lkey, lwhy, sizeof(lwhy)) != 0)
		return verr(err, "limits", lkey, "%s", lwhy);
	if (cfg->port_count >= 1 && cfg->port_count <= MLW_MAX_PORTS && cfg->shards >= 1 &&
	    cfg->shards <= MLW_MAX_SHARDS &&
	    mlw__config_capture_check(&cfg->capture, cfg->shards, cfg->port_count, false, &lkey, cwhy,
				      sizeof(cwhy)) != 0)
		return verr(err, "capture", lkey, "%s", cwhy);
	if (cfg->port_count < 1)
		return verr(err, NULL, NULL, "no ports: at least a [port0] section with ipv4 or ipv6 is required");
	if (cfg->port_count > MLW_MAX_PORTS)
		return verr(err, NULL, NULL, "port_count %u is out of range (1..%d)", cfg->port_count, MLW_MAX_PORTS);
	for (unsigned int i = 0; i < cfg->port_count; i++) {
		const struct mlw_config_port *pi = &cfg->ports[i];
		char sec[16];

		snprintf(sec, sizeof(sec), "port%u", i);
		rc = validate_port(pi, sec, err);
		if (rc)
			return rc;
		/* Each address may belong to one port only. */
		for (unsigned int j = 0; j < i; j++) {
			const struct mlw_config_port *pj = &cfg->ports[j];

			if (pi->has_ipv4 && pj->has_ipv4 && pi->ipv4_addr == pj->ipv4_addr)
				return verr(err, sec, "ipv4", "the same address as [port%u]", j);
			if (pi->has_ipv6 && pj->has_ipv6 && memcmp(pi->ipv6_addr, pj->ipv6_addr, 16) == 0)
				return verr(err, sec, "ipv6", "the same address as [port%u]", j);
			if (pi->has_mac && pj->has_mac && memcmp(pi->mac, pj->mac, 6) == 0)
				return verr(err, sec, "mac", "the same MAC as [port%u]", j);
		}
	}
	if (cfg->mbufs != 0 && cfg->mbufs < mlw_config_mbufs_needed(cfg))
		return verr(err, "stack", "mbufs", "%u is fewer than the %u each shard needs here (%u ports, "
			    "%u shards): set 0 to size pools from the configuration, or lower rx_desc, "
			    "tx_desc, rx_zero_copy, mbuf_cache", (unsigned int)cfg->mbufs,
			    (unsigned int)mlw_config_mbufs_needed(cfg), cfg->port_count, cfg->shards);
	return 0;
}

int mlw_config_format_error(const struct mlw_config_error *err, const char *source_name, char *buf, size_t len)
{
	char line[16] = "";
	bool sec, key;

	if (!err || (!buf && len))
		return -EINVAL;
	if (err->line > 0)
		snprintf(line, sizeof(line), ":%d", err->line);
	sec = err->section[0] != '\0';
	key = err->key[0] != '\0';
	return snprintf(buf, len, "%s%s: %s%.*s%s%.*s%s%.*s", source_name ? source_name : "config", line,
			sec ? "[" : "", (int)sizeof(err->section), err->section, sec ? "] " : "",
			(int)sizeof(err->key), err->key, key ? ": " : "",
			(int)sizeof(err->message), err->message);
}
