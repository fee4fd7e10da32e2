package io.moestream.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.ModelFolderEdits;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.DType;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.testmodel.GlmSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GLM-4.5 ({@code glm4_moe}) test models against {@link GlmReferenceForward} (float64, from Hugging
 * Face's modeling_glm4_moe.py): logits of every position for sequences of 1, 7 and 40 tokens, at the
 * config's top-k and at k = 1, over partial rotary 0.25 / 0.5 / 1.0, q/k norm on and off, attention bias
 * on and off, 0, 1 and 2 shared experts, first_k_dense_replace 0 / 1 / 2, 1, 2 and 4 expert groups, with
 * next-token-prediction layers in the checkpoint, FP8 weights and BF16. Also: the MTP layers are skipped
 * (and never change a logit), and every expert policy runs, with experts pruned too.
 *
 * <p>Tolerance as {@link ArchitecturesTest}: max|engine - reference| / max|reference| <= 1e-4 on F32
 * weights, 1e-3 on BF16, and the argmax agrees wherever the reference's top-two gap is clear.
 */
class GlmModelTest {
  private static final int[] LENGTHS = {1, 7, 40};
  private static final EngineOptions OPTIONS =
      EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(4 << 20);

  @TempDir
  static Path models;

  @TempDir
  Path folder;

  private record Case(String name, TestModelSpec spec, Consumer<com.fasterxml.jackson.databind.node.ObjectNode> edit) {
    Case(String name, TestModelSpec spec) {
      this(name, spec, null);
    }
  }

  private static TestModelSpec glm(GlmSpec settings) {
    return TestModelSpec.defaults(Architecture.GLM4_MOE).withGlm(settings);
  }

  private static List<Case> cases() {
    GlmSpec d = GlmSpec.defaults(); // partial 0.5, bias, no qk norm, 1 shared, first dense 1, 1 group, 1 MTP layer
    List<Case> cases = new ArrayList<>();
    for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
      cases.add(new Case("defaults (GLM-4.5-Air-shaped)", glm(d).withDType(dtype)));
      cases.add(new Case("partial rotary 1.0, qk norm", glm(d.withAttention(1.0, true, true)).withDType(dtype)));
    }
    cases.add(new Case("partial rotary 0.25, qk norm, no attention bias", glm(d.withAttention(0.25, true, false))));
    cases.add(new Case("no shared experts, no dense layer", glm(d.withLayers(0, 0, 1))));
    cases.add(new Case("2 shared experts, 2 dense layers of 4, 2 MTP layers",
        glm(d.withLayers(2, 2, 2)).withNumLayers(4)));
    // 4 groups of 2 experts, 2 groups per token; 2 groups of 8, 1 per token, top-3.
    cases.add(new Case("groups 4, topk_group 2", glm(d.withRouting(4, 2, 2.5, true))));
    cases.add(new Case("groups 2, topk_group 1, 16 experts top-3",
        glm(d.withRouting(2, 1, 1.8, true)).withExperts(16, 3, 24).withSeed(5)));
    cases.add(new Case("norm_topk_prob false, routed_scaling_factor 1", glm(d.withRouting(1, 1, 1.0, false))));
    cases.add(new Case("mqa, head_dim 24 (rotary 12)", glm(d).withAttention(64, 4, 1, 24).withSeed(7)));
    cases.add(new Case("fp8 blocks 32", glm(d).withFp8Block(32)));
    cases.add(new Case("fp8 blocks 16 bf16", glm(d.withAttention(0.5, true, true)).withDType(DType.BF16).withFp8Block(16)));
    // Newer transformers write rope_theta and partial_rotary_factor inside rope_parameters.
    cases.add(new Case("rope_parameters", glm(d.withAttention(0.25, false, true)), c -> {
      c.remove(List.of("rope_theta", "partial_rotary_factor", "rope_scaling"));
      c.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 5000.0)
          .put("partial_rotary_factor", 0.25);
    }));
    return cases;
  }

  @TestFactory
  Stream<DynamicTest> engineMatchesFloat64Reference() {
    List<DynamicTest> tests = new ArrayList<>();
    int index = 0;
    for (Case c : cases()) {
      String label = c.name + " " + c.spec.dtype();
      Path modelFolder = models.resolve("glm-" + index++);
      tests.add(DynamicTest.dynamicTest(label, () -> check(c, modelFolder, label)));
    }
    return tests.stream();
  }

  private static void check(Case c, Path modelFolder, String label) throws IOException {
    TestModelSpec spec = c.spec;
    TestModelWriter.write(spec, modelFolder);
    if (c.edit != null) {
      ModelFolderEdits.editConfig(modelFolder, c.edit);
    }
    double tolerance = spec.dtype() == DType.F32 ? 1e-4 : 1e-3;
    GlmReferenceForward reference = new GlmReferenceForward(modelFolder);
    SplittableRandom random = new SplittableRandom(spec.seed() + 1);
    try (LoadedModel model = LoadedModel.load(modelFolder, OPTIONS)) {
      assertEquals(spec.numLayers(), model.weights().layers().length, label);
      for (int k : new int[] {spec.expertsPerToken(), 1}) {
        for (int length : LENGTHS) {
          int[] ids = random.ints(length, 0, spec.vocabSize()).toArray();
          float[][] ours = model.logits(ids, model.expertsPerLayer(k), true);
          double[][] expected = reference.logits(ids, k);
          String where = label + " k=" + k + " " + length + " tokens (smallest routing gap "
              + reference.smallestRoutingGap + ")";
          ArchitecturesTest.assertClose(expected, ours, tolerance, where);
        }
      }
    }
  }

  @Test
  void configReadsTheGlmFields() throws IOException {
    TestModelWriter.write(glm(GlmSpec.defaults().withAttention(0.5, true, true).withRouting(4, 2, 2.5, true)
        .withLayers(2, 1, 1)), folder);
    ModelConfig config = ModelConfig.read(folder);
    assertEquals(8, config.rotaryDim()); // head_dim 16 * 0.5
    assertEquals(16, config.headDim());
    assertEquals(ModelConfig.QkNorm.PER_HEAD, config.qkNorm());
    assertTrue(config.attentionBias());
    assertEquals(64, config.sharedExpertIntermediateSize()); // 2 x moe_intermediate_size 32
    assertArrayEquals(new boolean[] {false, true, true}, config.sparseLayers());
    assertEquals(4, config.routing().numGroups());
    assertEquals(2, config.routing().topkGroup());
    assertEquals(2.5, config.routing().routedScalingFactor());
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      assertEquals(null, model.weights().layers()[1].attention().oBias()); // o_proj never has a bias
      assertEquals(64, model.weights().layers()[1].attention().qBias().length); // 4 heads x 16
    }
  }

  /** The CUDA kernels lack partial rotary and sigmoid routing: the backend refuses glm4_moe and says why. */
  @Test
  void cudaBackendRefusesWithTheReason() throws IOException {
    TestModelWriter.write(glm(GlmSpec.defaults()), folder);
    String reason = io.moestream.engine.cuda.CudaBackend.unsupportedReason(ModelConfig.read(folder));
    assertTrue(reason != null && reason.contains("glm4_moe") && reason.contains("partial rotary")
        && reason.contains("rotary dim 8 of head_dim 16"), reason);
  }

  /** The MTP layers are found, skipped, and change nothing: the same logits as a checkpoint without them. */
  @Test
  void nextTokenPredictionLayersAreSkipped() throws IOException {
    TestModelSpec spec = glm(GlmSpec.defaults().withLayers(1, 1, 2));
    TestModelWriter.write(spec, folder);
    ModelConfig config = ModelConfig.read(folder);
    SortedSet<Integer> skipped = ModelWeights.layersBeyondConfig(config, Checkpoint.open(folder));
    assertEquals(new TreeSet<>(List.of(3, 4)), skipped);
    int[] tokens = new SplittableRandom(2).ints(6, 0, spec.vocabSize()).toArray();
    float[][] withMtp;
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      withMtp = model.logits(tokens, model.expertsPerLayer(0), true);
    }
    Path without = folder.resolve("without-mtp");
    TestModelWriter.write(glm(GlmSpec.defaults().withLayers(1, 1, 0)), without);
    assertTrue(ModelWeights.layersBeyondConfig(config, Checkpoint.open(without)).isEmpty());
    try (LoadedModel model = LoadedModel.load(without, OPTIONS)) {
      float[][] plain = model.logits(tokens, model.expertsPerLayer(0), true);
      for (int p = 0; p < tokens.length; p++) {
        assertArrayEquals(plain[p], withMtp[p], "position " + p);
      }
    }
  }

  /**
   * Every expert-activation policy runs on glm4_moe (k counts routed experts; the shared expert always
   * runs), also with 3 of every 4 experts pruned, so that the 2 groups a token may use hold fewer than
   * its k = 4 kept experts and the group limit gives way.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void everyPolicyRunsAlsoWithPrunedExperts(boolean prune) throws Exception {
    TestModelSpec spec = glm(GlmSpec.defaults().withRouting(4, 2, 2.5, true)).withExperts(16, 4, 16);
    TestModelWriter.write(spec, folder);
    PolicyRuns.assertEveryPolicyRuns(folder, spec, OPTIONS, prune, 5);
  }
}
