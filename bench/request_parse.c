/*
 * request_parse.c
 *	  make bench: the request parser alone, outside the backend - what one
 *	  reading of a request costs as the backend reads it (the guards, then
 *	  the fast path, then libxml2 if the fast path declines) and with
 *	  libxml2 alone (the guards, then libxml2), and the guards' share of
 *	  both, in CPU time (the machine is shared), the median of several
 *	  runs.  Each file is read as it is and with its line ends as CR LF,
 *	  as a client on Windows sends it.
 *
 *	  request_parse FILE...   (PROCESS_ID in a file is replaced by 26)
 *
 * Built with the parser's files: request_guards.c, request_fast_path.c,
 * request_libxml2.c and request_parser.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "request_parser.h"

#define RUNS 7
#define CALLS 20000

/* a bump allocator, emptied after every reading, as a memory context is */
static char pool[1 << 20];
static size_t used;

static void *
bump(void *arg, size_t n)
{
	void	   *p;

	(void) arg;
	n = (n + 15) & ~(size_t) 15;
	if (used + n > sizeof(pool))
		return NULL;
	p = pool + used;
	used += n;
	return p;
}

static int
by_value(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

typedef enum Reading
{
	GUARDS,						/* the guards alone */
	AS_USED,					/* the guards, the fast path, libxml2 if declined */
	LIBXML2						/* the guards, then libxml2 */
} Reading;

/* One reading; true when the fast path read the request. */
static bool
read_once(const char *buf, size_t len, Reading how)
{
	OntRequest	req;
	OntParseState st;
	OntGuardVerdict v;

	if (!ont_guard_request(buf, len, &req, &v) || how == GUARDS)
		return false;
	if (how == AS_USED &&
		ont_read_request_fast(buf, len, &v, &req, bump, NULL) == ONT_FAST_READ)
		return true;
	(void) ont_read_request_libxml2(buf, len, &v, &req, &st, bump, NULL);
	return false;
}

static double
us_per_reading(const char *buf, size_t len, Reading how, bool *fast)
{
	double		runs[RUNS];

	for (int r = 0; r < RUNS; r++)
	{
		struct timespec a,
					b;

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
		for (int i = 0; i < CALLS; i++)
		{
			used = 0;
			*fast = read_once(buf, len, how);
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		runs[r] = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / CALLS / 1000.0;
	}
	qsort(runs, RUNS, sizeof(double), by_value);
	return runs[RUNS / 2];
}

/* One request, timed the three ways, as one line. */
static void
report(const char *name, const char *buf, size_t len)
{
	double		guards_us,
				fast_us,
				libxml2_us;
	bool		fast;
	bool		ignored;

	guards_us = us_per_reading(buf, len, GUARDS, &ignored);
	fast_us = us_per_reading(buf, len, AS_USED, &fast);
	libxml2_us = us_per_reading(buf, len, LIBXML2, &ignored);
	printf("%-32s %8zu %8.2f %10.2f %10.2f %9.1fx%s\n", name, len, guards_us,
		   fast_us, libxml2_us, libxml2_us / fast_us,
		   fast ? "" : "  (declined: libxml2 both times)");
}

int
main(int argc, char **argv)
{
	xmlInitParser();
	printf("%-32s %8s %8s %10s %10s %10s\n", "request", "bytes", "guards",
		   "fast path", "libxml2", "libxml2/");
	printf("%-32s %8s %8s %10s %10s %10s\n", "", "", "us", "us", "us", "fast");
	for (int f = 1; f < argc; f++)
	{
		static char buf[65536];
		static char crlf[2 * 65536];
		char		label[64];
		FILE	   *fp = fopen(argv[f], "rb");
		size_t		len;
		size_t		n = 0;
		char	   *id;
		const char *name = strrchr(argv[f], '/') ? strrchr(argv[f], '/') + 1 : argv[f];

		if (fp == NULL)
		{
			perror(argv[f]);
			return 2;
		}
		len = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		buf[len] = '\0';
		if ((id = strstr(buf, "PROCESS_ID")) != NULL)
		{
			memmove(id + 2, id + 10, len - (id + 10 - buf) + 1);
			memcpy(id, "26", 2);
			len -= 8;
		}
		report(name, buf, len);

		/* the same with CR LF line ends, if it has any line ends */
		if (memchr(buf, '\n', len) == NULL)
			continue;
		for (size_t i = 0; i < len; i++)
		{
			if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
				crlf[n++] = '\r';
			crlf[n++] = buf[i];
		}
		snprintf(label, sizeof(label), "%.24s, CR LF", name);
		report(label, crlf, n);
	}
	return 0;
}
