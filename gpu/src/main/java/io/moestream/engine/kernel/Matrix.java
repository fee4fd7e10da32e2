package io.moestream.engine.kernel;

import io.moestream.engine.format.DType;
import io.moestream.engine.format.Numerics;
import io.moestream.engine.format.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A 2-D weight as the checkpoint stores it: row-major (rows, cols) in F32, BF16 or F16, or FP8 E4M3
 * with one float scale per (blockRows, blockCols) block (DeepSeek-V3's {@code weight_scale_inv}: the
 * real weight is {@code e4m3 * scale}), read in place from the memory-mapped file. {@code y = W x} takes x of
 * length cols and gives y of length rows (PyTorch's {@code nn.Linear} weight layout: (outFeatures, inFeatures)).
 *
 * <p>A matrix larger than one mapped window (a 2.35 GB LM head) is split by rows into parts, each a
 * Matrix over one window's buffer that knows its first row in the whole: kernels run part by part and
 * write each part's rows at their place in the output, and FP8 parts index the shared block scales by
 * their absolute row. Ordinary matrices are one part and take the same single-buffer path as before.
 *
 * <p>Two layouts serve gpt-oss's stacked expert tensors, each expert a view into the checkpoint's
 * {@code (numExperts, ...)} tensor (no copy): MXFP4 (OCP microscaling: E2M1 codes, two a byte with the
 * even column in the low nibble, and one E8M0 exponent per 32 values of a row, from the
 * {@code *_blocks} / {@code *_scales} pair, already in (out, in) order), and a transposed 16/32-bit
 * matrix whose bytes are W's transpose row-major ({@code (cols, rows)}: the BF16 checkpoints store
 * {@code gate_up_proj} as (hidden, 2 * intermediate), the input dimension first).
 *
 * <p>One kind lives in memory rather than in the mapping: Q8_0 ({@code --weights int8}, {@link Q8Blocks}),
 * int8 codes plus one float scale per 32 values of a row, quantized at load, in groups of 16 rows interleaved
 * by 4 codes (the layout {@link Q8Blocks} describes).
 */
public final class Matrix {
  private final String name;
  private final DType dtype;
  private final int rows;
  private final int cols;
  final ByteBuffer bytes;
  final Object segment;
  private final int misalignment;
  /** FP8 only: (ceil(rows / blockRows), ceil(cols / blockCols)) scales, row-major; else null. */
  final float[] blockScales;
  final int blockRows;
  final int blockCols;
  final int scaleCols;
  /** This matrix's first row in the matrix it is a part of (0 if it is whole): output rows, FP8 scale rows. */
  final int firstRow;
  /** Rows of the whole matrix: the stride of a token's outputs. */
  final int outRows;
  /** Split matrices only: parts of {@link #partRows} rows (the last may hold fewer), else null. */
  final Matrix[] parts;
  private final int partRows;
  /** MXFP4 only: (rows, cols / 32) E8M0 exponents, row-major, mapped in place; else null. */
  final ByteBuffer e8m0Scales;
  /** Q8_0 only: float32 scales, per group of 16 rows and block one a row ({@link Q8Blocks}), in direct memory; else null. */
  final ByteBuffer q8Scales;
  /** Q8_0 only: {@link #q8Scales} as a memory segment where the JDK has them ({@link VectorLoads}), else null. */
  final Object q8ScaleSegment;
  /** The bytes hold W's transpose, row-major (cols, rows); kernels read W[r, c] at {@code c * rows + r}. */
  final boolean transposed;

  /** Values of one MXFP4 row that share an E8M0 scale. */
  public static final int MXFP4_BLOCK = 32;

  public Matrix(String name, DType dtype, int rows, int cols, ByteBuffer bytes) {
    this(name, dtype, rows, cols, bytes, null, 0, 0, 0, rows, null, false);
    if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
      throw new IllegalArgumentException(name + ": matrices must be F32, BF16 or F16 (or FP8 with block scales), not "
          + dtype);
    }
  }

  private Matrix(String name, DType dtype, int rows, int cols, ByteBuffer bytes, float[] blockScales, int blockRows,
      int blockCols, int firstRow, int outRows, ByteBuffer byteScales, boolean transposed) {
    long dataBytes = dtype == DType.MXFP4 ? (long) rows * cols / 2
        : dtype == DType.Q8_0 ? Q8Blocks.paddedRows(rows) * cols : (long) rows * cols * dtype.byteSize();
    if (dataBytes != bytes.remaining()) {
      throw new IllegalArgumentException(name + ": " + rows + "x" + cols + " " + dtype + " needs "
          + dataBytes + " bytes, buffer has " + bytes.remaining());
    }
    ByteBuffer scales = byteScales == null ? null : byteScales.slice().order(ByteOrder.LITTLE_ENDIAN);
    this.e8m0Scales = dtype == DType.MXFP4 ? scales : null;
    this.q8Scales = dtype == DType.Q8_0 ? scales : null;
    this.q8ScaleSegment = q8Scales == null ? null : VectorLoads.segmentOf(q8Scales);
    this.transposed = transposed;
    this.name = name;
    this.dtype = dtype;
    this.rows = rows;
    this.cols = cols;
    this.bytes = bytes.slice().order(ByteOrder.LITTLE_ENDIAN);
    this.segment = VectorLoads.segmentOf(this.bytes);
    this.misalignment = alignmentOf(this.bytes);
    this.blockScales = blockScales;
    this.blockRows = blockRows;
    this.blockCols = blockCols;
    this.scaleCols = blockCols > 0 ? (cols + blockCols - 1) / blockCols : 0;
    this.firstRow = firstRow;
    this.outRows = outRows;
    this.parts = null;
    this.partRows = rows;
  }

  /** A matrix of several parts: {@code tensor}'s row chunks, FP8 ones sharing {@code blockScales}. */
  private Matrix(TensorData tensor, int rows, int cols, float[] blockScales, int blockRows, int blockCols) {
    this.name = tensor.name();
    this.dtype = tensor.dtype();
    this.rows = rows;
    this.cols = cols;
    this.bytes = null;
    this.segment = null;
    this.misalignment = -1;
    this.blockScales = blockScales;
    this.blockRows = blockRows;
    this.blockCols = blockCols;
    this.scaleCols = blockCols > 0 ? (cols + blockCols - 1) / blockCols : 0;
    this.firstRow = 0;
    this.outRows = rows;
    this.e8m0Scales = null;
    this.q8Scales = null;
    this.q8ScaleSegment = null;
    this.transposed = false;
    this.partRows = Math.toIntExact(tensor.rowsPerChunk());
    this.parts = new Matrix[tensor.rowChunks()];
    for (int i = 0; i < parts.length; i++) {
      int first = i * partRows;
      parts[i] = new Matrix(name, dtype, Math.min(partRows, rows - first), cols, tensor.rowChunk(i), blockScales,
          blockRows, blockCols, first, rows, null, false);
    }
  }

  /**
   * An FP8 E4M3 weight with block scales, (ceil(rows / blockRows), ceil(cols / blockCols)) row-major. The
   * bytes stay where they are; kernels dequantize as they read.
   */
  public static Matrix fp8(String name, int rows, int cols, ByteBuffer bytes, float[] blockScales, int blockRows,
      int blockCols) {
    checkFp8(name, rows, cols, blockScales, blockRows, blockCols);
    return new Matrix(name, DType.F8_E4M3, rows, cols, bytes, blockScales.clone(), blockRows, blockCols, 0, rows,
        null, false);
  }

  /**
   * An MXFP4 weight (rows, cols) read in place: {@code blocks} holds rows * cols / 2 bytes (the
   * {@code *_blocks} tensor's (rows, cols / 32, 16) bytes of one expert), {@code scales} rows * cols / 32
   * E8M0 exponents (its {@code *_scales}). W[r, c] = e2m1(nibble c of row r) * 2^(scale[r, c / 32] - 127).
   */
  public static Matrix mxfp4(String name, int rows, int cols, ByteBuffer blocks, ByteBuffer scales) {
    if (cols % MXFP4_BLOCK != 0) {
      throw new IllegalArgumentException(name + ": MXFP4 matrices need cols divisible by " + MXFP4_BLOCK + ", found "
          + cols);
    }
    if (scales.remaining() != (long) rows * (cols / MXFP4_BLOCK)) {
      throw new IllegalArgumentException(name + ": " + rows + "x" + cols + " MXFP4 needs " + rows * (cols / MXFP4_BLOCK)
          + " scale bytes, found " + scales.remaining());
    }
    return new Matrix(name, DType.MXFP4, rows, cols, blocks, null, 0, 0, 0, rows, scales, false);
  }

  /**
   * A Q8_0 weight (rows, cols) in {@link Q8Blocks}'s layout, rows padded to groups of 16: {@code codes}
   * paddedRows * cols int8 values, {@code scales} paddedRows * cols / 32 little-endian float32 scales;
   * W[r, c] = code(r, c) * scale(r, c / 32). Built by {@link Q8Blocks}.
   */
  static Matrix q8(String name, int rows, int cols, ByteBuffer codes, ByteBuffer scales) {
    long scaleBytes = Q8Blocks.paddedRows(rows) * (cols / Q8Blocks.BLOCK) * Float.BYTES;
    if (cols % Q8Blocks.BLOCK != 0 || scales.remaining() != scaleBytes) {
      throw new IllegalArgumentException(name + ": " + rows + "x" + cols + " Q8_0 needs cols divisible by "
          + Q8Blocks.BLOCK + " and " + scaleBytes + " scale bytes, found " + scales.remaining());
    }
    return new Matrix(name, DType.Q8_0, rows, cols, codes, null, 0, 0, 0, rows, scales, false);
  }

  /**
   * W (rows, cols) whose bytes hold its transpose row-major, (cols, rows) in F32, BF16 or F16: one expert of
   * gpt-oss's BF16 {@code gate_up_proj} (hidden, 2 * intermediate) or {@code down_proj} (intermediate, hidden).
   */
  public static Matrix transposed(String name, DType dtype, int rows, int cols, ByteBuffer bytes) {
    if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
      throw new IllegalArgumentException(name + ": transposed matrices must be F32, BF16 or F16, not " + dtype);
    }
    return new Matrix(name, dtype, rows, cols, bytes, null, 0, 0, 0, rows, null, true);
  }


  /** An FP8 weight read in place from {@code weight}, which may span several mapped windows. */
  public static Matrix fp8(TensorData weight, float[] blockScales, int blockRows, int blockCols) {
    int rows = (int) weight.dim(0);
    int cols = (int) weight.dim(1);
    if (weight.rowChunks() == 1) {
      return fp8(weight.name(), rows, cols, weight.bytes(), blockScales, blockRows, blockCols);
    }
    checkFp8(weight.name(), rows, cols, blockScales, blockRows, blockCols);
    return new Matrix(weight, rows, cols, blockScales.clone(), blockRows, blockCols);
  }

  private static void checkFp8(String name, int rows, int cols, float[] blockScales, int blockRows, int blockCols) {
    if (blockRows < 1 || blockCols < 1) {
      throw new IllegalArgumentException(name + ": FP8 block size must be positive, not " + blockRows + "x"
          + blockCols);
    }
    int expected = ((rows + blockRows - 1) / blockRows) * ((cols + blockCols - 1) / blockCols);
    if (blockScales.length != expected) {
      throw new IllegalArgumentException(name + ": " + rows + "x" + cols + " in " + blockRows + "x" + blockCols
          + " blocks needs " + expected + " scales, found " + blockScales.length);
    }
  }

  /**
   * Quantizes {@code values} (rows, cols) to FP8 E4M3 the way DeepSeek's block quantizer does: each block's
   * scale is its largest magnitude / 448 (tests and test models).
   */
  public static Matrix fp8FromFloats(String name, int rows, int cols, float[] values, int blockRows, int blockCols) {
    int scaleRows = (rows + blockRows - 1) / blockRows;
    int scaleCols = (cols + blockCols - 1) / blockCols;
    float[] scales = new float[scaleRows * scaleCols];
    byte[] quantized = new byte[rows * cols];
    fp8Quantize(values, rows, cols, blockRows, blockCols, quantized, scales);
    ByteBuffer buffer = ByteBuffer.allocateDirect(rows * cols).order(ByteOrder.LITTLE_ENDIAN);
    buffer.put(quantized).flip();
    return fp8(name, rows, cols, buffer, scales, blockRows, blockCols);
  }

  /** values (rows, cols) -> e4m3 codes and per-block scales (amax / 448; 1 for an all-zero block). */
  public static void fp8Quantize(float[] values, int rows, int cols, int blockRows, int blockCols, byte[] quantized,
      float[] scales) {
    int scaleCols = (cols + blockCols - 1) / blockCols;
    for (int br = 0; br * blockRows < rows; br++) {
      for (int bc = 0; bc * blockCols < cols; bc++) {
        float amax = 0;
        for (int r = br * blockRows; r < Math.min(rows, (br + 1) * blockRows); r++) {
          for (int c = bc * blockCols; c < Math.min(cols, (bc + 1) * blockCols); c++) {
            amax = Math.max(amax, Math.abs(values[r * cols + c]));
          }
        }
        float scale = amax > 0 ? amax / 448f : 1f;
        scales[br * scaleCols + bc] = scale;
        for (int r = br * blockRows; r < Math.min(rows, (br + 1) * blockRows); r++) {
          for (int c = bc * blockCols; c < Math.min(cols, (bc + 1) * blockCols); c++) {
            quantized[r * cols + c] = Numerics.floatToE4m3(values[r * cols + c] / scale);
          }
        }
      }
    }
  }

  public static Matrix of(TensorData tensor) {
    int rows = (int) tensor.dim(0);
    int cols = (int) tensor.dim(1);
    if (tensor.rowChunks() == 1) {
      return new Matrix(tensor.name(), tensor.dtype(), rows, cols, tensor.bytes());
    }
    if (tensor.dtype() != DType.F32 && tensor.dtype() != DType.BF16 && tensor.dtype() != DType.F16) {
      throw new IllegalArgumentException(tensor.name() + ": matrices must be F32, BF16 or F16 (or FP8 with block"
          + " scales), not " + tensor.dtype());
    }
    return new Matrix(tensor, rows, cols, null, 0, 0);
  }

  /** A matrix in direct memory from float values (tests and tiny tensors). */
  public static Matrix fromFloats(String name, DType dtype, int rows, int cols, float[] values) {
    return fromFloats(name, dtype, rows, cols, values, 0);
  }

  /** As {@link #fromFloats(String, DType, int, int, float[])}, with the data {@code misalignment} bytes past a 64-byte boundary. */
  public static Matrix fromFloats(String name, DType dtype, int rows, int cols, float[] values, int misalignment) {
    // 192 spare bytes leave at least 129 after aligning: room for any misalignment up to 63 and more
    ByteBuffer block = ByteBuffer.allocateDirect(rows * cols * dtype.byteSize() + 192).alignedSlice(64);
    block.position(misalignment);
    ByteBuffer buffer = block.slice().order(ByteOrder.LITTLE_ENDIAN);
    buffer.limit(rows * cols * dtype.byteSize());
    for (float v : values) {
      switch (dtype) {
        case F32 -> buffer.putFloat(v);
        case BF16 -> buffer.putShort(Numerics.floatToBf16(v));
        case F16 -> buffer.putShort(Numerics.floatToHalf(v));
        default -> throw new IllegalArgumentException(dtype.toString());
      }
    }
    buffer.flip();
    return new Matrix(name, dtype, rows, cols, buffer);
  }


  public String name() {
    return name;
  }

  public DType dtype() {
    return dtype;
  }

  public int rows() {
    return rows;
  }

  public int cols() {
    return cols;
  }

  /** The data's address modulo 64 (one cache line), or -1 where the platform cannot tell. */
  private static int alignmentOf(ByteBuffer buffer) {
    if (!buffer.isDirect()) {
      return -1;
    }
    try {
      return buffer.alignmentOffset(0, 64);
    } catch (UnsupportedOperationException e) {
      return -1;
    }
  }

  /**
   * Bytes past the last 64-byte boundary at which the data starts (-1 if unknown). Rows of a matrix
   * whose row length is a multiple of 64 bytes all share it, so kernels can read aligned chunks.
   */
  public int misalignment() {
    return misalignment;
  }

  /** Direct memory this matrix owns rather than maps: Q8_0's codes and scales (quantized at load), else 0. */
  public long ownedBytes() {
    return dtype == DType.Q8_0 ? byteSize() : 0;
  }

  /** Heap this matrix holds beside its mapped data: FP8 block scales (float32), else nothing. */
  public long heapBytes() {
    return blockScales == null ? 0 : (long) blockScales.length * Float.BYTES;
  }

  /** Bytes a full read of the matrix touches (FP8, MXFP4 and Q8_0: the codes plus their scales). */
  public long byteSize() {
    if (dtype == DType.Q8_0) {
      return Q8Blocks.bytes(rows, cols);
    }
    if (dtype == DType.MXFP4) {
      return (long) rows * cols / 2 + (long) rows * (cols / MXFP4_BLOCK);
    }
    long scaleBytes = blockScales == null ? 0 : (long) blockScales.length * Float.BYTES;
    return (long) rows * cols * dtype.byteSize() + scaleBytes;
  }

  /** FP8: the scale of the block holding (row, col), row counted within this part. */
  float blockScale(int row, int col) {
    return blockScales[((firstRow + row) / blockRows) * scaleCols + col / blockCols];
  }

  /** Q8_0: the scale of block {@code block} of row {@code row}. */
  float q8Scale(int row, int block) {
    return q8Scales.getFloat(Q8Blocks.scaleIndex(row, block, cols / Q8Blocks.BLOCK) * Float.BYTES);
  }

  /** Q8_0: the int8 code of (row, col). */
  byte q8Code(int row, int col) {
    return bytes.get(Q8Blocks.codeIndex(row, col, cols));
  }

  /** Split matrices: the part holding {@code row}. */
  Matrix partOf(int row) {
    return parts[row / partRows];
  }

  /** Rows [start, end) of one part, counted within the part. */
  interface PartRows {
    void run(Matrix part, int start, int end);
  }

  /**
   * Runs {@code action} on every part of split matrix {@code w} that holds rows of [rowStart, rowEnd),
   * with those rows counted within the part; kernels write them at {@code firstRow + row} of the output.
   */
  static void forEachPart(Matrix w, int rowStart, int rowEnd, PartRows action) {
    for (Matrix part : w.parts) {
      int start = Math.max(rowStart, part.firstRow);
      int end = Math.min(rowEnd, part.firstRow + part.rows);
      if (start < end) {
        action.run(part, start - part.firstRow, end - part.firstRow);
      }
    }
  }

  /** Number of mapped buffers the matrix is read from: 1, or one per window it spans. */
  public int partCount() {
    return parts == null ? 1 : parts.length;
  }

  /** Element (row, col) as a float: the reference definition every kernel must agree with. */
  public float get(int row, int col) {
    if (parts != null) {
      Matrix part = partOf(row);
      return part.get(row - part.firstRow, col);
    }
    if (dtype == DType.MXFP4) {
      return (float) mxfp4Value(row, col);
    }
    int index = (transposed ? col * rows + row : row * cols + col) * dtype.byteSize();
    return switch (dtype) {
      case F32 -> bytes.getFloat(index);
      case BF16 -> Numerics.bf16ToFloat(bytes.getShort(index));
      case F16 -> Numerics.halfToFloat(bytes.getShort(index));
      case F8_E4M3 -> E4M3[bytes.get(index) & 0xFF] * blockScale(row, col);
      case Q8_0 -> q8Code(row, col) * q8Scale(row, col / Q8Blocks.BLOCK);
      default -> throw new IllegalStateException();
    };
  }

  /**
   * MXFP4 element (row, col) of a single-part matrix in double: exact for every code and scale, also where
   * code * 2^(e - 127) exceeds float (scales 253 and 254), so the scalar twin's sums match the format's.
   */
  double mxfp4Value(int row, int col) {
    int packed = bytes.get((row * cols + col) / 2) & 0xFF;
    int scale = e8m0Scales.get(row * (cols / MXFP4_BLOCK) + col / MXFP4_BLOCK) & 0xFF;
    double value = Numerics.e2m1ToFloat(col % 2 == 0 ? packed : packed >>> 4);
    return scale == Numerics.E8M0_NAN ? Double.NaN : Math.scalb(value, scale - 127);
  }

  /** Copies row {@code row} into {@code out} as floats (embedding lookup). */
  public void copyRow(int row, float[] out, int outOffset) {
    // The same values as get(row, c), with the dtype switch outside the loop (MLA decodes kv_b_proj
    // rows with this every step).
    if (parts != null) {
      Matrix part = partOf(row);
      part.copyRow(row - part.firstRow, out, outOffset);
      return;
    }
    int base = row * cols;
    if (transposed || dtype == DType.MXFP4) {
      for (int c = 0; c < cols; c++) {
        out[outOffset + c] = get(row, c);
      }
      return;
    }
    switch (dtype) {
      case F32 -> {
        for (int c = 0; c < cols; c++) {
          out[outOffset + c] = bytes.getFloat((base + c) * 4);
        }
      }
      case BF16 -> VectorLoads.bf16sToFloats(bytes, segment, (long) base * 2, out, outOffset, cols);
      case Q8_0 -> {
        for (int c0 = 0; c0 < cols; c0 += Q8Blocks.BLOCK) {
          float scale = q8Scale(row, c0 / Q8Blocks.BLOCK);
          for (int c = c0; c < c0 + Q8Blocks.BLOCK; c++) {
            out[outOffset + c] = q8Code(row, c) * scale;
          }
        }
      }
      case F8_E4M3 -> {
        int scaleRow = ((firstRow + row) / blockRows) * scaleCols;
        for (int c0 = 0, block = 0; c0 < cols; c0 += blockCols, block++) {
          float scale = blockScales[scaleRow + block];
          for (int c = c0; c < Math.min(cols, c0 + blockCols); c++) {
            out[outOffset + c] = E4M3[bytes.get(base + c) & 0xFF] * scale;
          }
        }
      }
      default -> {
        for (int c = 0; c < cols; c++) {
          out[outOffset + c] = get(row, c);
        }
      }
    }
  }

  /**
   * Rows [rowStart, rowEnd) as the checkpoint stores them (little-endian), put into {@code out} from its
   * position on: a BF16 matrix goes to the GPU without a conversion. 16/32-bit row-major matrices only.
   */
  public void copyRawRows(int rowStart, int rowEnd, ByteBuffer out) {
    if (transposed || dtype.byteSize() < 2) {
      throw new UnsupportedOperationException(name + ": raw rows of " + dtype + (transposed ? " (transposed)" : ""));
    }
    if (parts != null) {
      forEachPart(this, rowStart, rowEnd, (part, start, end) -> part.copyRawRows(start, end, out));
      return;
    }
    int rowBytes = cols * dtype.byteSize();
    out.put(bytes.slice(rowStart * rowBytes, (rowEnd - rowStart) * rowBytes));
  }

  /** Every E4M3 code as a float ({@link Numerics#e4m3ToFloat}). */
  private static final float[] E4M3 = new float[256];

  static {
    for (int code = 0; code < 256; code++) {
      E4M3[code] = Numerics.e4m3ToFloat((byte) code);
    }
  }

  @Override
  public String toString() {
    return name + " " + dtype + "[" + rows + ", " + cols + "]" + (transposed ? " (stored transposed)" : "");
  }
}
