/* Compiles abi/wave_net.h alone as C11: its static assertions run in C as well as in C++. */
#include "abi/wave_net.h"

int wave_c11_check_net(void) { return (int)WAVE_MSG_SIZE; }
