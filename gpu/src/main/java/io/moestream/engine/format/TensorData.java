package io.moestream.engine.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a checkpoint: its dtype, shape and bytes, a little-endian view into a memory-mapped
 * file (never a copy on the Java heap). The engine reads elements straight from {@link #bytes()}.
 */
public final class TensorData {
  private final String name;
  private final String file;
  private final DType dtype;
  private final long[] shape;
  private final ByteBuffer bytes;

  TensorData(String name, String file, DType dtype, long[] shape, ByteBuffer bytes) {
    this.name = name;
    this.file = file;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.bytes = bytes.order(ByteOrder.LITTLE_ENDIAN);
  }

  public String name() {
    return name;
  }

  /** The file the tensor lives in, for error messages. */
  public String file() {
    return file;
  }

  public DType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int axis) {
    return shape[axis];
  }

  public long numElements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** A read-only little-endian view of the tensor's bytes, positioned at 0. */
  public ByteBuffer bytes() {
    return bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Reads element {@code index} as a float, whatever the dtype (slow; for loading small tensors). */
  public float getFloat(long index) {
    int offset = Math.toIntExact(index * dtype.byteSize());
    switch (dtype) {
      case F32:
        return bytes.getFloat(offset);
      case BF16:
        return Float.intBitsToFloat((bytes.getShort(offset) & 0xFFFF) << 16);
      case F16:
        return Numerics.halfToFloat(bytes.getShort(offset));
      case F8_E4M3:
        return Numerics.e4m3ToFloat(bytes.get(offset));
      default:
        throw new CheckpointException(file + ": tensor '" + name + "' is " + dtype + ", not a float type");
    }
  }

  /** Copies the whole tensor into a float array (for small tensors: norms, biases, scales). */
  public float[] toFloatArray() {
    float[] out = new float[Math.toIntExact(numElements())];
    for (int i = 0; i < out.length; i++) {
      out[i] = getFloat(i);
    }
    return out;
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape) + " in " + file;
  }
}
