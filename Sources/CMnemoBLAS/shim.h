// OpenBLAS's CBLAS interface (Debian: libopenblas-dev provides <cblas.h> and libopenblas.so).
#include <cblas.h>
// OpenBLAS extension: set the number of BLAS threads.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
