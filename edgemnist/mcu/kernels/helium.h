/* edgemnist Helium kernels: convolutions, fully connected layers and SUB through GCC's <arm_mve.h> intrinsics,
 * for cores with Arm's M-profile vector extension (Cortex-M55, M85). portable.c includes this file in place of
 * its own em_dot, widen_words, place_tap, dot_block, channel_outputs and em_sub when built with
 * -DEM_KERNELS_HELIUM (GCC turns MVE on only with a floating-point ABI, e.g. -mfloat-abi=softfp). The results are
 * the same integers: a sum of int8 products in int32 does not depend on the order it is taken in, and every
 * rescale is portable.c's arithmetic, taken four lanes at a time (each such function says why it is the same
 * integer). */
#ifndef EDGEMNIST_HELIUM_H
#define EDGEMNIST_HELIUM_H

#include <arm_mve.h>
#include <stdint.h>
#include <string.h>

#define BLOCK_CHANNELS 2 /* channels dot_block computes at once: a pair of interleaved filters */
#define VECTOR_BYTES 16  /* int8 values in one vector: four groups of four */

/* The block's patches stay int8, one after another (a patch is its filter's groups of four values), so that
 * a vector load reads sixteen values of one position. */
#define PATCH_BYTES(groups) (4 * (groups))

/* Byte offsets of one filter's sixteen values in a pair's interleaved groups: four values, then four of the
 * partner's, and so on (the partner's own are these plus four). The weights are read by these gathers, which
 * take any address, where a de-interleaving VLD2 would need the weights word-aligned, which C99 cannot ask. */
static inline uint8x16_t pair_lanes(void)
{
    const uint8x16_t lane = vidupq_n_u8(0, 1);
    return vaddq_u8(lane, vandq_u8(lane, vdupq_n_u8(0xfc))); /* lane + 4 * (lane / 4) */
}

/* acc + the sum of a[i] * b[i]: sixteen products per VMLADAVA, the last vector's missing lanes zero. */
static int32_t em_dot(const int8_t *a, const int8_t *b, int n, int32_t acc)
{
    int i = 0;
    for (; i + VECTOR_BYTES <= n; i += VECTOR_BYTES) {
        acc = vmladavaq_s8(acc, vldrbq_s8(a + i), vldrbq_s8(b + i));
    }
    if (i < n) {
        const mve_pred16_t live = vctp8q((uint32_t)(n - i));
        acc = vmladavaq_s8(acc, vldrbq_z_s8(a + i, live), vldrbq_z_s8(b + i, live));
    }
    return acc;
}

/* words groups of four values into the position's patch from group first on (the patch is the position's own,
 * PATCH_BYTES, so position places nothing): one vector copy per sixteen values. */
static void widen_words(const int8_t *values, int words, void *patch, int position, int first)
{
    int8_t *to = (int8_t *)patch + 4 * first;
    int n = 4 * words;
    (void)position;
    for (; n >= VECTOR_BYTES; n -= VECTOR_BYTES, values += VECTOR_BYTES, to += VECTOR_BYTES) {
        vstrbq_s8(to, vldrbq_s8(values));
    }
    if (n) {
        const mve_pred16_t live = vctp8q((uint32_t)n);
        vstrbq_p_s8(to, vldrbq_z_s8(values, live), live);
    }
}

/* Value tap of each position's patch, values[starts[i]] for position i: four positions at a time, one gather
 * from the input and one scatter to the patches, which lie one after another. */
static inline void place_tap(void *patches, int groups, int tap, const int8_t *values,
                             const int32_t starts[BLOCK_POSITIONS])
{
    const uint32x4_t positions = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)PATCH_BYTES(groups));
    int first;
    for (first = 0; first < BLOCK_POSITIONS; first += 4) {
        const uint32x4_t from = vreinterpretq_u32_s32(vldrwq_s32(starts + first));
        int8_t *const slots = (int8_t *)patches + first * PATCH_BYTES(groups) + tap;
        vstrbq_scatter_offset_s32(slots, positions, vldrbq_gather_offset_s32(values, from));
    }
}

/* The pair's sums at two positions (a: the first filter's, b: its partner's) plus the dot products of the
 * filters' vectors u, v with each position's vector, loaded by load. */
#define EM_TWO_POSITIONS(load)                                                                                 \
    do {                                                                                                       \
        const int8x16_t x = load(x0), y = load(x1);                                                            \
        a0 = vmladavaq_s8(a0, x, u);                                                                           \
        b0 = vmladavaq_s8(b0, x, v);                                                                           \
        a1 = vmladavaq_s8(a1, y, u);                                                                           \
        b1 = vmladavaq_s8(b1, y, v);                                                                           \
    } while (0)

#define EM_WHOLE(x) vldrbq_s8(x)
#define EM_LIVE(x) vldrbq_z_s8(x, live)

/* sums[c][i] + the dot product of filters[c] with position i's patch, for the pair and two positions at a
 * time (four accumulators, which VMLADAVA keeps in even registers): per sixteen values, each filter's vector
 * is gathered once from the pair's interleaved groups for both positions, each position's loaded once for
 * both filters. The last groups (fewer than four) are read with the missing lanes zero, so nothing past the
 * filters or the patches is read. */
static void dot_block(const void *patch, const int8_t *const filters[BLOCK_CHANNELS], int groups,
                      int32_t sums[BLOCK_CHANNELS][BLOCK_POSITIONS])
{
    const uint8x16_t lanes = pair_lanes(), partner_lanes = vaddq_n_u8(lanes, 4);
    const int stride = PATCH_BYTES(groups), whole = groups / 4;
    const mve_pred16_t live = vctp8q((uint32_t)(4 * (groups % 4)));
    int i, k;
    for (i = 0; i < BLOCK_POSITIONS; i += 2) {
        const int8_t *x0 = (const int8_t *)patch + i * stride, *x1 = x0 + stride, *f = filters[0];
        int32_t a0 = sums[0][i], a1 = sums[0][i + 1], b0 = sums[1][i], b1 = sums[1][i + 1];
        int8x16_t u, v;
        for (k = 0; k < whole; k++, f += 2 * VECTOR_BYTES, x0 += VECTOR_BYTES, x1 += VECTOR_BYTES) {
            u = vldrbq_gather_offset_s8(f, lanes);
            v = vldrbq_gather_offset_s8(f, partner_lanes);
            EM_TWO_POSITIONS(EM_WHOLE);
        }
        if (groups % 4) {
            u = vldrbq_gather_offset_z_s8(f, lanes, live);
            v = vldrbq_gather_offset_z_s8(f, partner_lanes, live);
            EM_TWO_POSITIONS(EM_LIVE);
        }
        sums[0][i] = a0;
        sums[0][i + 1] = a1;
        sums[1][i] = b0;
        sums[1][i + 1] = b1;
    }
}

/* A channel's values at four of the block's positions from their sums, as portable.c's small_sum_value
 * computes each, in lanes: VQRDMULH is the doubling high half rounded, (2 sum m + 2^31) >> 32, which cannot
 * saturate as m >= 0, so adding the addend to it is adding addend * 2^32 before the shift; then the sign and
 * the right shift (VSHL by -right truncates). Where the compiler wrote addend 0, portable.c's requantize. */
static EM_INLINE int32x4_t four_values(const em_conv2d_params *p, const int32_t *sums, int32_t multiplier,
                                       int32_t shift, int32_t addend)
{
    const int32x4_t sum = vldrwq_s32(sums);
    int32_t values[4];
    int i;
    if (EM_LIKELY(addend)) {
        const int32x4_t high = vaddq_s32(vqrdmulhq_n_s32(sum, multiplier), vshrq_n_s32(sum, 31));
        return vshlq_r_s32(vaddq_n_s32(high, addend), shift);
    }
    for (i = 0; i < 4; i++) {
        values[i] = requantize_apart(sums[i], multiplier, shift) + p->output_zero_point;
    }
    return vldrwq_s32(values);
}

/* Channel ch's values at the block's positions, clamped to [low, high], into out[i][ch]: one scatter per four
 * positions, at offsets from out[0] (a repeated position is written twice, with one value); with pooled, each
 * raises out[i][ch] where it is larger, one at a time, as the positions of one window share their out[i]. */
static EM_INLINE void channel_outputs(const em_conv2d_params *p, const int32_t *sums, int ch, int32_t low,
                                      int32_t high, int8_t *const out[BLOCK_POSITIONS], int pooled)
{
    const int32_t multiplier = p->multiplier[ch], shift = p->shift[ch], addend = p->addend[ch];
    uint32_t addresses[BLOCK_POSITIONS];
    int32_t values[BLOCK_POSITIONS];
    int first, i;
    for (first = 0; first < BLOCK_POSITIONS; first += 4) {
        const int32x4_t value = four_values(p, sums + first, multiplier, shift, addend);
        vstrwq_s32(values + first, vminq_s32(vmaxq_s32(value, vdupq_n_s32(low)), vdupq_n_s32(high)));
    }
    if (pooled) {
        for (i = 0; i < BLOCK_POSITIONS; i++) {
            int8_t *const at = out[i] + ch;
            *at = (int8_t)(values[i] > *at ? values[i] : *at);
        }
        return;
    }
    memcpy(addresses, out, sizeof addresses); /* the (32-bit) pointers as numbers, for the offsets' lanes */
    for (first = 0; first < BLOCK_POSITIONS; first += 4) {
        const uint32x4_t offsets = vsubq_n_u32(vldrwq_u32(addresses + first), addresses[0]);
        vstrbq_scatter_offset_s32(out[0] + ch, offsets, vldrwq_s32(values + first));
    }
}

/* requantize (portable.c) of four values in lanes: after any left shift, the doubling high half rounded
 * (VQRDMULH, which is TFLite's and cannot saturate as m >= 0); then for shift < 0 the division by 2^-shift to
 * nearest with halves away from zero, which is VRSHL's halves up once a negative value is lowered by one
 * (saturating: INT32_MIN's result is the same either way). GCC 12 names VRSHL by a register vrshlq_n. */
static inline int32x4_t requantize_lanes(int32x4_t x, int32_t multiplier, int32_t shift)
{
    if (shift < 0) {
        const int32x4_t high = vqrdmulhq_n_s32(x, multiplier);
        return vrshlq_n_s32(vqaddq_s32(high, vshrq_n_s32(high, 31)), shift);
    }
    return vqrdmulhq_n_s32(vshlq_r_s32(x, shift), multiplier);
}

/* sub_operand (portable.c) in lanes: (x + offset) * 2^left_shift, requantized. */
static inline int32x4_t sub_operand_lanes(const em_sub_params *p, int32x4_t x, int32_t offset, int32_t multiplier,
                                          int32_t shift)
{
    return requantize_lanes(vshlq_r_s32(vaddq_n_s32(x, offset), p->left_shift), multiplier, shift);
}

/* a - b as portable.c's em_sub computes each value, four values at a time in lanes (the last ones' missing
 * lanes neither read nor written); a broadcast b is rescaled once. */
void em_sub(const em_sub_params *p, const int8_t *a, const int8_t *b, int8_t *output)
{
    const int32x4_t b_once = sub_operand_lanes(p, vdupq_n_s32(b[0]), p->b_offset, p->b_multiplier, p->b_shift);
    const int32x4_t low = vdupq_n_s32(p->act_min), high = vdupq_n_s32(p->act_max);
    int32_t i;
    for (i = 0; i < p->size; i += 4) {
        const mve_pred16_t live = vctp32q((uint32_t)(p->size - i));
        const int32x4_t a_value = vldrbq_z_s32(a + i, live);
        const int32x4_t a_scaled = sub_operand_lanes(p, a_value, p->a_offset, p->a_multiplier, p->a_shift);
        const int32x4_t b_scaled =
            p->b_step ? sub_operand_lanes(p, vldrbq_z_s32(b + i, live), p->b_offset, p->b_multiplier, p->b_shift)
                      : b_once;
        const int32x4_t difference = requantize_lanes(vsubq_s32(a_scaled, b_scaled), p->out_multiplier, p->out_shift);
        const int32x4_t value = vaddq_n_s32(difference, p->output_zero_point);
        vstrbq_p_s32(output + i, vminq_s32(vmaxq_s32(value, low), high), live);
    }
}

#endif
