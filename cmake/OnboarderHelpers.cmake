# Helpers that keep boilerplate out of every folder's CMakeLists.

# onboarder_fail_on_sanitizer_reports(<tests…>)
# In a build under the sanitizers (the asan preset), a sanitizer report anywhere in a test's output fails the
# test, whatever its exit code: the report may come from a process the test started and stopped without
# asking how it ended (the sandbox, a simulator), whose standard error is forwarded to the test's.
function(onboarder_fail_on_sanitizer_reports)
    if(CMAKE_CXX_FLAGS MATCHES "-fsanitize=")
        set_tests_properties(${ARGN} PROPERTIES
            FAIL_REGULAR_EXPRESSION "ERROR: AddressSanitizer;ERROR: LeakSanitizer;runtime error: ")
    endif()
endfunction()

# onboarder_add_test(NAME SOURCES <files…> LABELS <labels…> [LIBRARIES <libs…>] [TIMEOUT s]
#                    [ENVIRONMENT <VAR=value…>] [WRAPPER <command…>])
# One QtTest executable per unit, registered with ctest under its labels. WRAPPER runs it through a
# command (e.g. xvfb-run -a); ENVIRONMENT entries come after the defaults and override them.
function(onboarder_add_test name)
    cmake_parse_arguments(arg "" "TIMEOUT" "SOURCES;LABELS;LIBRARIES;ENVIRONMENT;WRAPPER" ${ARGN})
    if(NOT arg_LABELS)
        message(FATAL_ERROR "onboarder_add_test(${name}): LABELS is required")
    endif()
    add_executable(${name} ${arg_SOURCES})
    target_link_libraries(${name} PRIVATE onboarder_compile_policy Qt6::Test ${arg_LIBRARIES})
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/common)
    add_test(NAME ${name} COMMAND ${arg_WRAPPER} $<TARGET_FILE:${name}>)
    if(NOT arg_TIMEOUT)
        set(arg_TIMEOUT 120)
    endif()
    set_tests_properties(${name} PROPERTIES
        LABELS "${arg_LABELS}"
        TIMEOUT ${arg_TIMEOUT}
        ENVIRONMENT "QT_QPA_PLATFORM=offscreen;ONBOARDER_BUILD_DIR=${PROJECT_BINARY_DIR};ONBOARDER_SOURCE_DIR=${PROJECT_SOURCE_DIR};${arg_ENVIRONMENT}")
    onboarder_fail_on_sanitizer_reports(${name})
    add_dependencies(check ${name})
endfunction()

# onboarder_add_fuzz_short_run(NAME TIMEOUT <s or empty> COMMAND <args…>)
# The ctest NAME_short of a fuzz target: labels unit and fuzz, 300 s unless a timeout is given, failed by any
# sanitizer report, and part of the `check` target.
function(onboarder_add_fuzz_short_run name)
    cmake_parse_arguments(arg "" "TIMEOUT" "COMMAND" ${ARGN})
    add_test(NAME ${name}_short COMMAND ${name} ${arg_COMMAND})
    if(NOT arg_TIMEOUT)
        set(arg_TIMEOUT 300)
    endif()
    set_tests_properties(${name}_short PROPERTIES LABELS "unit;fuzz" TIMEOUT ${arg_TIMEOUT})
    onboarder_fail_on_sanitizer_reports(${name}_short)
    add_dependencies(check ${name})
endfunction()

# onboarder_add_libfuzzer_target(NAME SOURCES <files…> RUNS n [SANITIZER_RUNS n] [LIBRARIES <libs…>]
#                                [MAX_LEN bytes] [TIMEOUT s])
# A coverage-guided fuzz target: SOURCES define LLVMFuzzerTestOneInput (and the checks of the parser's promises).
# Its seed corpus is tests/fuzz/corpus/NAME, its dictionary tests/fuzz/corpus/NAME.dict when there is one.
# - With ONBOARDER_LIBFUZZER (the fuzz preset, clang with -fsanitize=fuzzer-no-link): linked with libFuzzer;
#   scripts/fuzz runs it on a copy of the corpus for a number of executions or a time.
# - Otherwise (GCC: the ci, dev and asan suites): linked with tests/fuzz/standalonedriver.cpp, and registered as
#   the ctest NAME_short (labels unit and fuzz), which runs the corpus and RUNS mutated inputs (SANITIZER_RUNS
#   in a build under the sanitizers).
# Either way it belongs to the target `fuzzers`.
function(onboarder_add_libfuzzer_target name)
    cmake_parse_arguments(arg "" "RUNS;SANITIZER_RUNS;MAX_LEN;TIMEOUT" "SOURCES;LIBRARIES" ${ARGN})
    if(NOT arg_SOURCES OR NOT arg_RUNS)
        message(FATAL_ERROR "onboarder_add_libfuzzer_target(${name}): SOURCES and RUNS are required")
    endif()
    if(NOT TARGET fuzzers)
        add_custom_target(fuzzers)
    endif()
    set(corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
    if(NOT IS_DIRECTORY ${corpus})
        message(FATAL_ERROR "onboarder_add_libfuzzer_target(${name}): no seed corpus in ${corpus}")
    endif()
    if(ONBOARDER_LIBFUZZER)
        add_executable(${name} ${arg_SOURCES})
        target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    else()
        add_executable(${name} ${arg_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/standalonedriver.cpp)
    endif()
    target_link_libraries(${name} PRIVATE onboarder_compile_policy ${arg_LIBRARIES})
    add_dependencies(fuzzers ${name})
    if(ONBOARDER_LIBFUZZER)
        return()
    endif()
    set(runs ${arg_RUNS})
    if(CMAKE_CXX_FLAGS MATCHES "-fsanitize=" AND arg_SANITIZER_RUNS)
        set(runs ${arg_SANITIZER_RUNS})
    endif()
    set(run_args --runs ${runs})
    if(arg_MAX_LEN)
        list(APPEND run_args --max-len ${arg_MAX_LEN})
    endif()
    if(EXISTS ${corpus}.dict)
        list(APPEND run_args --dict ${corpus}.dict)
    endif()
    onboarder_add_fuzz_short_run(${name} TIMEOUT "${arg_TIMEOUT}" COMMAND ${run_args} ${corpus})
endfunction()
