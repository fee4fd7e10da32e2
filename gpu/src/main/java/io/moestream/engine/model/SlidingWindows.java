package io.moestream.engine.model;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Which layers attend through a sliding window, from config.json, as Hugging Face's configs define it:
 *
 * <ul>
 *   <li>{@code layer_types} (gpt-oss, and newer configs of other families): {@code "sliding_attention"}
 *       layers use {@code sliding_window}, {@code "full_attention"} layers see every earlier position.
 *   <li>Mixtral: {@code sliding_window} (or null) applies to every layer.
 *   <li>Qwen2-MoE / Qwen3-MoE: with {@code use_sliding_window}, layers from {@code max_window_layers} on
 *       use {@code sliding_window} (Qwen2Config's rule for its layer_types).
 * </ul>
 *
 * A window is the number of positions a query sees, itself included: HF's sliding mask keeps key
 * positions {@code kv > q - sliding_window}.
 */
final class SlidingWindows {
  private SlidingWindows() {}

  /** Per layer, its window or 0 for full attention. */
  static int[] read(ConfigJson json, Architecture arch, int numLayers) {
    int[] windows = new int[Math.max(numLayers, 0)];
    if (json.has("layer_types")) {
      return fromLayerTypes(json, numLayers);
    }
    switch (arch) {
      case MIXTRAL -> {
        if (json.has("sliding_window")) {
          java.util.Arrays.fill(windows, window(json));
        }
      }
      case QWEN2_MOE, QWEN3_MOE -> {
        if (json.optBoolean("use_sliding_window", false) && json.has("sliding_window")) {
          int window = window(json);
          int first = json.optInt("max_window_layers", numLayers);
          for (int layer = Math.max(first, 0); layer < windows.length; layer++) {
            windows[layer] = window;
          }
        }
      }
      default -> { }
    }
    return windows;
  }

  /** {@code layer_types}: one "sliding_attention" or "full_attention" per layer. */
  static int[] fromLayerTypes(ConfigJson json, int numLayers) {
    JsonNode types = json.node("layer_types");
    if (!types.isArray() || types.size() != numLayers) {
      throw new ConfigException(json.file() + ": layer_types must be a list of " + numLayers
          + " (num_hidden_layers) layer types, found " + types);
    }
    int[] windows = new int[numLayers];
    for (int layer = 0; layer < numLayers; layer++) {
      String type = types.get(layer).asText("");
      switch (type) {
        case "sliding_attention" -> windows[layer] = window(json);
        case "full_attention" -> windows[layer] = 0;
        default -> throw new ConfigException(json.file() + ": layer_types[" + layer + "] '" + types.get(layer)
            + "' is not supported (sliding_attention, full_attention)");
      }
    }
    return windows;
  }

  private static int window(ConfigJson json) {
    if (!json.has("sliding_window")) {
      throw new ConfigException(json.file() + ": sliding_attention layers need sliding_window");
    }
    int window = json.requireInt("sliding_window");
    if (window < 1) {
      throw new ConfigException(json.file() + ": sliding_window must be >= 1, found " + window);
    }
    return window;
  }
}
