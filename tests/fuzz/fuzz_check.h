// FUZZ_CHECK: an invariant of the code under fuzzing. A violation prints what failed and aborts,
// which libFuzzer reports as a crash and saves the input that caused it.
#ifndef LIBWAVE_TESTS_FUZZ_FUZZ_CHECK_H_
#define LIBWAVE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

#endif  // LIBWAVE_TESTS_FUZZ_FUZZ_CHECK_H_
