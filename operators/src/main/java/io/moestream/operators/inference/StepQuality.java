package io.moestream.operators.inference;

import io.moestream.engine.policy.PolicyDriver;
import io.moestream.operators.metrics.LoadSignals;

/**
 * The expert policy as the operator runs it: the load goes to the policy's controller before each step
 * ({@link #update}); the level it picks goes into the engine's next step batches. What each request's
 * tokens then used comes back from the steps themselves ({@code TokenEvent.expertsUsedFewest}), so a
 * generation reported at the full k never had any token, prompt chunks included, computed with fewer.
 */
final class StepQuality {
  private final PolicyDriver policy;
  private final double latencyTargetMs;

  StepQuality(PolicyDriver policy, double latencyTargetMs) {
    this.policy = policy;
    this.latencyTargetMs = latencyTargetMs;
  }

  /** Feeds the load to the controller; its level holds from the next step on. */
  void update(long nowNanos, LoadSignals load, double stepMsAverage) {
    double latencyVsTarget = latencyTargetMs == 0 ? 0 : stepMsAverage / latencyTargetMs;
    policy.onSignals(nowNanos, load.forController(nowNanos, latencyVsTarget));
  }

  int level() {
    return policy.level();
  }
}
