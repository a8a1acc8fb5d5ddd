/* edgemnist DSP kernels: the dot products of convolution and fully connected layers through GCC's
 * <arm_acle.h> intrinsics, for cores with Arm's DSP extension (Cortex-M4, M7, M33). portable.c includes this
 * file in place of its own em_dot, widen_words, place_tap and dot_block when built with -DEM_KERNELS_DSP; every
 * other line of arithmetic is the portable one. The results are the same integers: a sum of int8 products in
 * int32 does not depend on the order it is taken in. */
#ifndef EDGEMNIST_DSP_H
#define EDGEMNIST_DSP_H

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

#define BLOCK_CHANNELS 1 /* channels dot_block computes at once: eight accumulators, the operands in registers */

/* (addend * 2^32 + a * b + 2^31) >> 32: the high word of a product and an addend, rounded, in one SMMLAR
 * (which <arm_acle.h> does not name). */
static inline int32_t em_high_rounded(int32_t a, int32_t b, int32_t addend)
{
    int32_t high;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(high) : "r"(a), "r"(b), "r"(addend));
    return high;
}

/* Four int8 values as one word: memcpy, as the cores load unaligned words and GCC makes it one LDR. */
static inline int32_t em_word(const int8_t *values)
{
    int32_t word;
    memcpy(&word, values, sizeof word);
    return word;
}

/* The word's bytes 1 and 3 sign-extended to a halfword pair: SXTB16 with its rotation, which GCC 12's
 * <arm_acle.h> cannot express (__sxtb16 of a rotated word costs a separate ROR). */
static inline int32_t em_odd_pair(int32_t word)
{
    int32_t pair;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(pair) : "r"(word));
    return pair;
}

/* acc + the sum of a[i] * b[i]: four products per word pair, as two SMLADs on the bytes sign-extended to
 * halfword pairs (bytes 0 and 2, then bytes 1 and 3). */
static int32_t em_dot(const int8_t *a, const int8_t *b, int n, int32_t acc)
{
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t x = em_word(a + i), y = em_word(b + i);
        acc = __smlad(__sxtb16(x), __sxtb16(y), acc);
        acc = __smlad(em_odd_pair(x), em_odd_pair(y), acc);
    }
    for (; i < n; i++) {
        acc += a[i] * b[i];
    }
    return acc;
}

/* words groups of four values into position's slots of the patch from group first on: per group, two words
 * for each of the block's positions, holding the values as SMLAD reads them (bytes 0 and 2, then bytes 1
 * and 3), both stored by one STRD that steps to the next group. */
static void widen_words(const int8_t *values, int words, void *patch, int position, int first)
{
    int32_t *pairs = (int32_t *)patch + 2 * (BLOCK_POSITIONS * first + position);
    const int8_t *const end = values + 4 * words;
    for (; values < end; values += 4) {
        const int32_t word = em_word(values);
        __asm__("strd %2, %3, [%0], %4"
                : "+r"(pairs), "=m"(*(int32_t(*)[2])pairs)
                : "r"(__sxtb16(word)), "r"(em_odd_pair(word)), "n"(8 * BLOCK_POSITIONS));
    }
}

/* Value tap of each position's patch, values[starts[i]] for position i, where widen_words puts it: a group's
 * values 0 and 2 in its first word's halfwords, 1 and 3 in its second's (stored by memcpy, as the words are
 * read as words). */
static inline void place_tap(void *patches, int groups, int tap, const int8_t *values,
                             const int32_t starts[BLOCK_POSITIONS])
{
    int16_t *const slot = (int16_t *)patches + 4 * BLOCK_POSITIONS * (tap / 4) + 2 * (tap % 2) + tap % 4 / 2;
    int i;
    (void)groups;
#pragma GCC unroll 8
    for (i = 0; i < BLOCK_POSITIONS; i++) {
        const int16_t widened = values[starts[i]];
        memcpy(slot + 4 * i, &widened, sizeof widened);
    }
}

/* Two words in one LDRD, at offset bytes from base (GCC splits 64-bit loads into two LDRs on M-profile
 * cores); the "m" operand tells it which memory is read. */
#define EM_LOAD_TWO(first, second, base, offset)                                                               \
    __asm__("ldrd %0, %1, [%2, %3]"                                                                            \
            : "=r"(first), "=r"(second)                                                                        \
            : "r"(base), "n"(offset), "m"(*(const int32_t(*)[2])((const int8_t *)(base) + (offset))))

/* sum + position k's two pairs of the group at pairs times the filter's pairs, two products per SMLAD. */
#define EM_POSITION(sum, k)                                                                                    \
    do {                                                                                                       \
        int32_t x, y;                                                                                          \
        EM_LOAD_TWO(x, y, pairs, 8 * (k));                                                                     \
        sum = __smlad(y, odd, __smlad(x, even, sum));                                                          \
    } while (0)

/* sums[0][i] + the dot product of the filter with position i's patch, for the block's eight positions: each
 * filter word is loaded and widened once for the eight (eight accumulators, the operands in registers), then
 * each position's pairs are loaded two words at a time for two SMLADs. */
static void dot_block(const void *patch, const int8_t *const filters[BLOCK_CHANNELS], int groups,
                      int32_t sums[BLOCK_CHANNELS][BLOCK_POSITIONS])
{
    const int32_t *pairs = patch, *const end = pairs + 2 * BLOCK_POSITIONS * groups;
    const int8_t *filter = filters[0];
    int32_t *const sum = sums[0];
    int32_t a0 = sum[0], a1 = sum[1], a2 = sum[2], a3 = sum[3], a4 = sum[4], a5 = sum[5], a6 = sum[6], a7 = sum[7];
    for (; pairs < end; pairs += 2 * BLOCK_POSITIONS, filter += FILTER_STEP) {
        const int32_t word = em_word(filter), even = __sxtb16(word), odd = em_odd_pair(word);
        EM_POSITION(a0, 0);
        EM_POSITION(a1, 1);
        EM_POSITION(a2, 2);
        EM_POSITION(a3, 3);
        EM_POSITION(a4, 4);
        EM_POSITION(a5, 5);
        EM_POSITION(a6, 6);
        EM_POSITION(a7, 7);
    }
    sum[0] = a0;
    sum[1] = a1;
    sum[2] = a2;
    sum[3] = a3;
    sum[4] = a4;
    sum[5] = a5;
    sum[6] = a6;
    sum[7] = a7;
}

#endif
