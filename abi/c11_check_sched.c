/* Compiles abi/wave_sched.h alone as C11: its static assertions run in C as well as in C++. */
#include "abi/wave_sched.h"

int wave_c11_check_sched(void) { return (int)WAVE_MSG_SIZE; }
