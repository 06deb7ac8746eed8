#ifndef MNEMO_FAISS_H
#define MNEMO_FAISS_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
/// Placeholder; the FAISS C shim lands here.
int32_t mnemo_faiss_version(void);
#ifdef __cplusplus
}
#endif
#endif
