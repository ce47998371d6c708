/* eth_netif.c - the Ethernet side of every port's lwIP netif, whichever engine sends its frames (dpdk-netif/netif.c, afpacket-netif/port_kernel.c): outputs, flags and checksum control. */
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/netif.h"
#include "lwip/prot/ethernet.h"

#include "mlw_rx_budget.h"

uint16_t mlw__eth_netif_setup(struct netif *netif, bool trust_cksum, bool tx_cksum_offload)
{
	uint16_t flags;

#if LWIP_IPV4
	netif->output = etharp_output;
#endif
#if LWIP_IPV6
	netif->output_ip6 = ethip6_output;
#endif
	netif->hwaddr_len = ETH_HWADDR_LEN;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
		       NETIF_FLAG_IGMP | NETIF_FLAG_MLD6 | NETIF_FLAG_LINK_UP;
	/* Checksums the port computes are not computed twice. RX checks stay
	 * on here: the run loop turns them off for each frame the port
	 * verified, and drops frames it marked bad. A trusted link has none. */
	if (trust_cksum)
		flags = NETIF_CHECKSUM_DISABLE_ALL;
	else if (tx_cksum_offload)
		flags = NETIF_CHECKSUM_ENABLE_ALL & ~(NETIF_CHECKSUM_GEN_IP | NETIF_CHECKSUM_GEN_TCP |
						      NETIF_CHECKSUM_GEN_UDP);
	else
		flags = NETIF_CHECKSUM_ENABLE_ALL;
	NETIF_SET_CHECKSUM_CTRL(netif, flags);
	return flags;
}
