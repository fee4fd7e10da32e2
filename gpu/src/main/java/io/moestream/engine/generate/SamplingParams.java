package io.moestream.engine.generate;

/**
 * How the next token is drawn from the logits: temperature -> top-k -> top-p -> a draw whose random
 * number depends only on (seed, token index), so a replay from any point reproduces the generation.
 *
 * @param temperature 0 for greedy (argmax)
 * @param topP nucleus mass in (0, 1]; 1 disables
 * @param topK keep the k most likely tokens; 0 disables
 */
public record SamplingParams(float temperature, float topP, int topK, long seed) {
  public static final SamplingParams GREEDY = new SamplingParams(0f, 1f, 0, 0L);

  public SamplingParams {
    if (!(temperature >= 0) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be >= 0, found " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("top_p must be in (0, 1], found " + topP);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("top_k must be >= 0, found " + topK);
    }
  }

  public boolean greedy() {
    return temperature == 0f;
  }
}
