/*
 * Vectorized exp for kernels "amx" (VectorKernels with AMX): SiLU-gating of the experts and attention's
 * softmax, 16 floats at a time where the exact kernels call Math.exp once per value (measured: a
 * 512-token prefill of the tiny shape spends about a quarter of its expert time in those calls). Not
 * bitwise Math.exp: at most a few ulp from it (AmxActivationsTest holds it to the Java
 * loops at a stated tolerance). The kernels "amx" already leave bitwise equality with the exact kernels;
 * every value here still depends on its own row only, so batches stay invariant.
 */
#include <jni.h>
#include <immintrin.h>
#include <math.h>

#define LANES 16

/*
 * e^x: x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2 (ln2 split in two for an exact product),
 * e^r by its degree-6 Taylor polynomial (truncation < 1.2e-7 relative), times 2^n by scalef, which also
 * gives 0 and infinity past the float range. NaN stays NaN; -inf gives 0, +inf gives +inf.
 */
static inline __m512 exp16(__m512 x) {
  const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
  const __m512 ln2Hi = _mm512_set1_ps(0.693359375f);
  const __m512 ln2Lo = _mm512_set1_ps(-2.12194440e-4f);
  __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  __m512 clamped = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(clamped, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, ln2Hi, clamped);
  r = _mm512_fnmadd_ps(n, ln2Lo, r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  __m512 result = _mm512_scalef_ps(p, n);
  result = _mm512_mask_mov_ps(result, _mm512_cmp_ps_mask(x, _mm512_set1_ps(89.0f), _CMP_GT_OQ),
      _mm512_set1_ps(INFINITY));
  return _mm512_mask_add_ps(result, nan, x, x);
}

static inline __mmask16 tail_mask(int remaining) {
  return remaining >= LANES ? (__mmask16) 0xFFFF : (__mmask16) ((1u << remaining) - 1);
}

/*
 * io.moestream.engine.kernel.NativeKernels.siluMul(float[] gate, float[] up, int offset, int n):
 * gate[i] = gate[i] / (1 + e^-gate[i]) * up[i] for i in [offset, offset + n).
 */
JNIEXPORT void JNICALL Java_io_moestream_engine_kernel_NativeKernels_siluMul(JNIEnv *env, jclass cls,
    jfloatArray gateArray, jfloatArray upArray, jint offset, jint n) {
  (void) cls;
  float *gate = (*env)->GetPrimitiveArrayCritical(env, gateArray, NULL);
  float *up = (*env)->GetPrimitiveArrayCritical(env, upArray, NULL);
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int i = 0; i < n; i += LANES) {
    __mmask16 m = tail_mask(n - i);
    __m512 g = _mm512_maskz_loadu_ps(m, gate + offset + i);
    __m512 u = _mm512_maskz_loadu_ps(m, up + offset + i);
    __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
    _mm512_mask_storeu_ps(gate + offset + i, m, _mm512_mul_ps(silu, u));
  }
  (*env)->ReleasePrimitiveArrayCritical(env, upArray, up, JNI_ABORT);
  (*env)->ReleasePrimitiveArrayCritical(env, gateArray, gate, 0);
}

/*
 * io.moestream.engine.kernel.NativeKernels.softmax(float[] x, int offset, int n, float sink, boolean hasSink):
 * x[offset..+n) = e^(x - max) / sum, where max and sum also take in the sink's logit when there is one.
 */
JNIEXPORT void JNICALL Java_io_moestream_engine_kernel_NativeKernels_softmax(JNIEnv *env, jclass cls,
    jfloatArray xArray, jint offset, jint n, jfloat sink, jboolean hasSink) {
  (void) cls;
  float *all = (*env)->GetPrimitiveArrayCritical(env, xArray, NULL);
  float *x = all + offset;
  __m512 maxes = _mm512_set1_ps(hasSink ? sink : -INFINITY);
  for (int i = 0; i < n; i += LANES) {
    __mmask16 m = tail_mask(n - i);
    maxes = _mm512_mask_max_ps(maxes, m, maxes, _mm512_maskz_loadu_ps(m, x + i));
  }
  float max = _mm512_reduce_max_ps(maxes);
  __m512 shift = _mm512_set1_ps(max);
  __m512 sums = _mm512_setzero_ps();
  for (int i = 0; i < n; i += LANES) {
    __mmask16 m = tail_mask(n - i);
    __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), shift));
    _mm512_mask_storeu_ps(x + i, m, e);
    sums = _mm512_mask_add_ps(sums, m, sums, e);
  }
  float sum = _mm512_reduce_add_ps(sums);
  if (hasSink) {
    sum += expf(sink - max);
  }
  __m512 inv = _mm512_set1_ps(1.0f / sum);
  for (int i = 0; i < n; i += LANES) {
    __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
  }
  (*env)->ReleasePrimitiveArrayCritical(env, xArray, all, 0);
}
