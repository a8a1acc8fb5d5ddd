/* edgemnist portable int8 kernels (see portable.h). Written from TFLite's int8 quantization spec;
 * bit-exact with the tflite-micro interpreter is what the tests hold them to. */
#include "portable.h"

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

/* x * multiplier * 2^(shift - 31), rounded: the requantization of every op. For a multiplier >= 0 (as every
 * one the compiler writes), the rounded doubling high half is the same integer as doubling_high_mul's as
 * (a * multiplier + 2^30) >> 31: one multiply-accumulate, no branches. */
static int32_t requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left = shift > 0 ? (int)shift : 0;
    const int right = shift > 0 ? 0 : (int)-shift;
    const int64_t scaled = (int64_t)(int32_t)((uint32_t)x << left) * multiplier;
    return divide_by_pot((int32_t)((scaled + (1 << 30)) >> 31), right);
}

static int8_t clamp_to(int32_t x, int32_t low, int32_t high)
{
    return (int8_t)(x < low ? low : (x > high ? high : x));
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

/* -- convolution ------------------------------------------------------------------------------------- */

/* The convolution's value for channel oc from its accumulator: requantized and clamped. */
static int8_t conv_result(const em_conv2d_params *p, int32_t acc, int oc)
{
    acc = requantize(acc, p->multiplier[oc], p->shift[oc]) + p->output_zero_point;
    return clamp_to(acc, p->act_min, p->act_max);
}

#ifdef EM_KERNELS_DSP
#include "dsp.h" /* em_dot and conv_position through the DSP extension */
#else
/* acc + the sum of a[i] * b[i]. */
static int32_t em_dot(const int8_t *a, const int8_t *b, int n, int32_t acc)
{
    int i;
    for (i = 0; i < n; i++) {
        acc += a[i] * b[i];
    }
    return acc;
}

/* One output value: output channel oc at (oy, ox). */
static int8_t conv_output(const em_conv2d_params *p, const int8_t *input, int oy, int ox, int oc)
{
    /* the parameters in locals: an int8 store may alias anything, so fields would be re-read after each */
    const int in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, filter_h = p->filter_h, filter_w = p->filter_w;
    const int top = oy * p->stride_h - p->pad_top, left = ox * p->stride_w - p->pad_left;
    const int32_t pad_value = p->pad_value;
    const int8_t *filter = p->weights + (int32_t)oc * filter_h * filter_w * in_c;
    int32_t acc = p->bias[oc];
    int ky, kx, ic;
    for (ky = 0; ky < filter_h; ky++) {
        const int iy = top + ky * p->dilation_h;
        for (kx = 0; kx < filter_w; kx++, filter += in_c) {
            const int ix = left + kx * p->dilation_w;
            if (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w) {
                acc = em_dot(input + ((int32_t)iy * in_w + ix) * in_c, filter, in_c, acc);
            } else {
                for (ic = 0; ic < in_c; ic++) {
                    acc += pad_value * filter[ic];
                }
            }
        }
    }
    return conv_result(p, acc, oc);
}

/* Every output channel at (oy, ox). */
static void conv_position(const em_conv2d_params *p, const int8_t *input, int oy, int ox, int8_t *output)
{
    int oc;
    for (oc = 0; oc < p->out_c; oc++) {
        output[oc] = conv_output(p, input, oy, ox, oc);
    }
}
#endif

void em_conv2d(const em_conv2d_params *p, const int8_t *input, int8_t *output)
{
    const int out_h = p->out_h, out_w = p->out_w, out_c = p->out_c;
    int oy, ox;
    for (oy = 0; oy < out_h; oy++) {
        for (ox = 0; ox < out_w; ox++, output += out_c) {
            conv_position(p, input, oy, ox, output);
        }
    }
}

/* A convolution whose output only a max-pool reads: each pooled value is the largest of the convolution
 * values in its window, computed there and then, so the convolution's whole output is never stored. */
void em_conv2d_max_pool2d(const em_conv2d_max_pool2d_params *p, const int8_t *input, int8_t *output)
{
    const em_max_pool2d_params *pool = &p->pool;
    const int channels = pool->channels;
    int8_t values[channels], largest[channels];
    int py, px, c, ky, kx;
    for (py = 0; py < pool->out_h; py++) {
        for (px = 0; px < pool->out_w; px++) {
            for (c = 0; c < channels; c++) {
                largest[c] = INT8_MIN;
            }
            for (ky = 0; ky < pool->filter_h; ky++) {
                const int oy = py * pool->stride_h - pool->pad_top + ky;
                for (kx = 0; kx < pool->filter_w; kx++) {
                    const int ox = px * pool->stride_w - pool->pad_left + kx;
                    if (oy >= 0 && oy < pool->in_h && ox >= 0 && ox < pool->in_w) {
                        conv_position(&p->conv, input, oy, ox, values);
                        for (c = 0; c < channels; c++) {
                            largest[c] = values[c] > largest[c] ? values[c] : largest[c];
                        }
                    }
                }
            }
            for (c = 0; c < channels; c++) {
                *output++ = clamp_to(largest[c], pool->act_min, pool->act_max);
            }
        }
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

void em_sub(const em_sub_params *p, const int8_t *a, const int8_t *b, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; i++) {
        const int32_t a_scaled = requantize((a[i] + p->a_offset) * (1 << p->left_shift), p->a_multiplier, p->a_shift);
        const int32_t b_scaled =
            requantize((b[i * p->b_step] + p->b_offset) * (1 << p->left_shift), p->b_multiplier, p->b_shift);
        const int32_t difference = requantize(a_scaled - b_scaled, p->out_multiplier, p->out_shift);
        output[i] = clamp_to(difference + p->output_zero_point, p->act_min, p->act_max);
    }
}

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
