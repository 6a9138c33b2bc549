# The install test: `cmake --install` this build into a temporary prefix, then
# configure, build and run tests/install_consumer/, an outside project that
# finds the package with find_package(leadlog CONFIG REQUIRED) and links
# leadlog::engine. Also runs the installed `leadlog` tool on the database the
# consumer wrote. Included by tests/CMakeLists.txt; the work happens in
# tests/install_consumer/run.cmake, in a fresh temporary directory.

# A consumer of a sanitized build must be sanitized the same way, or the
# sanitizer runtime would not be the first library loaded.
set(_leadlog_consumer_flags "${CMAKE_CXX_FLAGS}")
if(LEADLOG_SANITIZE)
  string(APPEND _leadlog_consumer_flags " -fsanitize=${LEADLOG_SANITIZE}")
endif()

add_test(NAME install.find_package
  COMMAND ${CMAKE_COMMAND}
          "-DLEADLOG_BUILD_DIR=${PROJECT_BINARY_DIR}"
          "-DCONSUMER_SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/install_consumer"
          "-DCONSUMER_GENERATOR=${CMAKE_GENERATOR}"
          "-DCONSUMER_CXX_COMPILER=${CMAKE_CXX_COMPILER}"
          "-DCONSUMER_CXX_FLAGS=${_leadlog_consumer_flags}"
          "-DCONSUMER_BUILD_TYPE=${CMAKE_BUILD_TYPE}"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/install_consumer/run.cmake)
set_tests_properties(install.find_package PROPERTIES TIMEOUT 300 LABELS "install")
unset(_leadlog_consumer_flags)
