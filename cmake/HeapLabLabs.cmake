# heaplab_add_lab(NN-name [NO_REUSE])
#
# Everything that proves a lab stage is sound, from its one source solutions/NN-name/mm.cpp:
#   NN-name/solution/...            the public and hidden tests pass on the solution
#   NN-name/skeleton-is-generated   labs/NN-name/mm.cpp is exactly the skeleton made from it
#   NN-name/skeleton-fails-cleanly  the skeleton compiles, and its tests fail without crashing
#   NN-name/handout-shows-points    the handout's point table is the one lab.toml gives
#   NN-name/bug/NAME                each classic mistake of bugs.toml is caught, with its message
#   NN-name/MmContract.*            the shared mm.h suite passes on the solution
#   NN-name/solution-replays-the-suite  every trace replays correctly on it
# and the plug-in mm_NN-name.so, so that `heaplab trace replay --allocator NN-name` works.
# NO_REUSE: the stage never reuses memory (the bump allocator).
function(heaplab_add_lab lab)
  cmake_parse_arguments(ARG "NO_REUSE" "" "" ${ARGN})
  set(lab_dir ${PROJECT_SOURCE_DIR}/labs/${lab})
  set(solution_dir ${PROJECT_SOURCE_DIR}/solutions/${lab})
  set(solution ${solution_dir}/mm.cpp)
  set(out ${PROJECT_BINARY_DIR}/labs/${lab})
  string(REPLACE "-" "_" id "lab_${lab}")
  file(GLOB public_tests CONFIGURE_DEPENDS ${lab_dir}/tests/*.cpp)
  file(GLOB hidden_tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/grader/hidden/${lab}/*.cpp)
  set(heaplab_cli $<TARGET_FILE:heaplab>)

  # The solution without its markers: what the instructor's builds compile.
  add_custom_command(OUTPUT ${out}/solution.cpp
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
    COMMAND heaplab lab strip ${solution} -o ${out}/solution.cpp
    DEPENDS heaplab ${solution} VERBATIM)

  # The tests, compiled once and linked against each variant.
  add_library(${id}_tests OBJECT ${public_tests} ${hidden_tests})
  target_include_directories(${id}_tests PUBLIC ${lab_dir}/tests)
  target_link_libraries(${id}_tests PUBLIC heaplab_headers GTest::gtest heaplab_warnings)

  function(heaplab_lab_binary target source)
    add_executable(${target} ${source})
    target_link_libraries(${target} PRIVATE ${id}_tests heaplab_memlib heaplab_warnings GTest::gtest_main
                          Threads::Threads)
  endfunction()

  heaplab_lab_binary(${id}_solution ${out}/solution.cpp)
  gtest_discover_tests(${id}_solution TEST_PREFIX "${lab}/solution/" DISCOVERY_TIMEOUT 60)

  heaplab_lab_binary(${id}_skeleton ${lab_dir}/mm.cpp)
  # A skeleton may leave variables unused: that is the student's to fix, not an error.
  target_compile_options(${id}_skeleton PRIVATE -Wno-unused-parameter -Wno-unused-variable
                         -Wno-unused-function -Wno-unused-but-set-variable)
  add_test(NAME ${lab}/skeleton-fails-cleanly
           COMMAND heaplab lab expect-fail --no-crash --contains "[  FAILED  ]" -- $<TARGET_FILE:${id}_skeleton>)
  add_test(NAME ${lab}/skeleton-is-generated
           COMMAND heaplab lab skeleton ${solution} --compare ${lab_dir}/mm.cpp)
  add_test(NAME ${lab}/handout-shows-points
           COMMAND heaplab lab points ${lab_dir}/lab.toml --check ${lab_dir}/README.md)

  set(bugs_toml ${solution_dir}/bugs.toml)
  if(EXISTS ${bugs_toml})
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${bugs_toml})
    file(STRINGS ${bugs_toml} name_lines REGEX "^name *= *\"[^\"]+\"")
    foreach(line IN LISTS name_lines)
      string(REGEX REPLACE "^name *= *\"([^\"]+)\".*" "\\1" bug ${line})
      string(REPLACE "-" "_" bug_id ${bug})
      add_custom_command(OUTPUT ${out}/bugs/${bug}.cpp
        COMMAND ${CMAKE_COMMAND} -E make_directory ${out}/bugs
        COMMAND heaplab lab mutate ${solution} --bugs ${bugs_toml} --bug ${bug} -o ${out}/bugs/${bug}.cpp
        DEPENDS heaplab ${solution} ${bugs_toml} VERBATIM)
      heaplab_lab_binary(${id}_bug_${bug_id} ${out}/bugs/${bug}.cpp)
      target_compile_options(${id}_bug_${bug_id} PRIVATE -Wno-error)
      add_test(NAME ${lab}/bug/${bug}
               COMMAND heaplab lab expect-fail --bugs ${bugs_toml} --bug ${bug} -- $<TARGET_FILE:${id}_bug_${bug_id}>)
    endforeach()
  endif()

  set(suite_options)
  if(ARG_NO_REUSE)
    list(APPEND suite_options NO_REUSE)
  endif()
  heaplab_add_mm_suite(${lab} ${out}/solution.cpp ${suite_options})
  heaplab_add_allocator(${lab} ${out}/solution.cpp)
  file(GLOB suite_traces ${PROJECT_SOURCE_DIR}/traces/*.rep)
  add_test(NAME ${lab}/solution-replays-the-suite
           COMMAND heaplab trace replay --allocator ${lab} --no-time ${suite_traces})
endfunction()
