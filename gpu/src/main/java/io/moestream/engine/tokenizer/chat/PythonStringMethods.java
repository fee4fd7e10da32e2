package io.moestream.engine.tokenizer.chat;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's str methods ({@code .startswith}, {@code .split}, {@code .strip}, ...) on strings inside
 * jinjava expressions. Chat templates are written for Python's jinja2, where a string is a Python str;
 * in jinjava it is a java.lang.String, which has none of these names, so without this resolver
 * {@code message.content.startswith('<tool_response>')} fails. Put first in a composite resolver; it
 * resolves only String receivers with the names below and leaves everything else to jinjava.
 */
final class PythonStringMethods extends ELResolver {
  @Override
  public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes,
      Object[] params) {
    if (!(base instanceof String) || method == null) {
      return null;
    }
    Object result = call((String) base, method.toString(), params == null ? new Object[0] : params);
    if (result != null) {
      context.setPropertyResolved(true);
    }
    return result;
  }

  /** The result of {@code s.name(args)}, or null when the name is not a supported str method. */
  static Object call(String s, String name, Object[] args) {
    switch (name) {
      case "startswith": return anyMatch(args[0], s::startsWith);
      case "endswith": return anyMatch(args[0], s::endsWith);
      case "strip": return lstrip(rstrip(s, chars(args)), chars(args));
      case "lstrip": return lstrip(s, chars(args));
      case "rstrip": return rstrip(s, chars(args));
      case "split": return split(s, chars(args), args.length > 1 ? ((Number) args[1]).intValue() : -1);
      case "upper": return s.toUpperCase(Locale.ROOT);
      case "lower": return s.toLowerCase(Locale.ROOT);
      case "replace": return s.replace(String.valueOf(args[0]), String.valueOf(args[1]));
      case "capitalize":
        return s.isEmpty() ? s
            : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
      case "find": return (long) s.indexOf(String.valueOf(args[0]));
      case "count": return count(s, String.valueOf(args[0]));
      case "isspace": return !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
      case "isdigit": return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
      default: return null;
    }
  }

  private static boolean anyMatch(Object prefixes, java.util.function.Predicate<String> test) {
    if (prefixes instanceof List<?>) {
      return ((List<?>) prefixes).stream().anyMatch(p -> test.test(String.valueOf(p)));
    }
    return test.test(String.valueOf(prefixes));
  }

  /** The chars argument; null means "whitespace", as in Python. */
  private static String chars(Object[] args) {
    return args.length == 0 || args[0] == null ? null : String.valueOf(args[0]);
  }

  private static boolean strips(String chars, char c) {
    return chars == null ? Character.isWhitespace(c) || Character.isSpaceChar(c) : chars.indexOf(c) >= 0;
  }

  static String lstrip(String s, String chars) {
    int i = 0;
    while (i < s.length() && strips(chars, s.charAt(i))) {
      i++;
    }
    return s.substring(i);
  }

  static String rstrip(String s, String chars) {
    int i = s.length();
    while (i > 0 && strips(chars, s.charAt(i - 1))) {
      i--;
    }
    return s.substring(0, i);
  }

  /** str.split(sep, maxsplit): with a separator every occurrence cuts; without, whitespace runs. */
  static List<String> split(String s, String sep, int maxSplit) {
    List<String> parts = new ArrayList<>();
    if (sep == null) {
      for (String part : s.strip().split("\\s+", maxSplit < 0 ? 0 : maxSplit + 1)) {
        if (!part.isEmpty()) {
          parts.add(part);
        }
      }
      return parts;
    }
    if (sep.isEmpty()) {
      throw new IllegalArgumentException("empty separator");
    }
    int start = 0;
    int at;
    while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, start)) >= 0) {
      parts.add(s.substring(start, at));
      start = at + sep.length();
    }
    parts.add(s.substring(start));
    return parts;
  }

  private static long count(String s, String sub) {
    if (sub.isEmpty()) {
      return s.length() + 1L;
    }
    long n = 0;
    for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
      n++;
    }
    return n;
  }

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public Class<?> getType(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public void setValue(ELContext context, Object base, Object property, Object value) {}

  @Override
  public boolean isReadOnly(ELContext context, Object base, Object property) {
    return true;
  }

  @Override
  public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
    return null;
  }

  @Override
  public Class<?> getCommonPropertyType(ELContext context, Object base) {
    return null;
  }
}
