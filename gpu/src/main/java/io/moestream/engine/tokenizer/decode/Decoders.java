package io.moestream.engine.tokenizer.decode;

import static io.moestream.engine.tokenizer.JsonFields.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.engine.tokenizer.JsonFields;
import io.moestream.engine.tokenizer.TokenizerException;
import io.moestream.engine.tokenizer.pretokenize.MetaspacePreTokenizer;
import io.moestream.engine.tokenizer.pretokenize.MetaspacePreTokenizer.PrependScheme;
import java.util.ArrayList;
import java.util.List;

/** Builds {@link Decoder}s from the "decoder" object of tokenizer.json. */
public final class Decoders {
  private Decoders() {}

  /** What the Rust library does without a decoder: the token strings joined by spaces. */
  public static final Decoder NONE = tokens -> List.of(String.join(" ", tokens));

  public static Decoder fromJson(JsonNode node, String where) {
    if (node == null || node.isNull()) {
      return NONE;
    }
    String type = JsonFields.type(node, where);
    switch (type) {
      case "ByteLevel":
        return new ByteLevelDecoder();
      case "ByteFallback":
        return new ByteFallbackDecoder();
      case "Fuse":
        return tokens -> List.of(String.join("", tokens));
      case "Metaspace":
        return metaspace(JsonFields.codePoint(node, "replacement", where),
            MetaspacePreTokenizer.prependScheme(node, where));
      case "Strip":
        return strip(JsonFields.codePoint(node, "content", where),
            JsonFields.integer(node, "start", where), JsonFields.integer(node, "stop", where));
      case "Replace": {
        JsonNode pattern = JsonFields.object(node, "pattern", where);
        if (!pattern.has("String")) {
          throw new TokenizerException(where + ": Replace decoder pattern must be a 'String',"
              + " found " + pattern);
        }
        String literal = text(pattern, "String", where + ".pattern");
        String content = text(node, "content", where);
        return tokens -> tokens.stream().map(t -> t.replace(literal, content)).toList();
      }
      case "Sequence": {
        JsonNode list = JsonFields.array(node, "decoders", where);
        List<Decoder> steps = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          steps.add(fromJson(list.get(i), where + ".decoders[" + i + "]"));
        }
        return tokens -> {
          for (Decoder step : steps) {
            tokens = step.decodeChain(tokens);
          }
          return tokens;
        };
      }
      default:
        throw new TokenizerException(where + ": decoder type \"" + type
            + "\" is not supported (supported: ByteLevel, ByteFallback, Fuse, Metaspace, Strip,"
            + " Replace, Sequence)");
    }
  }

  /**
   * "▁" becomes a space, except in the first token where (unless the prepend scheme is "never") every
   * "▁" is dropped: the Rust decoder's rule, which undoes the prefix the pre-tokenizer added.
   */
  static Decoder metaspace(int replacement, PrependScheme scheme) {
    String marker = new String(Character.toChars(replacement));
    return tokens -> {
      List<String> out = new ArrayList<>(tokens.size());
      for (int i = 0; i < tokens.size(); i++) {
        boolean drop = i == 0 && scheme != PrependScheme.NEVER;
        out.add(tokens.get(i).replace(marker, drop ? "" : " "));
      }
      return out;
    };
  }

  /** Removes up to {@code start} leading and {@code stop} trailing {@code content} characters. */
  static Decoder strip(int content, int start, int stop) {
    return tokens -> tokens.stream().map(token -> {
      int[] cps = token.codePoints().toArray();
      int from = 0;
      while (from < start && from < cps.length && cps[from] == content) {
        from++;
      }
      int to = cps.length;
      while (cps.length - to < stop && to > from && cps[to - 1] == content) {
        to--;
      }
      return new String(cps, from, to - from);
    }).toList();
  }
}
