/* edgemnist DSP kernels: the dot products of convolution and fully connected layers through GCC's
 * <arm_acle.h> intrinsics, for cores with Arm's DSP extension (Cortex-M4, M7, M33). portable.c includes this
 * file in place of its own em_dot and conv_position when built with -DEM_KERNELS_DSP; every other line of
 * arithmetic is the portable one. The results are the same integers: a sum of int8 products in int32 does not
 * depend on the order it is taken in. */
#ifndef EDGEMNIST_DSP_H
#define EDGEMNIST_DSP_H

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

/* Four int8 values as one word: memcpy, as the cores load unaligned words and GCC makes it one LDR. */
static inline int32_t em_word(const int8_t *values)
{
    int32_t word;
    memcpy(&word, values, sizeof word);
    return word;
}

/* The word rotated right by 8 bits (GCC 12's <arm_acle.h> has no __ror; GCC reads this as one ROR). */
static inline int32_t em_rotate8(int32_t word)
{
    return (int32_t)(((uint32_t)word >> 8) | ((uint32_t)word << 24));
}

/* acc + the sum of a[i] * b[i]: four products per word pair, as two SMLADs on the bytes sign-extended to
 * halfword pairs (SXTB16 takes bytes 0 and 2, and after a rotation by 8 bytes 1 and 3). */
static int32_t em_dot(const int8_t *a, const int8_t *b, int n, int32_t acc)
{
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t x = em_word(a + i), y = em_word(b + i);
        acc = __smlad(__sxtb16(x), __sxtb16(y), acc);
        acc = __smlad(__sxtb16(em_rotate8(x)), __sxtb16(em_rotate8(y)), acc);
    }
    for (; i < n; i++) {
        acc += a[i] * b[i];
    }
    return acc;
}

/* The input values under the filter at (oy, ox), in the filter's order, the pad value outside the image:
 * with pairs, its whole words sign-extended as SMLAD reads them (bytes 0 and 2, then bytes 1 and 3). When
 * each pixel's channels are whole words, they are widened straight from the input; otherwise the bytes are
 * gathered into patch first. */
static void gather_patch(const em_conv2d_params *p, const int8_t *input, int oy, int ox, int8_t *patch,
                         int32_t *pairs)
{
    const int in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, words_per_pixel = in_c % 4 == 0 ? in_c / 4 : 0;
    const int top = oy * p->stride_h - p->pad_top, left = ox * p->stride_w - p->pad_left;
    const uint8_t pad = (uint8_t)p->pad_value;
    const int32_t pad_word = (int32_t)(pad * 0x01010101u);
    int ky, kx, j, depth = 0;
    for (ky = 0; ky < p->filter_h; ky++) {
        const int iy = top + ky * p->dilation_h;
        for (kx = 0; kx < p->filter_w; kx++, depth += in_c) {
            const int ix = left + kx * p->dilation_w;
            const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
            const int8_t *pixel = input + (inside ? ((int32_t)iy * in_w + ix) * in_c : 0); /* never outside */
            for (j = 0; j < words_per_pixel; j++, pairs += 2) {
                const int32_t word = inside ? em_word(pixel + 4 * j) : pad_word;
                pairs[0] = __sxtb16(word);
                pairs[1] = __sxtb16(em_rotate8(word));
            }
            for (j = 0; j < in_c && !words_per_pixel; j++) {
                patch[depth + j] = inside ? pixel[j] : (int8_t)pad;
            }
        }
    }
    for (j = 0; j < depth / 4 && !words_per_pixel; j++, pairs += 2) {
        const int32_t word = em_word(patch + 4 * j);
        pairs[0] = __sxtb16(word);
        pairs[1] = __sxtb16(em_rotate8(word));
    }
}

/* The widened patch against two filters at once (a and b), each pair of halfwords loaded once for both;
 * the bytes past the last whole word are added one by one. */
static void patch_dot2(const int32_t *pairs, const int8_t *patch, int depth, const int8_t *a, const int8_t *b,
                       int32_t *acc_a, int32_t *acc_b)
{
    const int32_t *const end = pairs + 2 * (depth / 4);
    int32_t sum_a = *acc_a, sum_b = *acc_b;
    int i;
    for (; pairs < end; pairs += 2, a += 4, b += 4) {
        const int32_t word_a = em_word(a), word_b = em_word(b);
        sum_a = __smlad(pairs[1], __sxtb16(em_rotate8(word_a)), __smlad(pairs[0], __sxtb16(word_a), sum_a));
        sum_b = __smlad(pairs[1], __sxtb16(em_rotate8(word_b)), __smlad(pairs[0], __sxtb16(word_b), sum_b));
    }
    for (i = 0; i < depth % 4; i++) {
        sum_a += patch[(depth & ~3) + i] * a[i];
        sum_b += patch[(depth & ~3) + i] * b[i];
    }
    *acc_a = sum_a;
    *acc_b = sum_b;
}

/* Every output channel at (oy, ox): the patch gathered and widened once, then two channels at a time (an odd
 * last channel is paired with itself). */
static void conv_position(const em_conv2d_params *p, const int8_t *input, int oy, int ox, int8_t *output)
{
    const int depth = p->filter_h * p->filter_w * p->in_c, out_c = p->out_c;
    int8_t patch[depth];
    int32_t pairs[depth / 2 + 1];
    int oc;
    gather_patch(p, input, oy, ox, patch, pairs);
    for (oc = 0; oc < out_c; oc += 2) {
        const int next = oc + 1 < out_c ? oc + 1 : oc;
        int32_t acc = p->bias[oc], next_acc = p->bias[next];
        patch_dot2(pairs, patch, depth, p->weights + (int32_t)oc * depth, p->weights + (int32_t)next * depth, &acc,
                   &next_acc);
        output[oc] = conv_result(p, acc, oc);
        output[next] = conv_result(p, next_acc, next);
    }
}

#endif
