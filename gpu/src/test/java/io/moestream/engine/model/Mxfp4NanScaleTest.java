package io.moestream.engine.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.format.CheckpointException;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.testmodel.GptOssSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The E8M0 byte 0xFF (NaN in OCP MX) in a gpt-oss checkpoint's MXFP4 scales is refused at load, naming
 * the file, the tensor, the expert, the row and the block, instead of turning a block of weights and then
 * every logit into NaN. The byte is written into the safetensors file at an offset read from its header.
 */
class Mxfp4NanScaleTest {
  private static final EngineOptions OPTIONS =
      EngineOptions.defaults().withBackend("cpu").withThreads(1).withKvCacheBytes(4 << 20);

  @TempDir
  Path folder;

  @Test
  void aNanScaleIsRefusedAtLoadByExpertRowAndBlock() throws IOException {
    TestModelSpec spec = TestModelSpec.defaults(Architecture.GPT_OSS).withGptOss(GptOssSpec.defaults().withMxfp4(true));
    TestModelWriter.write(spec, folder);
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      assertTrue(model.weights().layers().length > 1); // loads before the corruption
    }
    ModelConfig config = ModelConfig.read(folder);
    int blocksPerRow = config.hiddenSize() / 32;
    assertTrue(blocksPerRow >= 2, "the test needs a second block");
    // gate_up_proj_scales (numExperts, 2 * inter, hidden / 32): expert 2, row 5, block 1.
    long index = (2L * 2 * config.moeIntermediateSize() + 5) * blocksPerRow + 1;
    String tensor = "model.layers.1.mlp.experts.gate_up_proj_scales";
    Path file = writeByte(tensor, index, (byte) 0xFF);
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS).close());
    String message = e.getMessage();
    assertTrue(message.contains(file.getFileName().toString()) && message.contains(tensor)
        && message.contains("0xFF at expert 2, row 5, block 1"), message);
  }

  /** Overwrites element {@code index} of a U8 tensor in whichever shard holds it; returns that shard. */
  private Path writeByte(String tensor, long index, byte value) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".safetensors")).toList()) {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
          byte[] length = new byte[8];
          raf.readFully(length);
          long headerLength = ByteBuffer.wrap(length).order(ByteOrder.LITTLE_ENDIAN).getLong();
          byte[] header = new byte[Math.toIntExact(headerLength)];
          raf.readFully(header);
          JsonNode entry = new ObjectMapper().readTree(new String(header, StandardCharsets.UTF_8)).get(tensor);
          if (entry != null) {
            raf.seek(8 + headerLength + entry.get("data_offsets").get(0).asLong() + index);
            raf.write(value);
            return file;
          }
        }
      }
    }
    throw new IllegalStateException("no shard holds " + tensor);
  }
}
