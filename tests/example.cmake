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
