package io.moestream.operators.inference;

import io.moestream.engine.policy.PolicyDriver;
import io.moestream.operators.metrics.LoadSignals;
import io.moestream.operators.records.TokenizedRequest;
import java.util.Collection;

/**
 * The expert policy as the operator runs it: the load goes to the policy's controller before each step
 * ({@link #update}), and every request in flight is marked with the fewest experts per token the level
 * may give it ({@link #markInFlight}), so a generation reported at the full k never had any token, prompt
 * chunks included, computed with fewer.
 */
final class StepQuality {
  private final PolicyDriver policy;
  private final double latencyTargetMs;
  private final int modelExpertsPerToken;

  StepQuality(PolicyDriver policy, double latencyTargetMs, int modelExpertsPerToken) {
    this.policy = policy;
    this.latencyTargetMs = latencyTargetMs;
    this.modelExpertsPerToken = modelExpertsPerToken;
  }

  /** Feeds the load to the controller; its level holds from the next step on. */
  void update(long nowNanos, LoadSignals load, double stepMsAverage) {
    double latencyVsTarget = latencyTargetMs == 0 ? 0 : stepMsAverage / latencyTargetMs;
    policy.onSignals(nowNanos, load.forController(nowNanos, latencyVsTarget));
  }

  /** Marks every request in flight with what the current level allows it (only while below full quality). */
  void markInFlight(Collection<ActiveGeneration> inFlight) {
    if (policy.levelFewestExperts() < modelExpertsPerToken) {
      for (ActiveGeneration g : inFlight) {
        g.allow(fewestAllowed(g.request));
      }
    }
  }

  /** The fewest experts per token the current level allows {@code request}, after its floor and priority. */
  int fewestAllowed(TokenizedRequest request) {
    if (request.priority == InFlightGenerations.HIGH_PRIORITY) {
      return modelExpertsPerToken;
    }
    return Math.min(modelExpertsPerToken, Math.max(request.minExpertsPerToken, policy.levelFewestExperts()));
  }

  int level() {
    return policy.level();
  }
}
