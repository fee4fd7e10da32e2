package io.moestream.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.testmodel.CheckpointWriter;
import io.moestream.engine.testmodel.ReleasedModel;
import io.moestream.engine.testmodel.ShardPlan;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Released models at their real widths (hidden size, heads, latent ranks, vocabulary, expert size) cut to
 * 2 layers, the first dense where the model has dense layers, and to a few routed experts, with random
 * weights in the release's dtypes (BF16; FP8 E4M3 with 128 x 128 block scales where the config says so;
 * gpt-oss's MXFP4 experts): the engine's logits against the float64 references ({@link ReferenceForward},
 * {@link DeepseekReferenceForward}, {@link GptOssReferenceForward}, {@link GlmReferenceForward}) for a
 * 3-token prompt run as a 2-token prefill and a 1-token step that
 * reads the KV cache, within ArchitecturesTest's BF16 tolerance (1e-3 of max|reference|, argmax where
 * the reference's top two are apart).
 *
 * <p>Each model takes 2 to 6 GB of disk and is deleted after its test. Kimi-K2 (its 2.35 GB embedding and
 * LM head are read across mapping windows) and Qwen3-30B-A3B-FP8 run always; the other five run with
 * {@code -Dmoestream.releasedModels=all} (see docs/CHECKPOINTS.md for the command and measured times).
 */
class ReleasedDimensionsTest {
  private static final Path CONFIGS = Path.of("src/test/resources/released-configs");
  private static final EngineOptions OPTIONS = EngineOptions.defaults().withBackend("cpu").withThreads(2)
      .withKvCacheBytes(8 << 20).withMaxBatchTokens(2);
  private static final double TOLERANCE = 1e-3;

  @TempDir
  Path tmp;

  @ParameterizedTest(name = "{0}, {1} experts")
  @CsvSource({"kimi-k2-instruct-0905, 8", "qwen3-30b-a3b-fp8, 16"})
  void logitsMatchTheReference(String release, int experts) throws Exception {
    check(release, experts);
  }

  @ParameterizedTest(name = "{0}, {1} experts")
  @CsvSource({"deepseek-v3, 16", "qwen3-235b-a22b, 8", "mixtral-8x22b-instruct-v0.1, 2", "gpt-oss-120b, 8",
      "glm-4.5, 8"})
  @EnabledIfSystemProperty(named = "moestream.releasedModels", matches = "all")
  void logitsMatchTheReferenceForTheOtherReleases(String release, int experts) throws Exception {
    check(release, experts);
  }

  private void check(String release, int experts) throws Exception {
    Path folder = tmp.resolve(release);
    long started = System.nanoTime();
    CheckpointWriter.Summary written = ReleasedModel.write(CONFIGS.resolve(release).resolve(ModelConfig.FILE),
        new ReleasedModel.Options(false, 2, experts, 7, ShardPlan.DEFAULT_MAX_SHARD_BYTES), folder);
    double writeSeconds = (System.nanoTime() - started) / 1e9;
    started = System.nanoTime();
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      ModelConfig config = model.config();
      assertEquals(2, config.numLayers());
      assertEquals(experts, config.numExperts());
      int k = config.numExpertsPerTok();
      int[] tokens = new SplittableRandom(11).ints(3, 0, config.vocabSize()).toArray();
      float[][] engine = model.logits(tokens, model.expertsPerLayer(k), true);
      double engineSeconds = (System.nanoTime() - started) / 1e9;
      started = System.nanoTime();
      double[][] reference = switch (config.architecture()) {
        case GPT_OSS -> new GptOssReferenceForward(folder).logits(tokens, k);
        case GLM4_MOE -> new GlmReferenceForward(folder).logits(tokens, k);
        default -> config.mla() != null
            ? DeepseekReferenceForward.logits(model.weights(), tokens, k)
            : new ReferenceForward(folder).logits(tokens, k);
      };
      double referenceSeconds = (System.nanoTime() - started) / 1e9;
      double maxRef = 0;
      double maxDiff = 0;
      for (int p = 0; p < tokens.length; p++) {
        for (int v = 0; v < config.vocabSize(); v++) {
          maxRef = Math.max(maxRef, Math.abs(reference[p][v]));
          maxDiff = Math.max(maxDiff, Math.abs(reference[p][v] - engine[p][v]));
        }
      }
      System.out.printf(Locale.ROOT, "%s: %s; written in %.1f s, engine load + logits %.1f s, float64 reference %.1f s,"
          + " max|engine - reference| / max|reference| = %.2e%n", release, written, writeSeconds, engineSeconds,
          referenceSeconds, maxDiff / maxRef);
      ArchitecturesTest.assertClose(reference, engine, TOLERANCE, release + " (2 layers, " + experts + " experts)");
      assertTrue(config.isSparse(1), release + ": the second layer has experts");
    }
  }
}
