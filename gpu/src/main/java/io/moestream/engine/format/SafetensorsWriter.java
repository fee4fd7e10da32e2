package io.moestream.engine.format;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a {@code .safetensors} file the way the reference implementation does: the JSON header padded
 * with spaces to a multiple of 8 bytes, tensors in the order added, {@code __metadata__ {"format":"pt"}}.
 */
public final class SafetensorsWriter {
  private record Pending(String name, DType dtype, long[] shape, byte[] data) {}

  private final List<Pending> tensors = new ArrayList<>();

  /** Adds a tensor from float values, converted to {@code dtype} (F32, BF16 or F16). */
  public SafetensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
    long expected = 1;
    for (long d : shape) {
      expected *= d;
    }
    if (expected != values.length) {
      throw new IllegalArgumentException(name + ": shape needs " + expected + " values, got " + values.length);
    }
    ByteBuffer buffer = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      switch (dtype) {
        case F32 -> buffer.putFloat(v);
        case BF16 -> buffer.putShort(Numerics.floatToBf16(v));
        case F16 -> buffer.putShort(Numerics.floatToHalf(v));
        default -> throw new IllegalArgumentException(name + ": cannot write floats as " + dtype);
      }
    }
    return addRaw(name, dtype, shape, buffer.array());
  }

  /** Adds a tensor from its raw little-endian bytes. */
  public SafetensorsWriter addRaw(String name, DType dtype, long[] shape, byte[] data) {
    tensors.add(new Pending(name, dtype, shape.clone(), data));
    return this;
  }

  public void write(Path file) throws IOException {
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
      entry.putArray("data_offsets").add(offset).add(offset + t.data.length);
      offset += t.data.length;
    }
    byte[] headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    int padded = (headerBytes.length + 7) / 8 * 8;
    byte[] headerPadded = new byte[padded];
    java.util.Arrays.fill(headerPadded, (byte) ' ');
    System.arraycopy(headerBytes, 0, headerPadded, 0, headerBytes.length);
    try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      out.write(headerPadded);
      for (Pending t : tensors) {
        out.write(t.data);
      }
    }
  }
}
