package io.moestream.job.cli;

import io.moestream.engine.format.DType;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.CheckpointWriter;
import io.moestream.engine.testmodel.DeepseekSpec;
import io.moestream.engine.testmodel.GlmSpec;
import io.moestream.engine.testmodel.GptOssSpec;
import io.moestream.engine.testmodel.ReleasedModel;
import io.moestream.engine.testmodel.ShardPlan;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import io.moestream.engine.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "make-test-model",
    description = {"Writes a random-weight model for tests and benchmarks.",
        "%nIts outputs are meaningless text: it is for tests, benchmarks and the demo. With --arch: config.json and"
            + " model.safetensors that Hugging Face transformers would load, in a small shape that the options below"
            + " change.",
        "%nWith --from-config: a released model's checkpoint layout (tensor names, dtypes, shapes, shards and index)"
            + " for its config.json, shape only (sparse files) or with random weights cut to --num-layers."})
final class MakeTestModelCommand implements Callable<Integer> {
  @Option(names = "--arch", paramLabel = "<arch>", description = "The model family: qwen3_moe, qwen2_moe, mixtral,"
      + " olmoe, deepseek_v2, deepseek_v3, glm4_moe or gpt_oss (or give --from-config).")
  String arch;

  @Option(names = "--from-config", paramLabel = "<file>", description = "A released model's config.json: write its"
      + " checkpoint layout (BF16, or FP8 with block scales where the config says so) instead of an --arch model.")
  Path fromConfig;

  @Option(names = "--shape-only", description = "With --from-config: headers and index only, the data left as holes"
      + " of sparse files (a 700 GB checkpoint takes kilobytes); reads as zeros.")
  boolean shapeOnly;

  @Option(names = "--max-shard-size", defaultValue = "5GB", paramLabel = "<size>",
      description = "With --from-config: the shard size limit, as save_pretrained's (5GB, 500MB, 2GiB)."
          + " Default: ${DEFAULT-VALUE}.")
  String maxShardSize;

  @Option(names = "--output", required = true, paramLabel = "<dir>",
      description = "Folder to write (created if missing).")
  Path out;

  @Option(names = "--seed", defaultValue = "42", paramLabel = "<n>",
      description = "Seed of the random weights. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--dtype", defaultValue = "f32", paramLabel = "<dtype>",
      description = "f32, bf16 or f16. Default: ${DEFAULT-VALUE}.")
  String dtype;

  @Option(names = "--hidden-size", paramLabel = "<n>", description = "The model width (hidden_size).")
  Integer hiddenSize;

  @Option(names = "--num-layers", paramLabel = "<n>",
      description = "Decoder layers (num_hidden_layers); with --from-config, the layers kept.")
  Integer numLayers;

  @Option(names = "--num-heads", paramLabel = "<n>", description = "Query heads (num_attention_heads).")
  Integer numHeads;

  @Option(names = "--num-kv-heads", paramLabel = "<n>", description = "Key/value heads (num_key_value_heads).")
  Integer numKvHeads;

  @Option(names = "--head-dim", paramLabel = "<n>", description = "Width of one attention head (head_dim).")
  Integer headDim;

  @Option(names = "--num-experts", paramLabel = "<n>",
      description = "Routed experts per sparse layer; with --from-config, the experts kept.")
  Integer numExperts;

  @Option(names = "--experts-per-token", paramLabel = "<n>",
      description = "Routed experts per token (num_experts_per_tok).")
  Integer expertsPerToken;

  @Option(names = "--moe-intermediate-size", paramLabel = "<n>",
      description = "Width of one routed expert (moe_intermediate_size).")
  Integer moeIntermediateSize;

  @Option(names = "--intermediate-size", paramLabel = "<n>", description = "Dense MLP size (layers without experts).")
  Integer intermediateSize;

  @Option(names = "--decoder-sparse-step", paramLabel = "<n>",
      description = "Every n-th layer has experts (qwen2_moe, qwen3_moe).")
  Integer sparseStep;

  @Option(names = "--shared-expert-intermediate-size", paramLabel = "<n>",
      description = "qwen2_moe: the shared expert's size.")
  Integer sharedExpert;

  @Option(names = "--vocab-size", paramLabel = "<n>",
      description = "Vocabulary size (vocab_size); with --tokenizer at least the tokenizer's.")
  Integer vocabSize;

  @Option(names = "--max-position-embeddings", paramLabel = "<n>",
      description = "Longest sequence the model takes (max_position_embeddings).")
  Integer maxPositions;

  @Option(names = "--kv-lora-rank", paramLabel = "<n>", description = "deepseek: latent width per token (the KV cache).")
  Integer kvLoraRank;

  @Option(names = "--q-lora-rank", paramLabel = "<n>",
      description = "deepseek: query compression rank, 0 for q_proj (V2-Lite).")
  Integer qLoraRank;

  @Option(names = "--qk-nope-head-dim", paramLabel = "<n>",
      description = "deepseek: the query/key width per head without RoPE (qk_nope_head_dim).")
  Integer qkNopeHeadDim;

  @Option(names = "--qk-rope-head-dim", paramLabel = "<n>",
      description = "deepseek: the query/key width per head that RoPE rotates (qk_rope_head_dim).")
  Integer qkRopeHeadDim;

  @Option(names = "--v-head-dim", paramLabel = "<n>", description = "deepseek: the value width per head (v_head_dim).")
  Integer vHeadDim;

  @Option(names = "--n-shared-experts", paramLabel = "<n>",
      description = "deepseek, glm4_moe: shared experts (0 for none).")
  Integer nSharedExperts;

  @Option(names = "--topk-method", paramLabel = "<method>",
      description = "deepseek: greedy, group_limited_greedy (V2) or noaux_tc (V3).")
  String topkMethod;

  @Option(names = "--n-group", paramLabel = "<n>",
      description = "deepseek, glm4_moe: groups the routed experts are split into (n_group).")
  Integer nGroup;

  @Option(names = "--topk-group", paramLabel = "<n>",
      description = "deepseek, glm4_moe: groups a token's experts are chosen from (topk_group).")
  Integer topkGroup;

  @Option(names = "--first-k-dense-replace", paramLabel = "<n>",
      description = "deepseek, glm4_moe: the first n layers are dense.")
  Integer firstDense;

  @Option(names = "--moe-layer-freq", paramLabel = "<n>",
      description = "deepseek: every n-th layer after the dense ones has experts (moe_layer_freq).")
  Integer moeLayerFreq;

  @Option(names = "--rope-yarn-factor", paramLabel = "<number>",
      description = "deepseek: YaRN factor, 0 for no rope scaling (default 40).")
  Double yarnFactor;

  @Option(names = "--rope-yarn-original-max-position-embeddings", paramLabel = "<n>",
      description = "deepseek: YaRN's original_max_position_embeddings.")
  Integer yarnOriginalMax;

  @Option(names = "--rope-yarn-mscale", paramLabel = "<number>", description = "deepseek: YaRN's mscale.")
  Double yarnMscale;

  @Option(names = "--rope-yarn-mscale-all-dim", paramLabel = "<number>",
      description = "deepseek: YaRN's mscale_all_dim.")
  Double yarnMscaleAllDim;

  @Option(names = "--partial-rotary-factor", paramLabel = "<number>",
      description = "glm4_moe: RoPE rotates head_dim * factor values of each head (default 0.5).")
  Double partialRotaryFactor;

  @Option(names = "--qk-norm", negatable = true,
      description = "glm4_moe: per-head q/k RMSNorm (use_qk_norm; default off, as GLM-4.5-Air).")
  Boolean qkNorm;

  @Option(names = "--attention-bias", negatable = true,
      description = "glm4_moe: q/k/v projection biases (default on, as the releases).")
  Boolean attentionBias;

  @Option(names = "--routed-scaling-factor", paramLabel = "<number>",
      description = "glm4_moe: routed weights' multiplier (default 2.5).")
  Double routedScalingFactor;

  @Option(names = "--nextn-layers", paramLabel = "<n>",
      description = "glm4_moe: next-token-prediction (MTP) layers written after the decoder layers; the engine"
          + " skips them (default 1).")
  Integer nextnLayers;

  @Option(names = "--fp8", description = "E4M3 linear weights with 128x128 block scales (weight_scale_inv), as in the"
      + " DeepSeek-V3 and Qwen3 FP8 releases; every family but deepseek_v2.")
  boolean fp8;

  @Option(names = "--mxfp4", description = "gpt_oss: experts as MXFP4 *_blocks / *_scales, as the releases ship them"
      + " (default: BF16-layout experts in --dtype).")
  boolean mxfp4;

  @Option(names = "--sliding-window", paramLabel = "<n>", description = "gpt_oss: the window of the sliding (even)"
      + " layers; 0 makes every layer full attention (default 4).")
  Integer slidingWindow;

  @Option(names = "--sinks", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "gpt_oss: learned attention sinks; --no-sinks writes them as -infinity, which attend to nothing"
          + " (default on).")
  boolean sinks;

  @Option(names = "--swiglu-limit", paramLabel = "<number>", description = "gpt_oss: the experts' clamp (default 7).")
  Double swigluLimit;

  @Option(names = "--yarn", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "gpt_oss: the releases' YaRN rope scaling (factor 32, truncate false); --no-yarn for plain RoPE"
          + " (default on).")
  boolean yarn;

  @Option(names = "--tokenizer", paramLabel = "<dir>",
      description = "Folder with tokenizer.json + tokenizer_config.json to copy in; the vocabulary then covers it.")
  Path tokenizer;

  @Override
  public Integer call() throws Exception {
    if (fromConfig != null) {
      return fromConfig();
    }
    if (arch == null) {
      throw new IllegalArgumentException("give --arch (a random model of a family) or --from-config (a released model's"
          + " layout)");
    }
    if (shapeOnly) {
      throw new IllegalArgumentException("--shape-only is for --from-config");
    }
    Architecture architecture = Architecture.fromModelType(arch, "--arch");
    TestModelSpec spec = TestModelSpec.defaults(architecture).withSeed(seed).withDType(parseDType(dtype));
    if (hiddenSize != null || numHeads != null || numKvHeads != null || headDim != null) {
      int hidden = hiddenSize != null ? hiddenSize : spec.hiddenSize();
      int heads = numHeads != null ? numHeads : spec.numHeads();
      int kvHeads = numKvHeads != null ? numKvHeads : Math.min(heads, spec.numKvHeads());
      int dim = headDim != null ? headDim : hidden / heads;
      spec = spec.withAttention(hidden, heads, kvHeads, dim);
    }
    if (numLayers != null) {
      spec = spec.withNumLayers(numLayers);
    }
    if (numExperts != null || expertsPerToken != null || moeIntermediateSize != null) {
      spec = spec.withExperts(numExperts != null ? numExperts : spec.numExperts(),
          expertsPerToken != null ? expertsPerToken : spec.expertsPerToken(),
          moeIntermediateSize != null ? moeIntermediateSize : spec.moeIntermediateSize());
    }
    if (intermediateSize != null || sparseStep != null) {
      spec = spec.withDenseLayers(intermediateSize != null ? intermediateSize : spec.intermediateSize(),
          sparseStep != null ? sparseStep : spec.decoderSparseStep());
    }
    if (sharedExpert != null) {
      spec = spec.withSharedExpert(sharedExpert);
    }
    if (maxPositions != null) {
      spec = spec.withMaxPositionEmbeddings(maxPositions);
    }
    boolean glmOptions = partialRotaryFactor != null || qkNorm != null || attentionBias != null
        || routedScalingFactor != null || nextnLayers != null;
    if (glmOptions && architecture != Architecture.GLM4_MOE) {
      throw new IllegalArgumentException("--partial-rotary-factor, --[no-]qk-norm, --[no-]attention-bias,"
          + " --routed-scaling-factor and --nextn-layers are for glm4_moe");
    }
    if (architecture == Architecture.GLM4_MOE) {
      spec = spec.withGlm(glm(spec.glm()));
    }
    boolean gptOssOptions = mxfp4 || slidingWindow != null || !sinks || swigluLimit != null || !yarn;
    if (gptOssOptions && architecture != Architecture.GPT_OSS) {
      throw new IllegalArgumentException("--mxfp4, --sliding-window, --no-sinks, --swiglu-limit and --no-yarn are for"
          + " gpt_oss");
    }
    if (architecture == Architecture.GPT_OSS) {
      GptOssSpec g = spec.gptOss();
      spec = spec.withGptOss(g.withMxfp4(mxfp4).withSlidingWindow(or(slidingWindow, g.slidingWindow())).withSinks(sinks)
          .withSwigluLimit(swigluLimit != null ? swigluLimit : g.swigluLimit()).withYarn(yarn));
    }
    if (architecture.isDeepseek()) {
      spec = spec.withDeepseek(deepseek(spec.deepseek()));
    } else if (kvLoraRank != null || qLoraRank != null || topkMethod != null || yarnFactor != null) {
      throw new IllegalArgumentException("--kv-lora-rank, --q-lora-rank, --topk-method and --rope-yarn-* are for"
          + " deepseek_v2/deepseek_v3");
    } else if (fp8) {
      spec = spec.withFp8Block(128); // the block of the Qwen3 FP8 releases
    }
    Tokenizer tok = null;
    if (tokenizer != null) {
      tok = Tokenizer.load(tokenizer);
      int needed = tok.vocabSize();
      spec = spec.withVocabSize(vocabSize != null ? Math.max(vocabSize, needed) : needed);
      int eos = tok.eosTokenId().orElse(spec.eosTokenId());
      int bos = tok.bosTokenId().orElse(eos);
      spec = spec.withSpecialTokens(bos, eos);
    } else if (vocabSize != null) {
      spec = spec.withVocabSize(vocabSize);
    }
    long started = System.nanoTime();
    TestModelWriter.write(spec, out);
    if (tokenizer != null) {
      for (String file : new String[] {"tokenizer.json", "tokenizer_config.json"}) {
        Files.copy(tokenizer.resolve(file), out.resolve(file), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    System.err.printf(Locale.ROOT, "wrote %s model to %s (%d MiB, %.1f s): random weights, its text is meaningless%n",
        architecture.modelType(), out, Files.size(out.resolve("model.safetensors")) >> 20,
        (System.nanoTime() - started) / 1e9);
    return 0;
  }

  /**
   * A released model's layout: every width from its config.json, only the layers and routed experts cut
   * when asked. Options that set widths belong to --arch models and are refused here.
   */
  private int fromConfig() throws Exception {
    Object[][] widthOptions = {{"--arch", arch}, {"--hidden-size", hiddenSize}, {"--num-heads", numHeads},
        {"--num-kv-heads", numKvHeads}, {"--head-dim", headDim}, {"--experts-per-token", expertsPerToken},
        {"--moe-intermediate-size", moeIntermediateSize}, {"--intermediate-size", intermediateSize},
        {"--decoder-sparse-step", sparseStep}, {"--shared-expert-intermediate-size", sharedExpert},
        {"--vocab-size", vocabSize}, {"--max-position-embeddings", maxPositions}, {"--kv-lora-rank", kvLoraRank},
        {"--q-lora-rank", qLoraRank}, {"--topk-method", topkMethod}, {"--n-group", nGroup}, {"--topk-group", topkGroup},
        {"--first-k-dense-replace", firstDense}, {"--moe-layer-freq", moeLayerFreq}, {"--n-shared-experts", nSharedExperts},
        {"--qk-nope-head-dim", qkNopeHeadDim}, {"--qk-rope-head-dim", qkRopeHeadDim}, {"--v-head-dim", vHeadDim},
        {"--rope-yarn-factor", yarnFactor}, {"--rope-yarn-original-max-position-embeddings", yarnOriginalMax},
        {"--rope-yarn-mscale", yarnMscale}, {"--rope-yarn-mscale-all-dim", yarnMscaleAllDim}, {"--tokenizer", tokenizer},
        {"--fp8", fp8 ? true : null}};
    for (Object[] option : widthOptions) {
      if (option[1] != null) {
        throw new IllegalArgumentException(option[0] + " does not go with --from-config: the widths, dtypes and"
            + " quantization are the config's (only --num-layers, --num-experts, --seed, --shape-only and"
            + " --max-shard-size apply)");
      }
    }
    if (!shapeOnly && numLayers == null) {
      throw new IllegalArgumentException("--from-config writes the whole release with random weights only when cut:"
          + " give --shape-only (sparse files) or --num-layers N");
    }
    long started = System.nanoTime();
    ReleasedModel.Options options = new ReleasedModel.Options(shapeOnly, numLayers, numExperts, seed,
        ShardPlan.parseSize(maxShardSize));
    CheckpointWriter.Summary summary = ReleasedModel.write(fromConfig, options, out);
    System.err.printf(Locale.ROOT, "wrote %s%s in %.1f s%n", shapeOnly ? "shape-only " : "random-weight ", summary,
        (System.nanoTime() - started) / 1e9);
    return 0;
  }

  private DeepseekSpec deepseek(DeepseekSpec d) {
    d = d.withAttention(or(qLoraRank, d.qLoraRank()), or(kvLoraRank, d.kvLoraRank()), or(qkNopeHeadDim, d.qkNopeHeadDim()),
        or(qkRopeHeadDim, d.qkRopeHeadDim()), or(vHeadDim, d.vHeadDim()));
    d = d.withRouting(topkMethod != null ? topkMethod : d.topkMethod(), or(nGroup, d.nGroup()), or(topkGroup, d.topkGroup()),
        or(nSharedExperts, d.nSharedExperts()));
    d = d.withDenseLayers(or(firstDense, d.firstKDenseReplace()), or(moeLayerFreq, d.moeLayerFreq()));
    d = d.withYarn(yarnFactor != null ? yarnFactor : d.yarnFactor(), or(yarnOriginalMax, d.yarnOriginalMaxPositions()),
        yarnMscale != null ? yarnMscale : d.yarnMscale(), yarnMscaleAllDim != null ? yarnMscaleAllDim : d.yarnMscaleAllDim());
    return d.withFp8(fp8);
  }

  private GlmSpec glm(GlmSpec g) {
    g = g.withAttention(partialRotaryFactor != null ? partialRotaryFactor : g.partialRotaryFactor(),
        qkNorm != null ? qkNorm : g.useQkNorm(), attentionBias != null ? attentionBias : g.attentionBias());
    g = g.withRouting(or(nGroup, g.nGroup()), or(topkGroup, g.topkGroup()),
        routedScalingFactor != null ? routedScalingFactor : g.routedScalingFactor(), g.normTopKProb());
    return g.withLayers(or(nSharedExperts, g.nSharedExperts()), or(firstDense, g.firstKDenseReplace()),
        or(nextnLayers, g.nextnLayers()));
  }

  private static int or(Integer value, int fallback) {
    return value != null ? value : fallback;
  }

  private static DType parseDType(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "f32", "float32" -> DType.F32;
      case "bf16", "bfloat16" -> DType.BF16;
      case "f16", "float16" -> DType.F16;
      default -> throw new IllegalArgumentException("--dtype must be f32, bf16 or f16, found '" + name + "'");
    };
  }
}
