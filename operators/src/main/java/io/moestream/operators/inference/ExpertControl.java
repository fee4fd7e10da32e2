package io.moestream.operators.inference;

import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.policy.ControllerSettings;
import io.moestream.engine.policy.ExpertPolicies;
import io.moestream.engine.policy.ExpertPolicy;
import io.moestream.engine.policy.ExpertPruning;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * How the inference operator chooses the routed experts per token: a policy by name (docs/EXPERTS.md),
 * for {@code adaptive} the controller that moves between its levels from the load, and optionally
 * the experts kept by pruning.
 *
 * @param policy a policy spec: full, fixed:K, schedule:B,H,E,P, threshold:KMIN,T, batch:KMIN,T or
 *     adaptive[:L1|L2|...]
 * @param controller when the adaptive controller steps down and back up
 * @param latencyTargetMs target time per output token of the running batch, ms; above it the
 *     controller sees pressure > 1. 0: latency is not a signal
 * @param keptExperts (numLayers, numExperts): true for the experts pruning keeps, computed where the
 *     job is defined from the expert profile (so the profile file need not reach the TaskManagers);
 *     null when the model is not pruned
 */
public record ExpertControl(String policy, ControllerSettings controller, long latencyTargetMs, boolean[][] keptExperts)
    implements Serializable {

  public ExpertControl {
    ExpertPolicies.parse(policy); // a bad name fails where the job is defined, not on the TaskManager
    if (latencyTargetMs < 0) {
      throw new IllegalArgumentException("latencyTargetMs must be >= 0, found " + latencyTargetMs);
    }
  }

  /** Not pruned. */
  public ExpertControl(String policy, ControllerSettings controller, long latencyTargetMs) {
    this(policy, controller, latencyTargetMs, null);
  }

  /** The full model whatever the load. */
  public static ExpertControl full() {
    return new ExpertControl("full", ControllerSettings.defaults(), 0);
  }

  /** The named policy with the default controller. */
  public static ExpertControl of(String policy) {
    return new ExpertControl(policy, ControllerSettings.defaults(), 0);
  }

  public ExpertPolicy parsedPolicy() {
    return ExpertPolicies.parse(policy);
  }

  /** The same, keeping only the experts marked in {@code kept} (numLayers, numExperts). */
  public ExpertControl pruned(boolean[][] kept) {
    return new ExpertControl(policy, controller, latencyTargetMs, kept);
  }

  /** Loads the model, with the pruned experts' weights dropped before the backend sees them. */
  public LoadedModel load(Path modelDir, EngineOptions options) {
    if (keptExperts == null) {
      return LoadedModel.load(modelDir, options);
    }
    return LoadedModel.load(modelDir, options, weights -> {
      if (weights.layers().length != keptExperts.length) {
        throw new IllegalArgumentException("the expert pruning mask has " + keptExperts.length + " layers, the model in "
            + modelDir + " has " + weights.layers().length + " (was the job defined against another model?)");
      }
      return ExpertPruning.apply(weights, keptExperts);
    });
  }

  /** Experts kept per sparse layer: the model's {@code numExperts} when not pruned. */
  public int expertsKept(int numExperts) {
    if (keptExperts == null) {
      return numExperts;
    }
    int most = 0;
    for (boolean[] layer : keptExperts) {
      int kept = 0;
      for (boolean k : layer) {
        kept += k ? 1 : 0;
      }
      most = kept < layer.length ? Math.max(most, kept) : most; // dense layers keep everything
    }
    return most == 0 ? numExperts : most;
  }
}
