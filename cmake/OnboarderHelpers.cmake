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

# onboarder_add_fuzz_target(NAME SOURCES <files…> ARGS <args…> [SANITIZER_ARGS <args…>]
#                           [LIBRARIES <libs…>] [TIMEOUT s])
# A fuzz harness (tests/fuzz): a standalone driver that grows random and mutated input from a seed
# corpus it holds, feeds it to a parser and checks its promises (no libFuzzer: the suites build with
# GCC). Registered as the ctest NAME_short (labels unit and fuzz), run with ARGS; in a build under the
# sanitizers (the asan preset: -fsanitize= in CMAKE_CXX_FLAGS) with SANITIZER_ARGS when given, a longer
# run, since that is the suite where a memory error or undefined behaviour shows.
function(onboarder_add_fuzz_target name)
    cmake_parse_arguments(arg "" "TIMEOUT" "SOURCES;LIBRARIES;ARGS;SANITIZER_ARGS" ${ARGN})
    if(NOT arg_SOURCES)
        message(FATAL_ERROR "onboarder_add_fuzz_target(${name}): SOURCES is required")
    endif()
    add_executable(${name} ${arg_SOURCES})
    target_link_libraries(${name} PRIVATE onboarder_compile_policy ${arg_LIBRARIES})
    set(run_args ${arg_ARGS})
    if(CMAKE_CXX_FLAGS MATCHES "-fsanitize=" AND arg_SANITIZER_ARGS)
        set(run_args ${arg_SANITIZER_ARGS})
    endif()
    add_test(NAME ${name}_short COMMAND ${name} ${run_args})
    if(NOT arg_TIMEOUT)
        set(arg_TIMEOUT 300)
    endif()
    set_tests_properties(${name}_short PROPERTIES LABELS "unit;fuzz" TIMEOUT ${arg_TIMEOUT})
    onboarder_fail_on_sanitizer_reports(${name}_short)
    add_dependencies(check ${name})
endfunction()
