package io.moestream.job.cli;

import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.policy.ExpertProfile;
import io.moestream.engine.policy.ExpertUsage;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "profile-experts", mixinStandardHelpOptions = true,
    description = {"Runs the full model teacher-forced over a text and writes each layer's per-expert soft counts",
        "(summed routing probability) and token counts as JSON: the profile --prune-experts ranks experts by."})
final class ProfileExpertsCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "Hugging Face model folder.")
  Path model;

  @Option(names = "--input", required = true, description = "Text file (or token ids with --token-ids-file).")
  Path input;

  @Option(names = "--token-ids-file", description = "--input holds token ids (comma or whitespace separated).")
  boolean tokenIdsFile;

  @Option(names = "--out", defaultValue = "expert-profile.json", description = "Output file. Default: ${DEFAULT-VALUE}.")
  Path out;

  @Option(names = "--window", defaultValue = "512",
      description = "Tokens per independent window (the text is cut into windows). Default: ${DEFAULT-VALUE}.")
  int window;

  @Mixin EngineOptionsMixin engineOptions;

  @Override
  public Integer call() throws Exception {
    if (window < 2) {
      throw new IllegalArgumentException("--window must be >= 2, found " + window);
    }
    int[] ids = TextInput.read(model, input, tokenIdsFile);
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
