package io.moestream.engine.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors writer and reader: round trips, the header layout, and clear errors on bad files. */
class SafetensorsTest {
  @TempDir
  Path dir;

  private static float[] values(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) ((random.nextDouble() * 2 - 1) * 3);
    }
    v[0] = -0f;
    v[1] = 1e-6f; // a half subnormal
    return v;
  }

  private Path writeSample() throws IOException {
    Path file = dir.resolve("sample.safetensors");
    new SafetensorsWriter()
        .add("a.f32", DType.F32, new long[] {3, 5}, values(15, 1))
        .add("b.bf16", DType.BF16, new long[] {7}, values(7, 2))
        .add("c.f16", DType.F16, new long[] {2, 3, 2}, values(12, 3))
        .addRaw("d.i64", DType.I64, new long[] {2}, longBytes(5L, -9L))
        .write(file);
    return file;
  }

  private static byte[] longBytes(long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      b.putLong(v);
    }
    return b.array();
  }

  @Test
  void roundTripsF32Bf16F16AndRawTensors() throws IOException {
    SafetensorsFile file = SafetensorsFile.open(writeSample());
    assertEquals(4, file.tensors().size());

    TensorData f32 = file.tensors().get("a.f32");
    assertEquals(DType.F32, f32.dtype());
    assertArrayEquals(new long[] {3, 5}, f32.shape());
    float[] expected = values(15, 1);
    for (int i = 0; i < 15; i++) {
      assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(f32.getFloat(i)), "a.f32[" + i + "]");
    }

    TensorData bf16 = file.tensors().get("b.bf16");
    assertEquals(DType.BF16, bf16.dtype());
    assertEquals(14, bf16.bytes().remaining());
    float[] b = values(7, 2);
    for (int i = 0; i < 7; i++) {
      assertEquals(Numerics.bf16ToFloat(Numerics.floatToBf16(b[i])), bf16.getFloat(i), 0f, "b.bf16[" + i + "]");
      assertEquals(b[i], bf16.getFloat(i), Math.abs(b[i]) / 128 + 1e-30, "bf16 keeps 8 significant bits");
    }

    TensorData f16 = file.tensors().get("c.f16");
    assertEquals(DType.F16, f16.dtype());
    assertArrayEquals(new long[] {2, 3, 2}, f16.shape());
    float[] c = values(12, 3);
    for (int i = 0; i < 12; i++) {
      assertEquals(Numerics.halfToFloat(Numerics.floatToHalf(c[i])), f16.getFloat(i), 0f, "c.f16[" + i + "]");
    }
    assertTrue(f16.getFloat(1) > 0, "a subnormal half survives: " + f16.getFloat(1));
    assertEquals(0x8000_0000, Float.floatToRawIntBits(f16.getFloat(0)), "-0 keeps its sign");

    TensorData i64 = file.tensors().get("d.i64");
    assertEquals(DType.I64, i64.dtype());
    assertEquals(-9L, i64.bytes().getLong(8));
    CheckpointException e = assertThrows(CheckpointException.class, () -> i64.getFloat(0));
    assertTrue(e.getMessage().contains("d.i64") && e.getMessage().contains("I64"), e.getMessage());
  }

  @Test
  void headerIsPaddedTo8BytesAndCarriesMetadata() throws IOException {
    Path path = writeSample();
    byte[] bytes = Files.readAllBytes(path);
    long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, headerLength % 8, "header length " + headerLength + " is a multiple of 8");
    String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
    String padding = header.substring(header.stripTrailing().length());
    assertTrue(header.startsWith("{") && padding.chars().allMatch(ch -> ch == ' ') && padding.length() < 8,
        "padding is fewer than 8 trailing spaces: '" + padding + "'");
    JsonNode json = new ObjectMapper().readTree(header);
    assertEquals("pt", json.get("__metadata__").get("format").asText());
    assertEquals("pt", SafetensorsFile.open(path).metadata().get("format"));
    // Data offsets are contiguous in the order added, and the file ends where the last tensor does.
    long expectedOffset = 0;
    for (String name : new String[] {"a.f32", "b.bf16", "c.f16", "d.i64"}) {
      JsonNode offsets = json.get(name).get("data_offsets");
      assertEquals(expectedOffset, offsets.get(0).asLong(), name + " begin");
      expectedOffset = offsets.get(1).asLong();
    }
    assertEquals(8 + headerLength + expectedOffset, bytes.length);
  }

  @Test
  void emptyAndZeroSizedTensorsRoundTrip() throws IOException {
    Path path = dir.resolve("zero.safetensors");
    new SafetensorsWriter().add("empty", DType.F32, new long[] {0, 4}, new float[0])
        .add("one", DType.BF16, new long[] {1}, new float[] {2.5f}).write(path);
    SafetensorsFile file = SafetensorsFile.open(path);
    assertEquals(0, file.tensors().get("empty").numElements());
    assertEquals(2.5f, file.tensors().get("one").getFloat(0));
  }

  @Test
  void aTruncatedFileNamesTheFileAndTheTensorPastItsEnd() throws IOException {
    Path path = writeSample();
    byte[] bytes = Files.readAllBytes(path);
    Path cut = dir.resolve("cut.safetensors");
    Files.write(cut, Arrays.copyOf(bytes, bytes.length - 3));
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(cut));
    assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("d.i64"), e.getMessage());

    Path tiny = dir.resolve("tiny.safetensors");
    Files.write(tiny, new byte[5]);
    e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(tiny));
    assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains(tiny.toString()), e.getMessage());
  }

  @Test
  void aBadHeaderLengthIsReported() throws IOException {
    byte[] bytes = Files.readAllBytes(writeSample());
    for (long bad : new long[] {0, -8, bytes.length, 1L << 40}) {
      byte[] copy = bytes.clone();
      ByteBuffer.wrap(copy, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(bad);
      Path path = dir.resolve("bad-" + Math.abs(bad) + ".safetensors");
      Files.write(path, copy);
      CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(path));
      assertTrue(e.getMessage().contains("header length") && e.getMessage().contains(String.valueOf(bad))
          && e.getMessage().contains(path.toString()), e.getMessage());
    }
  }

  @Test
  void anUnknownDtypeListsTheSupportedOnes() throws IOException {
    Path path = dir.resolve("f64.safetensors");
    writeWithHeader(path, "{\"x\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(path));
    assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("F64") && e.getMessage().contains("BF16"),
        e.getMessage());
  }

  @Test
  void offsetsThatDisagreeWithTheShapeAreReported() throws IOException {
    Path path = dir.resolve("offsets.safetensors");
    writeWithHeader(path, "{\"x\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16);
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(path));
    assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("16 bytes"), e.getMessage());
  }

  @Test
  void aMissingFileIsNamed() {
    Path path = dir.resolve("nothing.safetensors");
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(path));
    assertTrue(e.getMessage().contains(path.toString()) && e.getMessage().contains("not found"), e.getMessage());
  }

  private static void writeWithHeader(Path path, String header, int dataBytes) throws IOException {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(json.length).put(json);
    Files.write(path, b.array());
  }
}
