/* Semihosting for Arm M-profile: a BKPT 0xAB with the operation in r0 and its argument block in r1. */
#include "semihosting.h"

#define SYS_OPEN 0x01
#define SYS_WRITE0 0x04
#define SYS_READ 0x06
#define SYS_GET_CMDLINE 0x15
#define SYS_EXIT_EXTENDED 0x20
#define OPEN_READ_BINARY 1
#define APPLICATION_EXIT 0x20026 /* ADP_Stopped_ApplicationExit: the exit code is the block's second word */

static int32_t semihost(int32_t operation, const void *argument)
{
    register int32_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static int32_t length_of(const char *text)
{
    int32_t length = 0;
    while (text[length]) {
        length++;
    }
    return length;
}

int32_t sh_open_for_reading(const char *path)
{
    const int32_t block[3] = {(int32_t)(uintptr_t)path, OPEN_READ_BINARY, length_of(path)};
    return semihost(SYS_OPEN, block);
}

int32_t sh_read(int32_t handle, void *buffer, int32_t bytes)
{
    const int32_t block[3] = {handle, (int32_t)(uintptr_t)buffer, bytes};
    return bytes - semihost(SYS_READ, block); /* the call returns the bytes it did not read */
}

void sh_write(const char *text)
{
    semihost(SYS_WRITE0, text);
}

int32_t sh_command_line(char *buffer, int32_t bytes)
{
    int32_t block[2];
    block[0] = (int32_t)(uintptr_t)buffer;
    block[1] = bytes;
    return semihost(SYS_GET_CMDLINE, block);
}

void sh_exit(int32_t code)
{
    const int32_t block[2] = {APPLICATION_EXIT, code};
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}
