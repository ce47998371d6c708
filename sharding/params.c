/* params.c - turn a validated struct mlw_config into the stack's parameters and DPDK EAL arguments. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stack_private.h"

int mlw__params_from_config(struct mlw__stack_params *p, const struct mlw_config *cfg,
			    char *err, size_t errlen);

#if MLW_RT_DPDK
/* True if the user's EAL arguments already choose the cores. */
static bool has_core_option(const struct mlw_config_argv *a)
{
	for (int i = 1; i < a->argc; i++) {
		const char *w = a->argv[i];

		if (strcmp(w, "-l") == 0 || strcmp(w, "-c") == 0 || strncmp(w, "--lcores", 8) == 0 ||
		    (w[0] == '-' && (w[1] == 'l' || w[1] == 'c') && w[2] != '\0' && w[1] != '-'))
			return true;
	}
	return false;
}
#endif

int mlw__params_from_config(struct mlw__stack_params *p, const struct mlw_config *cfg,
			    char *err, size_t errlen)
{
	struct mlw_config_error e;
	size_t off = 0;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = mlw_config_validate(cfg, &e);
	if (rc == 0)
		rc = mlw_config_eal_argv(cfg, "mlwip", &p->eal, &e);
	if (rc != 0) {
		mlw_config_format_error(&e, "config", err, errlen);
		return rc;
	}
	if (cfg->shards > MLW_MAX_SHARDS_INTERNAL || cfg->port_count > MLW_MAX_PORTS_INTERNAL) {
		snprintf(err, errlen, "config: too many shards or ports for this build");
		return -EINVAL;
	}
	p->syncookies = cfg->syncookies;
	p->syn_backlog = cfg->syn_backlog;
	p->syn_timeout_ms = cfg->syn_rcvd_timeout_ms;
	p->nshards = cfg->shards;
	for (unsigned i = 0; i < cfg->shards; i++)
		p->cores[i] = cfg->cores[i];
	p->idle = cfg->idle;
	p->idle_sleep_us = cfg->idle_sleep_us;
	p->idle_wait_ms = cfg->idle_wait_ms;
	p->burst = cfg->burst;
	p->ring_size = mlw__config_ring_size(cfg);
	p->max_sockets = cfg->max_sockets;
	p->max_time_wait = mlw_config_time_wait_cap(cfg);
	p->tcp_rcvbuf = cfg->tcp_rcvbuf;
	p->tcp_sndbuf = cfg->tcp_sndbuf;
	p->port_lo = cfg->local_port_lo;
	p->port_hi = cfg->local_port_hi;
	p->heap_limit = (size_t)cfg->heap_limit_mb << 20;
	p->limits = cfg->limits;
	p->rx_desc = cfg->rx_desc;
	p->tx_desc = cfg->tx_desc;
	p->zc_own = cfg->rx_zero_copy;
	p->zc_fwd = mlw_config_forward_zero_copy(cfg);
	p->pool_mbufs = cfg->mbufs ? cfg->mbufs : mlw_config_mbufs_needed(cfg);
	p->mbuf_cache = cfg->mbuf_cache;
	p->nports = cfg->port_count;
	for (unsigned i = 0, ndpdk = 0; i < cfg->port_count; i++) {
		const struct mlw_config_port *c = &cfg->ports[i];
		struct mlw__port_params *pp = &p->ports[i];

		pp->has_ipv4 = c->has_ipv4;
		pp->ip4 = c->ipv4_addr;
		pp->mask4 = c->ipv4_netmask;
		pp->gw4 = c->ipv4_gateway;
		pp->has_ipv6 = c->has_ipv6;
		memcpy(pp->ip6, c->ipv6_addr, 16);
		pp->prefix6 = c->ipv6_prefix;
		pp->has_mac = c->has_mac;
		memcpy(pp->mac, c->mac, 6);
		pp->mtu = c->mtu;
		pp->trust_checksums = c->checksum == MLW_CHECKSUM_TRUST;
		pp->engine = c->engine;
		if (c->engine == MLW_ENGINE_DPDK)
			pp->dpdk_id = (uint16_t)ndpdk++;
		memcpy(pp->iface, c->iface, sizeof(pp->iface));
		pp->steer_ports = c->steer != MLW_PORT_STEER_HASH;
		pp->rx_block_size = c->rx_block_kb * 1024u;
		pp->rx_blocks = c->rx_blocks;
		pp->tx_frames = c->tx_frames;
	}
#if MLW_RT_DPDK
	if (has_core_option(&p->eal)) {
		snprintf(err, errlen, "config: [eal] args must not choose cores (-l/-c/--lcores): "
			 "mlwip passes the [stack] cores to DPDK itself");
		return -EINVAL;
	}
	/* "--lcores=0@c0,1@c1,...": lcore i is shard i, pinned to the CPU the
	 * configuration gives it. Lcore ids are the shard indices (not the CPU
	 * numbers) so that shards may share a CPU (more shards than cores, for
	 * tests and small boards); lcore 0, DPDK's main lcore, is where
	 * mlw_stack_run() runs shard 0. */
	off += (size_t)snprintf(p->lcores_arg, sizeof(p->lcores_arg), "--lcores=");
	for (unsigned i = 0; i < p->nshards && off < sizeof(p->lcores_arg); i++)
		off += (size_t)snprintf(p->lcores_arg + off, sizeof(p->lcores_arg) - off, "%s%u@%u",
					i ? "," : "", i, p->cores[i]);
	if (off >= sizeof(p->lcores_arg)) {
		snprintf(err, errlen, "config: too many shards for the EAL lcore list");
		return -EINVAL;
	}
	if (p->eal.argc + 1 > MLW_CONFIG_EAL_ARGV_MAX + 1) {
		snprintf(err, errlen, "config: [eal] args has too many words");
		return -EINVAL;
	}
	p->eal.argv[p->eal.argc++] = p->lcores_arg;
	p->eal.argv[p->eal.argc] = NULL;
#else
	(void)off;	/* no EAL: the shard threads are pinned by runtime_posix.c */
#endif
	return 0;
}
