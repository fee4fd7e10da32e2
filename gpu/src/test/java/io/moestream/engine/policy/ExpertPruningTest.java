package io.moestream.engine.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.format.DType;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pruned model never reads a pruned expert's weights: the pruned experts' tensors are overwritten
 * with NaN in one copy of the model and with other garbage in another; pruned, both give finite and
 * bit-identical logits, equal to the pruned clean model's. Unpruned, the NaN copy gives NaN (the
 * garbage is where the engine would read it).
 */
class ExpertPruningTest {
  private static final int[] TOKENS = {3, 99, 250, 7, 7, 400, 12, 1, 0, 77, 301, 5};
  /** Layers 0 and 1 keep experts 0, 2, 4, 6 of 8 (top-2). */
  private static final boolean[] KEPT = {true, false, true, false, true, false, true, false};

  @TempDir
  static Path dir;
  static Path clean;
  static Path nanCopy;
  static Path garbageCopy;
  static ModelConfig config;

  @BeforeAll
  static void models() throws IOException {
    TestModelSpec spec = TestModelSpec.defaults(Architecture.QWEN3_MOE).withDType(DType.BF16);
    clean = dir.resolve("clean");
    nanCopy = dir.resolve("nan");
    garbageCopy = dir.resolve("garbage");
    TestModelWriter.write(spec, clean);
    TestModelWriter.write(spec, nanCopy);
    TestModelWriter.write(spec, garbageCopy);
    config = ModelConfig.read(clean);
    overwritePrunedExperts(nanCopy, (byte) 0xFF); // bf16 0xFFFF: NaN
    overwritePrunedExperts(garbageCopy, (byte) 0x7F); // bf16 0x7F7F: 3.4e38
  }

  private static ExpertProfile profile() {
    double[][] soft = new double[config.numLayers()][config.numExperts()];
    for (double[] layer : soft) {
      for (int e = 0; e < layer.length; e++) {
        layer[e] = KEPT[e] ? 10 + e : e * 0.1;
      }
    }
    return new ExpertProfile("test", 100, soft, new long[config.numLayers()][config.numExperts()]);
  }

  private static float[][] logits(Path folder, boolean prune, ExpertUsage usage) {
    boolean[][] kept = ExpertPruning.keepMostUsed(profile(), config, 4);
    EngineOptions options = EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(4 << 20);
    try (LoadedModel model = prune
        ? LoadedModel.load(folder, options, w -> ExpertPruning.apply(w, kept))
        : LoadedModel.load(folder, options)) {
      if (usage != null) {
        model.backend().setRoutingObserver(usage);
      }
      return model.logits(TOKENS, model.expertsPerLayer(0), true);
    }
  }

  @Test
  void keepsTheMostUsedExperts() {
    boolean[][] kept = ExpertPruning.keepMostUsed(profile(), config, 4);
    for (boolean[] layer : kept) {
      assertArrayEquals(KEPT, layer);
    }
    assertThrows(IllegalArgumentException.class, () -> ExpertPruning.keepMostUsed(profile(), config, 1));
    assertThrows(IllegalArgumentException.class, () -> ExpertPruning.keepMostUsed(profile(), config, 9));
  }

  @Test
  void bytesPerTokenCountsAKeptExpertWhenExpertZeroIsPruned() {
    boolean[][] kept = new boolean[config.numLayers()][config.numExperts()];
    for (boolean[] layer : kept) {
      Arrays.fill(layer, true);
      layer[0] = false;
    }
    EngineOptions options = EngineOptions.defaults().withThreads(1).withKvCacheBytes(1 << 20);
    long full;
    try (LoadedModel model = LoadedModel.load(clean, options)) {
      full = model.weights().bytesPerTokenAt(2);
    }
    try (LoadedModel model = LoadedModel.load(clean, options, w -> ExpertPruning.apply(w, kept))) {
      assertEquals(full, model.weights().bytesPerTokenAt(2));
    }
  }

  @Test
  void prunedExpertsAreNeverRead() {
    ExpertUsage usage = new ExpertUsage(config);
    float[][] fromNan = logits(nanCopy, true, usage);
    float[][] fromGarbage = logits(garbageCopy, true, null);
    float[][] fromClean = logits(clean, true, null);
    for (int p = 0; p < TOKENS.length; p++) {
      for (float v : fromNan[p]) {
        assertTrue(Float.isFinite(v), "position " + p + ": " + v);
      }
      assertArrayEquals(fromClean[p], fromNan[p], "position " + p);
      assertArrayEquals(fromClean[p], fromGarbage[p], "position " + p);
    }
    // The router never chose a pruned expert, and gave it no probability.
    for (int layer = 0; layer < config.numLayers(); layer++) {
      for (int e = 0; e < config.numExperts(); e++) {
        if (!KEPT[e]) {
          assertEquals(0, usage.tokenCounts()[layer][e]);
          assertEquals(0.0, usage.softCounts()[layer][e]);
        }
      }
    }
    // Unpruned, the same garbage is read: the test's poison is where the engine would look.
    // (NaN reaches the next layer's router, which refuses to rank NaN scores, or the logits.)
    boolean poisoned;
    try {
      poisoned = Arrays.stream(logits(nanCopy, false, null)).anyMatch(row -> Float.isNaN(row[0]));
    } catch (IllegalStateException e) {
      poisoned = e.getMessage().contains("NaN");
    }
    assertTrue(poisoned, "the poisoned experts were never routed to");
  }

  @Test
  void profileRoundTripsThroughItsFile() throws IOException {
    ExpertUsage usage = new ExpertUsage(config);
    logits(clean, false, usage);
    ExpertProfile written = ExpertProfile.of("clean", config, usage);
    Path file = dir.resolve("profile.json");
    written.write(file);
    ExpertProfile read = ExpertProfile.read(file, config);
    assertEquals(TOKENS.length, read.tokens());
    for (int layer = 0; layer < config.numLayers(); layer++) {
      assertArrayEquals(written.softCounts()[layer], read.softCounts()[layer], 1e-12);
      assertArrayEquals(written.tokenCounts()[layer], read.tokenCounts()[layer]);
      // Soft counts sum to one per token (softmax over all experts).
      assertEquals(TOKENS.length, Arrays.stream(read.softCounts()[layer]).sum(), 1e-3);
      assertEquals(TOKENS.length * (long) config.numExpertsPerTok(), Arrays.stream(read.tokenCounts()[layer]).sum());
    }
  }

  /** Fills every byte of the pruned experts' three matrices in model.safetensors with {@code fill}. */
  private static void overwritePrunedExperts(Path folder, byte fill) throws IOException {
    Path file = folder.resolve("model.safetensors");
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      channel.read(length, 0);
      long headerLength = length.getLong(0);
      ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
      channel.read(headerBytes, 8);
      JsonNode header = new ObjectMapper().readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
      Architecture arch = config.architecture();
      int overwritten = 0;
      for (int layer = 0; layer < config.numLayers(); layer++) {
        for (int e = 0; e < config.numExperts(); e++) {
          if (KEPT[e]) {
            continue;
          }
          for (String name : new String[] {arch.expertGateProj(layer, e), arch.expertUpProj(layer, e),
              arch.expertDownProj(layer, e)}) {
            JsonNode offsets = header.get(name).get("data_offsets");
            long begin = 8 + headerLength + offsets.get(0).asLong();
            int size = (int) (offsets.get(1).asLong() - offsets.get(0).asLong());
            byte[] garbage = new byte[size];
            Arrays.fill(garbage, fill);
            channel.write(ByteBuffer.wrap(garbage), begin);
            overwritten++;
          }
        }
      }
      assertEquals(config.numLayers() * 4 * 3, overwritten);
    }
    assertTrue(Files.size(file) > 0);
  }
}
