package io.moestream.engine.generate;

import io.moestream.engine.kv.PagedKvCache;
import java.util.Arrays;

/** A request being served: its tokens so far, how many are in the KV cache, how many were generated. */
final class ActiveSequence {
  final GenerationRequest request;
  final int[] expertsPerLayer; // (numLayers)
  PagedKvCache.Sequence kv;
  int[] tokens; // prompt + generated so far; the first numTokens entries are used
  int numTokens;
  int processed; // tokens whose keys and values are in the cache
  int generated; // generated tokens, alreadyGenerated included
  long admittedAt;
  int expertsUsedFewest; // over every step that ran its tokens, recomputation included; 0 = none yet

  ActiveSequence(GenerationRequest request, int[] expertsPerLayer) {
    this.request = request;
    this.expertsPerLayer = expertsPerLayer;
    int[] prompt = request.promptIds();
    int[] previous = request.alreadyGenerated();
    tokens = Arrays.copyOf(prompt, prompt.length + previous.length + 16);
    System.arraycopy(previous, 0, tokens, prompt.length, previous.length);
    numTokens = prompt.length + previous.length;
    generated = previous.length;
  }

  void append(int token) {
    if (numTokens == tokens.length) {
      tokens = Arrays.copyOf(tokens, tokens.length * 2);
    }
    tokens[numTokens++] = token;
    generated++;
  }

  /** Notes the experts one of its tokens used at its fewest sparse layer (0: no sparse layer). */
  void ranWith(int fewestExperts) {
    if (fewestExperts > 0 && (expertsUsedFewest == 0 || fewestExperts < expertsUsedFewest)) {
      expertsUsedFewest = fewestExperts;
    }
  }

  /** Tokens still to run through the model (the whole prompt at first, then the last sampled one). */
  int pending() {
    return numTokens - processed;
  }
}
