# Runs the embedding example (examples/dialer_example.cc, quoted in
# docs/embedding.md) on a fresh temporary directory, twice: the second run
# reopens the database the first one closed, as a restarted dialer would.
# Each run must exit 0. Included by tests/CMakeLists.txt.
if(TARGET leadlog_dialer_example)
  add_test(NAME example.dialer
    COMMAND bash -c [=[
set -eu
dir=$(mktemp -d "${TMPDIR:-/tmp}/leadlog-example-XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$1" "$dir/db"
echo "--- second run, same database ---"
"$1" "$dir/db"
]=] example "$<TARGET_FILE:leadlog_dialer_example>")
  set_tests_properties(example.dialer PROPERTIES TIMEOUT 120 LABELS "example")
endif()

# docs/embedding.md quotes the example piece by piece, each quote a ```cpp
# block right after a "<!-- quote: examples/dialer_example.cc -->" line. This
# test fails when a quote is no longer, verbatim, a part of the program.
set(_embedding_doc ${PROJECT_SOURCE_DIR}/docs/embedding.md)
if(EXISTS ${_embedding_doc})
  add_test(NAME example.docs_quotes
    COMMAND awk [=[
FNR == NR { src = src $0 "\n"; next }
/<!-- quote: examples\/dialer_example.cc -->/ { want = 1; next }
want && /^```/ {
  if (inblock) {
    if (!index(src, block)) { printf "quote %d of %s is not in %s:\n%s", n + 1, FILENAME, ARGV[1], block; bad = 1 }
    inblock = 0; want = 0; block = ""; n++
  } else inblock = 1
  next
}
inblock { block = block $0 "\n" }
END {
  if (n == 0) { print "no quotes found in " ARGV[2]; exit 1 }
  if (bad) exit 1
  print n " quotes match " ARGV[1]
}
]=] ${PROJECT_SOURCE_DIR}/examples/dialer_example.cc ${_embedding_doc})
  set_tests_properties(example.docs_quotes PROPERTIES LABELS "example;docs")
endif()
unset(_embedding_doc)
