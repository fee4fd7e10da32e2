package io.moestream.engine.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Scalar conversions between the checkpoint element types and float. */
public final class Numerics {
  private Numerics() {}

  /** IEEE half to float, subnormals included. */
  public static float halfToFloat(short half) {
    int h = half & 0xFFFF;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1F;
    int mantissa = h & 0x3FF;
    if (exponent == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
    }
    // Shifting the exponent+mantissa into float position and scaling by 2^112 rebiases the
    // exponent (15 -> 127) and handles subnormal halves exactly.
    float magnitude = Float.intBitsToFloat((h & 0x7FFF) << 13) * 0x1p112f;
    return Float.intBitsToFloat(sign | Float.floatToRawIntBits(magnitude));
  }

  /** Float to IEEE half, round to nearest even. */
  public static short floatToHalf(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    float abs = Math.abs(value);
    if (Float.isNaN(value)) {
      return (short) (sign | 0x7E00);
    }
    if (abs >= 65520f) {
      return (short) (sign | 0x7C00);
    }
    if (abs < 0x1p-14f) {
      // Subnormal half: the value in units of 2^-24, rounded to nearest even.
      int units = (int) Math.rint(abs * 0x1p24f);
      return (short) (sign | units);
    }
    int rounded = Float.floatToRawIntBits(abs) + 0xFFF + ((Float.floatToRawIntBits(abs) >>> 13) & 1);
    int exponent = ((rounded >>> 23) & 0xFF) - 127 + 15;
    int mantissa = (rounded >>> 13) & 0x3FF;
    return (short) (sign | (exponent << 10) | mantissa);
  }

  /** Float to bfloat16, round to nearest even (what PyTorch does). */
  public static short floatToBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
    return (short) (rounded >>> 16);
  }

  public static float bf16ToFloat(short bf16) {
    return Float.intBitsToFloat((bf16 & 0xFFFF) << 16);
  }

  /** FP8 E4M3 (the "fn" variant: no infinities, 0x7F/0xFF are NaN) to float. */
  public static float e4m3ToFloat(byte value) {
    int v = value & 0xFF;
    int sign = (v & 0x80) != 0 ? -1 : 1;
    int exponent = (v >>> 3) & 0xF;
    int mantissa = v & 0x7;
    if (exponent == 0xF && mantissa == 0x7) {
      return Float.NaN;
    }
    if (exponent == 0) {
      return sign * mantissa * 0x1p-9f;
    }
    return sign * (1 + mantissa / 8f) * (float) Math.scalb(1.0, exponent - 7);
  }

  /**
   * Float to FP8 E4M3 ("fn": largest finite 448, no infinities), round to nearest even; values beyond
   * 448 saturate, as DeepSeek's quantizer clamps before casting.
   */
  public static byte floatToE4m3(float value) {
    if (Float.isNaN(value)) {
      return 0x7F;
    }
    int sign = (Float.floatToRawIntBits(value) >>> 24) & 0x80;
    float magnitude = Math.min(Math.abs(value), 448f);
    int exponent = Math.max(Math.getExponent(magnitude), -6); // below 2^-6 the spacing is that of subnormals
    float step = Math.scalb(1f, exponent - 3);
    float rounded = (float) Math.rint(magnitude / step) * step;
    int bits;
    if (rounded < 0x1p-6f) {
      bits = (int) (rounded / 0x1p-9f);
    } else {
      int e = Math.getExponent(rounded);
      bits = ((e + 7) << 3) | ((int) (rounded / Math.scalb(1f, e) * 8) - 8);
    }
    return (byte) (sign | bits);
  }

  /** The 16 FP4 E2M1 values by code (bit 3 sign, bits 2-1 exponent with bias 1, bit 0 mantissa). */
  private static final float[] E2M1 = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f, -0f, -0.5f, -1f, -1.5f, -2f, -3f, -4f, -6f};

  /** FP4 E2M1 code (the low 4 bits of {@code code}) to float. */
  public static float e2m1ToFloat(int code) {
    return E2M1[code & 0xF];
  }

  /**
   * An E8M0 scale byte (MXFP4's shared exponent, bias 127) to the float 2^(e - 127), exact for every byte
   * 0..254 (2^-127 is a float subnormal); 0xFF is NaN, which the loader refuses before a kernel sees it.
   */
  public static float e8m0ToFloat(byte value) {
    int e = value & 0xFF;
    return e == 0xFF ? Float.NaN : (float) Math.scalb(1.0, e - 127);
  }

  /** The E8M0 byte that OCP MX reserves for NaN; a checkpoint holding it is refused at load. */
  public static final int E8M0_NAN = 0xFF;

  /**
   * Index of the first NaN E8M0 scale ({@link #E8M0_NAN}) in {@code scales}' remaining bytes, or -1. Eight
   * bytes at a time: ~v has a zero byte exactly where v has 0xFF, found by the usual has-zero-byte test.
   * gpt-oss-120b holds 3.6 GB of scales, so the scan at load must not go byte by byte.
   */
  public static long firstNanE8m0(ByteBuffer scales) {
    ByteBuffer b = scales.slice().order(ByteOrder.LITTLE_ENDIAN);
    int n = b.remaining();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      long inverted = ~b.getLong(i);
      if (((inverted - 0x0101010101010101L) & ~inverted & 0x8080808080808080L) != 0) {
        break; // the byte loop below finds which one
      }
    }
    for (; i < n; i++) {
      if ((b.get(i) & 0xFF) == E8M0_NAN) {
        return i;
      }
    }
    return -1;
  }

  /** Float to the nearest FP4 E2M1 code (ties to the even code); magnitudes beyond 6 saturate. */
  public static int floatToE2m1(float value) {
    float magnitude = Math.min(Math.abs(value), 6f);
    int best = 0;
    for (int code = 1; code < 8; code++) {
      float error = Math.abs(E2M1[code] - magnitude);
      float bestError = Math.abs(E2M1[best] - magnitude);
      if (error < bestError || (error == bestError && code % 2 == 0)) {
        best = code;
      }
    }
    return (Float.floatToRawIntBits(value) < 0 ? 8 : 0) | best;
  }
}
