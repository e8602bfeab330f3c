/* Compiles abi/wave_link.h alone as C11: its static assertions run in C as well as in C++. */
#include "abi/wave_link.h"

int wave_c11_check_link(void) { return (int)WAVE_MSG_SIZE; }
