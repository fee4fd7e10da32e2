package io.moestream.operators.inference;

import io.moestream.engine.policy.ControllerSettings;
import io.moestream.engine.policy.ExpertPolicies;
import io.moestream.engine.policy.ExpertPolicy;
import java.io.Serializable;

/**
 * How the inference operator chooses the routed experts per token: a policy by name (docs/EXPERTS.md)
 * and, for {@code adaptive}, the controller that moves between its levels from the load.
 *
 * @param policy a policy spec: full, fixed:K, schedule:B,H,E,P, threshold:KMIN,T, batch:KMIN,T or
 *     adaptive[:L1|L2|...]
 * @param controller when the adaptive controller steps down and back up
 * @param latencyTargetMs target time per output token of the running batch, ms; above it the
 *     controller sees pressure > 1. 0: latency is not a signal
 */
public record ExpertControl(String policy, ControllerSettings controller, long latencyTargetMs) implements Serializable {

  public ExpertControl {
    ExpertPolicies.parse(policy); // a bad name fails where the job is defined, not on the TaskManager
    if (latencyTargetMs < 0) {
      throw new IllegalArgumentException("latencyTargetMs must be >= 0, found " + latencyTargetMs);
    }
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
}
