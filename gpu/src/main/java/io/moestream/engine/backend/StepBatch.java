package io.moestream.engine.backend;

import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.moe.ExpertSelection;

/**
 * Everything one forward step needs, flattened over sequences: prompt chunks and single decode tokens
 * alike. Each token attends to the cached positions of its own sequence up to and including its own.
 * The caller reserved KV space for every position before building the batch. A backend keeps no
 * per-step setting of its own: two batches with different rules may follow each other on one backend.
 *
 * @param tokenIds (numTokens)
 * @param positions (numTokens): the token's position in its sequence
 * @param kvSequences (numTokens): the cache sequence each token belongs to
 * @param expertsPerToken (numLayers, numTokens): routed experts each token may use at each layer, from 1 to
 *     the config's num_experts_per_tok (entries of dense layers are ignored)
 * @param logitTokens indices of the tokens whose next-token logits are wanted, in output order
 * @param minExpertsPerToken (numTokens), or null for none: each token's floor (its request's minimum
 *     experts per token); {@code selection} never goes below {@code min(floor, expertsPerToken)}
 * @param selection the rule that picks, per sparse layer, how many of its {@code expertsPerToken} ranked
 *     candidates each token uses; {@link ExpertSelection#AS_REQUESTED} when null
 */
public record StepBatch(
    int[] tokenIds,
    int[] positions,
    PagedKvCache.Sequence[] kvSequences,
    int[][] expertsPerToken,
    int[] logitTokens,
    int[] minExpertsPerToken,
    ExpertSelection selection) {

  public StepBatch {
    selection = selection == null ? ExpertSelection.AS_REQUESTED : selection;
  }

  /** A batch without per-token floors that uses exactly the requested experts. */
  public StepBatch(int[] tokenIds, int[] positions, PagedKvCache.Sequence[] kvSequences, int[][] expertsPerToken,
      int[] logitTokens) {
    this(tokenIds, positions, kvSequences, expertsPerToken, logitTokens, null, ExpertSelection.AS_REQUESTED);
  }

  /** The same tokens under another selection rule. */
  public StepBatch withSelection(ExpertSelection rule) {
    return new StepBatch(tokenIds, positions, kvSequences, expertsPerToken, logitTokens, minExpertsPerToken, rule);
  }

  public int numTokens() {
    return tokenIds.length;
  }
}
