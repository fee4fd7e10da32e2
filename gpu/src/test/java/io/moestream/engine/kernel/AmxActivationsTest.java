package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kernels "amx"'s vectorized SiLU gating and softmax against the Java loops (Math.exp, one value at a time) they
 * replace. Tolerance: 1e-6 relative (about 8 ulp), 1e-30 absolute for
 * values near zero; non-finite inputs give what the Java loops give.
 */
class AmxActivationsTest {
  private static final double RELATIVE = 1e-6;
  private static final Kernels EXACT = new VectorKernels();
  private static Kernels amx;

  @BeforeAll
  static void load() {
    assumeTrue(NativeKernels.amxAvailable(), () -> "AMX kernels unavailable: " + NativeKernels.amxUnavailableReason());
    amx = Kernels.named("amx");
  }

  @Test
  void siluGatingIsCloseToTheJavaLoop() {
    SplittableRandom random = new SplittableRandom(31);
    float[] special = {0f, -0f, 1e-30f, -1e-30f, 20f, -20f, 88f, -88f, 89.5f, -89.5f, 100f, -100f, 200f, -200f,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.MIN_VALUE, -Float.MAX_VALUE};
    for (int n : new int[] {1, 15, 16, 17, 100, 1000}) {
      float[] gate = new float[n + 3];
      float[] up = new float[n + 3];
      for (int i = 0; i < gate.length; i++) {
        gate[i] = i < special.length && n == 1000 ? special[i] : (float) (random.nextGaussian() * 6);
        up[i] = (float) random.nextGaussian();
      }
      float[] expected = gate.clone();
      float[] actual = gate.clone();
      EXACT.siluMul(expected, up, 3, n);
      amx.siluMul(actual, up, 3, n);
      for (int i = 0; i < gate.length; i++) {
        assertClose(expected[i], actual[i], "n " + n + ", silu(" + gate[i] + ") * " + up[i]);
      }
    }
  }

  @Test
  void softmaxIsCloseToTheJavaLoopWithAndWithoutASink() {
    SplittableRandom random = new SplittableRandom(32);
    for (int n : new int[] {1, 2, 15, 16, 17, 40, 513}) {
      for (boolean hasSink : new boolean[] {false, true}) {
        float[] scores = new float[n + 5];
        for (int i = 0; i < scores.length; i++) {
          scores[i] = (float) (random.nextGaussian() * 8);
        }
        if (n > 2) {
          scores[6] = Float.NEGATIVE_INFINITY; // a masked key
        }
        float sink = hasSink ? (float) random.nextGaussian() * 4 : Float.NEGATIVE_INFINITY;
        float[] expected = scores.clone();
        float[] actual = scores.clone();
        EXACT.softmax(expected, 5, n, sink, hasSink);
        amx.softmax(actual, 5, n, sink, hasSink);
        double total = 0;
        for (int i = 0; i < scores.length; i++) {
          assertClose(expected[i], actual[i], "n " + n + (hasSink ? " with a sink" : "") + ", score " + i);
          total += i >= 5 ? actual[i] : 0;
        }
        if (!hasSink) {
          assertEquals(1.0, total, 1e-5, "n " + n + ": probabilities sum to 1");
        }
      }
    }
    float[] withNan = {1f, Float.NaN, 2f};
    amx.softmax(withNan, 0, 3, Float.NEGATIVE_INFINITY, false);
    assertTrue(Float.isNaN(withNan[0]) && Float.isNaN(withNan[2]), "a NaN score makes every probability NaN, as in Java");
  }

  private static void assertClose(float expected, float actual, String what) {
    if (Float.isNaN(expected) || Float.isInfinite(expected)) {
      assertEquals(expected, actual, what); // NaN equals NaN here; infinities must match in sign
      return;
    }
    double error = Math.abs((double) expected - actual);
    assertTrue(error <= RELATIVE * Math.abs(expected) + 1e-30, what + ": Java " + expected + ", amx " + actual);
  }
}
