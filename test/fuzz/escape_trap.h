/*
 * escape_trap.h
 *	  Shared by the fuzz harness and the valgrind replay: libxml2's global
 *	  error handler, installed while parsing, aborts the run, because the
 *	  request parser must keep every libxml2 message to itself (a message
 *	  that escapes would reach the client and the server log).
 */
#ifndef ONTSTATUS_ESCAPE_TRAP_H
#define ONTSTATUS_ESCAPE_TRAP_H

#include <stdio.h>
#include <stdlib.h>
#include "../../src/libxml_compat.h"

static void
escaped(void *ctx, OntXmlErrorPtr err)
{
	(void) ctx;
	fprintf(stderr, "libxml2 reported past the parser's handler: %s",
			err && err->message ? err->message : "(no message)\n");
	abort();
}

#endif
