package io.moestream.operators.inference;

import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.FinishReason;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.operators.metrics.InferenceMetrics;
import io.moestream.operators.records.InFlightRequest;
import io.moestream.operators.records.RoutedGeneration;
import io.moestream.operators.records.TokenizedRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The requests one subtask accepted and has not answered, and what the engine's tokens make of them:
 * requests go in ({@link #accept}, {@link #resubmit}), answers come out ({@link #onStep},
 * {@link #expireDeadlines}) into the list the caller passes, which emits them. Plain Java on the task
 * thread, no Flink: the operator owns the mailbox, the state and the output.
 */
final class InFlightGenerations {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(InFlightGenerations.class);

  /** {@link io.moestream.schemas.Priority#HIGH}: served at the model's full experts per token. */
  static final int HIGH_PRIORITY = io.moestream.schemas.Priority.HIGH.ordinal();

  private final Engine engine;
  private final Tokenizer tokenizer;
  private final String modelName;
  private final int modelExpertsPerToken;
  private final InferenceMetrics metrics;
  /** By engine id, in acceptance order. */
  private final Map<String, ActiveGeneration> active = new LinkedHashMap<>();

  InFlightGenerations(Engine engine, Tokenizer tokenizer, String modelName, int modelExpertsPerToken,
      InferenceMetrics metrics) {
    this.engine = engine;
    this.tokenizer = tokenizer;
    this.modelName = modelName;
    this.modelExpertsPerToken = modelExpertsPerToken;
    this.metrics = metrics;
  }

  int size() {
    return active.size();
  }

  boolean isEmpty() {
    return active.isEmpty();
  }

  /** A new request; an answer lands in {@code answers} at once when the engine refuses it. */
  void accept(TokenizedRequest request, List<RoutedGeneration> answers) {
    InFlightRequest state = new InFlightRequest();
    state.version = InFlightRequest.CURRENT_VERSION;
    state.request = request;
    state.generated = new int[0];
    state.expertsPerToken = modelExpertsPerToken;
    state.admittedAtMs = System.currentTimeMillis();
    metrics.admitted(request.promptIds.length);
    resubmit(state, answers);
  }

  /** Hands a request (new or restored) to the engine; a request the engine refuses is answered at once. */
  void resubmit(InFlightRequest state, List<RoutedGeneration> answers) {
    TokenizedRequest r = state.request;
    ActiveGeneration generation = new ActiveGeneration(state, r.requestId + "#" + UUID.randomUUID(), tokenizer);
    try {
      if (r.deadlineEpochMs > 0 && System.currentTimeMillis() > r.deadlineEpochMs) {
        throw new IllegalArgumentException("deadline passed before the request was admitted");
      }
      SamplingParams sampling = new SamplingParams(r.temperature, r.topP, r.topK, r.seed);
      // the request asks for the full model; the policy's level caps it step by step
      engine.submit(new GenerationRequest(generation.engineId, r.promptIds, sampling, r.maxNewTokens,
          null, state.generated)
          .withQuality(r.minExpertsPerToken, r.priority == HIGH_PRIORITY));
    } catch (RuntimeException e) {
      // a request the engine refuses (or fails on) is answered, never retried by a restart
      answers.add(finish(generation, FinishReason.ERROR,
          e instanceof IllegalArgumentException ? e.getMessage() : e.toString()));
      return;
    }
    active.put(generation.engineId, generation);
  }

  /** The tokens of one engine step: generations that ended are answered into {@code answers}. */
  void onStep(List<TokenEvent> events, long nowMs, List<RoutedGeneration> answers) {
    for (TokenEvent event : events) {
      ActiveGeneration generation = active.get(event.requestId());
      if (generation == null) {
        continue; // cancelled by a stop string in this very step
      }
      try {
        boolean stopString = false;
        generation.ranWith(event.expertsUsedFewest());
        if (event.tokenId() >= 0) {
          metrics.generatedToken();
          stopString = generation.accept(event.tokenId(), event.expertsUsedMean(), nowMs);
        }
        if (stopString && !event.finished()) {
          engine.cancel(generation.engineId);
          answers.add(finish(generation, FinishReason.STOP, null));
        } else if (event.finished()) {
          answers.add(finish(generation, stopString ? FinishReason.STOP : event.finishReason(), event.error()));
        }
      } catch (RuntimeException e) {
        // one request's failure (its text, its stop strings) ends that request, not the task
        LOG.warn("request {} failed after {} tokens", generation.request.requestId, generation.generatedCount(), e);
        engine.cancel(generation.engineId);
        active.remove(generation.engineId);
        answers.add(generation.toAnswer("", FinishReason.ERROR, "failed in the inference operator: " + e,
            modelName));
      }
    }
  }

  /** Ends every request, waiting or running, whose deadline has passed. */
  void expireDeadlines(long nowMs, List<RoutedGeneration> answers) {
    List<ActiveGeneration> expired = null;
    for (ActiveGeneration g : active.values()) {
      if (g.request.deadlineEpochMs > 0 && nowMs > g.request.deadlineEpochMs) {
        (expired == null ? expired = new ArrayList<>() : expired).add(g);
      }
    }
    if (expired != null) {
      for (ActiveGeneration g : expired) {
        engine.cancel(g.engineId);
        answers.add(finish(g, FinishReason.ERROR, "deadline passed after " + g.generatedCount() + " tokens"));
      }
    }
  }

  /** Ends a request: its answer, with the final text, counted in the metrics. */
  private RoutedGeneration finish(ActiveGeneration g, FinishReason reason, String error) {
    active.remove(g.engineId);
    RoutedGeneration out = g.toAnswer(g.finalText(), reason, error, modelName);
    long received = g.request.receivedAtMs;
    long now = System.currentTimeMillis();
    metrics.generation(g.firstTokenAtMs() == 0 ? -1 : g.firstTokenAtMs() - received,
        g.firstTokenAtMs() == 0 ? 0 : now - g.firstTokenAtMs(), g.generatedCount());
    return out;
  }

  /** Every request in flight with its tokens so far, in acceptance order: what a checkpoint writes. */
  List<InFlightRequest> states() {
    List<InFlightRequest> states = new ArrayList<>(active.size());
    for (ActiveGeneration g : active.values()) {
      states.add(g.toState());
    }
    return states;
  }

  /** The requests in flight, in acceptance order. */
  List<TokenizedRequest> requests() {
    List<TokenizedRequest> requests = new ArrayList<>(active.size());
    for (ActiveGeneration g : active.values()) {
      requests.add(g.request);
    }
    return requests;
  }
}
