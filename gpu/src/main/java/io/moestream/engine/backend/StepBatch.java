package io.moestream.engine.backend;

import io.moestream.engine.kv.PagedKvCache;

/**
 * The tokens of one forward step, flattened over sequences: prompt chunks and single decode tokens
 * alike. Each token attends to the cached positions of its own sequence up to and including its own.
 * The caller reserved KV space for every position before building the batch.
 *
 * @param tokenIds (numTokens)
 * @param positions (numTokens): the token's position in its sequence
 * @param kvSequences (numTokens): the cache sequence each token belongs to
 * @param expertsPerToken (numLayers, numTokens): routed experts each token uses at each layer, from 1 to
 *     the config's num_experts_per_tok (entries of dense layers are ignored)
 * @param logitTokens indices of the tokens whose next-token logits are wanted, in output order
 * @param minExpertsPerToken (numTokens), or null for none: each token's floor (its request's minimum
 *     experts per token); an {@link io.moestream.engine.moe.ExpertSelection} never goes below
 *     {@code min(floor, expertsPerToken)}
 */
public record StepBatch(
    int[] tokenIds,
    int[] positions,
    PagedKvCache.Sequence[] kvSequences,
    int[][] expertsPerToken,
    int[] logitTokens,
    int[] minExpertsPerToken) {

  /** A batch without per-token floors. */
  public StepBatch(int[] tokenIds, int[] positions, PagedKvCache.Sequence[] kvSequences, int[][] expertsPerToken,
      int[] logitTokens) {
    this(tokenIds, positions, kvSequences, expertsPerToken, logitTokens, null);
  }

  public int numTokens() {
    return tokenIds.length;
  }
}
