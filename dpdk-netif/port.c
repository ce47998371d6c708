/* port.c - DPDK port setup: one RX/TX queue pair per shard, RSS key and RETA programmed and verified, offloads, link wait. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_devargs.h>
#include <rte_ethdev.h>

#include "dpdk_netif.h"
#include "engine.h"
#include "mlwip/flow.h"


/* net_memif with zero-copy=yes sends the mbuf's own buffer, which must lie
 * in the memory it shares with the peer; lwIP's heap does not. */
static bool memif_zero_copy(const struct rte_eth_dev_info *info)
{
	const struct rte_devargs *da = info->device ? rte_dev_devargs(info->device) : NULL;
	const char *a = da ? da->args : NULL;

	return a != NULL && strstr(a, "zero-copy=yes") != NULL;
}

static void read_caps(struct mlw_port_caps *c, const struct rte_eth_dev_info *info)
{
	uint64_t rx_ck = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
			 RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	uint64_t tx_ck = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			 RTE_ETH_TX_OFFLOAD_UDP_CKSUM;

	memset(c, 0, sizeof(*c));
	/* Programmable RSS needs a RETA and a key we can write; several
	 * virtual devices report one without the other. */
	c->rss = info->reta_size > 0 &&
		 (info->flow_type_rss_offloads & (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV6_TCP));
	c->reta_size = c->rss ? info->reta_size : 0;
	/* Some drivers (net_null) take a key without saying how long: assume
	 * the common 40 bytes; the key is read back after programming, so a
	 * wrong guess fails the port's start rather than steering wrongly. */
	c->key_len = !c->rss ? 0 : info->hash_key_size ? info->hash_key_size : MLW_RSS_KEY_LEN_DEFAULT;
	c->rx_cksum = (info->rx_offload_capa & rx_ck) == rx_ck;
	c->tx_cksum = (info->tx_offload_capa & tx_ck) == tx_ck;
	snprintf(c->driver, sizeof(c->driver), "%s", info->driver_name ? info->driver_name : "?");
	c->tx_zero_copy = strcmp(c->driver, "net_af_packet") == 0 ||
			  (strcmp(c->driver, "net_memif") == 0 && !memif_zero_copy(info));
}

/* The largest RETA programmed: bigger tables are left as the driver made
 * them and the port is used without RSS (no DPDK driver has one yet). */
#define RETA_MAX 4096
#define MLW_RSS_L4 (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP | \
		    RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_NONFRAG_IPV6_UDP)
_Static_assert(RETA_MAX % RTE_ETH_RETA_GROUP_SIZE == 0, "RETA_MAX is whole groups");

/*
 * Program the port's RETA from @p rss: entry i = rss->reta[i mod
 * rss->reta_size]. The NIC indexes its table with the low bits of the hash,
 * so a table that repeats the stack's (whose size divides the port's) sends
 * every flow to the queue of the shard that software steering names. Read
 * back: software steering and port choice rely on it.
 */
static int program_reta(struct mlw_port *port, const struct mlw_rss *rss)
{
	struct rte_eth_rss_reta_entry64 conf[RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t size = port->caps.reta_size;
	unsigned groups = (size + RTE_ETH_RETA_GROUP_SIZE - 1) / RTE_ETH_RETA_GROUP_SIZE;

	if (size > RETA_MAX || size % rss->reta_size != 0)
		return -EINVAL;
	memset(conf, 0, sizeof(conf[0]) * groups);
	for (unsigned i = 0; i < size; i++) {
		conf[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
		conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
			rss->reta[i & (rss->reta_size - 1)];
	}
	if (rte_eth_dev_rss_reta_update(port->port_id, conf, size) != 0)
		return -EIO;
	for (unsigned g = 0; g < groups; g++) {
		conf[g].mask = ~0ULL;
		memset(conf[g].reta, 0xff, sizeof(conf[g].reta));
	}
	if (rte_eth_dev_rss_reta_query(port->port_id, conf, size) != 0)
		return -EIO;
	for (unsigned i = 0; i < size; i++)
		if (conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] !=
		    rss->reta[i & (rss->reta_size - 1)])
			return -EIO;
	return 0;
}

/* Set the key explicitly after start (some drivers, net_null among them,
 * ignore the key given to dev_configure) and read it back. */
static int program_key(struct mlw_port *port, const uint8_t *key, uint8_t key_len, uint64_t rss_hf)
{
	uint8_t got[MLW_RSS_KEY_MAX];
	struct rte_eth_rss_conf set = { .rss_key = (uint8_t *)key, .rss_key_len = key_len, .rss_hf = rss_hf };
	struct rte_eth_rss_conf rc = { .rss_key = got, .rss_key_len = sizeof(got) };
	int r = rte_eth_dev_rss_hash_update(port->port_id, &set);

	if (r != 0 && r != -ENOTSUP)
		return -EIO;
	if (rte_eth_dev_rss_hash_conf_get(port->port_id, &rc) != 0)
		return -EIO;
	if (rc.rss_key_len < key_len || memcmp(got, key, key_len) != 0)
		return -EIO;
	return 0;
}

/*
 * Can the shards sleep on this port's RX queues? Every queue has an event fd
 * (rte_eth_dev_rx_intr_ctl_q_get_fd) and the driver enables its interrupt, or
 * has no enable at all (net_tap). DPDK 22.11, as found here: net_tap has
 * them (a queue's fd is the tap queue's own); net_memif does not (its
 * queues have eventfds the peer writes, but the driver gives ethdev no
 * interrupt vector: "Rx Intr handle unset"), nor net_af_packet, net_ring
 * or net_null.
 */
static bool rx_intr_works(uint16_t port_id, uint16_t nqueues)
{
	for (uint16_t q = 0; q < nqueues; q++) {
		int rc;

		if (rte_eth_dev_rx_intr_ctl_q_get_fd(port_id, q) < 0)
			return false;
		/* net_tap has no enable/disable: its queue's fd is the
		 * tap's own, readable whenever frames wait. */
		rc = rte_eth_dev_rx_intr_enable(port_id, q);
		if (rc == -ENOTSUP)
			continue;
		if (rc != 0)
			return false;
		rte_eth_dev_rx_intr_disable(port_id, q);
	}
	return true;
}

int mlw__port_probe(uint16_t port_id, struct mlw_port_caps *caps)
{
	struct rte_eth_dev_info info;

	if (!rte_eth_dev_is_valid_port(port_id) || rte_eth_dev_info_get(port_id, &info) != 0)
		return -ENODEV;
	read_caps(caps, &info);
	return 0;
}

int mlw__port_open(struct mlw_port *port, uint16_t port_id, uint16_t nqueues,
		   struct rte_mempool *const *pools, const struct mlw_rss *rss,
		   uint16_t rx_desc, uint16_t tx_desc, unsigned link_wait_ms, bool rx_intr)
{
	struct mlw_rss pkey;	/* the symmetric key at the port's length */
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_eth_link link;
	int socket, rc;

	memset(port, 0, sizeof(*port));
	port->port_id = port_id;
	port->nqueues = nqueues;
	if (!rte_eth_dev_is_valid_port(port_id))
		return -ENODEV;
	if (rte_eth_dev_info_get(port_id, &info) != 0)
		return -ENODEV;
	read_caps(&port->caps, &info);
	if (nqueues == 0 || nqueues > info.max_rx_queues || nqueues > info.max_tx_queues)
		return -EINVAL;
	/* Hardware RSS is used when the port's key length holds an IPv6
	 * 4-tuple (so its hash equals the stack's at every length: the
	 * symmetric key is one 16-bit pattern repeated) and its RETA is a
	 * multiple of the stack's. Otherwise the port runs without RSS and
	 * the shards steer in software. */
	if (port->caps.rss && (nqueues == 1 || port->caps.key_len < MLW_RSS_KEY_LEN_DEFAULT ||
			       port->caps.key_len > MLW_RSS_KEY_MAX ||
			       port->caps.reta_size > RETA_MAX ||
			       port->caps.reta_size % rss->reta_size != 0 ||
			       mlw_rss_init(&pkey, rss->nshards, rss->reta_size, NULL, port->caps.key_len) != 0 ||
			       memcmp(pkey.key, rss->key, RTE_MIN(pkey.key_len, rss->key_len)) != 0))
		port->caps.rss = false;

	memset(&conf, 0, sizeof(conf));
	if (port->caps.rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = pkey.key;
		conf.rx_adv_conf.rss_conf.rss_key_len = port->caps.key_len;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
		/* The NIC's hash of a TCP or UDP frame is the 4-tuple hash
		 * software steering computes only when the port hashes all
		 * four kinds by their ports (otherwise some are hashed on the
		 * addresses alone). */
		port->caps.hash_l4 = (conf.rx_adv_conf.rss_conf.rss_hf & MLW_RSS_L4) == MLW_RSS_L4;
	} else {
		port->caps.rss = false;
		port->caps.reta_size = 0;
	}
	if (port->caps.rx_cksum)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_CHECKSUM;
	if (port->caps.tx_cksum)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
					RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	/* RX interrupts: only when asked for (idle = interrupt), and only
	 * for drivers that have them; a driver without them is configured as
	 * before (some refuse intr_conf.rxq). */
	conf.intr_conf.rxq = rx_intr;
	if (rte_eth_dev_configure(port_id, nqueues, nqueues, &conf) != 0) {
		if (!rx_intr)
			return -EIO;
		conf.intr_conf.rxq = 0;
		if (rte_eth_dev_configure(port_id, nqueues, nqueues, &conf) != 0)
			return -EIO;
	}
	port->configured = true;
	/* The driver's limits: it may round the counts. The pools were sized
	 * for the configured ones, so a driver that wants more is an error. */
	{
		uint16_t rxd = rx_desc, txd = tx_desc;

		if (rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd) != 0 || rxd > rx_desc || txd > tx_desc) {
			port->want_rx_desc = rxd;
			port->want_tx_desc = txd;
			mlw__port_close(port);
			return -ERANGE;
		}
		rx_desc = rxd;
		tx_desc = txd;
	}
	socket = rte_eth_dev_socket_id(port_id);
	for (uint16_t q = 0; q < nqueues; q++) {
		/* Descriptors on the port's node; mbufs from the owning shard's
		 * pool, which lives on the shard's node. */
		if (rte_eth_rx_queue_setup(port_id, q, rx_desc, socket, NULL, pools[q]) != 0 ||
		    rte_eth_tx_queue_setup(port_id, q, tx_desc, socket, NULL) != 0) {
			mlw__port_close(port);
			return -EIO;
		}
	}
	if (rte_eth_dev_start(port_id) != 0) {
		mlw__port_close(port);
		return -EIO;
	}
	port->started = true;
	if (conf.intr_conf.rxq)
		port->caps.rx_intr = rx_intr_works(port_id, nqueues);
	if (rx_intr && !port->caps.rx_intr)
		fprintf(stderr, "mlwip: port %u (%s) has no RX queue interrupts: idle = interrupt backs off "
			"on its shards instead of sleeping\n", port_id, port->caps.driver);
	if (port->caps.rss) {
		rc = program_reta(port, rss);
		if (rc == 0)
			rc = program_key(port, pkey.key, port->caps.key_len,
					 conf.rx_adv_conf.rss_conf.rss_hf);
		if (rc != 0) {
			mlw__port_close(port);
			return rc;
		}
	}
	{
		struct rte_ether_addr mac;

		rte_eth_macaddr_get(port_id, &mac);
		memcpy(port->caps.mac, mac.addr_bytes, sizeof(port->caps.mac));
	}
	rte_eth_dev_get_mtu(port_id, &port->caps.mtu);
	if (port->caps.mtu == 0)
		port->caps.mtu = RTE_ETHER_MTU;
	/* Some virtual devices never report link up; a missing link is not an
	 * error, the shards simply see no traffic until it comes up. */
	for (unsigned waited = 0; waited < link_wait_ms; waited += 10) {
		if (rte_eth_link_get_nowait(port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP)
			break;
		usleep(10000);
	}
	return 0;
}

void mlw__port_close(struct mlw_port *port)
{
	struct rte_eth_link link;

	if (port->afp != NULL) {
		mlw__afp_engine_close(port->afp);
		port->afp = NULL;
		port->configured = port->started = false;
		return;
	}

	/* DPDK 22.11's memif disconnect is not safe against itself: if the
	 * peer has just gone, the interrupt thread may still be tearing the
	 * shared regions down, and our dev_stop would free them a second time.
	 * A link already down means that teardown has begun; give it a moment
	 * to finish (it takes microseconds). */
	if (port->started && strcmp(port->caps.driver, "net_memif") == 0 &&
	    rte_eth_link_get_nowait(port->port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_DOWN)
		usleep(50000);
	if (port->started) {
		rte_eth_dev_stop(port->port_id);
		port->started = false;
	}
	if (port->configured) {
		rte_eth_dev_close(port->port_id);
		port->configured = false;
	}
}
