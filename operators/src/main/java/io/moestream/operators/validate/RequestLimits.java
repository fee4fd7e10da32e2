package io.moestream.operators.validate;

import java.io.Serializable;

/**
 * What a request may ask for, fixed when the job is built from its configuration and the model.
 *
 * @param maxNewTokens the most tokens one request may ask to generate
 * @param maxExpertsPerToken the model's num_experts_per_tok: the highest quality floor a request may set
 * @param maxStopStrings how many stop strings a request may give
 */
public record RequestLimits(int maxNewTokens, int maxExpertsPerToken, int maxStopStrings) implements Serializable {
  public static final int MAX_REQUEST_ID_LENGTH = 256;
  public static final float MAX_TEMPERATURE = 100f;

  public RequestLimits {
    if (maxNewTokens < 1 || maxExpertsPerToken < 1 || maxStopStrings < 0) {
      throw new IllegalArgumentException("bad request limits " + maxNewTokens + ", " + maxExpertsPerToken + ", "
          + maxStopStrings);
    }
  }
}
