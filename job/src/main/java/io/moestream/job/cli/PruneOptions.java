package io.moestream.job.cli;

import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.policy.ExpertProfile;
import io.moestream.engine.policy.ExpertPruning;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --prune-experts N --expert-profile FILE}: keep the N most used experts of each layer. */
final class PruneOptions {
  @Option(names = "--prune-experts", paramLabel = "<n>",
      description = "Keep only the n most used experts of each layer (needs --expert-profile); the others are never"
          + " read.")
  Integer pruneExperts;

  @Option(names = "--expert-profile", paramLabel = "<file>", description = "Expert profile written by profile-experts.")
  Path expertProfile;

  /** Loads the model, pruned when --prune-experts is given. */
  LoadedModel load(Path model, EngineOptions options) {
    if (pruneExperts == null && expertProfile == null) {
      return LoadedModel.load(model, options);
    }
    if (pruneExperts == null || expertProfile == null) {
      throw new IllegalArgumentException("--prune-experts N and --expert-profile FILE go together");
    }
    return loadPruned(model, options, expertProfile, pruneExperts);
  }

  /** The model with only the {@code keep} most used experts of each layer, by {@code profile}. */
  static LoadedModel loadPruned(Path model, EngineOptions options, Path profile, int keep) {
    ModelConfig config = ModelConfig.read(model);
    boolean[][] kept = ExpertPruning.keepMostUsed(ExpertProfile.read(profile, config), config, keep);
    return LoadedModel.load(model, options, weights -> ExpertPruning.apply(weights, kept));
  }

  boolean pruning() {
    return pruneExperts != null;
  }
}
