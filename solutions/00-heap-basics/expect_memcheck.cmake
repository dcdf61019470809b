# Runs a test binary under Memcheck and checks that Memcheck reports a planted bug.
#
#   cmake -DVALGRIND=valgrind -DFLAGS="--error-exitcode=9 ..." -DBINARY=tests -DFILTER=Suite.*
#         -DLOG=memcheck.log -DEXPECT="phrase|phrase|..." -P expect_memcheck.cmake
#
# Passes when Memcheck found errors (Valgrind exits with --error-exitcode) and its report holds
# every phrase of EXPECT (for example the kind of error, and the file and function of the bug).
separate_arguments(flags UNIX_COMMAND "${FLAGS}")
execute_process(COMMAND ${VALGRIND} ${flags} --log-file=${LOG} ${BINARY} --gtest_filter=${FILTER}
                RESULT_VARIABLE status OUTPUT_QUIET ERROR_QUIET)
file(READ ${LOG} report)
string(REGEX MATCH "--error-exitcode=([0-9]+)" ignored "${FLAGS}")
set(error_status ${CMAKE_MATCH_1})
if(NOT status STREQUAL error_status)
  message(FATAL_ERROR "Memcheck found no error in ${FILTER} (exit status ${status}, not ${error_status}): "
                      "the planted bug went unnoticed. Report (${LOG}):\n${report}")
endif()
string(REPLACE "|" ";" phrases "${EXPECT}")
foreach(phrase IN LISTS phrases)
  string(FIND "${report}" "${phrase}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "Memcheck's report for ${FILTER} does not say \"${phrase}\". Report (${LOG}):\n${report}")
  endif()
endforeach()
message(STATUS "Memcheck caught it in ${FILTER}: ${EXPECT}")
