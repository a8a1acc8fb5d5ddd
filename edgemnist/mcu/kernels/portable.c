/* edgemnist portable int8 kernels (see portable.h). Written from TFLite's int8 quantization spec;
 * bit-exact with the tflite-micro interpreter is what the tests hold them to. */
#include "portable.h"

#include <string.h>

#ifdef __GNUC__
#define EM_INLINE inline __attribute__((always_inline)) /* inlined wherever used, even twice in one function */
#define EM_APART __attribute__((noinline))              /* a call: the code of a rare path stays small */
#define EM_LIKELY(x) __builtin_expect((x) != 0, 1)      /* the common path laid out straight */
#else
#define EM_INLINE inline
#define EM_APART
#define EM_LIKELY(x) (x)
#endif

/* -- fixed-point helpers ---------------------------------------------------------------------------- */

/* The high 32 bits of 2*a*b, rounded to nearest; the one overflow (both INT32_MIN) saturates. */
static int32_t doubling_high_mul(int32_t a, int32_t b)
{
    int64_t product, nudge;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    product = (int64_t)a * b;
    nudge = product >= 0 ? (1 << 30) : 1 - (1 << 30);
    return (int32_t)((product + nudge) / ((int64_t)1 << 31)); /* C division truncates toward zero */
}

/* x / 2^exponent, rounded to nearest with halves away from zero. */
static int32_t divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + ((x & mask) > threshold ? 1 : 0);
}

/* x * multiplier * 2^(shift - 31), rounded as TFLite rounds it: the doubling high half to nearest, then for
 * shift < 0 the division by 2^-shift to nearest with halves away from zero. For a multiplier >= 0 (as every
 * one the compiler writes) the two roundings are one 64-bit sum: with right = -shift,
 * floor((x m + 2^30 + 2^(30 + right) - 2^31 [x < 0]) / 2^(31 + right)), as a floor of a floor is one floor
 * and where x < 0 but the high half is not, both give 0. With no right shift, (x m + 2^30) >> 31. */
static int32_t requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    if (shift < 0) {
        const int right = (int)-shift;
        const int64_t rounding = (int64_t)((uint64_t)(1u + (1u << right)) << 30); /* 2^30 + 2^(30 + right) */
        const int64_t sum = (int64_t)x * multiplier + rounding - (int64_t)((uint32_t)x & 0x80000000u);
        return (int32_t)(sum >> 32) >> (right - 1);
    }
    return (int32_t)(((int64_t)(int32_t)((uint32_t)x << shift) * multiplier + (1 << 30)) >> 31);
}

/* requantize as a call, for the rare path of convolution values (sums that may pass 2^30). */
static EM_APART int32_t requantize_apart(int32_t x, int32_t multiplier, int32_t shift)
{
    return requantize(x, multiplier, shift);
}

#if defined(EM_KERNELS_DSP) || defined(__ARM_FEATURE_SAT)
#include <arm_acle.h>
#endif

/* x within [low, high], a range within int8's; the whole int8 range is one SSAT where the core has it (every
 * Cortex-M from the M3 on, which ACLE's __ARM_FEATURE_SAT says). */
static inline int32_t clamp(int32_t x, int32_t low, int32_t high)
{
#if defined(EM_KERNELS_DSP) || defined(__ARM_FEATURE_SAT)
    if (low == INT8_MIN && high == INT8_MAX) {
        return __ssat(x, 8);
    }
#endif
    return x < low ? low : (x > high ? high : x);
}

static int8_t clamp_to(int32_t x, int32_t low, int32_t high)
{
    return (int8_t)clamp(x, low, high);
}

static int32_t saturating_left_shift(int32_t x, int exponent)
{
    if (x > (INT32_MAX >> exponent)) {
        return INT32_MAX;
    }
    if (x < (INT32_MIN >> exponent)) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* -- convolution, eight output positions at a time --------------------------------------------------- */

/* Each weight is loaded once for eight output positions: their input patches are gathered and widened to
 * 16 bits once per block into the scratch memory the plan gives the layer, then read for every channel. */
#define BLOCK_POSITIONS 8

/* Filters are read in groups of four values: the compiler pads each filter with zeros to a whole group and
 * interleaves the filters two by two, group by group (an odd last channel beside a filter of zeros), so a
 * channel's group follows its partner's and its next group lies FILTER_STEP bytes on. */
#define FILTER_STEP 8

static int filter_groups(const em_conv2d_params *p)
{
    return (p->filter_h * p->filter_w * p->in_c + 3) / 4;
}

/* Channel ch's first group of filter values. */
static const int8_t *filter_of(const em_conv2d_params *p, int ch, int groups)
{
    return p->weights + (int32_t)(ch / 2) * FILTER_STEP * groups + 4 * (ch % 2);
}

#if defined(EM_KERNELS_HELIUM)
#include "helium.h" /* em_dot, widen_words, place_tap, dot_block, channel_outputs and em_sub in vectors */
#elif defined(EM_KERNELS_DSP)
#include "dsp.h" /* em_dot, widen_words, place_tap and dot_block through the DSP extension */
#else
#define BLOCK_CHANNELS 2 /* channels dot_block computes at once */

/* acc + the sum of a[i] * b[i]. */
static int32_t em_dot(const int8_t *a, const int8_t *b, int n, int32_t acc)
{
    int i;
    for (i = 0; i < n; i++) {
        acc += a[i] * b[i];
    }
    return acc;
}

/* words groups of four values into position's slots of the patch from group first on: per group, four
 * halfwords for each of the block's positions. */
static void widen_words(const int8_t *values, int words, void *patch, int position, int first)
{
    int16_t *slot = (int16_t *)patch + 4 * (BLOCK_POSITIONS * first + position);
    int g;
    for (g = 0; g < words; g++, values += 4, slot += 4 * BLOCK_POSITIONS) {
        slot[0] = values[0];
        slot[1] = values[1];
        slot[2] = values[2];
        slot[3] = values[3];
    }
}

/* Value tap of each position's patch, values[starts[i]] for position i, where widen_words puts it. */
static inline void place_tap(void *patches, int groups, int tap, const int8_t *values,
                             const int32_t starts[BLOCK_POSITIONS])
{
    int16_t *const slot = (int16_t *)patches + 4 * BLOCK_POSITIONS * (tap / 4) + tap % 4;
    int i;
    (void)groups;
#pragma GCC unroll 8
    for (i = 0; i < BLOCK_POSITIONS; i++) {
        slot[4 * i] = values[starts[i]];
    }
}

/* sums[c][i] + the dot product of filters[c] with position i's patch, for a pair of channels and four
 * positions at a time (eight accumulators, held in registers): each patch value is loaded once for two
 * channels, each weight once for four positions. The pair's groups are interleaved, so one pointer reads
 * both (filters[1] is filters[0] + 4). */
static void dot_block(const void *patch, const int8_t *const filters[BLOCK_CHANNELS], int groups,
                      int32_t sums[BLOCK_CHANNELS][BLOCK_POSITIONS])
{
    int half, j, i;
    for (half = 0; half < BLOCK_POSITIONS; half += 4) {
        const int16_t *x = (const int16_t *)patch + 4 * half, *const end = x + 4 * BLOCK_POSITIONS * groups;
        const int8_t *f = filters[0];
        int32_t a[4], b[4];
        for (i = 0; i < 4; i++) {
            a[i] = sums[0][half + i];
            b[i] = sums[1][half + i];
        }
        for (; x < end; x += 4 * BLOCK_POSITIONS, f += FILTER_STEP) {
#pragma GCC unroll 4
            for (j = 0; j < 4; j++) {
                const int32_t u = f[j], v = f[4 + j];
                a[0] += x[j] * u;
                b[0] += x[j] * v;
                a[1] += x[4 + j] * u;
                b[1] += x[4 + j] * v;
                a[2] += x[8 + j] * u;
                b[2] += x[8 + j] * v;
                a[3] += x[12 + j] * u;
                b[3] += x[12 + j] * v;
            }
        }
        for (i = 0; i < 4; i++) {
            sums[0][half + i] = a[i];
            sums[1][half + i] = b[i];
        }
    }
}
#endif

#ifndef EM_KERNELS_DSP
/* (addend * 2^32 + a * b + 2^31) >> 32: the high word of a product and an addend, rounded. */
static inline int32_t em_high_rounded(int32_t a, int32_t b, int32_t addend)
{
    return (int32_t)(((int64_t)addend * 4294967296 + (int64_t)a * b + 2147483648) >> 32);
}
#endif

#ifndef PATCH_BYTES
/* Bytes from one position's patch to the next in the block's scratch: none here, as widen_words interleaves
 * the positions' values itself (helium.h's patches lie one after another). */
#define PATCH_BYTES(groups) 0
#endif

/* n bytes, a word at a time while whole words remain. */
static void copy_run(int8_t *to, const int8_t *from, int n)
{
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        memcpy(to + j, from + j, 4); /* one word load and store */
    }
    for (; j < n; j++) {
        to[j] = from[j];
    }
}

/* Position's patch: the input values under the filter at output position (oy, ox), in the filter's order.
 * Where the filter lies inside the image each of its rows is one run of input bytes, widened straight from
 * the input when the runs are whole words, or else copied into row first. Elsewhere each tap is tested once,
 * and a tap outside the image reads the pad value (a real 0). The zeros after the last value were written
 * when the scratch was cleared. */
static void gather_patch(const em_conv2d_params *p, const int8_t *input, int oy, int ox, void *patch,
                         int position, int8_t *row)
{
    const int in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, filter_h = p->filter_h, filter_w = p->filter_w;
    const int dilation_h = p->dilation_h, dilation_w = p->dilation_w, depth = filter_h * filter_w * in_c;
    const int top = oy * p->stride_h - p->pad_top, left = ox * p->stride_w - p->pad_left;
    const int8_t pad = (int8_t)p->pad_value;
    int ky, kx, j;
    if (dilation_w == 1 && top >= 0 && left >= 0 && top + (filter_h - 1) * dilation_h < in_h &&
        left + filter_w - 1 < in_w) {
        const int run = filter_w * in_c, words = run % 4 == 0 ? run / 4 : 0;
        const int8_t *from = input + ((int32_t)top * in_w + left) * in_c;
        const int32_t next_row = (int32_t)dilation_h * in_w * in_c;
        int first = 0;
        for (ky = 0; ky < filter_h; ky++, from += next_row, first += words) {
            if (words) {
                widen_words(from, words, patch, position, first);
            } else {
                copy_run(row + ky * run, from, run);
            }
        }
        if (words) {
            return;
        }
    } else {
        int8_t *at = row;
        for (ky = 0; ky < filter_h; ky++) {
            const int iy = top + ky * dilation_h;
            for (kx = 0; kx < filter_w; kx++, at += in_c) {
                const int ix = left + kx * dilation_w;
                if (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w) {
                    copy_run(at, input + ((int32_t)iy * in_w + ix) * in_c, in_c);
                } else {
                    for (j = 0; j < in_c; j++) {
                        at[j] = pad;
                    }
                }
            }
        }
    }
    widen_words(row, (depth + 3) / 4, patch, position, 0);
}

/* The block's patches for a convolution with one input channel, if every window lies inside the image (else 0,
 * and nothing is written). Its windows' rows are runs of a few bytes (3 for a 3x3 filter), which gather_patch
 * would copy one by one and widen through the row at a cost above the products'; here each tap is placed at
 * the block's eight positions at once, a load and a store per value, and the taps past the last keep the
 * zeros the scratch was cleared to. */
static EM_APART int gather_single_channel(const em_conv2d_params *p, const int8_t *input,
                                          const int32_t where[BLOCK_POSITIONS], void *patches)
{
    const int in_w = p->in_w, out_w = p->out_w, filter_h = p->filter_h, filter_w = p->filter_w;
    const int dilation_w = p->dilation_w, groups = filter_groups(p);
    const int32_t next_row = (int32_t)p->dilation_h * in_w;
    const int bottom = p->in_h - (filter_h - 1) * p->dilation_h, right = in_w - (filter_w - 1) * dilation_w;
    int32_t starts[BLOCK_POSITIONS]; /* each window's first value, as an index into the input */
    const int8_t *row = input;
    int i, ky, kx, tap = 0;
    for (i = 0; i < BLOCK_POSITIONS; i++) {
        const int top = where[i] / out_w * p->stride_h - p->pad_top;
        const int left = where[i] % out_w * p->stride_w - p->pad_left;
        if (top < 0 || left < 0 || top >= bottom || left >= right) {
            return 0;
        }
        starts[i] = (int32_t)top * in_w + left;
    }
    for (ky = 0; ky < filter_h; ky++, row += next_row) {
        for (kx = 0; kx < filter_w; kx++, tap++) {
            place_tap(patches, groups, tap, row + kx * dilation_w, starts);
        }
    }
    return 1;
}

/* requantize(sum, multiplier, -right) + zero_point, given addend = 2^(right - 1) + zero_point * 2^right, when
 * |sum| < 2^30 and 1 <= right <= 23 (the compiler writes addend 0 for a channel where that may fail):
 * requantize's 64-bit sum, doubled, is 2^32 (addend + [...]) plus 2 sum m + 2^31, so the floor of its high
 * word is one rounded multiply-accumulate of the high word, before the sign and the shift. */
static inline int32_t small_sum_value(int32_t sum, int32_t multiplier, int32_t addend, int right)
{
    return (em_high_rounded(2 * sum, multiplier, addend) + (sum >> 31)) >> right;
}

#ifndef EM_KERNELS_HELIUM /* helium.h's computes four positions at a time */
/* Channel ch's values at the block's positions from its sums, requantized and clamped to [low, high], into
 * out[i][ch]; with pooled, each raises out[i][ch] where it is larger. Inlined with constant bounds where a
 * layer clamps to the whole int8 range, which the compiler makes one saturation. */
static EM_INLINE void channel_outputs(const em_conv2d_params *p, const int32_t *sums, int ch, int32_t low,
                                      int32_t high, int8_t *const out[BLOCK_POSITIONS], int pooled)
{
    const int32_t multiplier = p->multiplier[ch], shift = p->shift[ch], addend = p->addend[ch];
    const int32_t zero_point = p->output_zero_point;
    int32_t values[BLOCK_POSITIONS];
    int i;
    if (EM_LIKELY(addend)) {
#pragma GCC unroll 8
        for (i = 0; i < BLOCK_POSITIONS; i++) {
            values[i] = clamp(small_sum_value(sums[i], multiplier, addend, (int)-shift), low, high);
        }
    } else {
#pragma GCC unroll 8
        for (i = 0; i < BLOCK_POSITIONS; i++) {
            values[i] = clamp(requantize_apart(sums[i], multiplier, shift) + zero_point, low, high);
        }
    }
    if (pooled) {
#pragma GCC unroll 8
        for (i = 0; i < BLOCK_POSITIONS; i++) {
            out[i][ch] = (int8_t)(values[i] > out[i][ch] ? values[i] : out[i][ch]);
        }
    } else {
#pragma GCC unroll 8
        for (i = 0; i < BLOCK_POSITIONS; i++) {
            out[i][ch] = (int8_t)values[i];
        }
    }
}
#endif

/* A convolution's scratch memory, scratch_bytes of it planned in the arena by the compiler. */
typedef struct {
    void *patches; /* the block's patches, widened: 8 bytes per position and group of four values */
    int8_t *row;   /* one patch gathered as bytes: 4 per group */
} conv_scratch;

static conv_scratch scratch_parts(const em_conv2d_params *p, void *scratch)
{
    conv_scratch parts;
    parts.patches = scratch;
    parts.row = (int8_t *)scratch + 8 * BLOCK_POSITIONS * filter_groups(p);
    return parts;
}

static size_t scratch_bytes(const em_conv2d_params *p)
{
    return (size_t)((8 * BLOCK_POSITIONS + 4) * filter_groups(p));
}

/* The convolution at the block's output positions (where: indices into its output, row by row; a repeated
 * one is computed twice), every channel: the patches gathered once (a single input channel's tap by tap where
 * it can be), then per channel the sums and their values. Position i's values go to out[i], or with pooled
 * raise out[i]'s where they are larger. */
static void conv_block(const em_conv2d_params *p, const int8_t *input, const int32_t where[BLOCK_POSITIONS],
                       const conv_scratch *scratch, int8_t *const out[BLOCK_POSITIONS], int pooled)
{
    const int groups = filter_groups(p), out_c = p->out_c, out_w = p->out_w;
    const int whole_range = p->act_min == INT8_MIN && p->act_max == INT8_MAX;
    int i, oc, c;
    if (p->in_c != 1 || !gather_single_channel(p, input, where, scratch->patches)) {
        for (i = 0; i < BLOCK_POSITIONS; i++) {
            int8_t *const patch = (int8_t *)scratch->patches + i * PATCH_BYTES(groups);
            gather_patch(p, input, where[i] / out_w, where[i] % out_w, patch, i, scratch->row);
        }
    }
    for (oc = 0; oc < out_c; oc += BLOCK_CHANNELS) {
        const int8_t *filters[BLOCK_CHANNELS];
        int32_t sums[BLOCK_CHANNELS][BLOCK_POSITIONS];
        int channel[BLOCK_CHANNELS];
        for (c = 0; c < BLOCK_CHANNELS; c++) {
            const int32_t bias = p->bias[oc + c < out_c ? oc + c : out_c - 1]; /* read once: sums may alias it */
            channel[c] = oc + c; /* past the last channel: the filter of zeros, its values unused */
            filters[c] = filter_of(p, channel[c], groups);
            for (i = 0; i < BLOCK_POSITIONS; i++) {
                sums[c][i] = bias;
            }
        }
        dot_block(scratch->patches, filters, groups, sums);
        for (c = 0; c < BLOCK_CHANNELS && channel[c] < out_c; c++) {
            if (whole_range) {
                channel_outputs(p, sums[c], channel[c], INT8_MIN, INT8_MAX, out, pooled);
            } else {
                channel_outputs(p, sums[c], channel[c], p->act_min, p->act_max, out, pooled);
            }
        }
    }
}

void em_conv2d(const em_conv2d_params *p, const int8_t *input, int8_t *output, void *scratch)
{
    const int32_t positions = (int32_t)p->out_h * p->out_w;
    int32_t first, where[BLOCK_POSITIONS];
    int8_t *out[BLOCK_POSITIONS];
    const conv_scratch parts = scratch_parts(p, scratch);
    int i;
    memset(scratch, 0, scratch_bytes(p)); /* the zeros after each filter's last value */
    for (first = 0; first < positions; first += BLOCK_POSITIONS) {
        for (i = 0; i < BLOCK_POSITIONS; i++) {
            where[i] = first + i < positions ? first + i : positions - 1; /* past the end: the last again */
            out[i] = output + where[i] * p->out_c;
        }
        conv_block(p, input, where, &parts, out, 0);
    }
}

/* A convolution whose output only a max-pool reads: each pooled value is the largest of the convolution
 * values in its window, computed there and then, so the convolution's whole output is never stored. The
 * windows' positions fill blocks, each with the pooled value it raises (the last block repeats its first). */
void em_conv2d_max_pool2d(const em_conv2d_max_pool2d_params *p, const int8_t *input, int8_t *output,
                          void *scratch)
{
    const em_max_pool2d_params *pool = &p->pool;
    const int channels = pool->channels, narrower = pool->act_min > INT8_MIN || pool->act_max < INT8_MAX;
    const int32_t size = (int32_t)pool->out_h * pool->out_w * channels;
    const conv_scratch parts = scratch_parts(&p->conv, scratch);
    int32_t where[BLOCK_POSITIONS], i;
    int8_t *out[BLOCK_POSITIONS], *pooled = output;
    int py, px, ky, kx, count = 0;
    memset(scratch, 0, scratch_bytes(&p->conv)); /* the zeros after each filter's last value */
    memset(output, (uint8_t)INT8_MIN, (size_t)size);
    for (py = 0; py < pool->out_h; py++) {
        for (px = 0; px < pool->out_w; px++, pooled += channels) {
            for (ky = 0; ky < pool->filter_h; ky++) {
                const int oy = py * pool->stride_h - pool->pad_top + ky;
                for (kx = 0; kx < pool->filter_w; kx++) {
                    const int ox = px * pool->stride_w - pool->pad_left + kx;
                    if (oy >= 0 && oy < pool->in_h && ox >= 0 && ox < pool->in_w) {
                        where[count] = (int32_t)oy * pool->in_w + ox;
                        out[count++] = pooled;
                    }
                    if (count == BLOCK_POSITIONS) {
                        conv_block(&p->conv, input, where, &parts, out, 1);
                        count = 0;
                    }
                }
            }
        }
    }
    if (count) {
        for (i = count; i < BLOCK_POSITIONS; i++) {
            where[i] = where[0];
            out[i] = out[0];
        }
        conv_block(&p->conv, input, where, &parts, out, 1);
    }
    for (i = 0; i < size && narrower; i++) {
        output[i] = clamp_to(output[i], pool->act_min, pool->act_max);
    }
}

/* -- max pooling: the largest value of the window's pixels inside the image ------------------------- */

void em_max_pool2d(const em_max_pool2d_params *p, const int8_t *input, int8_t *output)
{
    int oy, ox, c, ky, kx;
    for (oy = 0; oy < p->out_h; oy++) {
        for (ox = 0; ox < p->out_w; ox++) {
            for (c = 0; c < p->channels; c++) {
                int32_t largest = INT8_MIN;
                for (ky = 0; ky < p->filter_h; ky++) {
                    const int iy = oy * p->stride_h - p->pad_top + ky;
                    for (kx = 0; kx < p->filter_w; kx++) {
                        const int ix = ox * p->stride_w - p->pad_left + kx;
                        if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                            const int8_t value = input[((int32_t)iy * p->in_w + ix) * p->channels + c];
                            largest = value > largest ? value : largest;
                        }
                    }
                }
                *output++ = clamp_to(largest, p->act_min, p->act_max);
            }
        }
    }
}

/* -- mean over the spatial positions, per channel ---------------------------------------------------- */

void em_mean(const em_mean_params *p, const int8_t *input, int8_t *output)
{
    int32_t c, i;
    for (c = 0; c < p->channels; c++) {
        int32_t sum = p->bias;
        for (i = 0; i < p->positions; i++) {
            sum += input[i * p->channels + c];
        }
        output[c] = clamp_to(requantize(sum, p->multiplier, p->shift) + p->output_zero_point, INT8_MIN, INT8_MAX);
    }
}

/* -- a - b: both rescaled to twice the larger input scale, with left_shift bits of headroom ---------- */

#ifndef EM_KERNELS_HELIUM /* helium.h's computes four values at a time */
static int32_t sub_operand(const em_sub_params *p, int8_t x, int32_t offset, int32_t multiplier, int32_t shift)
{
    return requantize((x + offset) * (1 << p->left_shift), multiplier, shift);
}

void em_sub(const em_sub_params *p, const int8_t *a, const int8_t *b, int8_t *output)
{
    const int32_t b_once = sub_operand(p, b[0], p->b_offset, p->b_multiplier, p->b_shift); /* b broadcast */
    int32_t i;
    for (i = 0; i < p->size; i++) {
        const int32_t a_scaled = sub_operand(p, a[i], p->a_offset, p->a_multiplier, p->a_shift);
        const int32_t b_scaled = p->b_step ? sub_operand(p, b[i], p->b_offset, p->b_multiplier, p->b_shift) : b_once;
        const int32_t difference = requantize(a_scaled - b_scaled, p->out_multiplier, p->out_shift);
        output[i] = clamp_to(difference + p->output_zero_point, p->act_min, p->act_max);
    }
}
#endif

/* -- fully connected ----------------------------------------------------------------------------------- */

void em_fully_connected(const em_fully_connected_params *p, const int8_t *input, int8_t *output)
{
    int32_t o;
    const int8_t *row = p->weights;
    for (o = 0; o < p->out_size; o++) {
        int32_t acc = em_dot(input, row, p->in_size, p->bias[o]);
        row += p->in_size;
        acc = requantize(acc, p->multiplier[o], p->shift[o]) + p->output_zero_point;
        output[o] = clamp_to(acc, p->act_min, p->act_max);
    }
}

/* -- softmax to int8 with scale 1/256 and zero point -128 --------------------------------------------- */

#define SUM_INTEGER_BITS 12 /* the sum of exponentials is a Q12.19 number */

/* a + b halved, rounded half away from zero. */
static int32_t rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* 1 / (1 + x) for a Q0.31 x in [0, 1), as Q0.31: three Newton-Raphson steps from 48/17 - 32/17 * d,
 * d = (1 + x) / 2, in Q2.29. */
static int32_t reciprocal_of_one_plus(int32_t x)
{
    const int32_t half_denominator = rounding_half_sum(x, INT32_MAX);
    const int32_t forty_eight_seventeenths = 1515870810;      /* 48/17 in Q2.29 */
    const int32_t minus_thirty_two_seventeenths = -1010580540; /* -32/17 in Q2.29 */
    int32_t estimate = forty_eight_seventeenths + doubling_high_mul(half_denominator, minus_thirty_two_seventeenths);
    int step;
    for (step = 0; step < 3; step++) {
        const int32_t error = (1 << 29) - doubling_high_mul(half_denominator, estimate);
        estimate += saturating_left_shift(doubling_high_mul(estimate, error), 2);
    }
    return saturating_left_shift(estimate, 1);
}

static int leading_zeros(uint32_t x)
{
    int count = 0;
    while (count < 32 && !(x & 0x80000000u)) {
        x <<= 1;
        count++;
    }
    return count;
}

void em_softmax(const em_softmax_params *p, const int8_t *input, int8_t *output)
{
    int32_t i, sum = 0, scale;
    int8_t largest = INT8_MIN;
    int headroom, bits_over_one;
    for (i = 0; i < p->size; i++) {
        largest = input[i] > largest ? input[i] : largest;
    }
    for (i = 0; i < p->size; i++) {
        sum += divide_by_pot(p->exp_table[largest - input[i]], SUM_INTEGER_BITS);
    }
    /* sum = 2^bits_over_one * (1 + fraction): the reciprocal of (1 + fraction), then shift */
    headroom = leading_zeros((uint32_t)sum);
    bits_over_one = SUM_INTEGER_BITS - headroom;
    scale = reciprocal_of_one_plus((int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
    for (i = 0; i < p->size; i++) {
        const int32_t probability =
            divide_by_pot(doubling_high_mul(scale, p->exp_table[largest - input[i]]), bits_over_one + 31 - 8);
        output[i] = clamp_to(probability - 128, INT8_MIN, INT8_MAX);
    }
}
