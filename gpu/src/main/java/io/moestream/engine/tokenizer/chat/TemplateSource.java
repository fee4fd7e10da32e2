package io.moestream.engine.tokenizer.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites the few jinja2 constructs of Hugging Face chat templates that jinjava handles differently,
 * into equivalents it handles the jinja2 way. Only these are needed for the templates of the
 * supported families; anything else jinjava cannot parse is reported as a template error.
 *
 * <ul>
 *   <li>Whitespace control on expressions: jinjava honours {@code {%-} and {@code -%}} on statements
 *       but ignores the dash in {@code {{-} and {@code -}}}, which chat templates use on nearly every
 *       output; the whitespace is removed here and the dash dropped.
 *   <li>{@code seq[::-1]} (reverse slice): jinjava has no slice step; becomes {@code seq|reverse}.
 *   <li>{@code namespace(a=x|length - 1)}: jinjava binds {@code a=x|length} before the minus;
 *       every keyword value is parenthesised: {@code namespace(a=(x|length - 1))}.
 * </ul>
 */
final class TemplateSource {
  private static final Pattern REVERSE_SLICE = Pattern.compile("\\[\\s*:\\s*:\\s*-1\\s*\\]");
  private static final Pattern KEYWORD_ARG = Pattern.compile("(?s)^(\\s*[A-Za-z_]\\w*\\s*)=(?!=)(.*)$");

  private TemplateSource() {}

  static String forJinjava(String template) {
    String out = expressionWhitespaceControl(template);
    out = REVERSE_SLICE.matcher(out).replaceAll("|reverse");
    return parenthesiseNamespaceArgs(out);
  }

  /**
   * Applies {@code {{-} (strip all whitespace before) and {@code -}}} (strip all whitespace after)
   * to the template text around expressions, as jinja2 does, and removes the dashes.
   */
  static String expressionWhitespaceControl(String template) {
    StringBuilder out = new StringBuilder(template.length());
    int textStart = 0; // where the current run of plain template text begins in out
    int i = 0;
    while (i < template.length()) {
      if (!template.startsWith("{", i) || i + 1 >= template.length()
          || "{%#".indexOf(template.charAt(i + 1)) < 0) {
        out.append(template.charAt(i++));
        continue;
      }
      char kind = template.charAt(i + 1);
      String close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
      int end = closingDelimiter(template, i + 2, close, kind != '#');
      if (end < 0) {
        out.append(template, i, template.length());
        break;
      }
      String tag = template.substring(i, end + 2);
      boolean stripBefore = kind == '{' && tag.startsWith("{{-");
      boolean stripAfter = kind == '{' && tag.endsWith("-}}");
      if (stripBefore) {
        int keep = out.length();
        while (keep > textStart && Character.isWhitespace(out.charAt(keep - 1))) {
          keep--;
        }
        out.setLength(keep);
        tag = "{{" + tag.substring(3);
      }
      if (stripAfter) {
        tag = tag.substring(0, tag.length() - 3) + "}}";
      }
      out.append(tag);
      i = end + 2;
      if (stripAfter) {
        while (i < template.length() && Character.isWhitespace(template.charAt(i))) {
          i++;
        }
      }
      textStart = out.length();
    }
    return out.toString();
  }

  /** Index of {@code close} ending the tag whose body starts at {@code from}; skips string literals. */
  private static int closingDelimiter(String s, int from, String close, boolean skipStrings) {
    char quote = 0;
    for (int i = from; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quote != 0) {
        if (c == '\\') {
          i++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (skipStrings && (c == '\'' || c == '"')) {
        quote = c;
      } else if (s.startsWith(close, i)) {
        return i;
      }
    }
    return -1;
  }

  private static String parenthesiseNamespaceArgs(String template) {
    StringBuilder out = new StringBuilder(template.length() + 16);
    int from = 0;
    int at;
    while ((at = template.indexOf("namespace(", from)) >= 0) {
      int open = at + "namespace".length();
      int close = matchingParen(template, open);
      if (close < 0) {
        break;
      }
      out.append(template, from, open + 1);
      List<String> args = topLevelArgs(template.substring(open + 1, close));
      for (int i = 0; i < args.size(); i++) {
        Matcher m = KEYWORD_ARG.matcher(args.get(i));
        out.append(i == 0 ? "" : ",");
        out.append(m.matches() ? m.group(1) + "=(" + m.group(2) + ")" : args.get(i));
      }
      out.append(')');
      from = close + 1;
    }
    out.append(template, from, template.length());
    return out.toString();
  }

  /** Index of the ')' closing the '(' at {@code open}, skipping quoted strings; -1 if none. */
  private static int matchingParen(String s, int open) {
    int depth = 0;
    char quote = 0;
    for (int i = open; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quote != 0) {
        if (c == '\\') {
          i++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '(' || c == '[' || c == '{') {
        depth++;
      } else if (c == ')' || c == ']' || c == '}') {
        depth--;
        if (depth == 0) {
          return i;
        }
      }
    }
    return -1;
  }

  private static List<String> topLevelArgs(String s) {
    List<String> args = new ArrayList<>();
    int depth = 0;
    char quote = 0;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quote != 0) {
        if (c == '\\') {
          i++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '(' || c == '[' || c == '{') {
        depth++;
      } else if (c == ')' || c == ']' || c == '}') {
        depth--;
      } else if (c == ',' && depth == 0) {
        args.add(s.substring(start, i));
        start = i + 1;
      }
    }
    if (start < s.length() || !args.isEmpty()) {
      args.add(s.substring(start));
    }
    return args;
  }
}
