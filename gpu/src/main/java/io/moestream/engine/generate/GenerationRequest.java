package io.moestream.engine.generate;

/**
 * One sequence to generate.
 *
 * @param promptIds the prompt's token ids (non-empty)
 * @param maxNewTokens tokens to generate at most, counting {@code alreadyGenerated}
 * @param expertsPerLayer (numLayers): routed experts each of this request's tokens uses per layer
 * @param alreadyGenerated tokens generated before a restore; they are recomputed, not re-sampled, and
 *     generation continues at index {@code alreadyGenerated.length} with the same random draws
 * @param minExpertsPerToken the request's quality floor: an expert-activation level or selection rule
 *     never gives its tokens fewer experts per token than this (0: no floor)
 * @param fullQuality a priority request: the model's own experts per token at every layer, whatever
 *     the level or selection rule
 */
public record GenerationRequest(
    String id,
    int[] promptIds,
    SamplingParams sampling,
    int maxNewTokens,
    int[] expertsPerLayer,
    int[] alreadyGenerated,
    int minExpertsPerToken,
    boolean fullQuality) {

  public GenerationRequest {
    if (promptIds == null || promptIds.length == 0) {
      throw new IllegalArgumentException("request " + id + ": the prompt has no tokens");
    }
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("request " + id + ": max_new_tokens must be >= 1, found " + maxNewTokens);
    }
    if (minExpertsPerToken < 0) {
      throw new IllegalArgumentException("request " + id + ": minExpertsPerToken must be >= 0, found "
          + minExpertsPerToken);
    }
    if (alreadyGenerated == null) {
      alreadyGenerated = new int[0];
    }
  }

  public GenerationRequest(String id, int[] promptIds, SamplingParams sampling, int maxNewTokens, int[] expertsPerLayer,
      int[] alreadyGenerated) {
    this(id, promptIds, sampling, maxNewTokens, expertsPerLayer, alreadyGenerated, 0, false);
  }

  public GenerationRequest(String id, int[] promptIds, SamplingParams sampling, int maxNewTokens, int[] expertsPerLayer) {
    this(id, promptIds, sampling, maxNewTokens, expertsPerLayer, new int[0]);
  }

  /** This request with a quality floor and priority. */
  public GenerationRequest withQuality(int minExperts, boolean full) {
    return new GenerationRequest(id, promptIds, sampling, maxNewTokens, expertsPerLayer, alreadyGenerated, minExperts,
        full);
  }
}
