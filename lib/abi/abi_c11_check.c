/* Compiles wave_abi.h as C11: its static assertions run in C as well as in C++. */
#include "lib/abi/wave_abi.h"

int wave_abi_c11_check_size(void) { return (int)sizeof(union wave_msg); }
