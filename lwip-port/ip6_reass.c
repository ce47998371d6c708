/* ip6_reass.c - lwIP 2.1.3's ip6_input() keeps pointing at the last fragment's IPv6 header after reassembly; the reassembled packet's header is made current again, as lwIP 2.2 does.
 *
 * ip6_input -> ip6_reass (linked here: --wrap=ip6_reass, lwip-port/CMakeLists.txt)
 *   -> __real_ip6_reass -> (whole datagram) ip_data.current_ip6_header = its header
 *
 * lwIP 2.1.3's ip6_input() (ip6.c) goes on with the reassembled datagram,
 * whose IPv6 header lies in another buffer (the first fragment's), but leaves
 * ip_data.current_ip6_header at the header of the fragment that completed
 * it; lwIP 2.2.0 added the missing assignment. Everything that reads
 * ip6_current_header() afterwards read the wrong buffer: a second fragment
 * header inside the datagram made ip6_reass() fail its assertion "not a
 * valid pbuf (ip6_input check missing?)" (mlw_epoll_echo aborted under
 * tests/reliability/hostile_gen.py's frag6 frames on lwIP 2.1.3), and ICMPv6
 * errors and tcp_rst.c quote or read it. On lwIP 2.2 this assigns the same
 * value again.
 */
#include "lwip/ip.h"
#include "lwip/ip6_frag.h"
#include "lwip/pbuf.h"

struct pbuf *__real_ip6_reass(struct pbuf *p);
struct pbuf *__wrap_ip6_reass(struct pbuf *p);

struct pbuf *__wrap_ip6_reass(struct pbuf *p)
{
	struct pbuf *q = __real_ip6_reass(p);

	/* A whole datagram comes back with its payload at the IPv6 header. */
	if (q != NULL)
		ip_data.current_ip6_header = (struct ip6_hdr *)q->payload;
	return q;
}
