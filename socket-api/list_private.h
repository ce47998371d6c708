/* list_private.h - the socket layer's intrusive doubly linked lists (epoll interest, ready and watcher lists, dirty and retry lists): O(1) insert and remove, and the step counter that proves no operation walks a list it does not have to. */
#ifndef MLW_LIST_PRIVATE_H
#define MLW_LIST_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A node sits inside the object it links (a socket, an epoll entry); a
 * head is a node of its own, its list circular through it, so insert and
 * remove never test for an end and never look at a neighbour's owner.
 * A head must be set up with mlw__list_init(); a node that is on no list
 * has next == NULL (as a zeroed object's node has), which is how the
 * lists tell membership without a flag.
 */
struct mlw__list {
	struct mlw__list *next, *prev;
};

#define MLW__LIST_ENTRY(node, type, member) ((type *)(void *)((char *)(node) - offsetof(type, member)))

static inline void mlw__list_init(struct mlw__list *head)
{
	head->next = head->prev = head;
}

static inline bool mlw__list_empty(const struct mlw__list *head)
{
	return head->next == head;
}

static inline bool mlw__list_linked(const struct mlw__list *node)
{
	return node->next != NULL;
}

static inline void mlw__list_insert(struct mlw__list *prev, struct mlw__list *node)
{
	node->prev = prev;
	node->next = prev->next;
	prev->next->prev = node;
	prev->next = node;
}

/* At the front (the next one taken) or the back (the last one taken). */
static inline void mlw__list_push_front(struct mlw__list *head, struct mlw__list *node)
{
	mlw__list_insert(head, node);
}

static inline void mlw__list_push_back(struct mlw__list *head, struct mlw__list *node)
{
	mlw__list_insert(head->prev, node);
}

static inline void mlw__list_remove(struct mlw__list *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	node->next = node->prev = NULL;
}

/* The first node, or NULL when the list is empty. */
static inline struct mlw__list *mlw__list_first(struct mlw__list *head)
{
	return head->next != head ? head->next : NULL;
}

/*
 * fd.c: list entries and descriptor-table words looked at on this shard
 * since it started, one step each: finding an epoll entry among a
 * socket's watchers, each ready entry an epoll_wait checks, each entry a
 * closing socket or epoll instance drops, each bitmap word read to find a
 * free descriptor. (Notifications, one per watcher, and the pass's flush,
 * one per written socket, are the work itself and not counted.)
 * test_epoll_scale proves with it that no operation costs more at 10,000
 * sockets than at 10.
 */
extern _Thread_local uint64_t mlw__list_steps;

static inline void mlw__step(void)
{
	mlw__list_steps++;
}

uint64_t mlw__sock_steps(void);

#endif /* MLW_LIST_PRIVATE_H */
