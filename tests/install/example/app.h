/* app.h - a raw-API lwIP client written for plain lwIP (its state in globals), made per-shard by mlw_lwip_derive(). */
#ifndef EXAMPLE_APP_H
#define EXAMPLE_APP_H

#include <stdint.h>

/** Connect to 127.0.0.1:@p port with tcp_connect() and send @p bytes of a
 * pattern; the peer must echo them. 0, or -1 if lwIP refused. */
int app_start(uint16_t port, uint32_t bytes);

/** 0 running, 1 every byte came back and the connection was closed,
 * -1 failed (reset, error, early close). */
int app_state(void);

/** Bytes echoed back so far, and how many of them differed from the pattern. */
void app_counts(uint32_t *received, uint32_t *mismatches);

/** Abort the connection if it is still open. */
void app_stop(void);

#endif
