#ifndef EDGEMNIST_STARTUP_H
#define EDGEMNIST_STARTUP_H

#include <stdint.h>

/* The deepest the stack has been since reset, in bytes: the painted words no call has overwritten. */
uint32_t stack_peak_bytes(void);

#endif
