package io.moestream.job.quality;

import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.moe.ExpertSelection;
import io.moestream.engine.policy.ExpertPolicy;
import io.moestream.engine.policy.ExpertUsage;
import io.moestream.engine.policy.QualityStats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How far candidates stray from a reference on a text, teacher-forced: the tokens are cut into
 * independent windows, each runs through the reference once and through every candidate, and every
 * position with a next token adds to each candidate's {@link QualityStats} (KL(reference || candidate),
 * top-1 agreement, both perplexities). What eval-quality prints and bench-quality reports per row.
 */
public final class TextQuality {

  /**
   * A model run a given way.
   *
   * @param expertsPerLayer (numLayers): the experts per token asked for at each layer
   * @param selection the per-token rule applied in every window's steps
   */
  public record Candidate(LoadedModel model, int[] expertsPerLayer, ExpertSelection selection) {

    /**
     * {@code model} under {@code policy} (adaptive at its first level: what it runs with no load), or,
     * with a null policy, as configured.
     */
    public static Candidate of(LoadedModel model, ExpertPolicy policy) {
      if (policy == null) {
        return new Candidate(model, model.expertsPerLayer(0), ExpertSelection.AS_REQUESTED);
      }
      return new Candidate(model, policy.expertsPerLayer(model.config()), policy.selection(model.config()));
    }
  }

  /** @param usage what the candidate's router did over the text (experts per token) */
  public record Result(QualityStats stats, ExpertUsage usage) {}

  private TextQuality() {}

  /**
   * @param tokens at least 2 token ids
   * @param window tokens per window (capped at the model's context), at least 2
   * @param progress advanced by one per candidate and window, may be null
   * @return one result per candidate, in order
   */
  public static List<Result> compare(LoadedModel reference, List<Candidate> candidates, int[] tokens, int window,
      Progress progress) {
    if (window < 2) {
      throw new IllegalArgumentException("window must be >= 2, found " + window);
    }
    if (tokens.length < 2) {
      throw new IllegalArgumentException("at least 2 tokens are needed, found " + tokens.length);
    }
    int[] referenceExperts = reference.expertsPerLayer(0);
    List<Result> results = new ArrayList<>();
    for (Candidate candidate : candidates) {
      results.add(new Result(new QualityStats(), new ExpertUsage(candidate.model().config())));
    }
    int windowTokens = Math.min(window, reference.config().maxPositionEmbeddings());
    for (int start = 0; start + 1 < tokens.length; start += windowTokens) {
      int[] chunk = Arrays.copyOfRange(tokens, start, Math.min(tokens.length, start + windowTokens));
      if (chunk.length < 2) {
        break;
      }
      float[][] expected = reference.logits(chunk, referenceExperts, true);
      for (int c = 0; c < candidates.size(); c++) {
        Candidate candidate = candidates.get(c);
        Result result = results.get(c);
        float[][] evaluated;
        candidate.model().backend().setRoutingObserver(result.usage());
        try {
          evaluated = candidate.model().logits(chunk, candidate.expertsPerLayer(), candidate.selection(), true);
        } finally {
          candidate.model().backend().setRoutingObserver(null);
        }
        for (int i = 0; i + 1 < chunk.length; i++) {
          result.stats().add(expected[i], evaluated[i], chunk[i + 1]);
        }
        if (progress != null) {
          progress.advance(1);
        }
      }
    }
    return results;
  }

  /** How many windows {@link #compare} cuts {@code tokens} into, for progress totals. */
  public static int windows(int tokens, int window, LoadedModel reference) {
    int windowTokens = Math.min(window, reference.config().maxPositionEmbeddings());
    int count = 0;
    for (int start = 0; start + 1 < tokens; start += windowTokens) {
      if (Math.min(tokens, start + windowTokens) - start < 2) {
        break;
      }
      count++;
    }
    return count;
  }
}
