/* Instruction counter for qemu-user 7.2 (TCG plugin API version 1).
 *
 * Counts every guest instruction executed, and records the running count each time the guest makes the
 * marker syscall (number `marker=N`, first argument MARK_MAGIC), so the guest can delimit the region it
 * wants counted. At exit it writes to `out=PATH`:
 *   total <instructions>
 *   mark <instructions so far>      (one line per marker call, in order)
 *
 * The declarations are written by hand: newer qemu-plugin.h headers declare a higher API version, which
 * QEMU 7.2 refuses to load. Built with: gcc -shared -fPIC -O2 insn_count.c -o insn_count.so
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                                              uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6,
                                              uint64_t a7, uint64_t a8);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                              uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_cb_t cb);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define MARK_MAGIC 0x45444d4eu /* "EDMN": no real call of the marker syscall passes this */
#define MAX_MARKS 4096

static uint64_t executed;
static int64_t marker_syscall = -1;
static uint64_t marks[MAX_MARKS];
static unsigned int mark_count;
static char out_path[4096];

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, qemu_plugin_tb_n_insns(tb));
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1, uint64_t a2,
                       uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8) {
    if (num == marker_syscall && (uint32_t)a1 == MARK_MAGIC && mark_count < MAX_MARKS) {
        marks[mark_count++] = executed;
    }
}

static void write_counts(qemu_plugin_id_t id, void *userdata) {
    FILE *out = fopen(out_path, "w");
    if (!out) {
        return;
    }
    fprintf(out, "total %llu\n", (unsigned long long)executed);
    for (unsigned int i = 0; i < mark_count; i++) {
        fprintf(out, "mark %llu\n", (unsigned long long)marks[i]);
    }
    fclose(out);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                                int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        } else if (strncmp(argv[i], "marker=", 7) == 0) {
            marker_syscall = strtoll(argv[i] + 7, NULL, 10);
        }
    }
    if (!out_path[0]) {
        fprintf(stderr, "insn_count: missing out=PATH\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    qemu_plugin_register_atexit_cb(id, write_counts, NULL);
    return 0;
}
