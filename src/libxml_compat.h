/*-------------------------------------------------------------------------
 *
 * libxml_compat.h
 *	  What differs between the libxml2 versions ontstatus is built against,
 *	  decided here once: 2.9.14 (Debian 12 and 13) and 2.15.4 are tested
 *	  (make matrix), and every difference in between is a version check in
 *	  this file.
 *
 * Used by libxml2's reading of a request (request_libxml2.c) and by the
 * fuzz harness and replay in test/fuzz, which link the parser alone:
 * libxml2 and libc only here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ONTSTATUS_LIBXML_COMPAT_H
#define ONTSTATUS_LIBXML_COMPAT_H

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

/* 2.12 made the error passed to a structured handler const */
#if LIBXML_VERSION >= 21200
typedef const xmlError *OntXmlErrorPtr;
#else
typedef xmlErrorPtr OntXmlErrorPtr;
#endif

/*
 * The options of every parse of a request.  Errors and warnings go to the
 * parse's own structured handler (sax->serror), which keeps what it needs
 * and drops the rest; XML_PARSE_NOERROR and XML_PARSE_NOWARNING are not
 * set, because from 2.13 on they do not silence a message but take it
 * away from that handler, and libxml2 then gives it to the global one (in
 * the backend, pg_xml_init's, which counts it as a failure of libxml2
 * itself).  Up to 2.12 they only cleared the unstructured callbacks, which
 * the parser leaves unset anyway: without them every version behaves
 * alike.  IGNORE_ENC: the caller passes UTF-8, whatever the declaration
 * says.  No NOENT, DTDLOAD, DTDATTR or HUGE: see request_libxml2.c.
 */
#define ONT_XML_PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_IGNORE_ENC)

#endif							/* ONTSTATUS_LIBXML_COMPAT_H */
