package io.moestream.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The "post_processor" of tokenizer.json, for a single sequence: the ids it puts around the encoded
 * text when special tokens are requested (BOS/EOS). ByteLevel's post-processor only adjusts offsets,
 * which this tokenizer does not report, so it adds nothing.
 *
 * @param prefix ids before the text
 * @param suffix ids after the text
 */
public record PostProcessor(int[] prefix, int[] suffix) {
  public static final PostProcessor NONE = new PostProcessor(new int[0], new int[0]);

  public int[] apply(int[] ids) {
    if (prefix.length == 0 && suffix.length == 0) {
      return ids;
    }
    int[] out = new int[prefix.length + ids.length + suffix.length];
    System.arraycopy(prefix, 0, out, 0, prefix.length);
    System.arraycopy(ids, 0, out, prefix.length, ids.length);
    System.arraycopy(suffix, 0, out, prefix.length + ids.length, suffix.length);
    return out;
  }

  static PostProcessor fromJson(JsonNode node, String where) {
    if (node == null || node.isNull()) {
      return NONE;
    }
    String type = JsonFields.type(node, where);
    switch (type) {
      case "ByteLevel":
        return NONE;
      case "TemplateProcessing":
        return template(node, where);
      case "RobertaProcessing":
      case "BertProcessing":
        return new PostProcessor(new int[] {pairId(node, "cls", where)},
            new int[] {pairId(node, "sep", where)});
      case "Sequence": {
        JsonNode list = JsonFields.array(node, "processors", where);
        List<Integer> prefix = new ArrayList<>();
        List<Integer> suffix = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          PostProcessor step = fromJson(list.get(i), where + ".processors[" + i + "]");
          for (int k = step.prefix.length - 1; k >= 0; k--) {
            prefix.add(0, step.prefix[k]);
          }
          for (int id : step.suffix) {
            suffix.add(id);
          }
        }
        return new PostProcessor(prefix.stream().mapToInt(Integer::intValue).toArray(),
            suffix.stream().mapToInt(Integer::intValue).toArray());
      }
      default:
        throw new TokenizerException(where + ": post-processor type \"" + type
            + "\" is not supported (supported: ByteLevel, TemplateProcessing, RobertaProcessing,"
            + " BertProcessing, Sequence)");
    }
  }

  /** "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}, ...]. */
  private static PostProcessor template(JsonNode node, String where) {
    JsonNode single = JsonFields.array(node, "single", where);
    JsonNode specials = node.get("special_tokens");
    List<Integer> prefix = new ArrayList<>();
    List<Integer> suffix = new ArrayList<>();
    boolean seenSequence = false;
    for (int i = 0; i < single.size(); i++) {
      JsonNode item = single.get(i);
      String itemWhere = where + ".single[" + i + "]";
      if (item.has("Sequence")) {
        if (seenSequence) {
          throw new TokenizerException(itemWhere + ": a second Sequence in 'single'");
        }
        seenSequence = true;
        continue;
      }
      JsonNode special = JsonFields.object(item, "SpecialToken", itemWhere);
      String name = JsonFields.text(special, "id", itemWhere + ".SpecialToken");
      JsonNode entry = specials == null ? null : specials.get(name);
      if (entry == null) {
        throw new TokenizerException(where + ".special_tokens: no entry for \"" + name + "\"");
      }
      for (JsonNode id : JsonFields.array(entry, "ids", where + ".special_tokens." + name)) {
        (seenSequence ? suffix : prefix).add(id.asInt());
      }
    }
    return new PostProcessor(prefix.stream().mapToInt(Integer::intValue).toArray(),
        suffix.stream().mapToInt(Integer::intValue).toArray());
  }

  private static int pairId(JsonNode node, String field, String where) {
    JsonNode pair = JsonFields.array(node, field, where);
    if (pair.size() != 2 || !pair.get(1).canConvertToInt()) {
      throw new TokenizerException(where + ": field '" + field + "' must be [token, id]");
    }
    return pair.get(1).asInt();
  }
}
