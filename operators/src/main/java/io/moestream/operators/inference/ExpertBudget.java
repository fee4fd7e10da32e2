package io.moestream.operators.inference;

import io.moestream.operators.metrics.LoadSignals;
import java.io.Serializable;

/**
 * Chooses the routed experts per token a newly admitted request gets, from the load. The choice is
 * made once per request and kept in its state, so a replay routes the same way. The operator
 * raises it to the request's quality floor and caps it at the model's default.
 */
@FunctionalInterface
public interface ExpertBudget extends Serializable {
  /**
   * @param modelDefault the model's num_experts_per_tok
   * @return experts per token in [1, modelDefault]
   */
  int expertsPerToken(LoadSignals load, int modelDefault);

  /** Always the model's default: full quality, whatever the load. */
  ExpertBudget MODEL_DEFAULT = (load, modelDefault) -> modelDefault;
}
