/* mlwip/capture.h - on-demand packet capture to a pcapng file ([capture] in the INI file, run-time control over DPDK telemetry). */
#ifndef MLWIP_CAPTURE_H
#define MLWIP_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLW_CAPTURE_FILE_MAX		256u	/**< bytes of a capture file's path, NUL included */
/** Bytes of each frame kept: 64..65535; by default 65535 (whole frames,
 * since mlwip sends and receives no frame longer than a port's MTU plus
 * its Ethernet header). */
#define MLW_CAPTURE_SNAPLEN_MIN		64u
#define MLW_CAPTURE_SNAPLEN_MAX		65535u
#define MLW_CAPTURE_SNAPLEN_DEFAULT	65535u
/** Largest capture file in MiB (0: no limit). */
#define MLW_CAPTURE_LIMIT_MB_MAX	1048576u
/** Older files kept when rotating (FILE.1 .. FILE.N); 0: stop at the limit. */
#define MLW_CAPTURE_ROTATE_MAX		100u

/**
 * What to capture ([capture] in the INI file, or the parameters of the
 * telemetry command /mlwip/capture/start). Masks have bit i for port i
 * ([portI]) and for shard i; all ones captures every port or shard.
 */
struct mlw_capture_config {
	char file[MLW_CAPTURE_FILE_MAX];	/**< pcapng file written; "" with start off: none configured */
	uint64_t ports;				/**< ports captured, default all */
	uint64_t shards;			/**< shards whose frames are captured, default all */
	uint32_t snaplen;			/**< MLW_CAPTURE_SNAPLEN_MIN..MAX, default MLW_CAPTURE_SNAPLEN_DEFAULT */
	/** Size limit of the file in MiB, 0..MLW_CAPTURE_LIMIT_MB_MAX; 0
	 * (default): none. A file never grows past it: the frame that
	 * would pass it stops the capture, or rotates the file. */
	uint32_t limit_mb;
	/** 0 (default): the capture stops at limit_mb. N: at the limit FILE
	 * becomes FILE.1 (FILE.1 becomes FILE.2 ... and FILE.N is removed)
	 * and a new FILE starts. Needs limit_mb. */
	uint32_t rotate;
	bool start;				/**< capture from the stack's start (start = on) */
};

#ifdef __cplusplus
}
#endif

#endif /* MLWIP_CAPTURE_H */
