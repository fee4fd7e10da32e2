package io.moestream.engine.backend;

/**
 * What a step returns.
 *
 * @param logits (logitTokens.length, vocabSize): next-token logits of the requested tokens
 * @param vocabSize row length of {@code logits}
 * @param routedExpertsUsed (numTokens): routed expert activations summed over the sparse layers
 * @param distinctExpertsTouched per sparse layer, the number of distinct experts the step read
 */
public record StepOutput(float[] logits, int vocabSize, int[] routedExpertsUsed, int[] distinctExpertsTouched) {

  /** Copies row {@code i} of the logits. */
  public float[] logitsRow(int i) {
    float[] row = new float[vocabSize];
    System.arraycopy(logits, i * vocabSize, row, 0, vocabSize);
    return row;
  }
}
