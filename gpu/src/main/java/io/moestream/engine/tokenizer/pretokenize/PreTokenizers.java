package io.moestream.engine.tokenizer.pretokenize;

import static io.moestream.engine.tokenizer.JsonFields.bool;
import static io.moestream.engine.tokenizer.JsonFields.optText;
import static io.moestream.engine.tokenizer.JsonFields.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.engine.tokenizer.JsonFields;
import io.moestream.engine.tokenizer.RustRegex;
import io.moestream.engine.tokenizer.TokenizerException;
import io.moestream.engine.tokenizer.UnicodeChars;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Builds the pre-tokenizer pipeline from the "pre_tokenizer" object of tokenizer.json.
 *
 * <p>ByteLevel is special: besides splitting, it maps every UTF-8 byte to a printable character
 * before the model sees the word. That mapping is left to the BPE model (it works on the bytes
 * directly, which is faster than building the mapped string), so a pipeline only says whether it
 * ended with ByteLevel; a pre-tokenizer that would have to see the mapped characters after it is
 * refused.
 */
public final class PreTokenizers {
  private PreTokenizers() {}

  /** The pre-tokenizers in order, and whether the words are to be mapped to byte-level symbols. */
  public record Pipeline(List<PreTokenizer> steps, boolean byteLevel) {
    public Pipeline {
      steps = List.copyOf(steps);
    }

    /** Splits one normalized segment into words. */
    public List<Piece> split(Piece segment) {
      List<Piece> current = new ArrayList<>();
      current.add(segment);
      for (PreTokenizer step : steps) {
        List<Piece> next = new ArrayList<>(Math.max(8, current.size() * 2));
        for (Piece piece : current) {
          step.split(piece, next);
        }
        current = next;
      }
      current.removeIf(p -> p.text().isEmpty());
      return current;
    }
  }

  /** The GPT-2 word pattern ByteLevel applies when "use_regex" is true. */
  static final String GPT2_PATTERN =
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

  public static Pipeline fromJson(JsonNode node, String where) {
    List<PreTokenizer> steps = new ArrayList<>();
    boolean byteLevel = add(node, where, steps, new boolean[1]);
    return new Pipeline(steps, byteLevel);
  }

  /** Adds the steps of {@code node}; returns whether a ByteLevel step is among them. */
  private static boolean add(JsonNode node, String where, List<PreTokenizer> steps,
      boolean[] sawByteLevel) {
    if (node == null || node.isNull()) {
      return sawByteLevel[0];
    }
    String type = JsonFields.type(node, where);
    if (sawByteLevel[0]) {
      throw new TokenizerException(where + ": pre-tokenizer \"" + type
          + "\" after a ByteLevel pre-tokenizer is not supported");
    }
    switch (type) {
      case "Sequence": {
        JsonNode list = JsonFields.array(node, "pretokenizers", where);
        for (int i = 0; i < list.size(); i++) {
          add(list.get(i), where + ".pretokenizers[" + i + "]", steps, sawByteLevel);
        }
        break;
      }
      case "Split":
        steps.add(split(node, where));
        break;
      case "ByteLevel": {
        boolean addPrefixSpace = bool(node, "add_prefix_space", true, where);
        boolean useRegex = bool(node, "use_regex", true, where);
        steps.add(byteLevel(addPrefixSpace, useRegex, where));
        sawByteLevel[0] = true;
        break;
      }
      case "Digits": {
        boolean individual = bool(node, "individual_digits", false, where);
        SplitBehavior behavior = individual ? SplitBehavior.ISOLATED : SplitBehavior.CONTIGUOUS;
        steps.add(chars(UnicodeChars::isNumeric, behavior));
        break;
      }
      case "Punctuation": {
        SplitBehavior behavior = SplitBehavior.fromJson(
            optText(node, "behavior", "Isolated", where), where + ".behavior");
        steps.add(chars(PreTokenizers::isPunctuation, behavior));
        break;
      }
      case "Whitespace":
        steps.add(regex(RustRegex.compile("\\w+|[^\\w\\s]+", where), SplitBehavior.REMOVED, true));
        break;
      case "WhitespaceSplit":
        steps.add(chars(UnicodeChars::isWhiteSpace, SplitBehavior.REMOVED));
        break;
      case "BertPreTokenizer":
        steps.add(chars(UnicodeChars::isWhiteSpace, SplitBehavior.REMOVED));
        steps.add(chars(PreTokenizers::isPunctuation, SplitBehavior.ISOLATED));
        break;
      case "Metaspace":
        steps.add(MetaspacePreTokenizer.fromJson(node, where));
        break;
      default:
        throw new TokenizerException(where + ": pre-tokenizer type \"" + type
            + "\" is not supported (supported: Sequence, Split, ByteLevel, Digits, Punctuation,"
            + " Whitespace, WhitespaceSplit, BertPreTokenizer, Metaspace)");
    }
    return sawByteLevel[0];
  }

  private static PreTokenizer split(JsonNode node, String where) {
    JsonNode pattern = JsonFields.object(node, "pattern", where);
    Pattern compiled;
    if (pattern.has("Regex")) {
      compiled = RustRegex.compile(text(pattern, "Regex", where + ".pattern"), where + ".pattern");
    } else if (pattern.has("String")) {
      compiled = Pattern.compile(Pattern.quote(text(pattern, "String", where + ".pattern")));
    } else {
      throw new TokenizerException(where + ": Split pattern must have 'String' or 'Regex', found "
          + pattern);
    }
    SplitBehavior behavior =
        SplitBehavior.fromJson(text(node, "behavior", where), where + ".behavior");
    return regex(compiled, behavior, bool(node, "invert", false, where));
  }

  static PreTokenizer regex(Pattern pattern, SplitBehavior behavior, boolean invert) {
    return (piece, out) -> {
      Spans spans = Spans.ofRegex(pattern, piece.text(), invert);
      behavior.apply(piece, spans.data, spans.count, out);
    };
  }

  static PreTokenizer chars(java.util.function.IntPredicate isDelimiter, SplitBehavior behavior) {
    return (piece, out) -> {
      Spans spans = Spans.ofChars(isDelimiter, piece.text());
      behavior.apply(piece, spans.data, spans.count, out);
    };
  }

  private static PreTokenizer byteLevel(boolean addPrefixSpace, boolean useRegex, String where) {
    PreTokenizer words = useRegex
        ? regex(RustRegex.compile(GPT2_PATTERN, where), SplitBehavior.ISOLATED, false)
        : (piece, out) -> out.add(piece);
    if (!addPrefixSpace) {
      return words;
    }
    // As in Rust, every piece reaching ByteLevel (not only the first) gets the space.
    return (piece, out) -> words.split(
        piece.text().startsWith(" ") ? piece : new Piece(" " + piece.text(), piece.atInputStart()),
        out);
  }

  /** Rust's {@code is_ascii_punctuation() || is_punctuation()} (Unicode category P*). */
  static boolean isPunctuation(int cp) {
    if (cp < 128) {
      return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96)
          || (cp >= 123 && cp <= 126);
    }
    switch (Character.getType(cp)) {
      case Character.CONNECTOR_PUNCTUATION:
      case Character.DASH_PUNCTUATION:
      case Character.START_PUNCTUATION:
      case Character.END_PUNCTUATION:
      case Character.INITIAL_QUOTE_PUNCTUATION:
      case Character.FINAL_QUOTE_PUNCTUATION:
      case Character.OTHER_PUNCTUATION:
        return true;
      default:
        return false;
    }
  }
}
