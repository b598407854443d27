/*
 * replay.c
 *	  Parse every file named on the command line 20 times with the request
 *	  parser, freeing what it allocated after each parse.  test/fuzz/run.sh
 *	  runs it under valgrind over the seed corpus: every libxml2 object must
 *	  be freed, on the error paths too, with no invalid access, and no
 *	  error or warning may reach libxml2's global handler.  It also says how
 *	  many of the files the fast path read (the rest went to libxml2, or
 *	  were refused by the guards), and that the guards ran once for each
 *	  parse.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "../../src/request_parser.h"
#include "escape_trap.h"

static void *blocks[65536];
static int	nblocks;

static void *
tracked_alloc(void *arg, size_t size)
{
	(void) arg;
	if (nblocks == (int) (sizeof(blocks) / sizeof(blocks[0])))
		return NULL;
	return blocks[nblocks++] = malloc(size ? size : 1);
}


int
main(int argc, char **argv)
{
	static char buf[1 << 20];
	int			ok = 0;
	int			failed = 0;
	int			fast = 0;

	xmlInitParser();
	xmlSetStructuredErrorFunc(NULL, escaped);
	for (int f = 1; f < argc; f++)
	{
		FILE	   *fp = fopen(argv[f], "rb");
		size_t		n;

		if (fp == NULL)
		{
			perror(argv[f]);
			return 2;
		}
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		for (int i = 0; i < 20; i++)
		{
			OntRequest	req;
			OntParseState st;
			OntGuardVerdict v;
			bool		read_fast = false;
			bool		accepted;

			if (!ont_guard_request(buf, n, &req, &v))
				accepted = false;
			else if (ont_read_request_fast(buf, n, &v, &req, tracked_alloc,
										   NULL) == ONT_FAST_READ)
			{
				read_fast = true;
				accepted = req.error == ONT_OK;
			}
			else
				accepted = ont_read_request_libxml2(buf, n, &v, &req, &st,
													tracked_alloc, NULL);
			if (accepted)
				ok++;
			else
				failed++;
			if (i == 0 && read_fast)
				fast++;
			while (nblocks > 0)
				free(blocks[--nblocks]);
		}
	}
	xmlCleanupParser();
	if (ont_guard_passes() != (unsigned long) (ok + failed))
	{
		fprintf(stderr, "replay: %lu guard passes over %d parses\n",
				ont_guard_passes(), ok + failed);
		return 1;
	}
	printf("replay: %d parses accepted, %d refused; the fast path read %d of %d files\n",
		   ok, failed, fast, argc - 1);
	return 0;
}
