#include <cblas.h>
/* Declared by OpenBLAS but not part of the CBLAS header on every build. */
char *openblas_get_corename(void);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
