# ontstatus: answer the i2b2 ONT cell's get_ont_process_status in PostgreSQL
#
#   make demo    install what is missing, build, install, show a response
#   make test    install what is missing, build, install, run every test
#                against a throwaway cluster
#   make stress  pgbench, memory growth and a minute of fuzzing on each
#                tested libxml2 (2.9 and 2.15)
#   make bench   throughput against built-in XML and a plain SELECT
#   make matrix  the suite on PostgreSQL 13, 15 and 18, on 17, 18 and 19 as
#                Debian 13, sid and experimental ship them, on 18 built
#                against libxml2 2.15, and on 18 with assertions and
#                USE_VALGRIND (builds 13, 18, libxml2 2.15 and 18+cassert
#                from Debian's source packages once, into /var/cache)
#   make valgrind  the pg_regress and isolation suites against a server
#                under valgrind, on 18+cassert (also part of make stress)
#   make deb     the Debian package postgresql-NN-ontstatus in dist/, built in a
#                clean chroot of Debian 12 (DEB_RELEASE=trixie: Debian 13)
#   make deb-test  that package installed in a clean chroot, the suite run
#                against the installed files, removed again
#   make         just build (PGXS), make install, make installcheck as usual

EXTENSION = ontstatus
MODULE_big = ontstatus
OBJS = src/ontstatus.o src/settings.o src/function_support.o src/request.o src/request_guards.o src/request_parser.o src/request_fast_path.o src/request_libxml2.o src/reports.o src/lifecycle.o src/process_model.o src/table_zone.o src/spi_exec.o src/notify.o \
	src/schema_resolution.o src/status_query.o src/response_writer.o src/run_process.o src/submit_process.o src/check_setup.o src/watch.o
DATA = sql/ontstatus--1.0.sql sql/ontstatus--1.3.sql sql/ontstatus--1.0--1.1.sql sql/ontstatus--1.1--1.2.sql sql/ontstatus--1.2--1.3.sql
PGFILEDESC = "ontstatus - i2b2 ONT process status inside PostgreSQL"

REGRESS = init request_filters response_format time_zones errors fast_path ddl_variants project_lookup plan_cache reports lifecycle cell_rows table_zone hardening xml_guards response_limits mutation api guc_prefix run_process parallel watch check_setup upgrade
REGRESS_OPTS = --inputdir=. --outputdir=test
# isolation tests: test/specs -> test/expected
ISOLATION = start_process registry
ISOLATION_OPTS = --inputdir=test --outputdir=test/isolation
# TAP tests (a primary and a hot standby) run with make installcheck too
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl
# PostgreSQL 13's TAP modules have the old names; test/perl maps the new
# ones onto them (searched after the server's own, so unused from 15 on)
PROVE_FLAGS = -I test/perl

# libxml2: xml2-config where it exists, else pkg-config.  Build against the
# libxml2 the server loads: make matrix names a private one for its
# "18+libxml2-2.15" configuration (XML2_CONFIG=.../bin/xml2-config), and
# the rpath makes ontstatus.so load that one too.
XML2_CONFIG ?= xml2-config
XML2_CFLAGS := $(shell $(XML2_CONFIG) --cflags 2>/dev/null || pkg-config --cflags libxml-2.0)
XML2_LIBS := $(shell $(XML2_CONFIG) --libs 2>/dev/null || pkg-config --libs libxml-2.0)
XML2_LIBDIR := $(shell $(XML2_CONFIG) --prefix 2>/dev/null)/lib
ifneq ($(filter-out /usr/lib /lib,$(XML2_LIBDIR)),)
XML2_LIBS += -Wl,-rpath,$(XML2_LIBDIR)
endif
# PostgreSQL's headers are not -Wextra clean; -isystem keeps their warnings
# out of ours.  make test builds with WERROR=-Werror, so a new warning in our
# code fails the suite.
# the majors tested at every change (test/matrix/tested-majors), which
# check_setup reports against
ONT_TESTED_MAJORS := $(shell sed -n '/^[0-9]/p' test/matrix/tested-majors)
PG_CPPFLAGS = -isystem $(includedir_server) -isystem $(includedir_internal) $(XML2_CFLAGS) \
	-DONT_TESTED_MAJORS='"$(ONT_TESTED_MAJORS)"'
PG_CFLAGS = -Wextra $(WERROR)
SHLIB_LINK = $(XML2_LIBS)

EXTRA_CLEAN = test/results test/regression.diffs test/regression.out tmp_check test/isolation

# As every PGXS extension: the pg_config on PATH (Debian's wrapper picks the
# newest installed server-dev), or another one named on the command line:
#   make PG_CONFIG=/usr/lib/postgresql/13/bin/pg_config
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

# Without postgresql-server-dev there is no PGXS yet: demo and test install
# it first and then call make again.
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@echo "PGXS not found: run 'make demo' or 'make test', or install postgresql-server-dev-15" >&2
	@exit 1
endif

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: deps demo test stress fuzz valgrind bench matrix deb deb-test

deps:
	test/install-deps.sh

demo: deps
	$(MAKE) all WERROR=-Werror
	$(SUDO) $(MAKE) install
	test/demo.sh

test: deps
	$(MAKE) all WERROR=-Werror
	$(SUDO) $(MAKE) install
	test/run-tests.sh

# the long runs: pgbench, memory, 60 s of fuzzing (FUZZ_SECONDS=...)
stress: deps
	$(MAKE) all WERROR=-Werror
	$(SUDO) $(MAKE) install
	test/stress/run.sh

# against another libxml2: make fuzz XML2_CONFIG=/path/to/bin/xml2-config
fuzz: deps
	XML2_CONFIG="$(XML2_CONFIG)" test/fuzz/run.sh

# the suite under valgrind's memcheck on PostgreSQL 18+cassert (USE_VALGRIND)
valgrind: deps
	test/valgrind/run.sh

# ontstatus vs built-in XML vs plain SELECT (BENCH_SECONDS, BENCH_REPS, BENCH_SIZES)
bench: deps
	$(MAKE) all
	$(SUDO) $(MAKE) install
	bench/run.sh

# the whole suite on every supported configuration
# (ONTSTATUS_PG_MAJORS="13 15 18 18+libxml2-2.15 18+cassert")
matrix: deps
	test/matrix/run.sh

# the Debian package postgresql-NN-ontstatus, built with debian/ (debhelper,
# pg_buildext) in a clean chroot of the release, into dist/: Debian 12 with
# PostgreSQL 15, or DEB_RELEASE=trixie for Debian 13 with PostgreSQL 17; and
# tested as installed (built first if dist/ lacks it).  As root; no PGXS
# needed (test/deb/deb.sh)
deb:
	test/deb/deb.sh build

deb-test:
	test/deb/deb.sh test
