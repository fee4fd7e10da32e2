package io.moestream.engine.backend;

/**
 * What a step returns: the logits it was asked for and what it decided on the way, so callers read
 * the experts a token used instead of recomputing them from the policy.
 *
 * @param logits (logitTokens.length, vocabSize): next-token logits of the requested tokens
 * @param vocabSize row length of {@code logits}
 * @param expertsUsed (numLayers, numTokens): routed experts each token used at each layer, as the batch's
 *     selection rule decided (1..expertsPerToken on sparse layers, 0 on dense layers)
 * @param distinctExpertsTouched (numLayers): per sparse layer, the number of distinct experts the step
 *     read (0 on dense layers)
 */
public record StepOutput(float[] logits, int vocabSize, int[][] expertsUsed, int[] distinctExpertsTouched) {

  /** Copies row {@code i} of the logits. */
  public float[] logitsRow(int i) {
    float[] row = new float[vocabSize];
    System.arraycopy(logits, i * vocabSize, row, 0, vocabSize);
    return row;
  }

  public int numTokens() {
    return expertsUsed.length == 0 ? 0 : expertsUsed[0].length;
  }

  /** Routed experts {@code token} used, summed over the sparse layers. */
  public int expertsUsedSum(int token) {
    int sum = 0;
    for (int[] layer : expertsUsed) {
      sum += layer[token];
    }
    return sum;
  }

  /** Mean routed experts {@code token} used per sparse layer; 0 for a model without sparse layers. */
  public double expertsUsedMean(int token) {
    int sum = 0;
    int sparse = 0;
    for (int[] layer : expertsUsed) {
      if (layer[token] > 0) { // every token uses at least one expert at a sparse layer
        sum += layer[token];
        sparse++;
      }
    }
    return sparse == 0 ? 0 : sum / (double) sparse;
  }

  /** The fewest routed experts {@code token} used at any sparse layer; 0 for a model without sparse layers. */
  public int expertsUsedFewest(int token) {
    int fewest = 0;
    for (int[] layer : expertsUsed) {
      if (layer[token] > 0 && (fewest == 0 || layer[token] < fewest)) {
        fewest = layer[token];
      }
    }
    return fewest;
  }
}
