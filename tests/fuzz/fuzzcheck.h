#pragma once

#include <cstdio>
#include <cstdlib>

// A promise of the parser under test that the input broke: says which, then aborts, so that libFuzzer (or the
// standalone driver) keeps the input as a finding.
#define FUZZ_CHECK(condition)                                                                                          \
    do {                                                                                                               \
        if (!(condition)) {                                                                                            \
            std::fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #condition);                       \
            std::abort();                                                                                              \
        }                                                                                                              \
    } while (false)
