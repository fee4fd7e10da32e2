package io.moestream.job.corpus;

import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.io.Serializable;

/** What a plain-text prompt line is asked with: the request fields a text line cannot carry. */
public record PromptDefaults(int maxNewTokens, float temperature, float topP, int topK, long seed)
    implements Serializable {

  /** The InferenceRequest schema's own defaults: 16 new tokens, greedy. */
  public static PromptDefaults schemaDefaults() {
    return new PromptDefaults(16, 0f, 1f, 0, 0L);
  }

  InferenceRequest request(String requestId, String prompt) {
    return InferenceRequest.newBuilder()
        .setRequestId(requestId)
        .setPrompt(prompt)
        .setMaxNewTokens(maxNewTokens)
        .setSampling(Sampling.newBuilder().setTemperature(temperature).setTopP(topP).setTopK(topK).setSeed(seed).build())
        .build();
  }
}
