package io.moestream.engine.tokenizer.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Extra variables for a chat template, as transformers' {@code apply_chat_template(**kwargs)} and
 * vLLM's {@code chat_template_kwargs} pass them (Qwen3's {@code enable_thinking: false}). Values are
 * JSON values turned into what jinja2 would see: strings, booleans, numbers, null, lists and maps.
 *
 * <p>Bounded, because they come from requests: at most {@link #MAX_ENTRIES} keys, each a template
 * variable name of at most {@link #MAX_KEY_CHARS}, values of at most {@link #MAX_JSON_CHARS} JSON
 * characters in all, nested at most {@link #MAX_DEPTH} deep. Keys the renderer binds itself
 * ({@link #RESERVED}) are refused: a request must not replace its own messages or the BOS token.
 */
public final class ChatTemplateKwargs {
  public static final int MAX_ENTRIES = 32;
  public static final int MAX_KEY_CHARS = 64;
  public static final int MAX_JSON_CHARS = 8192;
  public static final int MAX_DEPTH = 8;
  /** The variables and functions the renderer defines; {@code tools} because tool calling is not served. */
  public static final Set<String> RESERVED = Set.of("messages", "add_generation_prompt", "bos_token", "eos_token",
      "raise_exception", "strftime_now", "namespace", "tools", "documents");
  public static final ChatTemplateKwargs NONE = new ChatTemplateKwargs(Map.of());

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final Map<String, Object> values;

  private ChatTemplateKwargs(Map<String, Object> values) {
    this.values = Collections.unmodifiableMap(values);
  }

  /**
   * Kwargs whose values are JSON texts (the Avro form: a map of strings).
   *
   * @throws IllegalArgumentException naming {@code field} and the key at fault
   */
  public static ChatTemplateKwargs fromJsonValues(Map<String, String> jsonValues, String field) {
    if (jsonValues == null || jsonValues.isEmpty()) {
      return NONE;
    }
    checkCount(jsonValues.size(), field);
    Map<String, JsonNode> nodes = new LinkedHashMap<>();
    long chars = 0;
    for (Map.Entry<String, String> e : jsonValues.entrySet()) {
      String key = checkKey(e.getKey(), field);
      String json = e.getValue();
      if (json == null) {
        throw new IllegalArgumentException(field + "." + key + ": missing value (expected a JSON text)");
      }
      chars += json.length();
      checkChars(chars, field);
      try {
        nodes.put(key, MAPPER.readTree(json));
      } catch (JsonProcessingException ex) {
        throw new IllegalArgumentException(field + "." + key + ": not a JSON value: " + ex.getOriginalMessage());
      }
      if (nodes.get(key) == null || nodes.get(key).isMissingNode()) {
        throw new IllegalArgumentException(field + "." + key + ": not a JSON value: empty");
      }
    }
    return of(nodes, field);
  }

  /** Kwargs from a JSON object ({@code {"enable_thinking": false}}). */
  public static ChatTemplateKwargs fromJson(JsonNode object, String field) {
    if (object == null || object.isNull()) {
      return NONE;
    }
    if (!object.isObject()) {
      throw new IllegalArgumentException(field + ": expected a JSON object, found " + object.getNodeType());
    }
    checkCount(object.size(), field);
    Map<String, JsonNode> nodes = new LinkedHashMap<>();
    object.fields().forEachRemaining(e -> nodes.put(checkKey(e.getKey(), field), e.getValue()));
    checkChars(nodes.values().stream().mapToLong(n -> n.toString().length()).sum(), field);
    return of(nodes, field);
  }

  /** Kwargs from a JSON object's text (the command line's --chat-template-kwargs). */
  public static ChatTemplateKwargs parse(String jsonObject, String field) {
    if (jsonObject.length() > MAX_JSON_CHARS + 2L * MAX_ENTRIES * (MAX_KEY_CHARS + 8)) {
      throw new IllegalArgumentException(field + ": " + jsonObject.length() + " characters, over the limit");
    }
    try {
      return fromJson(MAPPER.readTree(jsonObject), field);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(field + ": not a JSON object: " + e.getOriginalMessage());
    }
  }

  private static ChatTemplateKwargs of(Map<String, JsonNode> nodes, String field) {
    Map<String, Object> values = new LinkedHashMap<>();
    nodes.forEach((key, node) -> values.put(key, toJava(node, field + "." + key, 1)));
    return values.isEmpty() ? NONE : new ChatTemplateKwargs(values);
  }

  private static void checkCount(int count, String field) {
    if (count > MAX_ENTRIES) {
      throw new IllegalArgumentException(field + ": " + count + " entries, over the limit of " + MAX_ENTRIES);
    }
  }

  private static void checkChars(long chars, String field) {
    if (chars > MAX_JSON_CHARS) {
      throw new IllegalArgumentException(field + ": values of " + chars + " JSON characters in all, over the limit of "
          + MAX_JSON_CHARS);
    }
  }

  private static String checkKey(String key, String field) {
    String shown = key.length() > MAX_KEY_CHARS ? key.substring(0, MAX_KEY_CHARS) + "..." : key;
    if (key.length() > MAX_KEY_CHARS || !NAME.matcher(key).matches()) {
      throw new IllegalArgumentException(field + ": key '" + shown + "' is not a template variable name"
          + " (letters, digits and _, at most " + MAX_KEY_CHARS + " characters)");
    }
    if (RESERVED.contains(key)) {
      throw new IllegalArgumentException(field + ": key '" + key + "' is reserved: the renderer sets it itself");
    }
    return key;
  }

  /** What jinja2 sees for a JSON value: Boolean, Long or Double, String, null, List, Map. */
  private static Object toJava(JsonNode node, String where, int depth) {
    if (depth > MAX_DEPTH) {
      throw new IllegalArgumentException(where + ": nested deeper than " + MAX_DEPTH + " levels");
    }
    switch (node.getNodeType()) {
      case BOOLEAN: return node.booleanValue();
      case STRING: return node.textValue();
      case NULL: return null;
      case NUMBER: return node.isIntegralNumber() && node.canConvertToLong() ? (Object) node.longValue()
          : (Object) node.doubleValue();
      case ARRAY: {
        List<Object> list = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
          list.add(toJava(node.get(i), where + "[" + i + "]", depth + 1));
        }
        return list;
      }
      case OBJECT: {
        Map<String, Object> map = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> map.put(e.getKey(), toJava(e.getValue(), where + "." + e.getKey(),
            depth + 1)));
        return map;
      }
      default:
        throw new IllegalArgumentException(where + ": unsupported JSON value " + node.getNodeType());
    }
  }

  /** The variables, unmodifiable, in the order given. */
  public Map<String, Object> values() {
    return values;
  }

  public boolean isEmpty() {
    return values.isEmpty();
  }

  /** Calls {@code visitor} with every string inside the values (map keys included) and its key. */
  public void forEachString(java.util.function.BiConsumer<String, String> visitor) {
    values.forEach((key, value) -> strings(value, s -> visitor.accept(key, s)));
  }

  private static void strings(Object value, Consumer<String> out) {
    if (value instanceof String s) {
      out.accept(s);
    } else if (value instanceof List<?> list) {
      list.forEach(v -> strings(v, out));
    } else if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> {
        out.accept(String.valueOf(k));
        strings(v, out);
      });
    }
  }

  /** The JSON object these kwargs were made from (Python's json.dumps spelling). */
  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    PythonJson.write(values, out);
    return out.toString();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof ChatTemplateKwargs k && values.equals(k.values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }
}
