#ifndef MNEMO_KERNELS_H
#define MNEMO_KERNELS_H
#include <stdint.h>
#include <stddef.h>
/// Placeholder; the optimized kernels land here.
int mnemo_kernels_cpu_features(void);
#endif
