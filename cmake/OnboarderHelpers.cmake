# Helpers that keep boilerplate out of every folder's CMakeLists.

# onboarder_add_test(NAME SOURCES <files…> LABELS <labels…> [LIBRARIES <libs…>] [TIMEOUT s])
# One QtTest executable per unit, registered with ctest under its labels.
function(onboarder_add_test name)
    cmake_parse_arguments(arg "" "TIMEOUT" "SOURCES;LABELS;LIBRARIES;ENVIRONMENT" ${ARGN})
    if(NOT arg_LABELS)
        message(FATAL_ERROR "onboarder_add_test(${name}): LABELS is required")
    endif()
    add_executable(${name} ${arg_SOURCES})
    target_link_libraries(${name} PRIVATE onboarder_compile_policy Qt6::Test ${arg_LIBRARIES})
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/common)
    add_test(NAME ${name} COMMAND ${name})
    if(NOT arg_TIMEOUT)
        set(arg_TIMEOUT 120)
    endif()
    set_tests_properties(${name} PROPERTIES
        LABELS "${arg_LABELS}"
        TIMEOUT ${arg_TIMEOUT}
        ENVIRONMENT "QT_QPA_PLATFORM=offscreen;ONBOARDER_BUILD_DIR=${PROJECT_BINARY_DIR};ONBOARDER_SOURCE_DIR=${PROJECT_SOURCE_DIR};${arg_ENVIRONMENT}")
    add_dependencies(check ${name})
endfunction()
