package io.moestream.engine.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import jdk.incubator.vector.FloatVector;

/**
 * Native twins ({@code gpu/src/main/native/moestream_kernels.c}, JNI) of {@link MatmulBf16} and of
 * attention's per-key {@code dot} / {@code axpy} loops: the same sums in the same order, bitwise equal to
 * the Java kernels, with register tiles of 2 rows x up to 5 tokens that the Vector API does not compile to
 * and lane sums reduced 16 at a time (measured: batch 16 decode 1.3-2.8x the pure-Java path,
 * docs/BENCHMARKS.md). The same library holds the opt-in AMX kernels of {@code kernels: amx}
 * ({@code moestream_amx*.c}, {@code moestream_activations.c}: {@link MatmulBf16Amx}, {@link MatmulQ8Amx}, SiLU and
 * softmax) and of {@code kernels: avx512bf16} ({@code moestream_dpbf16.c}: {@link MatmulBf16Dot}), which round or
 * quantize activations and are therefore not twins of the exact kernels; they run only where
 * {@link #amxAvailable} or {@link #bf16DotAvailable}.
 *
 * <p>The library is built by the gpu module where gcc is installed, for AVX-512F, and ships inside the
 * jar. It is loaded once per class loader from a copy in the temporary directory (a JVM binds a
 * native library to one class loader: each job submitted to a session cluster gets its own copy). It is
 * used only where the JVM's preferred float vector has 16 lanes, the lane count the C code's order of
 * additions is written for; elsewhere, or where loading fails, {@link #unavailableReason} says why and the
 * Java kernels run.
 */
public final class NativeKernels {
  /** Where the build puts the library inside the jar. */
  static final String RESOURCE = "/io/moestream/engine/kernel/native/linux-x86_64/libmoestream_kernels.so";

  private static final String UNAVAILABLE = load();

  /** Loaded on first use: asks Linux for the AMX tile state, which only {@code kernels: amx} needs. */
  private static final class Amx {
    static final String UNAVAILABLE = NativeKernels.UNAVAILABLE != null ? NativeKernels.UNAVAILABLE : init();

    private static String init() {
      try {
        return amxInit();
      } catch (UnsatisfiedLinkError e) { // build.sh leaves the AMX files out where gcc cannot compile them
        return "the native library was built without the AMX kernels (gcc 11 or later needed): " + e.getMessage();
      }
    }
  }

  /** Checked on first use: the CPU features {@code kernels: avx512bf16} needs. */
  private static final class Bf16Dot {
    static final String UNAVAILABLE = NativeKernels.UNAVAILABLE != null ? NativeKernels.UNAVAILABLE : init();

    private static String init() {
      try {
        return bf16DotInit();
      } catch (UnsatisfiedLinkError e) { // build.sh leaves the file out where gcc cannot compile it
        return "the native library was built without the AVX512_BF16 kernels (gcc 11 or later needed): "
            + e.getMessage();
      }
    }
  }

  private NativeKernels() {}

  /** Whether the native kernels loaded in this JVM (and class loader). */
  public static boolean available() {
    return UNAVAILABLE == null;
  }

  /** Why the native kernels are not in use here; null when they are. */
  public static String unavailableReason() {
    return UNAVAILABLE;
  }

  /**
   * Whether kernels "amx" ({@link MatmulBf16Amx}, {@link MatmulQ8Amx}) can run here: the library loaded with its AMX
   * files, the CPU has AMX-BF16 and AMX-INT8, and Linux granted the tile state.
   */
  public static boolean amxAvailable() {
    return Amx.UNAVAILABLE == null;
  }

  /** Why kernels "amx" cannot run here; null when they can. */
  public static String amxUnavailableReason() {
    return Amx.UNAVAILABLE;
  }

  /**
   * Whether kernels "avx512bf16" ({@link MatmulBf16Dot}) can run here: the library loaded with its AVX512_BF16
   * file and the CPU has AVX512_BF16 and AVX512BW.
   */
  public static boolean bf16DotAvailable() {
    return Bf16Dot.UNAVAILABLE == null;
  }

  /** Why kernels "avx512bf16" cannot run here; null when they can. */
  public static String bf16DotUnavailableReason() {
    return Bf16Dot.UNAVAILABLE;
  }

  private static String load() {
    String os = System.getProperty("os.name", "");
    String arch = System.getProperty("os.arch", "");
    if (!os.startsWith("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      return "built for Linux x86-64 only, this is " + os + " " + arch;
    }
    int lanes = FloatVector.SPECIES_PREFERRED.length();
    if (lanes != 16) {
      return "the JVM's preferred float vector has " + lanes + " lanes, the native kernels need AVX-512 (16)";
    }
    try (InputStream in = NativeKernels.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return "the jar has no " + RESOURCE + " (built without gcc)";
      }
      Path copy = Files.createTempFile("moestream-kernels-", ".so");
      copy.toFile().deleteOnExit();
      Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
      System.load(copy.toAbsolutePath().toString());
      return null;
    } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
      return "loading " + RESOURCE + " failed: " + e;
    }
  }

  /**
   * Rows [rowStart, rowEnd) of a BF16 matrix of direct {@code weights}, every token, full chunks of 32
   * columns only, as {@link MatmulBf16#matmul} computes them. {@code misalignment} > 0: interior rows are read
   * from aligned starts with the {@code shifted} activations and {@code alignedMasks}; 0: every row in place.
   */
  static native void bf16(ByteBuffer weights, int rows, int cols, int tokens, int rowStart, int rowEnd,
      int misalignment, float[] paired, float[] shifted, int[] alignedMasks, float[] out, int outRows, int firstRow);

  /** Null where the CPU has AMX-BF16 and AMX-INT8 and Linux granted this process the tile state, else why not. */
  private static native String amxInit();

  /**
   * {@link MatmulBf16Amx#matmul}: rows [rowStart, rowEnd) of a BF16 matrix of direct {@code weights} times every
   * token of the activations as {@link MatmulInput#bf16Tiles}, on AMX tiles, into
   * {@code out[t * outRows + firstRow + r]}. False where no native memory could be had for a zero-padded copy of
   * the tail rows or columns (nothing written).
   */
  static native boolean amxBf16(ByteBuffer weights, int cols, int tokens, int rowStart, int rowEnd,
      int[] bf16Tiles, float[] out, int outRows, int firstRow);

  /** Null where the CPU has AVX512_BF16 and AVX512BW, else why not. */
  private static native String bf16DotInit();

  /**
   * {@link MatmulBf16Dot#matmul}: rows [rowStart, rowEnd) of a BF16 matrix of direct {@code weights} times every
   * token of the activations as {@link MatmulInput#bf16Rows}, by AVX512_BF16 dot products, into
   * {@code out[t * outRows + firstRow + r]}.
   */
  static native void dotBf16(ByteBuffer weights, int cols, int tokens, int rowStart, int rowEnd, int[] bf16Rows,
      float[] out, int outRows, int firstRow);

  /**
   * {@link MatmulInput#packBf16Rows} with AVX-512 integer arithmetic, bitwise (NaN, infinities, subnormals and ties
   * included): x (tokens, cols) into {@code rows}. Only where {@link #bf16DotAvailable}.
   */
  static native void packBf16Rows(float[] x, int tokens, int cols, int[] rows);

  /**
   * {@link MatmulQ8Amx#matmul}: rows [rowStart, rowEnd) of a Q8_0 matrix ({@code codes} and {@code scales} in
   * {@link Q8Blocks}'s layout of groups of 16 interleaved rows, both direct) times every token of the activations
   * as {@link MatmulInput#q8Activations}, into {@code out[t * outRows + firstRow + r]}. Returns false only where
   * a buffer has no address (nothing written).
   */
  static native boolean amxQ8(ByteBuffer codes, ByteBuffer scales, int cols, int tokens, int rowStart,
      int rowEnd, byte[] xCodes, float[] xScales, float[] out, int outRows, int firstRow);

  /**
   * {@link MatmulInput#quantizeQ8} with AVX-512, bitwise (NaN and out-of-range codes included): x (tokens, cols)
   * to Q8_0 codes (tokens, cols) and scales (tokens, cols / 32). Kernels "amx" only.
   */
  static native void quantizeQ8(float[] x, int tokens, int cols, byte[] codes, float[] scales);

  /**
   * {@link MatmulInput#packBf16Tiles} with AVX-512 integer arithmetic, bitwise (NaN, infinities, subnormals and
   * ties included; not the BF16 conversion instruction, which flushes subnormals): x (tokens, cols) into the zeroed
   * {@code tiles}. Only where {@link #amxAvailable}.
   */
  static native void packBf16Tiles(float[] x, int tokens, int cols, int[] tiles);

  /**
   * {@code bytes} zeroed bytes (at most {@code Integer.MAX_VALUE}) in an anonymous mapping advised for 2 MiB pages,
   * 2 MiB aligned; null where the mapping failed. Give it back with {@link #unmap} ({@link Q8Arena} does).
   */
  static native ByteBuffer mapHugePages(long bytes);

  /** Where a direct buffer's bytes start. */
  static native long address(ByteBuffer buffer);

  /** Gives back a mapping of {@link #mapHugePages}; nothing may use its buffer afterwards. */
  static native void unmap(long address, long bytes);

  /** {@link Kernels#siluMul} with a vectorized exp (a few ulp from Math.exp): kernels "amx" and "avx512bf16" only. */
  static native void siluMul(float[] gate, float[] up, int offset, int n);

  /** {@link Kernels#softmax} with a vectorized exp and its own order of sums: kernels "amx" and "avx512bf16" only. */
  static native void softmax(float[] x, int offset, int n, float sink, boolean hasSink);

  /** {@link Kernels#scaledDots}, bitwise as {@link VectorKernels#dot} computes each. */
  static native void scaledDots(float[] q, int qOffset, int heads, float[] keys, int[] keyOffsets, int count, int n,
      float scale, float[] out);

  /** {@link Kernels#weightedSum}, bitwise as {@link VectorKernels#axpy} computes each, j in order. */
  static native void weightedSum(float[] weights, int heads, float[] values, int[] valueOffsets, int count, float[] y,
      int yOffset, int n);
}
