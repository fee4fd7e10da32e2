package io.moestream.engine.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The 16-bit conversions against definitions written out here: IEEE half values from sign, exponent and
 * mantissa; round to nearest, ties to even, for float -> half and float -> bfloat16.
 */
class NumericsTest {

  /** The value of a finite half from its fields (independent of {@link Numerics}). */
  private static double halfValue(int bits) {
    int sign = (bits >>> 15) & 1;
    int exponent = (bits >>> 10) & 0x1F;
    int mantissa = bits & 0x3FF;
    double magnitude = exponent == 0 ? mantissa * 0x1p-24 : (1 + mantissa / 1024.0) * Math.scalb(1.0, exponent - 15);
    return sign == 1 ? -magnitude : magnitude;
  }

  private static boolean isFiniteHalf(int bits) {
    return ((bits >>> 10) & 0x1F) != 0x1F;
  }

  @Test
  void halfToFloatIsExactForEveryFiniteHalfSubnormalsAndNegativesIncluded() {
    int checked = 0;
    for (int bits = 0; bits < 0x10000; bits++) {
      if (!isFiniteHalf(bits)) {
        continue;
      }
      float value = Numerics.halfToFloat((short) bits);
      assertEquals(halfValue(bits), value, 0.0, "half 0x" + Integer.toHexString(bits));
      assertEquals((bits & 0x8000) != 0, Float.floatToRawIntBits(value) < 0, "sign of half 0x" + Integer.toHexString(bits));
      checked++;
    }
    assertEquals(65536 - 2048, checked);
  }

  @Test
  void floatToHalfRoundTripsEveryFiniteHalf() {
    for (int bits = 0; bits < 0x10000; bits++) {
      if (!isFiniteHalf(bits)) {
        continue;
      }
      short back = Numerics.floatToHalf(Numerics.halfToFloat((short) bits));
      assertEquals(bits, back & 0xFFFF, "round trip of half 0x" + Integer.toHexString(bits));
    }
  }

  @Test
  void floatToHalfRoundsHalfwayCasesToEvenAndOthersToNearest() {
    // Between consecutive positive halves h and h+1 (normal and subnormal): the midpoint goes to the even
    // mantissa, a hair below it to h, a hair above to h+1. Every midpoint is exact in float.
    for (int h = 0; h < 0x7BFF; h++) {
      double low = halfValue(h);
      double high = halfValue(h + 1);
      float mid = (float) ((low + high) / 2);
      assertEquals((low + high) / 2, mid, 0.0, "midpoint exact in float");
      int even = (h & 1) == 0 ? h : h + 1;
      for (int sign : new int[] {0, 0x8000}) {
        float signedMid = sign == 0 ? mid : -mid;
        assertEquals(even | sign, Numerics.floatToHalf(signedMid) & 0xFFFF, "midpoint after half 0x" + Integer.toHexString(h | sign));
        float below = Math.nextDown(mid);
        float above = Math.nextUp(mid);
        assertEquals(h | sign, Numerics.floatToHalf(sign == 0 ? below : -below) & 0xFFFF, "below midpoint of 0x" + Integer.toHexString(h));
        assertEquals((h + 1) | sign, Numerics.floatToHalf(sign == 0 ? above : -above) & 0xFFFF, "above midpoint of 0x" + Integer.toHexString(h));
      }
    }
  }

  @Test
  void floatToHalfOverflowsToInfinityOnlyPastTheLargestHalf() {
    assertEquals(0x7BFF, Numerics.floatToHalf(65504f) & 0xFFFF);
    assertEquals(0x7BFF, Numerics.floatToHalf(Math.nextDown(65520f)) & 0xFFFF);
    assertEquals(0x7C00, Numerics.floatToHalf(65520f) & 0xFFFF); // halfway to 2^16: ties to even = infinity
    assertEquals(0xFC00, Numerics.floatToHalf(-1e6f) & 0xFFFF);
    assertEquals(0x7C00, Numerics.floatToHalf(Float.POSITIVE_INFINITY) & 0xFFFF);
    assertTrue(Float.isNaN(Numerics.halfToFloat(Numerics.floatToHalf(Float.NaN))));
    assertEquals(0x0000, Numerics.floatToHalf(0x1p-26f) & 0xFFFF); // below half the smallest subnormal
    assertEquals(0x0001, Numerics.floatToHalf(0x1.8p-25f) & 0xFFFF);
    assertEquals(0x8000, Numerics.floatToHalf(-0f) & 0xFFFF);
  }

  @Test
  void floatToHalfIsNearestOnRandomFloats() {
    SplittableRandom random = new SplittableRandom(5);
    for (int i = 0; i < 200_000; i++) {
      float value = (float) ((random.nextDouble() * 2 - 1) * Math.scalb(1.0, random.nextInt(-26, 16)));
      int half = Numerics.floatToHalf(value) & 0xFFFF;
      double error = Math.abs(halfValue(half) - value);
      int neighbour = (half & 0x7FFF) == 0 ? half : half - 1;
      int next = (half & 0x7FFF) == 0x7BFF ? half : half + 1;
      assertTrue(error <= Math.abs(halfValue(neighbour) - value) && error <= Math.abs(halfValue(next) - value),
          value + " -> half 0x" + Integer.toHexString(half) + " is not the nearest");
    }
  }

  @Test
  void bf16RoundTripsEveryFiniteBf16() {
    for (int bits = 0; bits < 0x10000; bits++) {
      if (((bits >>> 7) & 0xFF) == 0xFF) {
        continue;
      }
      float value = Numerics.bf16ToFloat((short) bits);
      assertEquals(Float.intBitsToFloat(bits << 16), value, 0.0);
      assertEquals(bits, Numerics.floatToBf16(value) & 0xFFFF, "round trip of bf16 0x" + Integer.toHexString(bits));
    }
  }

  @Test
  void bf16RoundsToNearestEven() {
    // 1 + 2^-8 is halfway between 1 (0x3F80, even) and 1 + 2^-7 (0x3F81): goes down to even.
    assertEquals(0x3F80, Numerics.floatToBf16(1f + 0x1p-8f) & 0xFFFF);
    // 1 + 3 * 2^-8 is halfway between 0x3F81 (odd) and 0x3F82 (even): goes up to even.
    assertEquals(0x3F82, Numerics.floatToBf16(1f + 3 * 0x1p-8f) & 0xFFFF);
    assertEquals(0x3F81, Numerics.floatToBf16(Math.nextUp(1f + 0x1p-8f)) & 0xFFFF);
    assertEquals(0x3F81, Numerics.floatToBf16(Math.nextDown(1f + 3 * 0x1p-8f)) & 0xFFFF);
    assertEquals(0xBF80, Numerics.floatToBf16(-(1f + 0x1p-8f)) & 0xFFFF);
    assertEquals(0xBF82, Numerics.floatToBf16(-(1f + 3 * 0x1p-8f)) & 0xFFFF);
    // Subnormal floats round the same way; the largest float rounds to infinity, as PyTorch does.
    assertEquals(0x0002, Numerics.floatToBf16(Float.intBitsToFloat(0x00018000)) & 0xFFFF); // tie, up to even
    assertEquals(0x0002, Numerics.floatToBf16(Float.intBitsToFloat(0x00028000)) & 0xFFFF); // tie, down to even
    assertEquals(0x0003, Numerics.floatToBf16(Float.intBitsToFloat(0x00028001)) & 0xFFFF);
    assertEquals(0x7F80, Numerics.floatToBf16(Float.MAX_VALUE) & 0xFFFF);
    assertTrue(Float.isNaN(Numerics.bf16ToFloat(Numerics.floatToBf16(Float.NaN))));

    SplittableRandom random = new SplittableRandom(9);
    for (int i = 0; i < 200_000; i++) {
      float value = Float.intBitsToFloat(random.nextInt() & 0xBF7FFFFF); // finite, below 2^65 in magnitude
      int bf16 = Numerics.floatToBf16(value) & 0xFFFF;
      int truncated = Float.floatToRawIntBits(value) >>> 16;
      double down = Math.abs(Float.intBitsToFloat(truncated << 16) - (double) value);
      double up = Math.abs(Float.intBitsToFloat((truncated + 1) << 16) - (double) value);
      int expected = down < up ? truncated : up < down ? truncated + 1 : ((truncated & 1) == 0 ? truncated : truncated + 1);
      assertEquals(expected, bf16, "bf16 of " + value);
    }
  }
}
