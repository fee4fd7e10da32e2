package io.moestream.operators.inference;

import io.moestream.engine.tokenizer.IncrementalDecoder;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.operators.records.InFlightRequest;
import io.moestream.operators.records.RoutedGeneration;
import io.moestream.operators.records.TokenizedRequest;
import io.moestream.engine.generate.FinishReason;
import io.moestream.schemas.ExpertsUsed;
import io.moestream.schemas.Generation;
import io.moestream.schemas.SourceOffset;
import io.moestream.schemas.Timings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A request the inference operator has accepted: its tokens so far, its text, its timings. */
final class ActiveGeneration {
  final TokenizedRequest request;
  /** The engine's id: unique even when callers reuse request ids. */
  final String engineId;
  /** The fewest experts per token any of its tokens used at a sparse layer so far, as the engine reported. */
  private int fewestExperts;
  final long admittedAtMs;
  /** Restores of the job this request has been in flight through. */
  private final int restores;
  private int[] generated;
  private int length;
  private double expertsUsedSum;
  private long firstTokenAtMs;
  private final IncrementalDecoder decoder;
  private final StringBuilder text = new StringBuilder();
  /** Where a stop string starts in {@link #text}; -1 while none has appeared. */
  private int stopAt = -1;

  ActiveGeneration(InFlightRequest state, String engineId, Tokenizer tokenizer) {
    this.request = state.request;
    this.engineId = engineId;
    this.fewestExperts = state.expertsPerToken;
    this.admittedAtMs = state.admittedAtMs;
    this.restores = state.restores;
    this.generated = new int[Math.max(8, state.generated.length + 8)];
    this.expertsUsedSum = state.expertsUsedSum;
    this.firstTokenAtMs = state.firstTokenAtMs;
    this.decoder = tokenizer == null ? null : tokenizer.newIncrementalDecoder(true);
    for (int token : state.generated) {
      appendToken(token);
    }
  }

  /** Records a generated token; returns true when a stop string has now appeared in the text. */
  boolean accept(int token, double expertsUsedMean, long nowMs) {
    if (firstTokenAtMs == 0) {
      firstTokenAtMs = nowMs;
    }
    expertsUsedSum += expertsUsedMean;
    return appendToken(token);
  }

  private boolean appendToken(int token) {
    if (length == generated.length) {
      generated = Arrays.copyOf(generated, length * 2);
    }
    generated[length++] = token;
    if (decoder == null || stopAt >= 0) {
      return stopAt >= 0;
    }
    int before = text.length();
    text.append(decoder.accept(token));
    stopAt = StopStrings.firstMatch(text, request.stop, before);
    return stopAt >= 0;
  }

  int[] generated() {
    return Arrays.copyOf(generated, length);
  }

  int generatedCount() {
    return length;
  }

  double expertsUsedMean() {
    return length == 0 ? fewestExperts : expertsUsedSum / length;
  }

  /**
   * Notes what the engine reported its tokens used at their fewest ({@code TokenEvent.expertsUsedFewest});
   * 0 (none of its tokens ran a sparse layer yet) changes nothing.
   */
  void ranWith(int fewestExpertsUsed) {
    if (fewestExpertsUsed > 0) {
      fewestExperts = Math.min(fewestExperts, fewestExpertsUsed);
    }
  }

  int fewestExperts() {
    return fewestExperts;
  }

  long firstTokenAtMs() {
    return firstTokenAtMs;
  }

  /** The completion: decoded without special tokens, cut before a stop string. */
  String finalText() {
    if (decoder == null) {
      return "";
    }
    if (stopAt >= 0) {
      return text.substring(0, stopAt);
    }
    String tail = decoder.flush();
    text.append(tail);
    int late = StopStrings.firstMatch(text, request.stop, text.length() - tail.length());
    return late >= 0 ? text.substring(0, late) : text.toString();
  }

  boolean stoppedByString() {
    return stopAt >= 0;
  }

  InFlightRequest toState() {
    InFlightRequest s = new InFlightRequest();
    s.version = InFlightRequest.CURRENT_VERSION;
    s.restores = restores;
    s.request = request;
    s.generated = generated();
    s.expertsPerToken = fewestExperts;
    s.expertsUsedSum = expertsUsedSum;
    s.admittedAtMs = admittedAtMs;
    s.firstTokenAtMs = firstTokenAtMs;
    return s;
  }

  /** {@link #toGeneration} with where it goes: the request's reply topic and carried headers. */
  RoutedGeneration toAnswer(String text, FinishReason reason, String error, String modelName) {
    return new RoutedGeneration(toGeneration(text, reason, error, modelName), request.replyTopic, request.headers);
  }

  /** The answer as it stands now: {@code text} (the final text, or none when decoding failed) and the tokens so far. */
  Generation toGeneration(String text, FinishReason reason, String error, String modelName) {
    long now = System.currentTimeMillis();
    long received = request.receivedAtMs;
    List<Integer> tokenIds = new ArrayList<>(length);
    for (int i = 0; i < length; i++) {
      tokenIds.add(generated[i]);
    }
    return Generation.newBuilder()
        .setRequestId(request.requestId)
        .setText(text)
        .setTokenIds(tokenIds)
        .setFinishReason(io.moestream.schemas.FinishReason.valueOf(reason.name()))
        .setError(error)
        .setPromptTokens(request.promptIds.length)
        .setCompletionTokens(length)
        .setExpertsPerToken(new ExpertsUsed(fewestExperts, expertsUsedMean()))
        .setTimings(new Timings(Math.max(0, admittedAtMs - received),
            firstTokenAtMs == 0 ? -1 : firstTokenAtMs - received, now - received))
        .setModel(modelName)
        .setSource(request.sourceTopic == null ? null
            : new SourceOffset(request.sourceTopic, request.sourcePartition, request.sourceOffset))
        .build();
  }
}
