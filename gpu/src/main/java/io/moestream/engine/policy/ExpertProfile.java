package io.moestream.engine.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.model.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * How much each expert of each layer was used over a text: the file {@code profile-experts} writes and
 * {@code --expert-profile} reads.
 *
 * <pre>{"format": "moestream-expert-profile/1", "model": "...", "tokens": N, "num_layers": L,
 *  "num_experts": E, "soft_counts": [[E numbers] or null for a dense layer, ...],
 *  "token_counts": [[E integers] or null, ...]}</pre>
 *
 * @param softCounts (numLayers, numExperts): summed routing probability; null rows for dense layers
 * @param tokenCounts (numLayers, numExperts): tokens routed to the expert; null rows for dense layers
 */
public record ExpertProfile(String model, long tokens, double[][] softCounts, long[][] tokenCounts) {
  public static final String FORMAT = "moestream-expert-profile/1";

  public static ExpertProfile of(String model, ModelConfig config, ExpertUsage usage) {
    double[][] soft = usage.softCounts();
    long[][] counts = usage.tokenCounts();
    for (int layer = 0; layer < config.numLayers(); layer++) {
      if (!config.isSparse(layer)) {
        soft[layer] = null;
        counts[layer] = null;
      }
    }
    return new ExpertProfile(model, usage.tokensSeen(), soft, counts);
  }

  public void write(Path file) {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode root = mapper.createObjectNode();
    root.put("format", FORMAT);
    root.put("model", model);
    root.put("tokens", tokens);
    root.put("num_layers", softCounts.length);
    int numExperts = 0;
    ArrayNode soft = root.putArray("soft_counts");
    ArrayNode counts = root.putArray("token_counts");
    for (int layer = 0; layer < softCounts.length; layer++) {
      if (softCounts[layer] == null) {
        soft.addNull();
        counts.addNull();
        continue;
      }
      numExperts = softCounts[layer].length;
      ArrayNode s = soft.addArray();
      for (double v : softCounts[layer]) {
        s.add(v);
      }
      ArrayNode c = counts.addArray();
      for (long v : tokenCounts[layer]) {
        c.add(v);
      }
    }
    root.put("num_experts", numExperts);
    try {
      mapper.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write expert profile " + file, e);
    }
  }

  /** Reads a profile and checks it fits the model (layers, experts, sparse layers). */
  public static ExpertProfile read(Path file, ModelConfig config) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read expert profile " + file + ": " + e.getMessage(), e);
    }
    if (root == null || !FORMAT.equals(root.path("format").asText())) {
      throw new IllegalArgumentException(file + ": not an expert profile (\"format\" must be \"" + FORMAT + "\")");
    }
    JsonNode soft = root.path("soft_counts");
    JsonNode counts = root.path("token_counts");
    if (!soft.isArray() || soft.size() != config.numLayers()) {
      throw new IllegalArgumentException(file + ": soft_counts has " + soft.size() + " layers, the model has "
          + config.numLayers());
    }
    double[][] softCounts = new double[config.numLayers()][];
    long[][] tokenCounts = new long[config.numLayers()][];
    for (int layer = 0; layer < config.numLayers(); layer++) {
      JsonNode row = soft.get(layer);
      if (row.isNull()) {
        if (config.isSparse(layer)) {
          throw new IllegalArgumentException(file + ": layer " + layer + " has experts but no soft counts");
        }
        continue;
      }
      if (row.size() != config.numExperts()) {
        throw new IllegalArgumentException(file + ": layer " + layer + " has " + row.size() + " soft counts, the model has "
            + config.numExperts() + " experts");
      }
      softCounts[layer] = new double[row.size()];
      tokenCounts[layer] = new long[row.size()];
      for (int e = 0; e < row.size(); e++) {
        softCounts[layer][e] = row.get(e).asDouble();
        JsonNode c = counts.path(layer);
        tokenCounts[layer][e] = c.isArray() ? c.path(e).asLong() : 0;
      }
    }
    return new ExpertProfile(root.path("model").asText(), root.path("tokens").asLong(), softCounts, tokenCounts);
  }
}
