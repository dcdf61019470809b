# cmake -DPROGRAM=path -DPRELOAD=libmm_NN-name.so -DALLOCATOR=NN-name -P HeapLabRunPreloaded.cmake
#
# Runs PROGRAM twice — on glibc's malloc, then with LD_PRELOAD=PRELOAD and HEAPLAB_STATS=1 —
# and fails, saying what differed, unless both exit 0, print the same standard output, and the
# preloaded run's statistics line (mm_preload.cpp) names ALLOCATOR as the allocator that served
# the calls (a preload that silently did not take effect would pass everything else).
foreach(variable PROGRAM PRELOAD ALLOCATOR)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "HeapLabRunPreloaded.cmake: -D${variable}=... is missing")
  endif()
endforeach()

execute_process(COMMAND ${PROGRAM} OUTPUT_VARIABLE plain_out ERROR_VARIABLE plain_err RESULT_VARIABLE plain_status
                TIMEOUT 60)
if(NOT plain_status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} on glibc's malloc (without the preload) ended with ${plain_status}:\n"
                      "${plain_out}${plain_err}")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=${PRELOAD} HEAPLAB_STATS=1 ${PROGRAM}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status TIMEOUT 60)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} with LD_PRELOAD=${PRELOAD} ended with ${status} (glibc's malloc: 0):\n"
                      "${out}${err}")
endif()
if(NOT out STREQUAL plain_out)
  message(FATAL_ERROR "${PROGRAM} printed something else with LD_PRELOAD=${PRELOAD}:\n"
                      "--- on glibc's malloc:\n${plain_out}--- on ${ALLOCATOR}:\n${out}")
endif()
string(REGEX MATCH "heaplab stats: pid [0-9]+ calls ([0-9]+) [^\n]* allocator ${ALLOCATOR}\n" stats "${err}")
if(NOT stats OR CMAKE_MATCH_1 LESS 1000)
  message(FATAL_ERROR "with LD_PRELOAD=${PRELOAD}, no statistics line says that ${ALLOCATOR} served the calls "
                      "(at least 1000) of ${PROGRAM}; its standard error:\n${err}")
endif()
message(STATUS "${ALLOCATOR} served ${CMAKE_MATCH_1} calls of ${PROGRAM}, with the same output as glibc's malloc:\n${out}")
