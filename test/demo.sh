#!/usr/bin/env bash
# make demo: a throwaway PostgreSQL 15 cluster with a few i2b2 process rows,
# one realistic get_ont_process_status request, and the response.
# Expects the extension to be installed (make demo does that).
set -euo pipefail
cd "$(dirname "$0")/.."
exec pg_virtualenv -t -v 15 bash -c 'psql -X -d postgres -f test/demo.sql'
