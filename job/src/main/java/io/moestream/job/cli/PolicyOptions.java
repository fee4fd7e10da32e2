package io.moestream.job.cli;

import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.policy.ExpertPolicies;
import io.moestream.engine.policy.ExpertPolicy;
import io.moestream.engine.policy.FixedPolicy;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code --policy P} (and, through {@link PruneOptions}, {@code --prune-experts N --expert-profile FILE}),
 * shared by every command that loads a model. {@code --experts-per-token K} stays a shorthand for
 * {@code fixed:K}.
 */
final class PolicyOptions {
  static final String POLICY_HELP = "Expert-activation policy: full, fixed:K, schedule:B,H,E,P, threshold:KMIN,T,"
      + " batch:KMIN,T or adaptive[:LEVEL|LEVEL...] (default: the config's num_experts_per_tok; see docs/EXPERTS.md).";

  @Option(names = "--policy", paramLabel = "<policy>", description = POLICY_HELP)
  String policy;

  @Mixin PruneOptions prune;

  /**
   * The policy asked for: --policy, else fixed:K from --experts-per-token K (> 0), else null (the model
   * as configured).
   */
  ExpertPolicy policy(int expertsPerToken) {
    if (policy != null && expertsPerToken > 0) {
      throw new IllegalArgumentException("give either --policy or --experts-per-token, not both");
    }
    if (policy != null) {
      return ExpertPolicies.parse(policy);
    }
    return expertsPerToken > 0 ? new FixedPolicy(expertsPerToken) : null;
  }

  /** Loads the model, pruned when --prune-experts is given. */
  LoadedModel load(Path model, EngineOptions options) {
    return prune.load(model, options);
  }

  boolean pruning() {
    return prune.pruning();
  }
}
