#include "mnemo_faiss.h"
extern "C" int32_t mnemo_faiss_version(void) { return 0; }
