/* The rows layout_c.c fills: one per struct (size, alignment) and per field (size, offset). */
#ifndef LIBWAVE_TESTS_ABI_LAYOUT_C_H_
#define LIBWAVE_TESTS_ABI_LAYOUT_C_H_

#ifdef __cplusplus
extern "C" {
#endif

struct wave_layout_row {
  const char* name;
  unsigned long size;
  unsigned long align;  /* structs only */
  unsigned long offset; /* fields only */
};

extern const struct wave_layout_row wave_layout_c[];
extern const unsigned long wave_layout_c_count;

#ifdef __cplusplus
}
#endif

#endif /* LIBWAVE_TESTS_ABI_LAYOUT_C_H_ */
