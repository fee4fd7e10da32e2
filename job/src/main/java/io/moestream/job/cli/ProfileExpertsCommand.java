package io.moestream.job.cli;

import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.policy.ExpertProfile;
import io.moestream.engine.policy.ExpertUsage;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "profile-experts",
    description = {"Writes each layer's expert usage over a text (a profile).",
        "%nThe full model runs teacher-forced over the input, cut into windows; the JSON written holds each layer's"
            + " per-expert soft counts (summed routing probability) and token counts: the profile --prune-experts"
            + " ranks experts by."})
final class ProfileExpertsCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "<dir>", description = "Hugging Face model folder.")
  Path model;

  @ArgGroup(multiplicity = "1") TokenInput input;

  @Option(names = "--token-ids-file", hidden = true,
      description = "Old form of --input-token-ids: --input holds token ids.")
  boolean tokenIdsFile;

  @Option(names = "--output", defaultValue = "expert-profile.json", paramLabel = "<file>",
      description = "The profile to write. Default: ${DEFAULT-VALUE}.")
  Path out;

  @Option(names = "--window", defaultValue = "512", paramLabel = "<n>",
      description = "Tokens per independent window (the text is cut into windows). Default: ${DEFAULT-VALUE}.")
  int window;

  @Mixin EngineOptionsMixin engineOptions;

  @Override
  public Integer call() throws Exception {
    if (window < 2) {
      throw new IllegalArgumentException("--window must be >= 2, found " + window);
    }
    int[] ids = input.read(model, tokenIdsFile);
    try (LoadedModel loaded = LoadedModel.load(model, engineOptions.toOptions())) {
      ModelConfig config = loaded.config();
      int windowTokens = Math.min(window, config.maxPositionEmbeddings());
      ExpertUsage usage = new ExpertUsage(config);
      loaded.backend().setRoutingObserver(usage);
      for (int start = 0; start < ids.length; start += windowTokens) {
        loaded.logits(Arrays.copyOfRange(ids, start, Math.min(ids.length, start + windowTokens)),
            loaded.expertsPerLayer(0), false);
      }
      ExpertProfile.of(model.getFileName().toString(), config, usage).write(out);
      System.err.printf(Locale.ROOT, "profiled %d tokens, %d layers x %d experts -> %s%n", usage.tokensSeen(),
          config.numLayers(), config.numExperts(), out);
    }
    return 0;
  }
}
