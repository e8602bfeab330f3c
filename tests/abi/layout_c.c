/* The ABI's layout as a C11 compiler sees it (layout_list.h), for layout_test.cc to compare
 * with what the C++ compiler sees. */
#include "tests/abi/layout_c.h"

#include "abi/wave_abi.h"
#include "tests/abi/layout_list.h"

#define WAVE_LAYOUT_S(tag, name) {#name, sizeof(tag name), WAVE_ALIGNOF(tag name), 0},
#define WAVE_LAYOUT_F(tag, name, field) \
  {#name "." #field, sizeof(((tag name*)0)->field), 0, WAVE_OFFSETOF(tag name, field)},

const struct wave_layout_row wave_layout_c[] = {WAVE_LAYOUT(WAVE_LAYOUT_S, WAVE_LAYOUT_F)};
const unsigned long wave_layout_c_count = sizeof(wave_layout_c) / sizeof(wave_layout_c[0]);
