package io.moestream.engine.tokenizer.normalize;

import static io.moestream.engine.tokenizer.JsonFields.bool;
import static io.moestream.engine.tokenizer.JsonFields.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.engine.tokenizer.JsonFields;
import io.moestream.engine.tokenizer.RustRegex;
import io.moestream.engine.tokenizer.TokenizerException;
import io.moestream.engine.tokenizer.UnicodeChars;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Builds {@link Normalizer}s from the "normalizer" object of tokenizer.json. */
public final class Normalizers {
  private Normalizers() {}

  public static Normalizer fromJson(JsonNode node, String where) {
    if (node == null || node.isNull()) {
      return Normalizer.IDENTITY;
    }
    String type = JsonFields.type(node, where);
    switch (type) {
      case "NFC": return unicode(Form.NFC);
      case "NFD": return unicode(Form.NFD);
      case "NFKC": return unicode(Form.NFKC);
      case "NFKD": return unicode(Form.NFKD);
      case "Lowercase": return text -> text.toLowerCase(Locale.ROOT);
      case "StripAccents": return Normalizers::stripAccents;
      case "Strip":
        return strip(bool(node, "strip_left", true, where), bool(node, "strip_right", true, where));
      case "Prepend": {
        String prefix = text(node, "prepend", where);
        // The Rust Prepend normalizer leaves an empty string empty.
        return text -> text.isEmpty() ? text : prefix + text;
      }
      case "Replace": return replace(node, where);
      case "Sequence": {
        JsonNode list = JsonFields.array(node, "normalizers", where);
        List<Normalizer> steps = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          steps.add(fromJson(list.get(i), where + ".normalizers[" + i + "]"));
        }
        return sequence(steps);
      }
      case "Precompiled": {
        JsonNode map = node.get("precompiled_charsmap");
        if (map == null || map.isNull() || map.asText().isEmpty()) {
          return Normalizer.IDENTITY;
        }
        throw unsupported(type, where, "a SentencePiece precompiled_charsmap");
      }
      default:
        throw unsupported(type, where, null);
    }
  }

  static Normalizer unicode(Form form) {
    return text -> {
      // Long runs of combining marks are put in order first: the JDK sorts them quadratically.
      String ordered = CanonicalOrder.preorder(text, form);
      return ordered == text && java.text.Normalizer.isNormalized(text, form)
          ? text : java.text.Normalizer.normalize(ordered, form);
    };
  }

  static Normalizer sequence(List<Normalizer> steps) {
    if (steps.isEmpty()) {
      return Normalizer.IDENTITY;
    }
    Normalizer[] chain = steps.toArray(new Normalizer[0]);
    return text -> {
      for (Normalizer step : chain) {
        text = step.normalize(text);
      }
      return text;
    };
  }

  private static Normalizer strip(boolean left, boolean right) {
    return text -> {
      int start = 0;
      int end = text.length();
      while (left && start < end && UnicodeChars.isWhiteSpace(text.codePointAt(start))) {
        start += Character.charCount(text.codePointAt(start));
      }
      while (right && end > start && UnicodeChars.isWhiteSpace(text.codePointBefore(end))) {
        end -= Character.charCount(text.codePointBefore(end));
      }
      return text.substring(start, end);
    };
  }

  private static Normalizer replace(JsonNode node, String where) {
    JsonNode pattern = JsonFields.object(node, "pattern", where);
    String content = text(node, "content", where);
    if (pattern.has("String")) {
      String literal = text(pattern, "String", where + ".pattern");
      return text -> text.replace(literal, content);
    }
    if (pattern.has("Regex")) {
      Pattern regex = RustRegex.compile(text(pattern, "Regex", where + ".pattern"), where);
      String replacement = Matcher.quoteReplacement(content);
      return text -> regex.matcher(text).replaceAll(replacement);
    }
    throw new TokenizerException(where + ": Replace pattern must have 'String' or 'Regex', found "
        + pattern);
  }

  private static String stripAccents(String text) {
    String decomposed =
        java.text.Normalizer.normalize(CanonicalOrder.preorder(text, Form.NFD), Form.NFD);
    StringBuilder out = new StringBuilder(decomposed.length());
    decomposed.codePoints()
        .filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK)
        .forEach(out::appendCodePoint);
    return out.toString();
  }

  private static TokenizerException unsupported(String type, String where, String detail) {
    return new TokenizerException(where + ": normalizer type \"" + type + "\""
        + (detail == null ? "" : " with " + detail)
        + " is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip,"
        + " Prepend, Replace, Sequence)");
  }
}
