# cmake -P script run by the install test (tests/install.cmake):
#  1. cmake --install LEADLOG_BUILD_DIR into a fresh temporary prefix;
#  2. check the package's files are there;
#  3. configure + build this directory's consumer with CMAKE_PREFIX_PATH=prefix;
#  4. run the consumer (opens a Store, creates a campaign, adds a lead);
#  5. run the installed `leadlog counts` on the database it wrote.
# The temporary directory is removed on success and kept (its path printed)
# on failure.
cmake_minimum_required(VERSION 3.20)

foreach(v LEADLOG_BUILD_DIR CONSUMER_SOURCE_DIR CONSUMER_GENERATOR CONSUMER_CXX_COMPILER)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "run.cmake: ${v} is not set")
  endif()
endforeach()

if(DEFINED ENV{TMPDIR} AND IS_DIRECTORY "$ENV{TMPDIR}")
  set(base "$ENV{TMPDIR}")
else()
  set(base "/tmp")
endif()
string(TIMESTAMP stamp "%Y%m%d%H%M%S")
string(RANDOM LENGTH 8 ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789" tag)
set(work "${base}/leadlog-install-${stamp}-${tag}")
if(EXISTS "${work}")
  message(FATAL_ERROR "run.cmake: ${work} already exists")
endif()
file(MAKE_DIRECTORY "${work}")
set(prefix "${work}/prefix")
message(STATUS "install test in ${work}")

function(step what)
  message(STATUS "-- ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: ${what} failed (${rc}); files kept in ${work}")
  endif()
endfunction()

step("cmake --install" ${CMAKE_COMMAND} --install "${LEADLOG_BUILD_DIR}" --prefix "${prefix}")

# Where GNUInstallDirs put things depends on the platform (lib or lib64, ...):
# look for them rather than assume.
file(GLOB_RECURSE config "${prefix}/*/leadlogConfig.cmake")
file(GLOB_RECURSE targets "${prefix}/*/leadlogTargets.cmake")
file(GLOB_RECURSE header "${prefix}/*/leadlog/leadlog.h")
file(GLOB_RECURSE library "${prefix}/*/libleadlog.so*")
set(tool "${prefix}/bin/leadlog")
foreach(what config targets header library)
  if(NOT ${what})
    message(FATAL_ERROR "install test: no ${what} installed under ${prefix}; files kept in ${work}")
  endif()
endforeach()
if(NOT EXISTS "${tool}")
  message(FATAL_ERROR "install test: ${tool} was not installed; files kept in ${work}")
endif()
# Only the public API is installed: no internal or generated header.
file(GLOB_RECURSE installed_headers RELATIVE "${prefix}" "${prefix}/*.h")
message(STATUS "installed headers: ${installed_headers}")

step("configure the consumer" ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${work}/build"
     -G "${CONSUMER_GENERATOR}"
     "-DCMAKE_PREFIX_PATH=${prefix}"
     "-DCMAKE_CXX_COMPILER=${CONSUMER_CXX_COMPILER}"
     "-DCMAKE_CXX_FLAGS=${CONSUMER_CXX_FLAGS}"
     "-DCMAKE_BUILD_TYPE=${CONSUMER_BUILD_TYPE}"
     -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
     -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
# The package must come from the temporary prefix, not from some other install.
file(STRINGS "${work}/build/CMakeCache.txt" found_dir REGEX "^leadlog_DIR:")
string(REGEX REPLACE "^leadlog_DIR:[A-Z]+=" "" found_dir "${found_dir}")
string(FIND "${found_dir}" "${prefix}/" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "install test: leadlog was found in '${found_dir}', not under ${prefix}")
endif()
step("build the consumer" ${CMAKE_COMMAND} --build "${work}/build")
step("run the consumer" "${work}/build/consumer" "${work}/db")
step("run the installed leadlog tool" "${tool}" --db "${work}/db" counts)

file(REMOVE_RECURSE "${work}")
message(STATUS "install test passed")
