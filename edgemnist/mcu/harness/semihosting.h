/* The few semihosting calls the harness makes: the debugger (here QEMU) does the I/O for the program. */
#ifndef EDGEMNIST_SEMIHOSTING_H
#define EDGEMNIST_SEMIHOSTING_H

#include <stdint.h>

int32_t sh_open_for_reading(const char *path);       /* a handle, or -1 */
int32_t sh_read(int32_t handle, void *buffer, int32_t bytes); /* the bytes read */
void sh_write(const char *text);
int32_t sh_command_line(char *buffer, int32_t bytes); /* 0 when the command line was copied */
void sh_exit(int32_t code) __attribute__((noreturn));

#endif
