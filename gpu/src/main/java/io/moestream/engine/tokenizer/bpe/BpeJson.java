package io.moestream.engine.tokenizer.bpe;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.engine.tokenizer.TokenizerException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads the two large fields of a BPE model, "vocab" and "merges" (about 150k entries each for
 * Qwen3), either from a streaming parser, which is what keeps loading an 11 MB tokenizer.json well
 * under a second, or from an already parsed tree (small hand-written files, tests).
 */
public final class BpeJson {
  private BpeJson() {}

  /** The merge rules in rank order: rule i merges lefts.get(i) with rights.get(i). */
  public record Merges(List<String> lefts, List<String> rights) {}

  /** Reads {"token": id, ...}; the parser is on the START_OBJECT. */
  public static Map<String, Integer> readVocab(JsonParser parser, String where) throws IOException {
    Map<String, Integer> vocab = new HashMap<>(1 << 19);
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String token = parser.currentName();
      if (parser.nextToken() != JsonToken.VALUE_NUMBER_INT || parser.getIntValue() < 0) {
        throw new TokenizerException(where + ": id of \"" + token
            + "\" must be a non-negative integer, found " + parser.getText());
      }
      vocab.put(token, parser.getIntValue());
    }
    return vocab;
  }

  /** Reads ["a b", ...] or [["a", "b"], ...]; the parser is on the START_ARRAY. */
  public static Merges readMerges(JsonParser parser, String where) throws IOException {
    List<String> lefts = new ArrayList<>(1 << 18);
    List<String> rights = new ArrayList<>(1 << 18);
    JsonToken token;
    while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
      int rank = lefts.size();
      if (token == JsonToken.VALUE_STRING) {
        addSpaceSeparated(parser.getText(), lefts, rights, where, rank);
      } else if (token == JsonToken.START_ARRAY
          && parser.nextToken() == JsonToken.VALUE_STRING) {
        String left = parser.getText();
        if (parser.nextToken() != JsonToken.VALUE_STRING) {
          throw badRule(where, rank, "an array without a second string");
        }
        String right = parser.getText();
        if (parser.nextToken() != JsonToken.END_ARRAY) {
          throw badRule(where, rank, "an array of more than two strings");
        }
        lefts.add(left);
        rights.add(right);
      } else {
        throw badRule(where, rank, String.valueOf(parser.getText()));
      }
    }
    return new Merges(lefts, rights);
  }

  public static Map<String, Integer> vocab(JsonNode vocab, String where) {
    Map<String, Integer> ids = new HashMap<>(vocab.size() * 2);
    Iterator<Map.Entry<String, JsonNode>> fields = vocab.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> e = fields.next();
      if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
        throw new TokenizerException(where + ": id of \"" + e.getKey()
            + "\" must be a non-negative integer, found " + e.getValue());
      }
      ids.put(e.getKey(), e.getValue().asInt());
    }
    return ids;
  }

  public static Merges merges(JsonNode list, String where) {
    List<String> lefts = new ArrayList<>(list.size());
    List<String> rights = new ArrayList<>(list.size());
    for (int rank = 0; rank < list.size(); rank++) {
      JsonNode rule = list.get(rank);
      if (rule.isTextual()) {
        addSpaceSeparated(rule.asText(), lefts, rights, where, rank);
      } else if (rule.isArray() && rule.size() == 2 && rule.get(0).isTextual()
          && rule.get(1).isTextual()) {
        lefts.add(rule.get(0).asText());
        rights.add(rule.get(1).asText());
      } else {
        throw badRule(where, rank, rule.toString());
      }
    }
    return new Merges(lefts, rights);
  }

  private static void addSpaceSeparated(String rule, List<String> lefts, List<String> rights,
      String where, int rank) {
    int space = rule.indexOf(' ');
    if (space < 0 || rule.indexOf(' ', space + 1) >= 0) {
      throw new TokenizerException(where + "[" + rank + "]: \"" + rule
          + "\" must be two tokens separated by one space");
    }
    lefts.add(rule.substring(0, space));
    rights.add(rule.substring(space + 1));
  }

  private static TokenizerException badRule(String where, int rank, String found) {
    return new TokenizerException(where + "[" + rank + "]: must be \"a b\" or [\"a\", \"b\"], found " + found);
  }
}
