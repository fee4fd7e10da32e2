package io.moestream.engine.policy;

import io.moestream.engine.generate.Engine;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.moe.ExpertSelection;
import java.util.List;

/**
 * Runs an engine under a policy: applies the current level (its experts per layer and its selection
 * rule, which the engine puts into every step's batch) and, for {@code adaptive}, moves between levels from the
 * load signals. A non-adaptive policy is one level that never moves.
 *
 * <p>Call {@link #onSignals} from the thread that steps the engine (between steps). Requests' floors
 * and full-quality flags are honoured by the engine whatever the level.
 */
public final class PolicyDriver {
  private final Engine engine;
  private final ModelConfig config;
  private final ExpertPolicy policy;
  private final List<ExpertPolicy> levels;
  private final int[][] levelExperts; // (numLevels, numLayers)
  private final ExpertSelection[] levelSelections;
  private final AdaptiveController controller;
  private int applied = -1;

  public PolicyDriver(Engine engine, ExpertPolicy policy, ControllerSettings settings) {
    this.engine = engine;
    this.config = engine.config();
    this.policy = policy;
    this.levels = policy instanceof AdaptivePolicy adaptive ? adaptive.levels(config) : List.of(policy);
    this.levelExperts = new int[levels.size()][];
    this.levelSelections = new ExpertSelection[levels.size()];
    for (int i = 0; i < levels.size(); i++) {
      levelExperts[i] = levels.get(i).expertsPerLayer(config);
      levelSelections[i] = levels.get(i).selection(config);
    }
    this.controller = new AdaptiveController(levels.size(), settings);
    apply(0);
  }

  public PolicyDriver(Engine engine, ExpertPolicy policy) {
    this(engine, policy, ControllerSettings.defaults());
  }

  /** Feeds the load measured at {@code nowNanos}; returns the level now in force. */
  public int onSignals(long nowNanos, LoadSignals signals) {
    int level = controller.update(nowNanos, signals);
    if (level != applied) {
      apply(level);
    }
    return level;
  }

  private void apply(int level) {
    engine.setExpertLevel(levelExperts[level], levelSelections[level]);
    applied = level;
  }

  public ExpertPolicy policy() {
    return policy;
  }

  public int level() {
    return applied;
  }

  public ExpertPolicy levelPolicy() {
    return levels.get(applied);
  }

  public List<ExpertPolicy> levels() {
    return levels;
  }

  public AdaptiveController controller() {
    return controller;
  }

  /** Mean experts per token the current level asks for over the sparse layers (before selection). */
  public double levelExpertsPerToken() {
    int[] k = levelExperts[applied];
    double sum = 0;
    int sparse = 0;
    for (int layer = 0; layer < k.length; layer++) {
      if (config.isSparse(layer)) {
        sum += k[layer];
        sparse++;
      }
    }
    return sparse == 0 ? 0 : sum / sparse;
  }
}
