package io.moestream.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Typed reads of the JSON fields in tokenizer.json and tokenizer_config.json. Every read names the
 * location ({@code where}, e.g. {@code "tokenizer.json: pre_tokenizer.pretokenizers[0]"}) so a bad
 * file is reported as such instead of as a NullPointerException deep in the pipeline.
 */
public final class JsonFields {
  private JsonFields() {}

  /** The {@code type} field of a component, e.g. "BPE", "Split", "ByteLevel". */
  public static String type(JsonNode node, String where) {
    return text(node, "type", where);
  }

  public static String text(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual()) {
      throw new TokenizerException(
          where + ": field '" + field + "' must be a string, found " + describe(value));
    }
    return value.asText();
  }

  /** A string field that may be absent or null; {@code fallback} then. */
  public static String optText(JsonNode node, String field, String fallback, String where) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.isTextual()) {
      throw new TokenizerException(
          where + ": field '" + field + "' must be a string, found " + describe(value));
    }
    return value.asText();
  }

  public static boolean bool(JsonNode node, String field, boolean fallback, String where) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.isBoolean()) {
      throw new TokenizerException(
          where + ": field '" + field + "' must be true or false, found " + describe(value));
    }
    return value.asBoolean();
  }

  public static int integer(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || !value.canConvertToInt()) {
      throw new TokenizerException(
          where + ": field '" + field + "' must be an integer, found " + describe(value));
    }
    return value.asInt();
  }

  public static int optInt(JsonNode node, String field, int fallback, String where) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? fallback : integer(node, field, where);
  }

  public static JsonNode array(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || !value.isArray()) {
      throw new TokenizerException(
          where + ": field '" + field + "' must be an array, found " + describe(value));
    }
    return value;
  }

  public static JsonNode object(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || !value.isObject()) {
      throw new TokenizerException(
          where + ": field '" + field + "' must be an object, found " + describe(value));
    }
    return value;
  }

  /** A single Unicode character given as a one-character string (e.g. Metaspace "replacement"). */
  public static int codePoint(JsonNode node, String field, String where) {
    String s = text(node, field, where);
    if (s.codePointCount(0, s.length()) != 1) {
      throw new TokenizerException(
          where + ": field '" + field + "' must be exactly one character, found \"" + s + "\"");
    }
    return s.codePointAt(0);
  }

  static String describe(JsonNode value) {
    if (value == null) {
      return "nothing (field absent)";
    }
    String s = value.toString();
    return s.length() > 60 ? s.substring(0, 60) + "..." : s;
  }
}
