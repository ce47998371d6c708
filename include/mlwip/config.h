/* mlwip/config.h - the stack's configuration: a plain struct, and a loader for INI files (libinih). */
#ifndef MLWIP_CONFIG_H
#define MLWIP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mlwip/capture.h"
#include "mlwip/export.h"
#include "mlwip/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MLW_MAX_SHARDS			64	/**< shards (= pinned threads) per stack */
#define MLW_MAX_PORTS			8	/**< [port0] .. [port7] */
#define MLW_CONFIG_MAX_CORE		1023	/**< highest CPU id a shard may be pinned to */
#define MLW_CONFIG_EAL_ARGS_MAX		1024	/**< bytes of [eal] args, NUL included */
#define MLW_CONFIG_EAL_ARGV_MAX		64	/**< words [eal] args may split into */
#define MLW_CONFIG_PROG_MAX		256	/**< bytes of argv[0], NUL included */
/** Largest [stack] max_time_wait, and its default. */
#define MLW_CONFIG_MAX_TIME_WAIT_MAX		1048576u
#define MLW_CONFIG_MAX_TIME_WAIT_DEFAULT	131072u
/** [stack] syncookies (as Linux's net.ipv4.tcp_syncookies: 0 off, 1 once a
 * listener's half-open queue is full, 2 always), syn_backlog (half-open
 * connections per listener and shard before cookies start; a listener's
 * own backlog may lower it; lwIP counts them in 8 bits) and
 * syn_timeout_ms (how long a half-open connection lives; Linux: 5
 * SYN-ACK retransmissions, about 63 s; lwIP's own: 20 s). */
#define MLW_CONFIG_SYNCOOKIES_DEFAULT		1u
#define MLW_CONFIG_SYN_BACKLOG_MAX		224u
#define MLW_CONFIG_SYN_BACKLOG_DEFAULT		224u
#define MLW_CONFIG_SYN_RCVD_TIMEOUT_MIN		1000u
#define MLW_CONFIG_SYN_RCVD_TIMEOUT_MAX		600000u
#define MLW_CONFIG_SYN_RCVD_TIMEOUT_DEFAULT	63000u
/** [stack] ring_size: frames each inter-shard ring holds (one ring per
 * ordered pair of shards; a power of two), or 0 (default): 4096 divided
 * by the other shards, rounded down to a power of two, at least 1024 (2
 * shards: 4096, 3: 2048, 4 and more: 1024, as before). A frame that finds
 * the owner's ring full is held (fwd_held) and the shard reads no more
 * from its RX queues until it has gone; held 10 ms, it is dropped
 * (fwd_drops). Every slot, and a burst held, may hold an mbuf of the
 * sending shard's pool, so mlw_config_mbufs_needed() counts them. */
#define MLW_CONFIG_RING_SIZE_MIN	256u
#define MLW_CONFIG_RING_SIZE_MAX	65536u
#define MLW_CONFIG_RING_SIZE_DEFAULT	0u
/** [stack] tcp_rcvbuf / tcp_sndbuf: each new TCP socket's receive window and
 * send-buffer limit in bytes (SO_RCVBUF / SO_SNDBUF report twice that, as
 * Linux does); 0 means lwIP's compile-time maximum (2 MiB each). */
#define MLW_CONFIG_TCP_BUF_MIN		2304u
#define MLW_CONFIG_TCP_BUF_MAX		(2u * 1024 * 1024)
#define MLW_CONFIG_TCP_BUF_DEFAULT	(256u * 1024)
/** [stack] local_ports: local ports of outgoing connections (Linux:
 * net.ipv4.ip_local_port_range), by default lwIP's ephemeral range. */
#define MLW_CONFIG_LOCAL_PORT_LO_DEFAULT	49152u
#define MLW_CONFIG_LOCAL_PORT_HI_DEFAULT	65535u
/** [stack] rx_desc / tx_desc: descriptors per RX / TX queue of every port. */
#define MLW_CONFIG_DESC_MIN		64u
#define MLW_CONFIG_DESC_MAX		16384u
#define MLW_CONFIG_DESC_DEFAULT		1024u
/** [stack] rx_zero_copy: received frames a shard's lwIP may hold without copying. */
#define MLW_CONFIG_RX_ZERO_COPY_MAX	1048576u
#define MLW_CONFIG_RX_ZERO_COPY_DEFAULT	4000u
/** [stack] mbufs: mbufs in each shard's pool; 0 sizes it from the configuration. */
#define MLW_CONFIG_MBUFS_MAX		16777216u
/** [stack] mbuf_cache: mbufs each core keeps of every pool (DPDK mempool cache). */
#define MLW_CONFIG_MBUF_CACHE_MAX	512u
#define MLW_CONFIG_MBUF_CACHE_DEFAULT	256u
/** Largest [stack] heap_limit_mb: 1 TiB, or what a size_t holds on 32-bit targets. */
#define MLW_CONFIG_HEAP_LIMIT_MB_MAX	(SIZE_MAX >> 20 < 1048576u ? (uint32_t)(SIZE_MAX >> 20) : 1048576u)

/** What a shard does when a pass of its run loop found no work. */
enum mlw_idle_policy {
	MLW_IDLE_POLL = 0,	/**< keep polling: lowest latency, every shard's core at 100% */
	MLW_IDLE_BACKOFF,	/**< poll, then pause, then sleep ever longer up to idle_sleep_us (default) */
	MLW_IDLE_SLEEP,		/**< sleep idle_sleep_us after every idle pass */
	MLW_IDLE_INTERRUPT,	/**< poll idle_sleep_us, then sleep until an RX interrupt, a frame
				     from another shard, the next timer or a stop (backoff on ports
				     without RX interrupts) */
};

/** What a port does with IPv4/TCP/UDP/ICMP checksums ([portN] checksum). */
enum mlw_checksum_mode {
	/** Compute every checksum sent and verify every one received: in the
	 * port where it offers offloads (received frames it marked good are
	 * not checked again, frames it marked bad are dropped), in software
	 * otherwise. The default. */
	MLW_CHECKSUM_VERIFY = 0,
	/** Neither compute nor verify any (frames leave with zero checksum
	 * fields, received ones are taken as they are), as Linux does on
	 * veth and loopback. Only for a link whose both ends run this way and
	 * trust each other, e.g. net_memif or net_ring between processes of
	 * one host: any other receiver drops the frames. */
	MLW_CHECKSUM_TRUST,
};

/** Which packet engine drives a port ([portN] engine). */
enum mlw_engine {
	/** A DPDK ethdev port: [portN] is DPDK port N among the ports whose
	 * engine is dpdk, in order (a device from [eal] args). The default. */
	MLW_ENGINE_DPDK = 0,
	/** A Linux interface through AF_PACKET sockets with TPACKET_V3 rings,
	 * one per shard in a fanout group (afpacket-netif/): [portN] iface
	 * names it. Needs CAP_NET_RAW. */
	MLW_ENGINE_AFPACKET,
	/** A memory loopback port for tests in a build without DPDK (what
	 * DPDK's net_ring0 is to the DPDK build): every frame a shard sends
	 * comes back to the same shard's receive path; nothing leaves the
	 * process. No other keys. A DPDK build refuses it (use
	 * --vdev=net_ring0 there). */
	MLW_ENGINE_LOOP,
};

/** How the kernel spreads an afpacket port's frames over the shards'
 * sockets ([portN] steer). */
enum mlw_port_steer {
	MLW_PORT_STEER_DEFAULT = 0,	/**< not set: ports */
	/** A classic BPF fanout program: TCP and UDP to shard (source port
	 * ^ destination port) % shards, which the stack computes too, so no
	 * frame of a connection crosses shards (active opens pick local
	 * ports for it); ARP, ICMP, fragments to shard 0. */
	MLW_PORT_STEER_PORTS,
	/** The kernel's flow hash (PACKET_FANOUT_HASH); the shards forward
	 * frames to their owners in software. */
	MLW_PORT_STEER_HASH,
};

#define MLW_CONFIG_IFACE_MAX	16	/**< bytes of [portN] iface, NUL included (IFNAMSIZ) */

/**
 * One network port ([portN]). Addresses are in network byte order, so
 * ipv4_addr of 10.0.0.1 is the bytes 0a 00 00 01 in memory.
 */
struct mlw_config_port {
	uint32_t ipv4_addr;		/**< 0 when !has_ipv4 */
	uint32_t ipv4_netmask;		/**< derived from ipv4_prefix */
	uint32_t ipv4_gateway;		/**< 0: no default gateway */
	uint8_t ipv6_addr[16];
	uint8_t ipv4_prefix;		/**< 1..32 */
	uint8_t ipv6_prefix;		/**< 1..128 */
	uint8_t mac[6];			/**< used only when has_mac; otherwise the NIC's own */
	bool has_ipv4;
	bool has_ipv6;
	bool has_mac;
	uint16_t mtu;			/**< 576..9000 (IPv6 needs >= 1280), default 1500 */
	enum mlw_checksum_mode checksum;	/**< default MLW_CHECKSUM_VERIFY */
	enum mlw_engine engine;		/**< default MLW_ENGINE_DPDK */
	/* engine = afpacket only (validation refuses them on a dpdk port): */
	char iface[MLW_CONFIG_IFACE_MAX];	/**< the Linux interface (required) */
	enum mlw_port_steer steer;	/**< default ports */
	uint32_t rx_block_kb;		/**< RX ring block, KiB, multiple of 4 (0: 256) */
	uint32_t rx_blocks;		/**< RX ring blocks per shard (0: 8) */
	uint32_t tx_frames;		/**< TX ring slots per shard (0: 512) */
};

/**
 * The whole configuration. It holds no pointers, so it may be copied with
 * '=' or memcpy. Fill it with mlw_config_defaults() and then set fields by
 * hand, or with mlw_config_load_file()/mlw_config_load_string(); either way
 * mlw_config_validate() must accept it before a stack starts with it.
 */
struct mlw_config {
	/** [eal] args: DPDK EAL arguments as one string, split by mlw_config_eal_argv(). */
	char eal_args[MLW_CONFIG_EAL_ARGS_MAX];
	unsigned int shards;			/**< 1..MLW_MAX_SHARDS */
	uint16_t cores[MLW_MAX_SHARDS];		/**< shard i runs on CPU cores[i]; first @c shards used */
	enum mlw_idle_policy idle;
	uint32_t idle_sleep_us;			/**< 1..100000, default 50 */
	uint32_t idle_wait_ms;			/**< idle = interrupt: longest sleep, 1..10000, default 100 */
	uint16_t burst;				/**< RX burst size, 1..512, default 32 */
	/** Descriptors (sockets and epoll instances) each shard may have open,
	 * 1..MLW_FD_MAX_PER_SHARD (mlwip/socket.h); default MLW_FD_MAX_PER_SHARD.
	 * One more fails with EMFILE. */
	uint32_t max_sockets;
	/** Cap on each shard's heap (all of lwIP's and the socket layer's
	 * memory) in MiB, 0..MLW_CONFIG_HEAP_LIMIT_MB_MAX; 0 (default): none.
	 * See mlw_alloc_set_limit(). */
	uint32_t heap_limit_mb;
	/** TIME-WAIT connections each shard keeps, 0..MLW_CONFIG_MAX_TIME_WAIT_MAX;
	 * beyond it the oldest ends early, as Linux does past
	 * net.ipv4.tcp_max_tw_buckets. A closed one is a compact record of
	 * 128 bytes of the shard heap. Default MLW_CONFIG_MAX_TIME_WAIT_DEFAULT
	 * (Linux's tcp_max_tw_buckets on a 4 GiB machine; 16 MiB of records);
	 * 0 keeps none (mTCP's default). With heap_limit_mb set, the cap the
	 * shards apply is mlw_config_time_wait_cap(): never more records than
	 * an eighth of the heap holds. */
	uint32_t max_time_wait;
	/** SYN flood defence (MLW_CONFIG_SYNCOOKIES_DEFAULT and the rest above;
	 * lwip-port/syn_cookie.c): syncookies 0..2, syn_backlog
	 * 1..MLW_CONFIG_SYN_BACKLOG_MAX, syn_timeout_ms
	 * MLW_CONFIG_SYN_RCVD_TIMEOUT_MIN..MAX. */
	uint32_t syncookies, syn_backlog, syn_rcvd_timeout_ms;
	/** Frames per inter-shard ring, 0 (default: from the shard count) or
	 * MLW_CONFIG_RING_SIZE_MIN..MAX, a power of two. */
	uint32_t ring_size;
	/** Receive window and send-buffer limit every new TCP socket starts
	 * with, in bytes: 0 or MLW_CONFIG_TCP_BUF_MIN..MLW_CONFIG_TCP_BUF_MAX,
	 * default MLW_CONFIG_TCP_BUF_DEFAULT each (0: the 2 MiB maximum). A
	 * socket changes its own with SO_RCVBUF / SO_SNDBUF; an accepted one
	 * takes its listener's. They bound what one connection can hold:
	 * unread data and data waiting for its ACK. */
	uint32_t tcp_rcvbuf, tcp_sndbuf;
	/** Local ports outgoing connections take, local_port_lo..local_port_hi
	 * (1 <= lo <= hi <= 65535); default MLW_CONFIG_LOCAL_PORT_LO_DEFAULT
	 * to MLW_CONFIG_LOCAL_PORT_HI_DEFAULT. A port is shared by connections to
	 * different remote addresses or ports (unique 4-tuples, as Linux's
	 * connect()); with N shards each uses about 1/N of the range (the
	 * ports whose replies hash back to it). */
	uint16_t local_port_lo, local_port_hi;
	/** Descriptors per RX and per TX queue of every port,
	 * MLW_CONFIG_DESC_MIN..MLW_CONFIG_DESC_MAX, default MLW_CONFIG_DESC_DEFAULT.
	 * Every RX descriptor holds an mbuf of the shard's pool, and so may
	 * every TX descriptor until the NIC has sent it. */
	uint32_t rx_desc, tx_desc;
	/** Received frames each shard's lwIP may hold as zero-copy pbufs
	 * (unread data, out-of-order segments) before it copies frames into
	 * its heap, 0..MLW_CONFIG_RX_ZERO_COPY_MAX (0: always copy); default
	 * MLW_CONFIG_RX_ZERO_COPY_DEFAULT. Counted per pool: of another
	 * shard's pool (forwarded frames) a shard holds at most
	 * mlw_config_forward_zero_copy() frames. */
	uint32_t rx_zero_copy;
	/** mbufs in each shard's pool, 0 (default): mlw_config_mbufs_needed();
	 * a number below that is refused. */
	uint32_t mbufs;
	/** mbufs each core caches of every pool, 0..MLW_CONFIG_MBUF_CACHE_MAX,
	 * default MLW_CONFIG_MBUF_CACHE_DEFAULT. */
	uint32_t mbuf_cache;
	unsigned int port_count;		/**< 1..MLW_MAX_PORTS once valid */
	struct mlw_config_port ports[MLW_MAX_PORTS];
	/** [limits]: per-shard bounds on lwIP's queues (mlwip/limits.h);
	 * default MLW_LIMITS_DEFAULT_INIT. */
	struct mlw_limits limits;
	/** [capture]: packet capture to a pcapng file (mlwip/capture.h);
	 * default: every port and shard, nothing started. */
	struct mlw_capture_config capture;
};

/**
 * Where and why a configuration was refused. Fields that do not apply are
 * empty (line 0, "" strings): a missing file has no line, a cross-field
 * error found by mlw_config_validate() on a hand-built struct has no line.
 */
struct mlw_config_error {
	int line;		/**< 1-based line in the INI text, 0 if none */
	char section[32];	/**< e.g. "port0", without brackets */
	char key[32];		/**< e.g. "ipv4" */
	char message[320];	/**< e.g. "\"10.0.0.300/24\" is not an IPv4 address/prefix" */
};

/**
 * EAL arguments ready for rte_eal_init(argc, argv). argv points into buf,
 * so this struct must not be copied; it may be modified (EAL permutes argv).
 */
struct mlw_config_argv {
	int argc;
	char *argv[MLW_CONFIG_EAL_ARGV_MAX + 2];	/**< program name, words, NULL */
	char buf[MLW_CONFIG_PROG_MAX + MLW_CONFIG_EAL_ARGS_MAX];
};

/**
 * Set @p cfg to the defaults: no EAL arguments, 1 shard on core 0, idle
 * policy backoff with idle_sleep_us 50, burst 32, max_sockets
 * MLW_FD_MAX_PER_SHARD, no heap limit, max_time_wait
 * MLW_CONFIG_MAX_TIME_WAIT_DEFAULT, local ports 49152..65535, no ports, and mtu 1500 in every port
 * slot. The defaults alone do not validate: at least one port
 * with an address is required.
 */
MLW_EXPORT void mlw_config_defaults(struct mlw_config *cfg);

/**
 * Read an INI file into @p cfg, starting from mlw_config_defaults(), then
 * check the result with mlw_config_validate(). See contrib/config/example.ini
 * for every section and key. Unknown sections and keys, a key given twice,
 * and lines longer than 198 characters are errors; reading stops at the
 * first error. Only [eal] args may continue on indented lines (joined with
 * one space). Sections without any key are ignored.
 *
 * On failure @p cfg is reset to mlw_config_defaults(), which does not
 * validate, so a stack never starts half-configured; @p err (may be NULL)
 * says what was wrong and where.
 *
 * @return 0 on success;
 *   -EINVAL  the file is not a valid configuration (see @p err);
 *   -ENOENT, -EACCES, ... (-errno)  the file could not be opened;
 *   -EIO or -errno  the file could not be read.
 */
MLW_EXPORT int mlw_config_load_file(struct mlw_config *cfg, const char *path,
				    struct mlw_config_error *err);

/**
 * Like mlw_config_load_file(), from a NUL-terminated string of INI text.
 * @return 0, or -EINVAL (also when @p cfg or @p text is NULL).
 */
MLW_EXPORT int mlw_config_load_string(struct mlw_config *cfg, const char *text,
				      struct mlw_config_error *err);

/**
 * Cross-field checks of a complete configuration, whether loaded or built
 * by hand: every value in range; eal_args NUL-terminated, quotes balanced,
 * at most MLW_CONFIG_EAL_ARGV_MAX words; cores distinct; 1..MLW_MAX_PORTS
 * ports, each with IPv4 and/or IPv6; unicast, non-zero addresses; netmask
 * matching the prefix; gateway inside its port's subnet and not the port's
 * own address; no address on two ports; unicast MAC; mtu >= 1280 with IPv6.
 * The error names the section and key; its line is 0 (the loaders fill it in).
 *
 * @return 0 if @p cfg is valid; -EINVAL otherwise (see @p err, may be NULL).
 */
MLW_EXPORT int mlw_config_validate(const struct mlw_config *cfg, struct mlw_config_error *err);

/**
 * Split cfg->eal_args into @p out for rte_eal_init(): words are separated by
 * blanks; double quotes group a word that contains blanks ("" is an empty
 * word) and are removed; a backslash escapes a following '"' or '\' and is
 * literal before anything else. out->argv[0] is @p prog ("mlwip" if NULL),
 * out->argv[out->argc] is NULL.
 *
 * @return 0 on success (out->argc >= 1 then counts argv[0] and the words);
 *   -EINVAL  unbalanced quote, eal_args not NUL-terminated, or a NULL argument;
 *   -E2BIG   more than MLW_CONFIG_EAL_ARGV_MAX words, or @p prog too long.
 */
MLW_EXPORT int mlw_config_eal_argv(const struct mlw_config *cfg, const char *prog,
				   struct mlw_config_argv *out, struct mlw_config_error *err);

/**
 * Render @p err as one line, e.g.
 * "config.ini:7: [port0] ipv4: \"10.0.0.300/24\" is not an IPv4 address/prefix".
 * @p source_name names the input ("config" if NULL); parts that do not
 * apply (line, section, key) are left out. Truncates like snprintf.
 *
 * @return the length of the full line (as snprintf); -EINVAL if @p err is
 *   NULL, or @p buf is NULL while @p len is not 0.
 */
MLW_EXPORT int mlw_config_format_error(const struct mlw_config_error *err, const char *source_name,
				       char *buf, size_t len);

/** Bytes of the shard heap one TIME-WAIT record takes (a 128-byte block). */
#define MLW_CONFIG_TW_RECORD_BYTES	128u

/**
 * TIME-WAIT connections each shard keeps with this configuration:
 * max_time_wait, but with heap_limit_mb set no more than an eighth of the
 * heap holds as records (MLW_CONFIG_TW_RECORD_BYTES each), so that closed
 * connections can never crowd live ones out of a small heap (e.g. 16 MiB:
 * 16384). Linux sizes its tcp_max_tw_buckets from memory too.
 */
MLW_EXPORT uint32_t mlw_config_time_wait_cap(const struct mlw_config *cfg);

/**
 * mbufs one shard's pool needs so that no port runs dry with this
 * configuration: for every DPDK port, its RX ring full (rx_desc), its TX
 * ring full (tx_desc), the frames the shard buffers for TX (128) and one RX
 * burst; for every kernel engine port (engine = afpacket) one RX burst; the frames its lwIP holds without copying (rx_zero_copy); for
 * every other shard, a full forwarding ring (1024) and what that shard may
 * hold of this pool (mlw_config_forward_zero_copy()); each core's cache
 * (1.5 x mbuf_cache, DPDK's flush threshold); 64 for ARP/ND copies.
 * Ports and shards as in @p cfg (port_count, shards). Never fails.
 */
MLW_EXPORT uint32_t mlw_config_mbufs_needed(const struct mlw_config *cfg);

/** Frames a shard holds without copying of each other shard's pool:
 * min(rx_zero_copy, 512). */
MLW_EXPORT uint32_t mlw_config_forward_zero_copy(const struct mlw_config *cfg);

#ifdef __cplusplus
}
#endif

#endif /* MLWIP_CONFIG_H */
