package io.moestream.engine.backend;

/** Sees the router's output for each token at each sparse layer. Called from the stepping thread. */
@FunctionalInterface
public interface RoutingObserver {
  /**
   * @param layer the decoder layer
   * @param routingProbabilities (numExperts): the router's scores after softmax (before top-k)
   * @param selectedExperts the experts the token uses, best first
   * @param numSelected how many entries of {@code selectedExperts} are used
   */
  void onToken(int layer, float[] routingProbabilities, int[] selectedExperts, int numSelected);
}
