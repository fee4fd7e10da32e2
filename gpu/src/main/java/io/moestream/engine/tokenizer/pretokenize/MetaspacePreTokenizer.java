package io.moestream.engine.tokenizer.pretokenize;

import static io.moestream.engine.tokenizer.JsonFields.bool;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.engine.tokenizer.JsonFields;
import io.moestream.engine.tokenizer.TokenizerException;
import java.util.List;

/**
 * SentencePiece-style word marking: spaces become the replacement character (U+2581 "▁"), a "▁" is
 * put in front of the text ("always", or only at the very start of the input with "first"), and with
 * {@code split} the text is cut before every "▁" (MergedWithNext).
 */
public final class MetaspacePreTokenizer implements PreTokenizer {
  /** When a "▁" is put in front of a piece. */
  public enum PrependScheme { ALWAYS, FIRST, NEVER }

  private final String replacement;
  private final PrependScheme prependScheme;
  private final boolean split;

  public MetaspacePreTokenizer(int replacement, PrependScheme prependScheme, boolean split) {
    this.replacement = new String(Character.toChars(replacement));
    this.prependScheme = prependScheme;
    this.split = split;
  }

  static MetaspacePreTokenizer fromJson(JsonNode node, String where) {
    int replacement = JsonFields.codePoint(node, "replacement", where);
    return new MetaspacePreTokenizer(replacement, prependScheme(node, where),
        bool(node, "split", true, where));
  }

  /** "prepend_scheme", or for files older than it the boolean "add_prefix_space". */
  public static PrependScheme prependScheme(JsonNode node, String where) {
    String scheme = JsonFields.optText(node, "prepend_scheme", null, where);
    if (scheme == null) {
      return bool(node, "add_prefix_space", true, where) ? PrependScheme.ALWAYS : PrependScheme.NEVER;
    }
    switch (scheme) {
      case "always": return PrependScheme.ALWAYS;
      case "first": return PrependScheme.FIRST;
      case "never": return PrependScheme.NEVER;
      default:
        throw new TokenizerException(where + ": prepend_scheme \"" + scheme
            + "\" is not supported (supported: always, first, never)");
    }
  }

  @Override
  public void split(Piece piece, List<Piece> out) {
    String text = piece.text().replace(" ", replacement);
    boolean prepend = !text.startsWith(replacement)
        && (prependScheme == PrependScheme.ALWAYS
            || (prependScheme == PrependScheme.FIRST && piece.atInputStart()));
    if (prepend) {
      text = replacement + text;
    }
    Piece replaced = new Piece(text, piece.atInputStart());
    if (!split) {
      out.add(replaced);
      return;
    }
    int start = 0;
    int next = text.indexOf(replacement, 1);
    while (next > 0) {
      if (next > start) {
        out.add(new Piece(text.substring(start, next), piece.atInputStart() && start == 0));
      }
      start = next;
      next = text.indexOf(replacement, next + replacement.length());
    }
    if (start < text.length()) {
      out.add(new Piece(start == 0 ? text : text.substring(start), piece.atInputStart() && start == 0));
    }
  }
}
