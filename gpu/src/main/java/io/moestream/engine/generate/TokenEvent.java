package io.moestream.engine.generate;

/**
 * A token generated in a step, or the end of a request.
 *
 * @param index the token's index in the generation (0 = first generated token); -1 when no token
 * @param finishReason null while the request goes on
 * @param expertsUsedMean routed experts per token per sparse layer, averaged over this token's step
 * @param expertsUsedFewest the fewest routed experts any token of the request (prompt and recomputed
 *     tokens included) used at any sparse layer in this engine so far, as the steps reported them; 0 while
 *     none ran (or the model has no sparse layer)
 */
public record TokenEvent(String requestId, int tokenId, int index, FinishReason finishReason, String error,
    double expertsUsedMean, int expertsUsedFewest) {

  public boolean finished() {
    return finishReason != null;
  }
}
