/* tsan_private.h - happens-before annotations for ThreadSanitizer where the ordering comes from DPDK code TSan does not see.
 *
 * DPDK is not built with -fsanitize=thread: the hand-off of a shard to a
 * worker lcore (rte_eal_remote_launch), the wait for it to return
 * (rte_eal_mp_wait_lcore) and the inter-shard rings (plain index accesses
 * with rte_smp_wmb/rmb) order memory correctly, but TSan sees none of it
 * and reports the data they carry as races. MLW_TSAN_RELEASE(p) before the
 * hand-off and MLW_TSAN_ACQUIRE(p) after it tell TSan. Without
 * -fsanitize=thread both compile to nothing.
 */
#ifndef MLW_TSAN_PRIVATE_H
#define MLW_TSAN_PRIVATE_H

#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define MLW_TSAN_RELEASE(p) __tsan_release((void *)(p))
#define MLW_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#else
#define MLW_TSAN_RELEASE(p) ((void)(p))
#define MLW_TSAN_ACQUIRE(p) ((void)(p))
#endif

#endif
