package io.moestream.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Typed reads of a Hugging Face JSON config whose errors name the file and the field. */
final class ConfigJson {
  private final JsonNode root;
  private final String file;

  private ConfigJson(JsonNode root, String file) {
    this.root = root;
    this.file = file;
  }

  static ConfigJson read(Path path) {
    if (!Files.isRegularFile(path)) {
      throw new ConfigException(path + ": file not found");
    }
    try {
      JsonNode root = new ObjectMapper().readTree(path.toFile());
      if (root == null || !root.isObject()) {
        throw new ConfigException(path + ": not a JSON object");
      }
      return new ConfigJson(root, path.toString());
    } catch (IOException e) {
      throw new ConfigException(path + ": cannot parse JSON: " + e.getMessage(), e);
    }
  }

  String file() {
    return file;
  }

  boolean has(String field) {
    JsonNode node = root.get(field);
    return node != null && !node.isNull();
  }

  JsonNode node(String field) {
    return root.get(field);
  }

  String requireString(String field) {
    JsonNode node = root.get(field);
    if (node == null || !node.isTextual()) {
      throw new ConfigException(file + ": field '" + field + "' must be a string, found " + node);
    }
    return node.asText();
  }

  int requireInt(String field) {
    JsonNode node = root.get(field);
    if (node == null || !node.canConvertToInt() || !node.isIntegralNumber()) {
      throw new ConfigException(file + ": field '" + field + "' must be an integer, found " + node);
    }
    return node.asInt();
  }

  int optInt(String field, int defaultValue) {
    return has(field) ? requireInt(field) : defaultValue;
  }

  double optDouble(String field, double defaultValue) {
    if (!has(field)) {
      return defaultValue;
    }
    JsonNode node = root.get(field);
    if (!node.isNumber()) {
      throw new ConfigException(file + ": field '" + field + "' must be a number, found " + node);
    }
    return node.asDouble();
  }

  boolean optBoolean(String field, boolean defaultValue) {
    if (!has(field)) {
      return defaultValue;
    }
    JsonNode node = root.get(field);
    if (!node.isBoolean()) {
      throw new ConfigException(file + ": field '" + field + "' must be true or false, found " + node);
    }
    return node.asBoolean();
  }

  /** An integer or a list of integers (eos_token_id is either). */
  int[] optIntOrList(String field) {
    if (!has(field)) {
      return new int[0];
    }
    JsonNode node = root.get(field);
    if (node.isIntegralNumber()) {
      return new int[] {node.asInt()};
    }
    if (node.isArray()) {
      int[] values = new int[node.size()];
      for (int i = 0; i < values.length; i++) {
        if (!node.get(i).isIntegralNumber()) {
          throw new ConfigException(file + ": field '" + field + "' must hold integers, found " + node);
        }
        values[i] = node.get(i).asInt();
      }
      return values;
    }
    throw new ConfigException(file + ": field '" + field + "' must be an integer or a list, found " + node);
  }
}
