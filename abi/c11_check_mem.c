/* Compiles abi/wave_mem.h alone as C11: its static assertions run in C as well as in C++. */
#include "abi/wave_mem.h"

int wave_c11_check_mem(void) { return (int)WAVE_MSG_SIZE; }
