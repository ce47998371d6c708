/* flow_private.h - the two software Toeplitz implementations behind mlwip/flow.h, exposed for tests (not public). */
#ifndef MLW_FLOW_PRIVATE_H
#define MLW_FLOW_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mlwip/flow.h"

/* Longest RSS input: IPv6 source and destination address plus both ports. */
#define MLW__RSS_INPUT_MAX	36u

enum mlw__thash_impl {
	MLW__THASH_PORTABLE,	/* plain C, bit by bit; always built (boards without DPDK) */
	MLW__THASH_DPDK,	/* DPDK's rte_softrss(); only in builds with DPDK */
};

/* True if @p impl was compiled into this build. */
bool mlw__thash_have(enum mlw__thash_impl impl);

/*
 * Toeplitz hash of @p len bytes of @p input (wire order; len a multiple of 4,
 * at most MLW__RSS_INPUT_MAX) with the key of @p rss, computed by @p impl,
 * which must be available (mlw__thash_have). The public hash functions use
 * MLW__THASH_DPDK when the build has it and MLW__THASH_PORTABLE otherwise.
 */
uint32_t mlw__thash(const struct mlw_rss *rss, enum mlw__thash_impl impl, const uint8_t *input, size_t len);

#endif /* MLW_FLOW_PRIVATE_H */
