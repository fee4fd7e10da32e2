package io.moestream.engine.testmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.CheckpointException;
import io.moestream.engine.format.DType;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.ConfigException;
import io.moestream.engine.model.ExpertWeights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Shape-only checkpoints of eight released models, written from their real config.json
 * ({@code src/test/resources/released-configs}, sources in PROVENANCE.md): the engine maps every shard,
 * checks every tensor against the config and binds the weights (everything {@code model-info} and
 * {@link LoadedModel#load} do before a forward pass), in seconds, while the files take kilobytes of disk.
 *
 * <p>Expected sizes come from outside this code: DeepSeek-V3's tensor and element counts are those a public
 * inspection of the released DeepSeek-R1 checkpoint (same architecture and layout) reports, 91,991 tensors
 * and 684,531,386,000 elements, MTP layer and FP8 scales included; the others' parameter counts are their
 * model cards' (235B, 30.5B, 141B, 1T, gpt-oss-120b 116.8B, GLM-4.5 355B with the MTP layer the engine skips).
 */
class ReleasedShapesTest {
  static final Path CONFIGS = Path.of("src/test/resources/released-configs");
  /** Weights far over this machine's RAM: the memory check would refuse them; allowed, it only warns. */
  private static final EngineOptions OPTIONS =
      EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(8 << 20).withAllowWeightsOverRam(true);

  @TempDir
  Path tmp;

  static Stream<Arguments> releases() {
    // folder, parameters (weights without FP8 or MXFP4 scales) low and high, routed experts per layer, their dtype
    return Stream.of(
        Arguments.of("deepseek-v3", 670.0e9, 672.0e9, 256, DType.F8_E4M3),
        Arguments.of("kimi-k2-instruct-0905", 1.00e12, 1.06e12, 384, DType.F8_E4M3),
        Arguments.of("qwen3-235b-a22b", 234.5e9, 235.5e9, 128, DType.BF16),
        Arguments.of("qwen3-235b-a22b-fp8", 234.5e9, 235.5e9, 128, DType.F8_E4M3),
        Arguments.of("qwen3-30b-a3b-fp8", 30.3e9, 30.7e9, 128, DType.F8_E4M3),
        Arguments.of("mixtral-8x22b-instruct-v0.1", 140.0e9, 141.5e9, 8, DType.BF16),
        // the model cards: gpt-oss-120b 116.8B (117B), GLM-4.5 355B with its MTP layer, which the engine skips
        Arguments.of("gpt-oss-120b", 116.5e9, 117.2e9, 128, DType.MXFP4),
        Arguments.of("glm-4.5", 350.0e9, 355.5e9, 160, DType.BF16));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("releases")
  void shapeOnlyCheckpointLoadsInFullOnKilobytesOfDisk(String release, double minParams, double maxParams,
      int experts, DType expertDType) throws Exception {
    Path folder = tmp.resolve(release);
    long started = System.nanoTime();
    CheckpointWriter.Summary written = ReleasedModel.write(CONFIGS.resolve(release).resolve(ModelConfig.FILE),
        new ReleasedModel.Options(true, null, null, 42, ShardPlan.DEFAULT_MAX_SHARD_BYTES), folder);
    double writeSeconds = (System.nanoTime() - started) / 1e9;

    Path source = CONFIGS.resolve(release).resolve(ModelConfig.FILE);
    assertEquals(Files.readString(source), Files.readString(folder.resolve(ModelConfig.FILE)), "config.json copied as is");
    JsonNode index = new ObjectMapper().readTree(folder.resolve(Checkpoint.INDEX_FILE).toFile());
    assertEquals(written.tensorBytes(), index.path("metadata").path("total_size").asLong());
    assertEquals(written.tensors(), index.path("weight_map").size());
    long apparent = 0;
    try (Stream<Path> files = Files.list(folder)) {
      for (Path shard : files.filter(f -> f.toString().endsWith(".safetensors")).toList()) {
        assertTrue(Files.size(shard) <= ShardPlan.DEFAULT_MAX_SHARD_BYTES + (64 << 20), shard + " over the shard size");
        apparent += Files.size(shard);
      }
    }
    assertTrue(apparent > written.tensorBytes(), "shards hold every tensor's bytes (as holes)");

    started = System.nanoTime();
    ModelConfig config;
    long parameters;
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      config = model.config();
      ModelWeights weights = model.weights();
      parameters = weights.parameterCount();
      assertTrue(weights.bytesPerTokenAt(config.numExpertsPerTok()) > 0);
      assertEquals(experts, config.numExperts());
      int lastLayer = config.numLayers() - 1;
      ExpertWeights expert = weights.layers()[lastLayer].moe().experts()[0];
      assertEquals(expertDType, (expert.isFused() ? expert.gateUpProj() : expert.gateProj()).dtype(),
          release + " expert weights");
      assertEquals(DType.BF16, weights.lmHead().dtype(), release + " LM head stays unquantized");
      assertEquals(DType.BF16, weights.layers()[lastLayer].moe().router().dtype(), release + " router stays unquantized");
    }
    double loadSeconds = (System.nanoTime() - started) / 1e9;
    System.out.printf(Locale.ROOT, "%s: %s; written in %.1f s, loaded and checked in %.1f s, %,d parameters%n",
        release, written, writeSeconds, loadSeconds, parameters);
    assertTrue(parameters >= minParams && parameters <= maxParams,
        release + ": " + parameters + " parameters, expected " + minParams + " .. " + maxParams);
    assertTrue(loadSeconds < 60, release + ": load took " + loadSeconds + " s");

    assumeTrue(written.diskBytes().isPresent(), "du is not available: disk usage not checked");
    long disk = written.diskBytes().getAsLong();
    assertTrue(disk < 64L << 20 && disk * 1000 < written.tensorBytes(),
        release + ": " + disk + " bytes on disk for " + written.tensorBytes() + " bytes of tensors");
  }

  /** DeepSeek-V3 (as DeepSeek-R1, its layout): 91,991 tensors and 684,531,386,000 elements, MTP layer 61 included. */
  @Test
  void deepseekV3LayoutMatchesTheReleasedCounts() throws Exception {
    Path folder = tmp.resolve("dsv3-config");
    Files.createDirectories(folder);
    Files.copy(CONFIGS.resolve("deepseek-v3").resolve(ModelConfig.FILE), folder.resolve(ModelConfig.FILE));
    List<CheckpointTensor> layout = CheckpointLayout.read(folder);
    assertEquals(91_991, layout.size());
    assertEquals(684_531_386_000L, layout.stream().mapToLong(CheckpointTensor::elements).sum());
    CheckpointTensor ehProj = layout.stream().filter(t -> t.name().equals("model.layers.61.eh_proj.weight"))
        .findFirst().orElseThrow();
    assertEquals(DType.BF16, ehProj.dtype());
    assertEquals(List.of(7168L, 14336L), List.of(ehProj.shape()[0], ehProj.shape()[1]));
    CheckpointTensor downScale = layout.stream()
        .filter(t -> t.name().equals("model.layers.0.mlp.down_proj.weight_scale_inv")).findFirst().orElseThrow();
    assertEquals(List.of(56L, 144L), List.of(downScale.shape()[0], downScale.shape()[1]));
    assertNull(layout.stream().filter(t -> t.name().contains("inv_freq")).findFirst().orElse(null));
  }

  /**
   * gpt-oss-120b as released: per layer q/k/v/o with biases, sinks, router with bias, MXFP4 experts as U8
   * blocks (E, rows, cols / 32, 16) and scales (E, rows, cols / 32) with BF16 biases; 19 tensors a layer,
   * 687 in all.
   */
  @Test
  void gptOss120bLayoutHasTheReleasedMxfp4Tensors() throws Exception {
    Map<String, CheckpointTensor> layout = layout("gpt-oss-120b");
    assertEquals(36 * 19 + 3, layout.size());
    assertTensor(layout, "model.layers.35.mlp.experts.gate_up_proj_blocks", DType.U8, 128, 5760, 90, 16);
    assertTensor(layout, "model.layers.35.mlp.experts.gate_up_proj_scales", DType.U8, 128, 5760, 90);
    assertTensor(layout, "model.layers.35.mlp.experts.gate_up_proj_bias", DType.BF16, 128, 5760);
    assertTensor(layout, "model.layers.0.mlp.experts.down_proj_blocks", DType.U8, 128, 2880, 90, 16);
    assertTensor(layout, "model.layers.0.mlp.experts.down_proj_scales", DType.U8, 128, 2880, 90);
    assertTensor(layout, "model.layers.0.mlp.experts.down_proj_bias", DType.BF16, 128, 2880);
    assertTensor(layout, "model.layers.0.mlp.router.weight", DType.BF16, 128, 2880);
    assertTensor(layout, "model.layers.0.mlp.router.bias", DType.BF16, 128);
    assertTensor(layout, "model.layers.0.self_attn.sinks", DType.BF16, 64);
    assertTensor(layout, "model.layers.0.self_attn.q_proj.weight", DType.BF16, 4096, 2880);
    assertTensor(layout, "model.layers.0.self_attn.o_proj.bias", DType.BF16, 2880);
    assertTensor(layout, "lm_head.weight", DType.BF16, 201088, 2880);
  }

  /**
   * GLM-4.5: 3 dense layers then experts with a shared expert and the score correction bias, q/k/v biases
   * without an o_proj bias, per-head q/k norms, and the MTP layer 92 (a full MoE layer plus enorm, hnorm,
   * eh_proj and shared_head.norm; it shares the main embedding and LM head).
   */
  @Test
  void glm45LayoutHasItsDenseLayersAndMtpLayer() throws Exception {
    Map<String, CheckpointTensor> layout = layout("glm-4.5");
    assertTensor(layout, "model.layers.2.mlp.gate_proj.weight", DType.BF16, 12288, 5120);
    assertTensor(layout, "model.layers.3.mlp.experts.159.down_proj.weight", DType.BF16, 5120, 1536);
    assertTensor(layout, "model.layers.3.mlp.shared_experts.up_proj.weight", DType.BF16, 1536, 5120);
    assertTensor(layout, "model.layers.3.mlp.gate.e_score_correction_bias", DType.F32, 160);
    assertTensor(layout, "model.layers.0.self_attn.k_proj.bias", DType.BF16, 1024);
    assertTensor(layout, "model.layers.0.self_attn.q_norm.weight", DType.BF16, 128);
    assertNull(layout.get("model.layers.0.self_attn.o_proj.bias"));
    assertTensor(layout, "model.layers.92.eh_proj.weight", DType.BF16, 5120, 10240);
    assertTensor(layout, "model.layers.92.shared_head.norm.weight", DType.BF16, 5120);
    assertTensor(layout, "model.layers.92.mlp.experts.0.gate_proj.weight", DType.BF16, 1536, 5120);
    assertNull(layout.get("model.layers.92.embed_tokens.weight"));
    assertNull(layout.get("model.layers.93.input_layernorm.weight"));
  }

  private Map<String, CheckpointTensor> layout(String release) throws Exception {
    Path folder = tmp.resolve(release + "-config");
    Files.createDirectories(folder);
    Files.copy(CONFIGS.resolve(release).resolve(ModelConfig.FILE), folder.resolve(ModelConfig.FILE));
    Map<String, CheckpointTensor> byName = new LinkedHashMap<>();
    CheckpointLayout.read(folder).forEach(t -> byName.put(t.name(), t));
    return byName;
  }

  private static void assertTensor(Map<String, CheckpointTensor> layout, String name, DType dtype, long... shape) {
    CheckpointTensor t = layout.get(name);
    assertTrue(t != null, name + " missing");
    assertEquals(dtype, t.dtype(), name);
    assertEquals(Arrays.toString(shape), Arrays.toString(t.shape()), name);
  }

  /** A checkpoint without one tensor and with another of the wrong shape: both named, with file and shapes. */
  @Test
  void missingAndMisshapenTensorsAreNamed() throws Exception {
    String missing = "model.layers.30.block_sparse_moe.experts.5.w2.weight";
    String misshapen = "model.layers.7.self_attn.k_proj.weight";
    Broken broken = loadBroken("mixtral-8x22b-instruct-v0.1", missing, misshapen, 1024, 6000);
    assertTrue(broken.message().contains("missing tensor '" + missing + "' (expected shape [6144, 16384])"),
        broken.message());
    assertTrue(broken.message().contains(broken.misshapenShard() + ": tensor '" + misshapen
        + "' has shape [1024, 6000], expected [1024, 6144]"), broken.message());
  }

  /** The same for an FP8 release: a block-scale tensor left out, an FP8 expert weight of the wrong shape. */
  @Test
  void missingScalesAndMisshapenFp8WeightsAreNamed() throws Exception {
    String missing = "model.layers.47.mlp.experts.127.up_proj.weight_scale_inv";
    String misshapen = "model.layers.3.mlp.experts.9.down_proj.weight";
    Broken broken = loadBroken("qwen3-30b-a3b-fp8", missing, misshapen, 768, 2048);
    assertTrue(broken.message().contains("missing tensor '" + missing + "' (expected shape [6, 16])"),
        broken.message());
    assertTrue(broken.message().contains(broken.misshapenShard() + ": tensor '" + misshapen
        + "' has shape [768, 2048], expected [2048, 768]"), broken.message());
  }

  /** @param misshapenShard the shard file that holds the misshapen tensor, as the error names it */
  private record Broken(String message, String misshapenShard) {}

  /** The release's shape-only checkpoint without {@code missing} and with {@code misshapen} as (rows, cols): the load's error. */
  private Broken loadBroken(String release, String missing, String misshapen, long rows, long cols) throws Exception {
    Path folder = tmp.resolve(release + "-broken");
    Files.createDirectories(folder);
    Files.copy(CONFIGS.resolve(release).resolve(ModelConfig.FILE), folder.resolve(ModelConfig.FILE));
    List<CheckpointTensor> layout = new ArrayList<>(CheckpointLayout.read(folder));
    assertTrue(layout.removeIf(t -> t.name().equals(missing)));
    layout.replaceAll(t -> t.name().equals(misshapen) ? t.withShape(rows, cols) : t);
    CheckpointWriter.writeShapeOnly(layout, ShardPlan.DEFAULT_MAX_SHARD_BYTES, folder);
    String message = assertThrows(CheckpointException.class, () -> ModelWeights.load(folder)).getMessage();
    return new Broken(message, shardOf(layout, misshapen, folder));
  }

  /** A cut keeps the widths, makes the first layer dense, and refuses experts DeepSeek's groups cannot hold. */
  @Test
  void cutsKeepTheWidthsAndTheGroupRules() throws Exception {
    Path config = CONFIGS.resolve("deepseek-v3").resolve(ModelConfig.FILE);
    Path folder = tmp.resolve("dsv3-cut");
    ReleasedModel.write(config, new ReleasedModel.Options(true, 2, 16, 42, ShardPlan.DEFAULT_MAX_SHARD_BYTES), folder);
    ModelConfig cut = ModelConfig.read(folder);
    assertEquals(2, cut.numLayers());
    assertEquals(16, cut.numExperts());
    assertEquals(7168, cut.hiddenSize());
    assertTrue(!cut.isSparse(0) && cut.isSparse(1), "layer 0 dense, layer 1 with experts");
    assertNull(CheckpointLayout.read(folder).stream().filter(t -> t.name().startsWith("model.layers.2."))
        .findFirst().orElse(null), "no MTP layer in a cut");
    ModelWeights.load(folder);

    String message = assertThrows(ConfigException.class,
        () -> ReleasedModel.write(config, new ReleasedModel.Options(true, 2, 12, 42, ShardPlan.DEFAULT_MAX_SHARD_BYTES),
            tmp.resolve("dsv3-bad-cut"))).getMessage();
    assertTrue(message.contains("--num-experts 12") && message.contains("n_group 8"), message);
  }

  private static String shardOf(List<CheckpointTensor> layout, String name, Path folder) {
    ShardPlan plan = ShardPlan.of(layout, ShardPlan.DEFAULT_MAX_SHARD_BYTES);
    for (int s = 0; s < plan.shards().size(); s++) {
      if (plan.shards().get(s).stream().anyMatch(t -> t.name().equals(name))) {
        return folder.resolve(plan.fileName(s)).toString();
      }
    }
    throw new AssertionError(name + " is in no shard");
  }
}
