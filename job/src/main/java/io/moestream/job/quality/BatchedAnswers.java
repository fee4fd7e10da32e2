package io.moestream.job.quality;

import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.FinishReason;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Greedy answers to many prompts through the engine's own continuous batching: {@code batch} requests
 * in flight, the next submitted as one finishes, every token from {@link Engine#step}. The engine is
 * batch-invariant (a row's result does not depend on what else the step holds), so the answers do not
 * depend on {@code batch}; only the time does. Whatever expert level the engine is set to applies.
 */
public final class BatchedAnswers {

  /**
   * One prompt's outcome.
   *
   * @param text the generated tokens decoded, the end-of-sequence token left out
   * @param truncated stopped at max new tokens (or the context) rather than at end of sequence
   */
  public record Answer(int[] tokenIds, String text, boolean truncated) {}

  /**
   * @param expertsPerToken routed experts per token per sparse layer, averaged over the generated
   *     tokens (each token's from the step that computed its logits, as the step output reported it)
   */
  public record Result(List<Answer> answers, long generatedTokens, double expertsPerToken) {}

  private BatchedAnswers() {}

  /**
   * Generates greedily for every prompt until one of the engine's end-of-sequence ids or
   * {@code maxNewTokens}.
   *
   * @param progress advanced by one per finished prompt
   */
  public static Result run(Engine engine, Tokenizer tokenizer, List<int[]> prompts, int maxNewTokens, int batch,
      Progress progress) {
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be >= 1, found " + batch);
    }
    Answer[] answers = new Answer[prompts.size()];
    Map<String, Integer> indexOf = new HashMap<>();
    Map<String, List<Integer>> tokens = new HashMap<>();
    int next = 0;
    int inFlight = 0;
    long generated = 0;
    double expertsSum = 0;
    while (next < prompts.size() || inFlight > 0) {
      while (inFlight < batch && next < prompts.size()) {
        String id = "item-" + next;
        engine.submit(new GenerationRequest(id, prompts.get(next), SamplingParams.GREEDY, maxNewTokens, null));
        indexOf.put(id, next);
        tokens.put(id, new ArrayList<>());
        next++;
        inFlight++;
      }
      for (TokenEvent event : engine.step()) {
        if (event.tokenId() >= 0) {
          tokens.get(event.requestId()).add(event.tokenId());
          generated++;
          expertsSum += event.expertsUsedMean();
        }
        if (event.finished()) {
          if (event.finishReason() == FinishReason.ERROR) {
            throw new IllegalStateException("prompt " + indexOf.get(event.requestId()) + ": " + event.error());
          }
          int index = indexOf.remove(event.requestId());
          answers[index] = answer(tokens.remove(event.requestId()), event.finishReason(), tokenizer);
          inFlight--;
          progress.advance(1);
        }
      }
    }
    return new Result(Arrays.asList(answers), generated, generated == 0 ? Double.NaN : expertsSum / generated);
  }

  private static Answer answer(List<Integer> tokens, FinishReason reason, Tokenizer tokenizer) {
    int[] ids = tokens.stream().mapToInt(Integer::intValue).toArray();
    // STOP means the last token is an end-of-sequence id: not part of the answer
    int[] content = reason == FinishReason.STOP && ids.length > 0 ? Arrays.copyOf(ids, ids.length - 1) : ids;
    return new Answer(ids, tokenizer.decode(content, false), reason != FinishReason.STOP);
  }
}
