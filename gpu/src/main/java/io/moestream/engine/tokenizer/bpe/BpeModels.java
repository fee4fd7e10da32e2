package io.moestream.engine.tokenizer.bpe;

import static io.moestream.engine.tokenizer.JsonFields.bool;
import static io.moestream.engine.tokenizer.JsonFields.optText;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.engine.tokenizer.JsonFields;
import io.moestream.engine.tokenizer.TokenizerException;
import java.util.Map;

/** Builds the {@link BpeModel} from the "model" object of tokenizer.json. */
public final class BpeModels {
  private BpeModels() {}

  /**
   * @param byteLevel whether the pre-tokenizers end with ByteLevel, so words are byte-mapped
   */
  public static BpeModel fromJson(JsonNode node, boolean byteLevel, String where) {
    Map<String, Integer> vocab =
        BpeJson.vocab(JsonFields.object(node, "vocab", where), where + ".vocab");
    BpeJson.Merges merges = BpeJson.merges(JsonFields.array(node, "merges", where), where + ".merges");
    return build(node, vocab, merges, byteLevel, where);
  }

  /**
   * @param settings the "model" object; its "vocab" and "merges" are not read (given separately)
   */
  public static BpeModel build(JsonNode settings, Map<String, Integer> vocab, BpeJson.Merges merges,
      boolean byteLevel, String where) {
    String type = settings.has("type") ? JsonFields.type(settings, where) : "BPE";
    if (!type.equals("BPE")) {
      throw new TokenizerException(where + ": model type \"" + type
          + "\" is not supported (supported: BPE)");
    }
    if (vocab == null || merges == null) {
      throw new TokenizerException(where + ": field '" + (vocab == null ? "vocab" : "merges")
          + "' is missing");
    }
    JsonNode dropout = settings.get("dropout");
    if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0.0) {
      throw new TokenizerException(where + ": BPE dropout " + dropout
          + " is not supported (it makes encoding random)");
    }
    for (String field : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
      String value = optText(settings, field, "", where);
      if (!value.isEmpty()) {
        throw new TokenizerException(where + ": BPE " + field + " \"" + value
            + "\" is not supported (used by WordPiece-style BPE, not by the supported families)");
      }
    }
    Vocabulary vocabulary = new Vocabulary(vocab);
    MergeTable table = mergeTable(merges, vocabulary, where + ".merges");
    String unkToken = optText(settings, "unk_token", null, where);
    int unkId = -1;
    if (unkToken != null) {
      unkId = vocabulary.id(unkToken);
      if (unkId < 0) {
        throw new TokenizerException(where + ": unk_token \"" + unkToken + "\" is not in the vocab");
      }
    }
    return new BpeModel(vocabulary, table, byteLevel,
        bool(settings, "byte_fallback", false, where), bool(settings, "ignore_merges", false, where),
        unkId, bool(settings, "fuse_unk", false, where));
  }

  private static MergeTable mergeTable(BpeJson.Merges merges, Vocabulary vocabulary, String where) {
    int count = merges.lefts().size();
    MergeTable table = new MergeTable(count);
    for (int rank = 0; rank < count; rank++) {
      String left = merges.lefts().get(rank);
      String right = merges.rights().get(rank);
      int leftId = requireToken(vocabulary, left, where, rank);
      int rightId = requireToken(vocabulary, right, where, rank);
      int mergedId = requireToken(vocabulary, left.concat(right), where, rank);
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
