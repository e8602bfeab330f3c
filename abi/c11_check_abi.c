/* Compiles abi/wave_abi.h alone as C11: its static assertions run in C as well as in C++. */
#include "abi/wave_abi.h"

int wave_c11_check_abi(void) { return (int)WAVE_MSG_SIZE; }
