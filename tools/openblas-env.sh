# Sourced by .ci/run and the README: choose OpenBLAS's kernel family from the CPU's features when
# the user has not set one. OpenBLAS 0.3.21 mis-detects some Xeons as "Prescott" (~9x slower sgemm).
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  if grep -q -w avx512f /proc/cpuinfo 2>/dev/null && grep -q 'GenuineIntel' /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
  elif grep -q -w avx2 /proc/cpuinfo 2>/dev/null; then
    # AMD (Zen) is detected correctly; Haswell kernels are the safe AVX2 choice elsewhere.
    grep -q 'AuthenticAMD' /proc/cpuinfo 2>/dev/null || export OPENBLAS_CORETYPE=Haswell
  fi
fi
# Idle OpenBLAS workers sleep almost at once instead of spinning ~0.1 s after each call (the CLI does the same
# unless this is set; see Sources/VARCore/Tensor/BLAS.swift). The tests load OpenBLAS with this setting.
export OPENBLAS_THREAD_TIMEOUT="${OPENBLAS_THREAD_TIMEOUT:-4}"
