#!/usr/bin/env bash
# The README's first Quick start command: installs the Debian packages, builds
# leadlog (Release), then runs the `leadlog` tool on a fresh database: creates a
# campaign, imports the sample leads shipped in examples/ (a few bad rows and a
# duplicate show how rejects are reported), prints the counts, lets four
# simulated dialers work a generated campaign of 2000 leads, audits the whole
# log and prints the head of its hash chain.
#
# Environment: LEADLOG_BUILD_DIR (default: build/ in the repository),
# LEADLOG_JOBS (build jobs, default: all cores).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${LEADLOG_BUILD_DIR:-$root/build}
jobs=${LEADLOG_JOBS:-$(nproc)}

bash "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$jobs"
build=$(cd "$build" && pwd)
tool=$build/tools/leadlog
sample=$root/examples/sample_leads.csv

# A fresh database; it is kept afterwards so that you can look around in it.
work=$(mktemp -d "${TMPDIR:-/tmp}/leadlog-demo-XXXXXX")
cd "$work"

# Shows each command as you would type it, then runs it.
leadlog() {
  printf '\n$ leadlog %s\n' "$*"
  "$tool" "$@"
}

echo
echo "=== leadlog demo in $work"
leadlog --db leads.db campaign create spring-renewals --max-attempts 3 \
  --retry no_answer=2h --retry voicemail=1d --lease 10m
leadlog --db leads.db import spring-renewals "$sample" --default-region US --rejects rejects.csv
printf '\n$ cat rejects.csv\n'
cat rejects.csv
leadlog --db leads.db counts
leadlog --db leads.db simulate demo --leads 2000 --dialers 4 --seed 7
leadlog --db leads.db counts
leadlog --db leads.db verify
leadlog --db leads.db digest

cat <<MSG

=== done. The demo database is $work/leads.db; look around with, e.g.:
  export LEADLOG_DB=$work/leads.db
  $tool lead 1
  $tool history +12015550123
  $tool dump --campaign spring-renewals --to 5
MSG
