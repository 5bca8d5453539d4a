#include <cblas.h>
/* Declared by OpenBLAS but not part of the CBLAS header on every build. */
char *openblas_get_corename(void);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
/* Exported by every OpenBLAS 0.3.x (pthreads build) but not declared in its headers: re-read the OPENBLAS_*
   environment variables, and stop the worker threads (they are started again, with the re-read settings, by
   the next threaded call). Used by BLAS.reloadEnvironment (see BLAS.swift). */
void openblas_read_env(void);
int blas_thread_shutdown_(void);
