# Helpers that keep boilerplate out of every folder's CMakeLists.

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
    add_dependencies(check ${name})
endfunction()
