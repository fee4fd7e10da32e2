package io.moestream.engine.kernel;

import io.moestream.engine.format.Numerics;

import jdk.incubator.vector.FloatVector;

/**
 * The activations a matmul multiplies: {@code numTokens} rows of {@code cols} floats, plus the same
 * values in the "paired" order the 16-bit weight kernels read.
 *
 * <p>Why paired: a vector of 2L bf16 weights loaded as L ints holds even elements in the low halves and
 * odd elements in the high halves. Shifting/masking gives two float vectors (evens, odds) without any
 * lane shuffle, so the activations are stored per block of 2L columns as L evens then L odds. Columns
 * past the last full block keep their plain order. Built once per matmul input, shared by every
 * matrix that reads it (q/k/v, or an expert's gate and up projections). Kernels "amx" read their own copies,
 * built on first use: {@link #bf16Tiles} and {@link #q8Activations}.
 */
public final class MatmulInput {
  static final int LANES = FloatVector.SPECIES_PREFERRED.length();
  /** Columns per 16-bit block: one int vector of weights holds this many bf16/f16 values. */
  static final int PAIR_BLOCK = 2 * LANES;

  final float[] plain; // (numTokens, cols)
  private float[] paired; // (numTokens, cols), blocks of PAIR_BLOCK stored as evens then odds; built on first use
  final int numTokens;
  final int cols;

  private MatmulInput(float[] plain, int numTokens, int cols) {
    this.plain = plain;
    this.numTokens = numTokens;
    this.cols = cols;
  }

  /**
   * The values in paired order, built once, on first use (threads and matrices reading this input share it; the
   * AMX kernels never ask for it).
   */
  synchronized float[] paired() {
    if (paired != null) {
      return paired;
    }
    float[] values = new float[pairedFloats(numTokens, cols)];
    int fullBlocks = cols / PAIR_BLOCK;
    for (int t = 0; t < numTokens; t++) {
      int base = t * cols;
      for (int b = 0; b < fullBlocks; b++) {
        int blockStart = base + b * PAIR_BLOCK;
        for (int i = 0; i < LANES; i++) {
          values[blockStart + i] = plain[blockStart + 2 * i];
          values[blockStart + LANES + i] = plain[blockStart + 2 * i + 1];
        }
      }
      for (int c = fullBlocks * PAIR_BLOCK; c < cols; c++) {
        values[base + c] = plain[base + c];
      }
    }
    paired = values;
    return values;
  }

  /** Floats of the paired copy every input makes of its (numTokens, cols) values (the memory plan counts it). */
  public static int pairedFloats(int numTokens, int cols) {
    return numTokens * cols;
  }

  /**
   * Floats of one shifted copy, made per phase when a 16-bit matrix whose data is not 64-byte aligned
   * reads this input: (cols / PAIR_BLOCK + 1) blocks per token.
   */
  public static int shiftedFloats(int numTokens, int cols) {
    return numTokens * (cols + PAIR_BLOCK);
  }

  /** Wraps {@code values} (numTokens, cols) without copying the plain order. */
  public static MatmulInput of(float[] values, int numTokens, int cols) {
    if (values.length < numTokens * cols) {
      throw new IllegalArgumentException("input holds " + values.length + " values, needs " + numTokens * cols);
    }
    return new MatmulInput(values, numTokens, cols);
  }

  private final float[][] shiftedByPhase = new float[PAIR_BLOCK][];
  private int[] bf16Tiles;
  private int[] bf16Rows;
  private Q8Activations q8Activations;

  /**
   * The activations quantized to Q8_0 for the AMX int8 kernel, the A tiles it multiplies (one token a tile row):
   * {@code codes} (paddedTokens, cols) int8 and {@code scales} (paddedTokens, cols / 32) floats, row-major, where
   * paddedTokens is the token count up to 16 and whole groups of 16 beyond (the absent tokens zero).
   */
  record Q8Activations(byte[] codes, float[] scales) {}

  /** Tokens the Q8_0 activation copy holds: the tokens up to one tile, whole tiles of 16 beyond. */
  static int q8PaddedTokens(int numTokens) {
    return numTokens <= TILE_TOKENS ? numTokens : (numTokens + TILE_TOKENS - 1) / TILE_TOKENS * TILE_TOKENS;
  }

  /**
   * {@link Q8Activations} of this input, built once, on first use (threads and matrices reading it share it). Per
   * token and block, as {@code quantize_row_q8_0_ref}: scale = max|x| / 127 (kept as a float, not rounded to
   * FP16: activations may exceed FP16's range), code = roundf(x * (1 / scale)) in [-127, 127]
   * ({@link MatmulQ8Amx#reference} is the plain twin). Columns must be a whole number of blocks, as every Q8_0
   * matrix's are.
   */
  synchronized Q8Activations q8Activations() {
    if (q8Activations != null) {
      return q8Activations;
    }
    int block = Q8Blocks.BLOCK;
    if (cols % block != 0) {
      throw new IllegalStateException("Q8_0 activations need a column count divisible by " + block + ", found " + cols);
    }
    int blocks = cols / block;
    int padded = q8PaddedTokens(numTokens);
    byte[] codes = new byte[padded * cols];
    float[] scales = new float[padded * blocks];
    if (NativeKernels.amxAvailable()) {
      NativeKernels.quantizeQ8(plain, numTokens, cols, codes, scales);
    } else {
      quantizeQ8(plain, numTokens, cols, codes, scales);
    }
    q8Activations = new Q8Activations(codes, scales);
    return q8Activations;
  }

  /**
   * The plain loop of {@link #q8Activations} (the native one, {@link NativeKernels#quantizeQ8}, is bitwise it):
   * tokens rows of x (cols values) to codes (tokens, cols) and scales (tokens, cols / 32).
   */
  static void quantizeQ8(float[] x, int tokens, int cols, byte[] codes, float[] scales) {
    int block = Q8Blocks.BLOCK;
    for (int i = 0; i < tokens * (cols / block); i++) {
      int first = i * block;
      float max = 0f;
      for (int j = 0; j < block; j++) {
        max = Math.max(max, Math.abs(x[first + j]));
      }
      float scale = max / 127f;
      float inverse = scale != 0f ? 1f / scale : 0f;
      for (int j = 0; j < block; j++) {
        codes[first + j] = (byte) Q8Blocks.roundHalfAwayFromZero(x[first + j] * inverse);
      }
      scales[i] = scale;
    }
  }

  /** Tokens per AMX activation tile (one C tile's columns) and columns per tile (64 bytes of BF16). */
  static final int TILE_TOKENS = 16;
  static final int TILE_COLS = 32;

  /**
   * Ints of {@link #bf16Tiles}: one BF16 pair per token and two columns (the columns padded to whole chunks of 32).
   * Smaller than the shifted copies the memory plan counts for 16-bit weights (which kernels "amx" do not make).
   */
  static int bf16TileInts(int numTokens, int cols) {
    int chunks = (cols + TILE_COLS - 1) / TILE_COLS;
    return numTokens * chunks * TILE_COLS / 2;
  }

  /**
   * The activations rounded to BF16 ({@link Numerics#floatToBf16}: nearest even) as the AMX kernel's B tiles: per group of
   * 16 tokens (the last group holds the remaining 1-15, a narrower tile) and chunk of 32 columns, 16 rows (column
   * pairs) of the group's tokens, each int holding (even column) | (odd column) << 16, zero where a column does not
   * exist. A group of w tokens starts at 16 * (its first token) * chunks ints; token n of it, columns c and c + 1,
   * are at {@code start + (c / 2) * w + n}. Narrow groups keep a small batch's B tiles to what it holds: one token
   * is 64 bytes a chunk, not 1 KiB. Built once, on first use (threads and matrices reading this input share it: q,
   * k and v; an expert's gate and up).
   */
  synchronized int[] bf16Tiles() {
    if (bf16Tiles != null) {
      return bf16Tiles;
    }
    int[] tiles = new int[bf16TileInts(numTokens, cols)];
    if (NativeKernels.amxAvailable()) {
      NativeKernels.packBf16Tiles(plain, numTokens, cols, tiles);
    } else {
      packBf16Tiles(plain, numTokens, cols, tiles);
    }
    bf16Tiles = tiles;
    return tiles;
  }

  /** Ints of {@link #bf16Rows}: per token, its columns padded to whole chunks of 32 as BF16 pairs. */
  static int bf16RowInts(int numTokens, int cols) {
    return bf16TileInts(numTokens, cols);
  }

  /**
   * The activations rounded to BF16 as {@link #bf16Tiles} rounds them, row-major for the AVX512_BF16 kernel
   * ({@link MatmulBf16Dot}): token t's columns c and c + 1 in the int at {@code t * chunks * 16 + c / 2} as
   * (even column) | (odd column) << 16, zero past the last column. Built once, on first use (threads and matrices
   * reading this input share it).
   */
  synchronized int[] bf16Rows() {
    if (bf16Rows != null) {
      return bf16Rows;
    }
    int[] rows = new int[bf16RowInts(numTokens, cols)];
    if (NativeKernels.bf16DotAvailable()) {
      NativeKernels.packBf16Rows(plain, numTokens, cols, rows);
    } else {
      packBf16Rows(plain, numTokens, cols, rows);
    }
    bf16Rows = rows;
    return rows;
  }

  /**
   * The plain loop of {@link #bf16Rows} (the native one, {@link NativeKernels#packBf16Rows}, is bitwise it): x
   * (tokens, cols) into {@code rows} (zeroed, {@link #bf16RowInts} long).
   */
  static void packBf16Rows(float[] x, int numTokens, int cols, int[] rows) {
    int rowInts = (cols + TILE_COLS - 1) / TILE_COLS * TILE_COLS / 2;
    for (int t = 0; t < numTokens; t++) {
      packBf16Pairs(x, t, cols, rows, t * rowInts, 1);
    }
  }

  /**
   * Token t's columns of x (tokens, cols) rounded to BF16 as (even column) | (odd column) << 16, the pair of columns
   * 2p and 2p + 1 at {@code to[base + p * stride]} (zero for a missing odd column): both packers' rounding.
   */
  private static void packBf16Pairs(float[] x, int t, int cols, int[] to, int base, int stride) {
    int row = t * cols;
    for (int c = 0; c < cols; c += 2) {
      int even = Numerics.floatToBf16(x[row + c]) & 0xFFFF;
      int odd = c + 1 < cols ? Numerics.floatToBf16(x[row + c + 1]) & 0xFFFF : 0;
      to[base + (c / 2) * stride] = even | (odd << 16);
    }
  }

  /**
   * The plain loop of {@link #bf16Tiles} (the native one, {@link NativeKernels#packBf16Tiles}, is bitwise it): x
   * (tokens, cols) into {@code tiles} (zeroed, {@link #bf16TileInts} long).
   */
  static void packBf16Tiles(float[] x, int numTokens, int cols, int[] tiles) {
    int chunks = (cols + TILE_COLS - 1) / TILE_COLS;
    for (int t = 0; t < numTokens; t++) {
      int first = t / TILE_TOKENS * TILE_TOKENS;
      int width = Math.min(TILE_TOKENS, numTokens - first);
      packBf16Pairs(x, t, cols, tiles, first * chunks * TILE_COLS / 2 + (t - first), width);
    }
  }

  /**
   * The paired activations for reading a matrix in aligned chunks that start {@code phase} elements
   * before each row: per token, (cols / PAIR_BLOCK + 1) blocks over the virtual columns
   * [-phase, cols + PAIR_BLOCK - phase), zero outside [0, cols) so the neighbouring rows' weights in the
   * first and last chunk contribute nothing. Built once per phase, on first use (threads share it).
   */
  synchronized float[] pairedShifted(int phase) {
    float[] shifted = shiftedByPhase[phase];
    if (shifted != null) {
      return shifted;
    }
    int stride = cols + PAIR_BLOCK;
    shifted = new float[shiftedFloats(numTokens, cols)];
    for (int t = 0; t < numTokens; t++) {
      for (int j = 0; j < stride; j++) {
        int column = j - phase;
        if (column < 0 || column >= cols) {
          continue;
        }
        int block = j / PAIR_BLOCK;
        int within = j % PAIR_BLOCK;
        int slot = within % 2 == 0 ? within / 2 : LANES + within / 2;
        shifted[t * stride + block * PAIR_BLOCK + slot] = plain[t * cols + column];
      }
    }
    shiftedByPhase[phase] = shifted;
    return shifted;
  }

  public int numTokens() {
    return numTokens;
  }

  public int cols() {
    return cols;
  }
}
