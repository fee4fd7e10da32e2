package io.moestream.engine.model;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * config.json's {@code rope_scaling}. {@code NONE} is plain RoPE; {@code LINEAR} divides positions by
 * {@code factor}; {@code YARN} is the long-context scaling of DeepSeek and gpt-oss.
 *
 * @param truncate YaRN: whether the correction range is rounded outwards to whole dimensions
 *     (Hugging Face's default; gpt-oss sets {@code truncate: false})
 */
public record RopeScaling(
    Type type,
    double factor,
    int originalMaxPositionEmbeddings,
    double betaFast,
    double betaSlow,
    double mscale,
    double mscaleAllDim,
    boolean truncate) {

  public enum Type { NONE, LINEAR, YARN }

  public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1, 0, 0, 0, 0, 0, true);

  static RopeScaling parse(JsonNode node, String file) {
    if (node == null || node.isNull()) {
      return NONE;
    }
    JsonNode typeNode = node.has("rope_type") ? node.get("rope_type") : node.get("type");
    String type = typeNode == null ? "default" : typeNode.asText();
    double factor = node.has("factor") ? node.get("factor").asDouble() : 1.0;
    switch (type) {
      case "default":
        return NONE;
      case "linear":
        if (factor <= 0) {
          throw new ConfigException(file + ": rope_scaling.factor must be > 0, found " + factor);
        }
        return new RopeScaling(Type.LINEAR, factor, 0, 0, 0, 0, 0, true);
      case "yarn":
        return new RopeScaling(Type.YARN, factor,
            node.path("original_max_position_embeddings").asInt(4096),
            node.path("beta_fast").asDouble(32), node.path("beta_slow").asDouble(1),
            node.path("mscale").asDouble(1), node.path("mscale_all_dim").asDouble(0),
            node.path("truncate").asBoolean(true));
      default:
        throw new ConfigException(file + ": rope_scaling type '" + type
            + "' is not supported (supported: default, linear, yarn)");
    }
  }
}
