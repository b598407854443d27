/*
 * request_parse.c
 *	  make bench: the request parser alone, outside the backend - what one
 *	  reading of a request costs with the fast path and with libxml2 alone,
 *	  in CPU time (the machine is shared), the median of several runs.
 *
 *	  request_parse FILE...   (PROCESS_ID in a file is replaced by 26)
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

static double
us_per_reading(const char *buf, size_t len, OntParseMode mode, bool *fast)
{
	double		runs[RUNS];

	for (int r = 0; r < RUNS; r++)
	{
		struct timespec a,
					b;
		OntRequest	req;
		OntParseState st;

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
		for (int i = 0; i < CALLS; i++)
		{
			used = 0;
			(void) ont_parse_request_mode(buf, len, &req, &st, bump, NULL, mode);
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		runs[r] = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / CALLS / 1000.0;
		*fast = st.fast_path;
	}
	qsort(runs, RUNS, sizeof(double), by_value);
	return runs[RUNS / 2];
}

int
main(int argc, char **argv)
{
	xmlInitParser();
	printf("%-32s %8s %12s %12s %10s\n", "request", "bytes", "fast path", "libxml2", "libxml2/");
	printf("%-32s %8s %12s %12s %10s\n", "", "", "us", "us", "fast");
	for (int f = 1; f < argc; f++)
	{
		static char buf[65536];
		FILE	   *fp = fopen(argv[f], "rb");
		size_t		len;
		char	   *id;
		double		fast_us,
					libxml2_us;
		bool		fast;
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
		fast_us = us_per_reading(buf, len, ONT_PARSE_ANY, &fast);
		libxml2_us = us_per_reading(buf, len, ONT_PARSE_LIBXML2, &(bool) {false});
		printf("%-32s %8zu %12.2f %12.2f %9.1fx%s\n", name, len, fast_us, libxml2_us,
			   libxml2_us / fast_us, fast ? "" : "  (declined: libxml2 both times)");
	}
	return 0;
}
