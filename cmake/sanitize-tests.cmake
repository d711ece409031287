# ctest entries sanitize_address and sanitize_thread run this script (cmake -P): configure
# and build the C++ tests and the CLI under a sanitizer in a tree of their own (inside the
# main build folder), then run them there with every sanitizer report fatal.
#   -DSANITIZER=address|thread -DSOURCE_DIR=... -DBINARY_DIR=... -DGENERATOR=...
#   -DPYTHON=... -DTESTS="regex of the ctest entries to run"
foreach(var SANITIZER SOURCE_DIR BINARY_DIR GENERATOR PYTHON TESTS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "sanitize-tests.cmake: ${var} is not set")
  endif()
endforeach()

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "sanitize ${SANITIZER}: failed (${rc}): ${ARGN}")
  endif()
endfunction()

step(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR} -G ${GENERATOR}
     -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAPEXSIM_SANITIZE=${SANITIZER}
     -DCAPEXSIM_PYTHON=OFF -DCAPEXSIM_BENCH=OFF -DCAPEXSIM_EXAMPLES=OFF
     -DCAPEXSIM_INSTALL=OFF -DPython3_EXECUTABLE=${PYTHON})
step(${CMAKE_COMMAND} --build ${BINARY_DIR})

# Every report is an error: ASan/UBSan stop at the first (-fno-sanitize-recover), TSan
# exits non-zero. TBB's library is not instrumented; see cmake/tsan.supp.
set(ENV{ASAN_OPTIONS} "detect_leaks=1:abort_on_error=0:strict_string_checks=1")
set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1")
set(ENV{TSAN_OPTIONS} "halt_on_error=1:second_deadlock_stack=1:suppressions=${SOURCE_DIR}/cmake/tsan.supp")
step(${CMAKE_CTEST_COMMAND} --test-dir ${BINARY_DIR} --output-on-failure -R "${TESTS}")
