package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.WeightsMode;
import io.moestream.engine.policy.ExpertPolicy;
import io.moestream.engine.policy.ExpertUsage;
import io.moestream.engine.policy.QualityStats;
import io.moestream.job.quality.TextQuality;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval-quality",
    description = {"Measures how far a policy strays from the full model.",
        "%nThe input runs teacher-forced through the full model and through the policy (and/or the pruned model)."
            + " One JSON object is printed: kl_mean and kl_p95 (KL(full || policy) of the next-token distribution, in"
            + " nats), top1_agreement, ppl_full, ppl_policy, tokens and experts_per_token. adaptive is evaluated at its"
            + " first level, what it runs with no load. With --weights int8 the evaluated model's weights are quantized"
            + " (with the policy, if any) and the reference keeps the checkpoint's weights: the KL then measures the"
            + " quantization. With --kernels amx the evaluated model rounds its activations to BF16 (or Q8_0 with int8"
            + " weights) and the reference runs the exact kernels: the KL then measures that rounding too."})
final class EvalQualityCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "<dir>", description = "Hugging Face model folder.")
  Path model;

  @ArgGroup(multiplicity = "1") TokenInput input;

  @Option(names = "--token-ids-file", hidden = true,
      description = "Old form of --input-token-ids: --input holds token ids.")
  boolean tokenIdsFile;

  @Option(names = "--experts-per-token", defaultValue = "0", paramLabel = "<n>",
      description = "A shorthand for --policy fixed:<n>.")
  int expertsPerToken;

  @Option(names = "--window", defaultValue = "256", paramLabel = "<n>",
      description = "Tokens per independent window (the text is cut into windows). Default: ${DEFAULT-VALUE}.")
  int window;

  @Option(names = "--max-tokens", defaultValue = "0", paramLabel = "<n>",
      description = "Evaluate at most this many tokens of the input (0: all of them).")
  int maxTokens;

  @Mixin PolicyOptions policyOptions;

  @Mixin EngineOptionsMixin engineOptions;

  @Override
  public Integer call() throws Exception {
    if (window < 2) {
      throw new IllegalArgumentException("--window must be >= 2, found " + window);
    }
    int[] ids = input.read(model, tokenIdsFile);
    if (maxTokens > 0 && ids.length > maxTokens) {
      ids = Arrays.copyOf(ids, maxTokens);
    }
    if (ids.length < 2) {
      throw new IllegalArgumentException(input.file() + ": at least 2 tokens are needed, found " + ids.length);
    }
    EngineOptions options = engineOptions.toOptions();
    boolean int8 = options.weights() == WeightsMode.INT8;
    boolean roundedActivations = Kernels.roundsActivations(options.kernels());
    // The reference is always the model as the checkpoint stores it, on exact kernels; the candidate carries the
    // weights mode and the kernels.
    EngineOptions referenceOptions = options.withWeights(WeightsMode.CHECKPOINT);
    if (roundedActivations) {
      referenceOptions = referenceOptions.withKernels(Kernels.AUTO);
    }
    try (LoadedModel full = LoadedModel.load(model, referenceOptions);
        LoadedModel pruned = policyOptions.pruning() ? policyOptions.load(model, options) : null;
        LoadedModel quantized = (int8 || roundedActivations) && pruned == null ? LoadedModel.load(model, options)
            : null) {
      LoadedModel candidate = pruned != null ? pruned : quantized != null ? quantized : full;
      ModelConfig config = full.config();
      ExpertPolicy policy = policyOptions.policy(expertsPerToken);
      TextQuality.Result evaluated = TextQuality.compare(full, List.of(TextQuality.Candidate.of(candidate, policy)),
          ids, window, null).get(0);
      QualityStats stats = evaluated.stats();
      ExpertUsage usage = evaluated.usage();
      ObjectNode result = new ObjectMapper().createObjectNode();
      result.put("kl_mean", stats.klMean());
      result.put("kl_p95", stats.klQuantile(0.95));
      result.put("top1_agreement", stats.top1Agreement());
      result.put("ppl_full", stats.perplexityReference());
      result.put("ppl_policy", stats.perplexityEvaluated());
      result.put("tokens", stats.count());
      result.put("policy", policy == null ? "fixed:" + config.numExpertsPerTok() : policy.spec());
      if (policyOptions.pruning()) {
        result.put("prune_experts", policyOptions.prune.pruneExperts);
      }
      result.put("weights", options.weights().optionValue());
      result.put("kernels", options.kernels());
      result.put("experts_per_token", usage.expertsPerToken());
      System.out.println(result);
    }
    return 0;
  }
}
