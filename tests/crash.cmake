# The crash harness's child process (tests/crash_child.cc): it opens a Store,
# writes, and records every acknowledged call in a file; tests/crash_test.cc
# kills it with SIGKILL at random moments and checks the reopened database.
# Included by tests/CMakeLists.txt; the test finds the child through
# LEADLOG_CRASH_CHILD_PATH.
add_executable(leadlog_crash_child ${CMAKE_CURRENT_SOURCE_DIR}/crash_child.cc)
target_compile_options(leadlog_crash_child PRIVATE ${LEADLOG_WARNINGS})
# The public API only: the child is an ordinary embedding program.
target_link_libraries(leadlog_crash_child PRIVATE leadlog_engine Threads::Threads)
target_compile_definitions(leadlog_tests PRIVATE LEADLOG_CRASH_CHILD_PATH="$<TARGET_FILE:leadlog_crash_child>")
add_dependencies(leadlog_tests leadlog_crash_child)
