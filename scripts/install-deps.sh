#!/usr/bin/env bash
# Installs every Debian 12 package that leadlog's build, tests, benchmarks,
# sanitizer builds and fuzzers need. Nothing else is downloaded, ever: the
# build finds all of its dependencies in these system packages.
#
# Idempotent and fast: when every package is already installed it checks that
# with dpkg and returns without touching apt (set LEADLOG_FORCE_APT=1 to run
# apt-get update + install anyway). Installing needs root; as another user it
# uses sudo when there is one, else it stops with a clear message.
set -euo pipefail

packages=(
  build-essential        # g++ (with libasan, libubsan, libtsan), make
  cmake
  pkg-config
  librocksdb-dev         # the storage engine underneath (pulls its compression -dev packages)
  libflatbuffers-dev     # record encoding ...
  flatbuffers-compiler   # ... and flatc, which compiles schema/*.fbs during the build
  libphonenumber-dev     # phone validation and E.164 normalization
  libfmt-dev
  libssl-dev             # libcrypto: SHA-256 of the hash chain
  libcli11-dev           # the leadlog tool's command line
  nlohmann-json3-dev
  libgtest-dev           # tests
  libgmock-dev
  libbenchmark-dev       # bench/
  libsqlite3-dev         # bench/: the SQLite side of the side-by-side workload
  clang                  # fuzzers (libFuzzer) ...
  libclang-rt-14-dev     # ... and clang's sanitizer and fuzzer runtimes
  llvm                   # llvm-symbolizer: readable sanitizer stack traces
)

missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 && "${LEADLOG_FORCE_APT:-0}" != 1 ]]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${missing[*]}"
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "install-deps: these Debian packages are missing: ${missing[*]}" >&2
  fi
  echo "install-deps: apt-get needs root; run this script as root (there is no sudo here)" >&2
  exit 1
fi

"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
echo "install-deps: done"
