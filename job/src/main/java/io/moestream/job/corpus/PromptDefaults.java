package io.moestream.job.corpus;

import io.moestream.operators.codec.UnsetSampling;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.io.Serializable;

/**
 * What a plain-text prompt line is asked with: the request fields a text line cannot carry. A null
 * temperature, top_p or top_k is left unset in the request, so the model's generation_config.json
 * decides, as for any request.
 */
public record PromptDefaults(int maxNewTokens, Float temperature, Float topP, Integer topK, long seed)
    implements Serializable {

  /** Negative values are refused here: -1 would silently read as "unset" once in the request. */
  public PromptDefaults {
    if (temperature != null && !(temperature >= 0)) {
      throw new IllegalArgumentException("temperature: must be >= 0 (leave it out for the model's"
          + " generation_config.json value), found " + temperature);
    }
    if (topP != null && !(topP > 0)) {
      throw new IllegalArgumentException("top_p: must be in (0, 1] (leave it out for the model's"
          + " generation_config.json value), found " + topP);
    }
    if (topK != null && topK < 0) {
      throw new IllegalArgumentException("top_k: must be >= 0 (leave it out for the model's"
          + " generation_config.json value), found " + topK);
    }
  }

  /** The InferenceRequest schema's own defaults: 16 new tokens, sampling from generation_config.json. */
  public static PromptDefaults schemaDefaults() {
    return new PromptDefaults(16, null, null, null, 0L);
  }

  InferenceRequest request(String requestId, String prompt) {
    return InferenceRequest.newBuilder()
        .setRequestId(requestId)
        .setPrompt(prompt)
        .setMaxNewTokens(maxNewTokens)
        .setSampling(UnsetSampling.set(Sampling.newBuilder(), temperature, topP, topK).setSeed(seed).build())
        .build();
  }
}
