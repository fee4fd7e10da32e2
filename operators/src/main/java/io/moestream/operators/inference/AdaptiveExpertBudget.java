package io.moestream.operators.inference;

import io.moestream.engine.policy.AdaptiveController;
import io.moestream.engine.policy.ControllerSettings;
import io.moestream.operators.metrics.LoadSignals;
import java.util.Arrays;

/**
 * The engine's {@link AdaptiveController} behind the operator's per-request {@link ExpertBudget}: each
 * admission feeds the current load (waiting and running requests, in-flight fill, backpressured share
 * of the last second, consumer lag) to the controller and gets its level's experts per token. Levels
 * are ordered from full quality down; with no load it stays at the first (the model's k). See
 * docs/EXPERTS.md for the per-step alternative ({@code PolicyDriver}).
 */
public final class AdaptiveExpertBudget implements ExpertBudget {
  private static final long serialVersionUID = 1L;
  private final int[] levels; // experts per token, full quality first; empty: k, 3/4 k, 1/2 k of the model
  private final ControllerSettings settings;
  private transient AdaptiveController controller;
  private transient int[] resolved;

  /** @param levels experts per token per level, decreasing; empty for the model's k, 3/4 and 1/2 of it */
  public AdaptiveExpertBudget(int[] levels, ControllerSettings settings) {
    for (int i = 0; i < levels.length; i++) {
      if (levels[i] < 1 || (i > 0 && levels[i] >= levels[i - 1])) {
        throw new IllegalArgumentException("adaptive levels must be decreasing and >= 1, found " + Arrays.toString(levels));
      }
    }
    this.levels = levels.clone();
    this.settings = settings;
  }

  /** The default levels and controller settings. */
  public static AdaptiveExpertBudget defaults() {
    return new AdaptiveExpertBudget(new int[0], ControllerSettings.defaults());
  }

  @Override
  public int expertsPerToken(LoadSignals load, int modelDefault) {
    return expertsPerToken(load, modelDefault, System.nanoTime());
  }

  int expertsPerToken(LoadSignals load, int modelDefault, long nowNanos) {
    if (controller == null) {
      resolved = levels.length > 0 ? levels.clone()
          : Arrays.stream(new int[] {modelDefault, (int) Math.round(modelDefault * 0.75), (int) Math.round(modelDefault * 0.5)})
              .filter(k -> k >= 1).distinct().toArray();
      controller = new AdaptiveController(resolved.length, settings);
    }
    double fill = load.maxInFlightRequests() == 0 ? 0 : load.inFlightRequests() / (double) load.maxInFlightRequests();
    int level = controller.update(nowNanos, new io.moestream.engine.policy.LoadSignals(load.waitingRequests(),
        load.runningBatchSize(), fill, load.backpressuredRatio(nowNanos), 0, load.consumerLag()));
    return Math.min(modelDefault, resolved[level]);
  }

  /** The controller's level (0 = full quality); 0 before the first admission. */
  public int level() {
    return controller == null ? 0 : controller.level();
  }
}
