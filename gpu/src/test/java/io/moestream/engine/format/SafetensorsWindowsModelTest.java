package io.moestream.engine.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.cpu.CpuBackend;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kernel.ScalarKernels;
import io.moestream.engine.kernel.VectorKernels;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.testmodel.DeepseekSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every reader of weights works across mapping windows: a small model loaded with windows of 4 KiB,
 * which splits the embedding, the LM head and most projections into many parts, gives bitwise the
 * logits of the same model in one window, with the vector kernels (2 threads, so row ranges cross
 * part boundaries) and with their scalar twins.
 */
class SafetensorsWindowsModelTest {
  private static final long TINY_WINDOW = 4096;

  @TempDir
  static Path models;

  static List<Object[]> models() {
    List<Object[]> cases = new ArrayList<>();
    cases.add(new Object[] {"qwen3_moe bf16", TestModelSpec.defaults(Architecture.QWEN3_MOE).withDType(DType.BF16)});
    cases.add(new Object[] {"qwen2_moe f16", TestModelSpec.defaults(Architecture.QWEN2_MOE).withDType(DType.F16)});
    cases.add(new Object[] {"mixtral f32", TestModelSpec.defaults(Architecture.MIXTRAL)});
    cases.add(new Object[] {"qwen3_moe fp8 blocks 24", TestModelSpec.defaults(Architecture.QWEN3_MOE).withFp8Block(24)});
    cases.add(new Object[] {"deepseek_v3 fp8", TestModelSpec.defaults(Architecture.DEEPSEEK_V3)
        .withDeepseek(DeepseekSpec.defaults(Architecture.DEEPSEEK_V3).withFp8(true))});
    return cases;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void tinyWindowsGiveTheSameLogits(String name, TestModelSpec spec) throws Exception {
    Path folder = models.resolve(name.replaceAll("[^a-z0-9]+", "-"));
    TestModelWriter.write(spec, folder);
    ModelConfig config = ModelConfig.read(folder);
    ModelWeights whole = ModelWeights.load(config, Checkpoint.open(folder));
    ModelWeights split = ModelWeights.load(config, Checkpoint.open(folder, TINY_WINDOW));
    assertTrue(split.embedTokens().partCount() > 4 && split.lmHead().partCount() > 4,
        name + ": embedding in " + split.embedTokens().partCount() + " parts");
    for (Kernels kernels : new Kernels[] {new VectorKernels(), new ScalarKernels()}) {
      assertArrayEquals(logits(whole, config, kernels), logits(split, config, kernels), name + " " + kernels);
    }
  }

  /** A 9-token prompt then 2 decode steps; every token's logits, concatenated. */
  private static float[] logits(ModelWeights weights, ModelConfig config, Kernels kernels) throws Exception {
    PagedKvCache cache = CpuBackend.newKvCache(config, 16, 8);
    List<float[]> out = new ArrayList<>();
    try (Backend backend = new CpuBackend(weights, kernels, 2, cache)) {
      PagedKvCache.Sequence seq = cache.newSequence();
      cache.reserve(seq, 16);
      int[] prompt = {3, 500, 17, 255, 256, 1, 42, 511, 99};
      out.add(step(backend, config, seq, prompt, 0));
      seq.setLength(prompt.length);
      for (int i = 0; i < 2; i++) {
        out.add(step(backend, config, seq, new int[] {(i * 131 + 7) % config.vocabSize()}, prompt.length + i));
        seq.setLength(prompt.length + i + 1);
      }
    }
    int n = out.stream().mapToInt(a -> a.length).sum();
    float[] all = new float[n];
    int at = 0;
    for (float[] a : out) {
      System.arraycopy(a, 0, all, at, a.length);
      at += a.length;
    }
    return all;
  }

  private static float[] step(Backend backend, ModelConfig config, PagedKvCache.Sequence seq, int[] tokens,
      int start) {
    int n = tokens.length;
    int[] positions = new int[n];
    PagedKvCache.Sequence[] seqs = new PagedKvCache.Sequence[n];
    int[] logitTokens = new int[n];
    for (int i = 0; i < n; i++) {
      positions[i] = start + i;
      seqs[i] = seq;
      logitTokens[i] = i;
    }
    int[][] experts = new int[config.numLayers()][n];
    for (int[] layer : experts) {
      java.util.Arrays.fill(layer, config.numExpertsPerTok());
    }
    return backend.forward(new StepBatch(tokens, positions, seqs, experts, logitTokens)).logits();
  }
}
