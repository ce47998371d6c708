/* errno.c - the one table that turns lwIP's err_t into the errno values Linux returns. */
#include <errno.h>

#include "sock_private.h"

/* lwIP error -> errno, as lwIP's own sockets map them (api/err.c), except
 * where Linux's socket calls say otherwise (ERR_TIMEOUT, ERR_IF, ERR_ARG). */
#define MLW_ERR_MAP(X)                 \
	X(ERR_OK, 0)                   \
	X(ERR_MEM, ENOMEM)             \
	X(ERR_BUF, ENOBUFS)            \
	X(ERR_TIMEOUT, ETIMEDOUT)      \
	X(ERR_RTE, ENETUNREACH)        \
	X(ERR_INPROGRESS, EINPROGRESS) \
	X(ERR_VAL, EINVAL)             \
	X(ERR_WOULDBLOCK, EAGAIN)      \
	X(ERR_USE, EADDRINUSE)         \
	X(ERR_ALREADY, EALREADY)       \
	X(ERR_ISCONN, EISCONN)         \
	X(ERR_CONN, ENOTCONN)          \
	X(ERR_IF, ENETDOWN)            \
	X(ERR_ABRT, ECONNABORTED)      \
	X(ERR_RST, ECONNRESET)         \
	X(ERR_CLSD, ENOTCONN)          \
	X(ERR_ARG, EINVAL)

int mlw__errno_from_err(err_t err)
{
	switch (err) {
#define X(e, n) case e: return n;
	MLW_ERR_MAP(X)
#undef X
	}
	return EIO;
}

/* The error a connection's err callback reports. lwIP passes ERR_RST for a
 * reset (in SYN_SENT: the peer refused) and ERR_ABRT when its timers gave
 * up (retransmissions or keepalive probes unanswered); the socket layer
 * never gets ERR_ABRT for its own tcp_abort() because it removes the
 * callback first. */
int mlw__errno_from_tcp_err(err_t err, bool connecting)
{
	if (err == ERR_RST)
		return connecting ? ECONNREFUSED : ECONNRESET;
	if (err == ERR_ABRT)
		return ETIMEDOUT;
	return mlw__errno_from_err(err);
}
