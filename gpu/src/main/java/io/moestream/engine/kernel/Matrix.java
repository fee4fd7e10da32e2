package io.moestream.engine.kernel;

import io.moestream.engine.format.DType;
import io.moestream.engine.format.Numerics;
import io.moestream.engine.format.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A 2-D weight as the checkpoint stores it: row-major (rows, cols) in F32, BF16 or F16, read in place
 * from the memory-mapped file. {@code y = W x} takes x of length cols and gives y of length rows
 * (PyTorch's {@code nn.Linear} weight layout: (outFeatures, inFeatures)).
 */
public final class Matrix {
  private final String name;
  private final DType dtype;
  private final int rows;
  private final int cols;
  final ByteBuffer bytes;
  final Object segment;

  public Matrix(String name, DType dtype, int rows, int cols, ByteBuffer bytes) {
    if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
      throw new IllegalArgumentException(name + ": matrices must be F32, BF16 or F16, not " + dtype);
    }
    if ((long) rows * cols * dtype.byteSize() != bytes.remaining()) {
      throw new IllegalArgumentException(name + ": " + rows + "x" + cols + " " + dtype + " needs "
          + (long) rows * cols * dtype.byteSize() + " bytes, buffer has " + bytes.remaining());
    }
    this.name = name;
    this.dtype = dtype;
    this.rows = rows;
    this.cols = cols;
    this.bytes = bytes.slice().order(ByteOrder.LITTLE_ENDIAN);
    this.segment = VectorLoads.segmentOf(this.bytes);
  }

  public static Matrix of(TensorData tensor) {
    return new Matrix(tensor.name(), tensor.dtype(), (int) tensor.dim(0), (int) tensor.dim(1), tensor.bytes());
  }

  /** A matrix on the heap from float values (tests and tiny tensors). */
  public static Matrix fromFloats(String name, DType dtype, int rows, int cols, float[] values) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(rows * cols * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
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

  public long byteSize() {
    return (long) rows * cols * dtype.byteSize();
  }

  /** Element (row, col) as a float: the reference definition every kernel must agree with. */
  public float get(int row, int col) {
    int index = (row * cols + col) * dtype.byteSize();
    return switch (dtype) {
      case F32 -> bytes.getFloat(index);
      case BF16 -> Numerics.bf16ToFloat(bytes.getShort(index));
      case F16 -> Numerics.halfToFloat(bytes.getShort(index));
      default -> throw new IllegalStateException();
    };
  }

  /** Copies row {@code row} into {@code out} as floats (embedding lookup). */
  public void copyRow(int row, float[] out, int outOffset) {
    for (int c = 0; c < cols; c++) {
      out[outOffset + c] = get(row, c);
    }
  }

  @Override
  public String toString() {
    return name + " " + dtype + "[" + rows + ", " + cols + "]";
  }
}
