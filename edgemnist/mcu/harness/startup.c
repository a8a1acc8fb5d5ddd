/* edgemnist's Cortex-M start: the vector table, and a reset handler that sets up RAM, paints the stack so
 * that its peak can be measured, and runs main. A fault ends the run with exit code 3 (a bug of ours). */
#include <stdint.h>

#include "semihosting.h"
#include "startup.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];
int main(void);

#define STACK_PAINT 0x5AA5C33Cu
#define UNPAINTED_BYTES 128 /* below the reset handler's own frame, which is in use while it paints */

void reset_handler(void) __attribute__((noreturn));

static void fault_handler(void)
{
    sh_write("fault: the program stopped\n");
    sh_exit(3);
}

typedef void (*handler)(void);

/* The initial stack pointer, then the reset handler and the system exceptions (the harness needs no
 * interrupts). */
__attribute__((section(".vectors"), used)) static const struct {
    uint32_t *initial_stack;
    handler handlers[15];
} vectors = {
    __stack_top,
    {reset_handler, fault_handler, fault_handler, fault_handler, fault_handler, fault_handler, 0, 0, 0, 0,
     fault_handler, fault_handler, 0, fault_handler, fault_handler},
};

void reset_handler(void)
{
    volatile uint32_t *word;
    const uint32_t *from = __data_load;
    const uintptr_t in_use = (uintptr_t)__builtin_frame_address(0) - UNPAINTED_BYTES;
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    /* CP10 and CP11 (the FPU and Helium) fully accessible in the CPACR: their instructions fault until then */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    for (word = __data_start; word < __data_end; word++) {
        *word = *from++;
    }
    for (word = __bss_start; word < __bss_end; word++) {
        *word = 0;
    }
    for (word = __stack_limit; (uintptr_t)word < in_use; word++) {
        *word = STACK_PAINT;
    }
    sh_exit(main());
}

uint32_t stack_peak_bytes(void)
{
    const uint32_t *word = __stack_limit;
    while (word < __stack_top && *word == STACK_PAINT) {
        word++;
    }
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)word);
}
