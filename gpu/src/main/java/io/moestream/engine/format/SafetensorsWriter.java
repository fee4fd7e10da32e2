package io.moestream.engine.format;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes a {@code .safetensors} file as the reference implementation does: the JSON header padded with
 * spaces to a multiple of 8 bytes, tensors in the order added, {@code __metadata__ {"format":"pt"}}.
 * Values are produced chunk by chunk at write time, so multi-gigabyte files need little memory.
 * {@link #writeHeaderOnly} writes the header and leaves the data a hole (a sparse file: a released
 * checkpoint's layout in kilobytes of disk).
 */
public final class SafetensorsWriter {
  private static final int CHUNK = 1 << 20;

  /** Produces a tensor's values in order: fills {@code buffer[0..count)} with elements from {@code start}. */
  @FunctionalInterface
  public interface ValueSource {
    void fill(float[] buffer, long start, int count);
  }

  /** Produces a tensor's raw little-endian bytes in order: fills {@code buffer[0..count)} from byte {@code start}. */
  @FunctionalInterface
  public interface ByteSource {
    void fill(byte[] buffer, long start, int count);
  }

  /** One tensor; at most one of values, raw and bytes is set (none: declared for a header-only file). */
  private record Pending(String name, DType dtype, long[] shape, ValueSource values, byte[] raw, ByteSource bytes) {
    long numElements() {
      return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    }

    long byteLength() {
      return raw != null ? raw.length : numElements() * dtype.byteSize();
    }
  }

  private final List<Pending> tensors = new ArrayList<>();

  /** Adds a tensor whose float values are converted to {@code dtype} (F32, BF16 or F16). */
  public SafetensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
    long expected = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    if (expected != values.length) {
      throw new IllegalArgumentException(name + ": shape needs " + expected + " values, got " + values.length);
    }
    return add(name, dtype, shape, (buffer, start, count) -> System.arraycopy(values, (int) start, buffer, 0, count));
  }

  /** Adds a tensor whose values {@code source} produces while the file is written. */
  public SafetensorsWriter add(String name, DType dtype, long[] shape, ValueSource source) {
    if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
      throw new IllegalArgumentException(name + ": cannot write floats as " + dtype);
    }
    tensors.add(new Pending(name, dtype, shape.clone(), source, null, null));
    return this;
  }

  /** Adds a tensor of any dtype whose raw bytes {@code source} produces while the file is written. */
  public SafetensorsWriter addBytes(String name, DType dtype, long[] shape, ByteSource source) {
    tensors.add(new Pending(name, dtype, shape.clone(), null, null, source));
    return this;
  }

  /** Declares a tensor with no data: only for {@link #writeHeaderOnly}. */
  public SafetensorsWriter declare(String name, DType dtype, long[] shape) {
    tensors.add(new Pending(name, dtype, shape.clone(), null, null, null));
    return this;
  }

  /** Adds a tensor from its raw little-endian bytes (any dtype, FP8 included). */
  public SafetensorsWriter addRaw(String name, DType dtype, long[] shape, byte[] data) {
    tensors.add(new Pending(name, dtype, shape.clone(), null, data.clone(), null));
    return this;
  }

  /**
   * The header and the file's full length, the data left unwritten: the file system keeps it as a hole
   * that reads as zeros, so the file takes the header's blocks only. Returns the file's length.
   */
  public long writeHeaderOnly(Path file) throws IOException {
    byte[] header = header();
    long length = header.length;
    for (Pending t : tensors) {
      length += t.byteLength();
    }
    try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
      out.setLength(0);
      out.write(header);
      out.setLength(length);
    }
    return length;
  }

  public void write(Path file) throws IOException {
    byte[] header = header();
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      out.write(header);
      float[] values = new float[CHUNK];
      ByteBuffer bytes = ByteBuffer.allocate(CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (Pending t : tensors) {
        if (t.raw != null) {
          out.write(t.raw);
          continue;
        }
        if (t.bytes != null) {
          writeBytes(out, t, bytes.array());
          continue;
        }
        if (t.values == null) {
          throw new IllegalStateException(t.name + ": declared without data; write it with writeHeaderOnly");
        }
        long total = t.numElements();
        for (long start = 0; start < total; start += CHUNK) {
          int count = (int) Math.min(CHUNK, total - start);
          t.values.fill(values, start, count);
          bytes.clear();
          for (int i = 0; i < count; i++) {
            switch (t.dtype) {
              case F32 -> bytes.putFloat(values[i]);
              case BF16 -> bytes.putShort(Numerics.floatToBf16(values[i]));
              default -> bytes.putShort(Numerics.floatToHalf(values[i]));
            }
          }
          out.write(bytes.array(), 0, bytes.position());
        }
      }
    }
  }

  private static void writeBytes(OutputStream out, Pending t, byte[] buffer) throws IOException {
    long total = t.byteLength();
    for (long start = 0; start < total; start += buffer.length) {
      int count = (int) Math.min(buffer.length, total - start);
      t.bytes.fill(buffer, start, count);
      out.write(buffer, 0, count);
    }
  }

  /** The 8-byte length and the JSON header, padded with spaces to a multiple of 8 bytes. */
  private byte[] header() {
    ObjectMapper json = new ObjectMapper();
    ObjectNode header = json.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    for (Pending t : tensors) {
      ObjectNode entry = header.putObject(t.name);
      entry.put("dtype", t.dtype.name());
      ArrayNode shape = entry.putArray("shape");
      for (long d : t.shape) {
        shape.add(d);
      }
      entry.putArray("data_offsets").add(offset).add(offset + t.byteLength());
      offset += t.byteLength();
    }
    byte[] headerBytes;
    try {
      headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize a safetensors header", e);
    }
    int padded = (headerBytes.length + 7) / 8 * 8;
    byte[] out = new byte[8 + padded];
    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
    Arrays.fill(out, 8, out.length, (byte) ' ');
    System.arraycopy(headerBytes, 0, out, 8, headerBytes.length);
    return out;
  }
}
