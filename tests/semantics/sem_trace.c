/* sem_trace.c - the trace recorder of the differential suite's bodies: sem_rec(), sem_rec_fd() and sem_recf() format one "label: value" line each and hand it to the program's sem_trace_add() (test_semantics.c keeps a trace per backend and test, pl_semantics.c one it prints).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sem.h"

long sem_rec(const char *label, long rc)
{
	int e = errno;
	char v[64];

	if (rc < 0) {
		const char *name = strerrorname_np(e);

		snprintf(v, sizeof(v), "%ld %s", rc, name != NULL ? name : "E?");
	} else {
		snprintf(v, sizeof(v), "%ld", rc);
	}
	sem_trace_add(label, v);
	errno = e;
	return rc;
}

int sem_rec_fd(const char *label, int fd)
{
	int e = errno;

	if (fd >= 0)
		sem_trace_add(label, "fd");
	else
		sem_rec(label, fd);
	errno = e;
	return fd;
}

void sem_recf(const char *label, const char *fmt, ...)
{
	char v[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	sem_trace_add(label, v);
}
