package io.moestream.engine.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles the regular expressions found in tokenizer.json with java.util.regex so they match what
 * the Rust tokenizers library matches. That library compiles them with Oniguruma (its "SysRegex"),
 * whose syntax mostly agrees with Java's, except for these points, handled here:
 *
 * <ul>
 *   <li>{@code \s}, {@code \d}, {@code \w}, {@code \b} and {@code (?i)} are Unicode-aware in
 *       Oniguruma; Java needs {@link Pattern#UNICODE_CHARACTER_CLASS} for that (which also implies
 *       Unicode case folding). With it Java's {@code \s} is the White_Space property, the same set
 *       as Oniguruma's.
 *   <li>{@code .}, {@code ^} and {@code $} treat only {@code \n} as a line end in Oniguruma; Java
 *       also treats {@code \r}, U+0085, U+2028 and U+2029 as line ends unless {@link
 *       Pattern#UNIX_LINES} is set.
 *   <li>An unescaped {@code [} inside a character class is a literal in Oniguruma (unless it opens a
 *       POSIX class like {@code [:alpha:]}) but starts a nested class (a union) in Java: escaped.
 *   <li>{@code \h} is a hexadecimal digit in Oniguruma but horizontal whitespace in Java;
 *       {@code \v} is only U+000B in Oniguruma but any vertical whitespace in Java: both rewritten.
 *   <li>Script names without "Is" ({@code \p{Han}}) are accepted by Oniguruma; Java wants
 *       {@code \p{IsHan}}: rewritten when the bare name is not a Java property.
 * </ul>
 *
 * Lookahead such as {@code \s+(?!\S)} (GPT-2 and Qwen patterns) works the same in both engines.
 */
public final class RustRegex {
  private RustRegex() {}

  public static Pattern compile(String source, String where) {
    String translated = translate(source);
    try {
      return Pattern.compile(translated, Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNIX_LINES);
    } catch (PatternSyntaxException e) {
      throw new TokenizerException(
          where + ": regex " + quote(source) + " cannot be compiled: " + e.getDescription(), e);
    }
  }

  /** The java.util.regex source for an Oniguruma-syntax pattern (see the class comment). */
  public static String translate(String source) {
    StringBuilder out = new StringBuilder(source.length() + 8);
    int classDepth = 0;
    int i = 0;
    while (i < source.length()) {
      char c = source.charAt(i);
      if (c == '\\' && i + 1 < source.length()) {
        char next = source.charAt(i + 1);
        if (next == 'h') {
          out.append(classDepth > 0 ? "0-9a-fA-F" : "[0-9a-fA-F]");
          i += 2;
        } else if (next == 'v') {
          out.append("\\x0B");
          i += 2;
        } else if ((next == 'p' || next == 'P') && i + 2 < source.length()
            && source.charAt(i + 2) == '{') {
          int close = source.indexOf('}', i + 3);
          if (close < 0) {
            out.append(source, i, source.length());
            break;
          }
          out.append('\\').append(next).append('{')
              .append(javaPropertyName(source.substring(i + 3, close))).append('}');
          i = close + 1;
        } else {
          out.append(c).append(next);
          i += 2;
        }
        continue;
      }
      if (c == '[') {
        if (classDepth == 0) {
          classDepth = 1;
          out.append(c);
          i++;
          // A ']' right after '[' or '[^' is a literal in both engines; copy it without closing.
          if (i < source.length() && source.charAt(i) == '^') {
            out.append('^');
            i++;
          }
          if (i < source.length() && source.charAt(i) == ']') {
            out.append("\\]");
            i++;
          }
        } else if (source.startsWith("[:", i)) {
          int end = source.indexOf(":]", i + 2);
          String name = end < 0 ? "" : source.substring(i + 2, end);
          out.append("\\p{").append(posixToJava(name)).append('}');
          i = end + 2;
        } else {
          out.append("\\[");
          i++;
        }
        continue;
      }
      if (c == ']' && classDepth > 0) {
        classDepth = 0;
      }
      out.append(c);
      i++;
    }
    return out.toString();
  }

  private static String javaPropertyName(String name) {
    if (isJavaProperty(name)) {
      return name;
    }
    if (isJavaProperty("Is" + name)) {
      return "Is" + name;
    }
    return name; // let Pattern.compile report it with the full pattern
  }

  private static boolean isJavaProperty(String name) {
    try {
      Pattern.compile("\\p{" + name + "}", Pattern.UNICODE_CHARACTER_CLASS);
      return true;
    } catch (PatternSyntaxException e) {
      return false;
    }
  }

  private static String posixToJava(String name) {
    switch (name) {
      case "alpha": return "IsAlphabetic";
      case "digit": return "Nd";
      case "alnum": return "Alnum";
      case "space": return "IsWhite_Space";
      case "upper": return "IsUppercase";
      case "lower": return "IsLowercase";
      case "punct": return "IsPunctuation";
      default: throw new TokenizerException("POSIX class [:" + name + ":] is not supported");
    }
  }

  static String quote(String s) {
    return "\"" + s.replace("\r", "\\r").replace("\n", "\\n") + "\"";
  }
}
