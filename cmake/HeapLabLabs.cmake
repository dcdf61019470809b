# heaplab_add_lab(NN-name [NO_REUSE])
#
# Everything that proves a lab stage is sound, from its one source solutions/NN-name/mm.cpp:
#   NN-name/solution/...            the public and hidden tests pass on the solution
#   NN-name/skeleton-is-generated   labs/NN-name/mm.cpp is exactly the skeleton made from it
#   NN-name/skeleton-fails-cleanly  the skeleton compiles, and its tests fail without crashing
#   NN-name/handout-shows-points    the handout's point table is the one lab.toml gives
#   NN-name/bug/NAME                each classic mistake of bugs.toml is caught, with its message
#   NN-name/grades-are-right        through the real grader, every bug that fails the traces loses
#                                   exactly the parts its `loses` names, and every bug has a `loses`
#                                   (`heaplab lab verify-grades --quick`; `make verify-grades` runs
#                                   the whole check: the solution ten times, the skeleton, every bug)
#   NN-name/MmContract.*            the shared mm.h suite passes on the solution
#   NN-name/solution-replays-the-suite  every trace replays correctly on it
# the plug-in mm_NN-name.so, so that `heaplab trace replay --allocator NN-name` works, and the
# preloadable libmm_NN-name.so with its tests (heaplab_add_preload() below).
# NO_REUSE: the stage never reuses memory (the bump allocator).
# THREAD_SAFE: the stage is thread-safe itself (05): its preload takes no lock of its own.
function(heaplab_add_lab lab)
  cmake_parse_arguments(ARG "NO_REUSE;THREAD_SAFE" "" "" ${ARGN})
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
    add_test(NAME ${lab}/grades-are-right COMMAND heaplab lab verify-grades ${lab_dir} --quick)
    set_tests_properties(${lab}/grades-are-right PROPERTIES TIMEOUT 600)
  endif()

  set(suite_options)
  if(ARG_NO_REUSE)
    list(APPEND suite_options NO_REUSE)
  endif()
  heaplab_add_mm_suite(${lab} ${out}/solution.cpp ${suite_options})
  heaplab_add_allocator(${lab} ${out}/solution.cpp)
  set(preload_options)
  if(ARG_THREAD_SAFE)
    list(APPEND preload_options THREAD_SAFE)
  endif()
  heaplab_add_preload(${lab} ${out}/solution.cpp ${preload_options})
  file(GLOB suite_traces ${PROJECT_SOURCE_DIR}/traces/*.rep)
  add_test(NAME ${lab}/solution-replays-the-suite
           COMMAND heaplab trace replay --allocator ${lab} --no-time ${suite_traces})
endfunction()

# heaplab_add_preload(NN-name SOURCE [THREAD_SAFE])
#
# The stage's solution as glibc's malloc on the real program break, for LD_PRELOAD into real
# programs: build/lib/heaplab/preload/libmm_NN-name.so = SOURCE + the malloc ABI over mm.h
# (common/src/mm_preload.cpp: one lock around every call unless THREAD_SAFE, lazy mm_init,
# a 16-byte prefix for malloc_usable_size and aligned blocks) + memlib's real break. And what
# proves it serves real programs, each run under LD_PRELOAD with HEAPLAB_STATS:
#   NN-name/preload-abi           glibc's rules, checked by the reference's ABI probe (the cases
#                                 that apply to any malloc), the stage named as the one serving
#   NN-name/preload-runs-ls       `ls -l /usr/lib`: the same output and exit 0 as on glibc's
#                                 malloc, and the statistics line shows the stage served calls
#   NN-name/preload-runs-python3  a python3 script that builds and drops many objects, the same
#   NN-name/preload-runs-PROGRAM  each labs/NN-name/programs/PROGRAM.cpp (05: threads.cpp, four
#                                 threads passing blocks around while the main thread forks),
#                                 built here and run plain and preloaded: the same output, exit
#                                 0, and the statistics line naming the stage
function(heaplab_add_preload lab source)
  cmake_parse_arguments(ARG "THREAD_SAFE" "" "" ${ARGN})
  string(REPLACE "-" "_" id "lab_${lab}")
  set(target ${id}_preload)
  add_library(${target} SHARED ${source} ${PROJECT_SOURCE_DIR}/common/src/mm_preload.cpp)
  target_link_libraries(${target} PRIVATE heaplab_headers heaplab_memlib_real heaplab_warnings)
  set(locked 1)
  if(ARG_THREAD_SAFE)
    set(locked 0)
  endif()
  target_compile_definitions(${target} PRIVATE HEAPLAB_PRELOAD_NAME="${lab}" HEAPLAB_PRELOAD_LOCKED=${locked})
  # -fno-builtin: GCC must not turn code inside malloc into calls to malloc (this library).
  target_compile_options(${target} PRIVATE -fno-builtin -fvisibility=hidden)
  target_link_options(${target} PRIVATE -Wl,--version-script=${PROJECT_SOURCE_DIR}/common/src/malloc_abi.map
                      -Wl,--no-undefined -Wl,--as-needed -Wl,-z,now)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME mm_${lab}
    LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib/heaplab/preload
    LINK_DEPENDS ${PROJECT_SOURCE_DIR}/common/src/malloc_abi.map)

  if(NOT TARGET reference_abi_probe OR NOT TARGET reference_programs_test)
    return()
  endif()
  set(lib $<TARGET_FILE:${target}>)
  # The glibc rules any malloc keeps (not the reference's own: trimming, the mmap fallback,
  # the reports of a double free), and threads and fork, which the lock (or the stage) covers.
  add_test(NAME ${lab}/preload-abi
           COMMAND reference_abi_probe active malloc0_unique malloc_enomem calloc_overflow calloc_zeroes
                   reallocarray_overflow realloc_null_is_malloc realloc_zero_frees realloc_keeps_contents
                   realloc_enomem_keeps_block posix_memalign_einval posix_memalign_enomem
                   posix_memalign_aligns aligned_alloc_rules memalign_rounds_up valloc_pvalloc usable_size
                   free_keeps_errno alignment_16 stress fork)
  set_tests_properties(${lab}/preload-abi PROPERTIES
    ENVIRONMENT "LD_PRELOAD=${lib};HEAPLAB_EXPECT_ALLOCATOR=${lab};HEAPLAB_STRESS_ROUNDS=2000;HEAPLAB_FORKS=3"
    TIMEOUT 120)
  foreach(program ls python3)
    if(program STREQUAL "ls")
      set(filter Programs.ListsUsrLib)
    else()
      set(filter Programs.PythonBuildsAndDropsObjects)
    endif()
    add_test(NAME ${lab}/preload-runs-${program} COMMAND reference_programs_test --gtest_filter=${filter})
    set_tests_properties(${lab}/preload-runs-${program} PROPERTIES
      ENVIRONMENT "HEAPLAB_TEST_PRELOAD=${lib};HEAPLAB_EXPECT_ALLOCATOR=${lab}" TIMEOUT 120)
  endforeach()

  # The stage's own programs (labs/NN-name/programs/*.cpp), compared plain and preloaded.
  file(GLOB lab_programs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/labs/${lab}/programs/*.cpp)
  foreach(program_source IN LISTS lab_programs)
    get_filename_component(program ${program_source} NAME_WE)
    set(program_target ${id}_program_${program})
    add_executable(${program_target} ${program_source})
    target_link_libraries(${program_target} PRIVATE Threads::Threads)
    # -fno-builtin: every malloc and free the source makes is a call the stage serves.
    target_compile_options(${program_target} PRIVATE -fno-builtin)
    add_test(NAME ${lab}/preload-runs-${program}
             COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${program_target}> -DPRELOAD=${lib}
                     -DALLOCATOR=${lab} -P ${PROJECT_SOURCE_DIR}/cmake/HeapLabRunPreloaded.cmake)
    set_tests_properties(${lab}/preload-runs-${program} PROPERTIES TIMEOUT 120)
  endforeach()
endfunction()
