/* The test harness: the compiled model on a board, its digits and scores through semihosting.
 *
 *   no argument     the self-test: the built-in digits against the scores TFLite Micro gave them; exit 0
 *                   when every score is identical, 1 otherwise
 *   FILE            digits of 784 uint8 pixels each, back to back; one line of scores (hex) per digit
 *   repeat N        N inferences of the first built-in digit, for counting instructions per inference
 *
 * Every run ends with a line "stack N": the stack's peak in bytes. */
#include <stdint.h>

#include "harness_model.h" /* generated: the model's entry point and the self-test digits */
#include "semihosting.h"
#include "startup.h"

#define COMMAND_LINE_BYTES 256
#define REPEAT "repeat "

static uint8_t pixels[MODEL_INPUTS];
static int8_t scores[MODEL_OUTPUTS];

static void write_number(const char *label, int32_t value)
{
    char text[24];
    char *end = text + sizeof text - 1;
    char *start = end;
    uint32_t magnitude = value < 0 ? 0u - (uint32_t)value : (uint32_t)value;
    *end = '\0';
    do {
        *--start = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0) {
        *--start = '-';
    }
    sh_write(label);
    sh_write(start);
}

static void write_scores(void)
{
    static const char hex[] = "0123456789abcdef";
    char line[2 * MODEL_OUTPUTS + 2];
    int i;
    for (i = 0; i < MODEL_OUTPUTS; i++) {
        line[2 * i] = hex[(uint8_t)scores[i] >> 4];
        line[2 * i + 1] = hex[(uint8_t)scores[i] & 15];
    }
    line[2 * MODEL_OUTPUTS] = '\n';
    line[2 * MODEL_OUTPUTS + 1] = '\0';
    sh_write(line);
}

static int self_test(void)
{
    int digit, i, differing = 0;
    for (digit = 0; digit < SELFTEST_DIGITS; digit++) {
        MODEL_RUN(selftest_pixels[digit], scores);
        for (i = 0; i < MODEL_OUTPUTS; i++) {
            if (scores[i] != selftest_scores[digit][i]) {
                write_number("self-test: digit ", digit);
                write_number(" score ", i);
                write_number(" is ", scores[i]);
                write_number(", TFLite Micro gave ", selftest_scores[digit][i]);
                sh_write("\n");
                differing++;
            }
        }
    }
    if (differing) {
        write_number("self-test FAILED: scores differing from TFLite Micro's: ", differing);
    } else {
        write_number("self-test passed: ", SELFTEST_DIGITS);
        sh_write(" digits, every score identical to TFLite Micro's");
    }
    sh_write("\n");
    return differing ? 1 : 0;
}

static int score_file(const char *path)
{
    const int32_t handle = sh_open_for_reading(path);
    if (handle < 0) {
        sh_write("cannot open the digits file\n");
        return 2;
    }
    while (sh_read(handle, pixels, MODEL_INPUTS) == MODEL_INPUTS) {
        MODEL_RUN(pixels, scores);
        write_scores();
    }
    return 0;
}

static int32_t parse_count(const char *text)
{
    int32_t count = 0;
    while (*text >= '0' && *text <= '9') {
        count = count * 10 + (*text++ - '0');
    }
    return count;
}

static int repeat(int32_t count)
{
    int32_t i;
    for (i = 0; i < count; i++) {
        MODEL_RUN(selftest_pixels[0], scores);
    }
    return 0;
}

static int starts_with(const char *text, const char *prefix)
{
    while (*prefix && *text == *prefix) {
        text++;
        prefix++;
    }
    return !*prefix;
}

/* The command line's second word onwards (the first is the program's name), or "" */
static const char *argument(char *line)
{
    if (sh_command_line(line, COMMAND_LINE_BYTES) != 0) {
        return "";
    }
    while (*line && *line != ' ') {
        line++;
    }
    while (*line == ' ') {
        line++;
    }
    return line;
}

int main(void)
{
    static char line[COMMAND_LINE_BYTES];
    const char *given = argument(line);
    int code;
    if (!*given) {
        code = self_test();
    } else if (starts_with(given, REPEAT)) {
        code = repeat(parse_count(given + sizeof REPEAT - 1));
    } else {
        code = score_file(given);
    }
    write_number("stack ", (int32_t)stack_peak_bytes());
    sh_write("\n");
    return code;
}
