package io.moestream.engine.tokenizer.bpe;

import static io.moestream.engine.tokenizer.JsonFields.bool;
import static io.moestream.engine.tokenizer.JsonFields.optText;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.engine.tokenizer.JsonFields;
import io.moestream.engine.tokenizer.TokenizerException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/** Builds the {@link BpeModel} from the "model" object of tokenizer.json. */
public final class BpeModels {
  private BpeModels() {}

  /**
   * @param byteLevel whether the pre-tokenizers end with ByteLevel, so words are byte-mapped
   */
  public static BpeModel fromJson(JsonNode node, boolean byteLevel, String where) {
    String type = node.has("type") ? JsonFields.type(node, where) : "BPE";
    if (!type.equals("BPE")) {
      throw new TokenizerException(where + ": model type \"" + type
          + "\" is not supported (supported: BPE)");
    }
    JsonNode dropout = node.get("dropout");
    if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0.0) {
      throw new TokenizerException(where + ": BPE dropout " + dropout
          + " is not supported (it makes encoding random)");
    }
    for (String field : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
      String value = optText(node, field, "", where);
      if (!value.isEmpty()) {
        throw new TokenizerException(where + ": BPE " + field + " \"" + value
            + "\" is not supported (used by WordPiece-style BPE, not by the supported families)");
      }
    }
    Vocabulary vocabulary = vocabulary(JsonFields.object(node, "vocab", where), where + ".vocab");
    MergeTable merges = merges(JsonFields.array(node, "merges", where), vocabulary,
        where + ".merges");
    String unkToken = optText(node, "unk_token", null, where);
    int unkId = -1;
    if (unkToken != null) {
      unkId = vocabulary.id(unkToken);
      if (unkId < 0) {
        throw new TokenizerException(where + ": unk_token \"" + unkToken + "\" is not in the vocab");
      }
    }
    return new BpeModel(vocabulary, merges, byteLevel,
        bool(node, "byte_fallback", false, where), bool(node, "ignore_merges", false, where),
        unkId, bool(node, "fuse_unk", false, where));
  }

  private static Vocabulary vocabulary(JsonNode vocab, String where) {
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
    return new Vocabulary(ids);
  }

  /** Both spellings of a rule: "a b" (older files) and ["a", "b"] (tokenizers 0.20 and later). */
  private static MergeTable merges(JsonNode list, Vocabulary vocabulary, String where) {
    MergeTable table = new MergeTable(list.size());
    for (int rank = 0; rank < list.size(); rank++) {
      JsonNode rule = list.get(rank);
      String left;
      String right;
      if (rule.isTextual()) {
        String s = rule.asText();
        int space = s.indexOf(' ');
        if (space < 0 || s.indexOf(' ', space + 1) >= 0) {
          throw new TokenizerException(where + "[" + rank + "]: \"" + s
              + "\" must be two tokens separated by one space");
        }
        left = s.substring(0, space);
        right = s.substring(space + 1);
      } else if (rule.isArray() && rule.size() == 2 && rule.get(0).isTextual()
          && rule.get(1).isTextual()) {
        left = rule.get(0).asText();
        right = rule.get(1).asText();
      } else {
        throw new TokenizerException(where + "[" + rank + "]: must be \"a b\" or [\"a\", \"b\"],"
            + " found " + rule);
      }
      int leftId = requireToken(vocabulary, left, where, rank);
      int rightId = requireToken(vocabulary, right, where, rank);
      int mergedId = requireToken(vocabulary, left + right, where, rank);
      table.put(leftId, rightId, rank, mergedId);
    }
    return table;
  }

  private static int requireToken(Vocabulary vocabulary, String token, String where, int rank) {
    int id = vocabulary.id(token);
    if (id < 0) {
      throw new TokenizerException(where + "[" + rank + "]: token \"" + token
          + "\" is not in the vocab");
    }
    return id;
  }
}
