/* edgemnist portable int8 kernels: TFLite's int8 arithmetic in plain C99, for any CPU.
 *
 * Every rescale is a 31-bit fixed-point multiplier and a power-of-two shift, computed ahead of time by the
 * compiler; biases arrive with the input zero point folded in. Tensors are NHWC, batch 1. */
#ifndef EDGEMNIST_PORTABLE_H
#define EDGEMNIST_PORTABLE_H

#include <stdint.h>

typedef struct {
    int16_t in_h, in_w, in_c, out_h, out_w, out_c;
    int16_t filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
    int32_t pad_value;                 /* the input's zero point: what a real 0 outside the image reads as */
    int32_t output_zero_point, act_min, act_max;
    const int8_t *weights;             /* filter_h x filter_w x in_c per channel, zeros to a multiple of 4;
                                          pairs of channels interleaved 4 values at a time (filter_of) */
    const int32_t *bias;               /* bias - input_zero_point * sum(weights), per output channel */
    const int32_t *multiplier, *shift; /* per output channel */
    const int32_t *addend;             /* per output channel: requantization's rounding with the output zero
                                          point when the sums are small, else 0 (portable.c, small_sum_value) */
} em_conv2d_params;

typedef struct {
    int16_t in_h, in_w, channels, out_h, out_w;
    int16_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
    int32_t act_min, act_max;
} em_max_pool2d_params;

typedef struct {
    em_conv2d_params conv;             /* its output is only read by the pool, so never stored whole */
    em_max_pool2d_params pool;
} em_conv2d_max_pool2d_params;

typedef struct {
    int32_t positions, channels;       /* mean over positions (H x W) of each channel */
    int32_t bias;                      /* -input_zero_point * positions */
    int32_t multiplier, shift;         /* input_scale / output_scale / positions */
    int32_t output_zero_point;
} em_mean_params;

typedef struct {
    int32_t size, b_step;              /* b_step 0: b is one value, broadcast */
    int32_t a_offset, b_offset, left_shift;
    int32_t a_multiplier, a_shift, b_multiplier, b_shift, out_multiplier, out_shift;
    int32_t output_zero_point, act_min, act_max;
} em_sub_params;

typedef struct {
    int32_t in_size, out_size;
    int32_t output_zero_point, act_min, act_max;
    const int8_t *weights;             /* out_size x in_size */
    const int32_t *bias;               /* bias - input_zero_point * sum(weights), per output */
    const int32_t *multiplier, *shift; /* per output */
} em_fully_connected_params;

typedef struct {
    int32_t size;
    const int32_t *exp_table;          /* exp(beta * scale * -d) in Q0.31, for d = max - x in 0..255 */
} em_softmax_params;

/* A convolution's scratch memory, which the compiler plans in the arena (word-aligned): 68 bytes per group of
 * four filter values. */
void em_conv2d(const em_conv2d_params *p, const int8_t *input, int8_t *output, void *scratch);
void em_conv2d_max_pool2d(const em_conv2d_max_pool2d_params *p, const int8_t *input, int8_t *output,
                          void *scratch);
void em_max_pool2d(const em_max_pool2d_params *p, const int8_t *input, int8_t *output);
void em_mean(const em_mean_params *p, const int8_t *input, int8_t *output);
void em_sub(const em_sub_params *p, const int8_t *a, const int8_t *b, int8_t *output);
void em_fully_connected(const em_fully_connected_params *p, const int8_t *input, int8_t *output);
void em_softmax(const em_softmax_params *p, const int8_t *input, int8_t *output);

#endif
