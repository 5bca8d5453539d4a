/* What writing into newly mapped memory costs on this machine, against writing the same pages again
 * (docs/performance.md §3, "Pages touched once"). Maps SIZE MiB of anonymous memory three times; each time
 * writes one byte per 4 KiB page (the kernel clears every page on that first touch), then overwrites the whole
 * region, then unmaps it.
 *
 *   gcc -O2 -o first_touch tools/first_touch.c && ./first_touch 512
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 512;
    if (mib == 0 || mib > (1 << 16)) { fprintf(stderr, "usage: first_touch [MiB, 1…65536]\n"); return 2; }
    size_t n = mib << 20;
    for (int round = 1; round <= 3; round++) {
        volatile char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) { perror("mmap"); return 1; }
        double t0 = seconds();
        for (size_t i = 0; i < n; i += 4096) p[i] = 1;
        double t1 = seconds();
        memset((char *)p, 2, n);
        double t2 = seconds();
        printf("round %d: %zu MiB first touch %.3f s (%.2f GB/s), rewrite %.3f s (%.2f GB/s)\n", round, mib,
               t1 - t0, n / (t1 - t0) * 1e-9, t2 - t1, n / (t2 - t1) * 1e-9);
        munmap((char *)p, n);
    }
    return 0;
}
