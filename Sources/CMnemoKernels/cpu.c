// Runtime CPU-feature detection for the dispatching kernels.
#include "internal.h"

static int detected_features = -1;   // -1 = not detected yet
static int forced_scalar = 0;

static int detect(void) {
#if MNEMO_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("f16c")) {
        return MNEMO_CPU_AVX2_FMA_F16C;
    }
#endif
    return 0;
}

int mnemo_kernels_cpu_features(void) {
    if (__atomic_load_n(&forced_scalar, __ATOMIC_RELAXED)) return 0;
    int f = __atomic_load_n(&detected_features, __ATOMIC_RELAXED);
    if (f < 0) {
        // Benign race: every thread computes the same value.
        f = detect();
        __atomic_store_n(&detected_features, f, __ATOMIC_RELAXED);
    }
    return f;
}

void mnemo_kernels_force_scalar(int disable) {
    __atomic_store_n(&forced_scalar, disable ? 1 : 0, __ATOMIC_RELAXED);
}

int mnemo_use_avx2(void) {
    return (mnemo_kernels_cpu_features() & MNEMO_CPU_AVX2_FMA_F16C) != 0;
}
