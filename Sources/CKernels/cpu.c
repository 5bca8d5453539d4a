#include "ckernels.h"

int vg_cpu_has_avx512bf16(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") ? 1 : 0;
#else
    return 0;
#endif
}

int vg_cpu_has_avx2_fma(void) {
#if defined(__x86_64__)
    static int state = -1;      /* benign race: every thread computes the same value */
    if (state < 0) {
        __builtin_cpu_init();
        state = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return state;
#else
    return 0;
#endif
}
