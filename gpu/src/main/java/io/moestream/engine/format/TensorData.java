package io.moestream.engine.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a checkpoint: its dtype, shape and bytes, a little-endian view into a memory-mapped
 * file (a heap copy only for the small vectors and block scales {@link SafetensorsFile} reads rather than
 * maps). The engine reads elements straight from {@link #bytes()}.
 *
 * <p>A tensor larger than one mapped window (DeepSeek-V3's and Kimi-K2's embeddings and LM heads, up
 * to 2.35 GB) is held as several chunks of whole rows along its first dimension, one per window, so
 * every row stays inside one int-indexed buffer: {@link #rowChunk}. Such a tensor has no single
 * {@link #bytes()} view.
 */
public final class TensorData {
  private final String name;
  private final String file;
  private final DType dtype;
  private final long[] shape;
  /** The whole tensor, or null when it spans several windows. */
  private final ByteBuffer bytes;
  /** Split tensors only: chunks of {@link #rowsPerChunk} rows (the last may hold fewer); else null. */
  private final ByteBuffer[] chunks;
  private final long rowsPerChunk;

  TensorData(String name, String file, DType dtype, long[] shape, ByteBuffer bytes) {
    this(name, file, dtype, shape, bytes, null, 0);
  }

  TensorData(String name, String file, DType dtype, long[] shape, ByteBuffer[] chunks, long rowsPerChunk) {
    this(name, file, dtype, shape, null, chunks, rowsPerChunk);
  }

  private TensorData(String name, String file, DType dtype, long[] shape, ByteBuffer bytes, ByteBuffer[] chunks,
      long rowsPerChunk) {
    this.name = name;
    this.file = file;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.bytes = bytes == null ? null : bytes.order(ByteOrder.LITTLE_ENDIAN);
    this.chunks = chunks == null ? null : chunks.clone();
    if (this.chunks != null) {
      for (ByteBuffer chunk : this.chunks) {
        chunk.order(ByteOrder.LITTLE_ENDIAN);
      }
    }
    this.rowsPerChunk = rowsPerChunk;
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
    if (bytes == null) {
      throw new CheckpointException(file + ": tensor '" + name + "' " + dtype + Arrays.toString(shape) + " spans "
          + chunks.length + " mapped windows and has no single byte view; read it by rows (rowChunk)");
    }
    return bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Number of row chunks: 1 for a tensor inside one window. */
  public int rowChunks() {
    return chunks == null ? 1 : chunks.length;
  }

  /** Rows (first dimension) per chunk; every chunk but the last holds exactly this many. */
  public long rowsPerChunk() {
    return chunks == null ? (shape.length == 0 ? 1 : shape[0]) : rowsPerChunk;
  }

  /** A little-endian view of chunk {@code i}'s bytes (whole rows), positioned at 0. */
  public ByteBuffer rowChunk(int i) {
    if (chunks == null) {
      if (i != 0) {
        throw new IndexOutOfBoundsException(name + ": chunk " + i + " of 1");
      }
      return bytes();
    }
    return chunks[i].duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * A little-endian view of the sub-tensor at {@code index} of the first dimension (one expert of
   * gpt-oss's stacked {@code (numExperts, ...)} tensors), positioned at 0. Chunks hold whole first-dimension
   * entries, so the view is always inside one mapped window.
   */
  public ByteBuffer firstDimSlice(int index) {
    if (index < 0 || index >= shape[0]) {
      throw new IndexOutOfBoundsException(file + ": tensor '" + name + "' has " + shape[0] + " entries along its"
          + " first dimension, asked for " + index);
    }
    long entryBytes = numElements() / shape[0] * dtype.byteSize();
    long perChunk = rowsPerChunk();
    ByteBuffer chunk = rowChunk((int) (index / perChunk));
    return chunk.slice(Math.toIntExact((index % perChunk) * entryBytes), Math.toIntExact(entryBytes))
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Reads element {@code index} as a float, whatever the dtype (slow; for loading small tensors). */
  public float getFloat(long index) {
    long byteOffset = index * dtype.byteSize();
    ByteBuffer buffer = bytes;
    if (buffer == null) {
      long chunkBytes = rowsPerChunk * (numElements() / shape[0]) * dtype.byteSize();
      buffer = chunks[(int) (byteOffset / chunkBytes)];
      byteOffset %= chunkBytes;
    }
    int offset = Math.toIntExact(byteOffset);
    switch (dtype) {
      case F32:
        return buffer.getFloat(offset);
      case BF16:
        return Float.intBitsToFloat((buffer.getShort(offset) & 0xFFFF) << 16);
      case F16:
        return Numerics.halfToFloat(buffer.getShort(offset));
      case F8_E4M3:
        return Numerics.e4m3ToFloat(buffer.get(offset));
      case U8:
        return buffer.get(offset) & 0xFF;
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
