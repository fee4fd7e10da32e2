package io.moestream.operators.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.tokenizer.chat.ChatTemplateKwargs;
import io.moestream.schemas.ChatMessage;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Priority;
import io.moestream.schemas.Sampling;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JSON input option: one InferenceRequest per Kafka value (or per line of a prompts file) with
 * the Avro field names, written the way people write JSON ({@code "prompt": "hi"}, not Avro's
 * {@code {"string": "hi"}}). Strict: unknown fields, wrong types and unknown enum values are errors
 * that name the field. A sampling temperature, top_p or top_k left out (or null) is unset, so the
 * model's generation_config.json decides ({@link UnsetSampling}); chat_template_kwargs is an object
 * whose values may be any JSON, each kept as its JSON text in the Avro map.
 */
public final class RequestJson {
  /** A request nests three levels deep (messages, an item, a field); more is an attack, not a request. */
  static final int MAX_NESTING_DEPTH = 16;
  /** No field of a request needs a longer number; Jackson's default (1000) lets BigDecimal parsing cost. */
  static final int MAX_NUMBER_LENGTH = 64;
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Set<String> FIELDS = Set.of("request_id", "prompt", "messages", "max_new_tokens", "sampling",
      "priority", "deadline_epoch_ms", "min_experts_per_token", "chat_template_kwargs",
      "reply_topic");
  private static final Set<String> SAMPLING_FIELDS = Set.of("temperature", "top_p", "top_k", "seed", "stop");

  /**
   * What one JSON value may hold before a request is built from it.
   *
   * @param maxBytes values bigger than this are refused unparsed
   * @param maxItems the most elements of one array (messages, sampling.stop)
   * @param maxStringChars the longest string the parser builds (Jackson's StreamReadConstraints)
   */
  public record Bounds(int maxBytes, long maxItems, int maxStringChars) implements java.io.Serializable {
    /** For tools and tests; the job passes its configured limits. */
    public static final Bounds DEFAULT = new Bounds(1 << 20, 1 << 16, 1 << 20);

    public Bounds {
      if (maxBytes < 1 || maxItems < 1 || maxStringChars < 1) {
        throw new IllegalArgumentException("bounds: maxBytes, maxItems and maxStringChars must be >= 1, found "
            + maxBytes + ", " + maxItems + ", " + maxStringChars);
      }
    }
  }

  private static final RequestJson DEFAULT = new RequestJson(Bounds.DEFAULT);

  private final Bounds bounds;
  private final ObjectMapper mapper;

  /** A reader that holds every value to {@code bounds}; one per subtask (its mapper is not cheap). */
  public RequestJson(Bounds bounds) {
    this.bounds = bounds;
    // the depth and number bounds stop the parser's own costs before any field is looked at
    StreamReadConstraints constraints = StreamReadConstraints.builder()
        .maxNestingDepth(MAX_NESTING_DEPTH)
        .maxNumberLength(MAX_NUMBER_LENGTH)
        .maxStringLength(bounds.maxStringChars())
        .build();
    this.mapper = new ObjectMapper(JsonFactory.builder().streamReadConstraints(constraints).build());
  }

  /** @throws IllegalArgumentException naming the field at fault */
  public static InferenceRequest parse(byte[] json) {
    return DEFAULT.read(json);
  }

  public static InferenceRequest parse(String json) {
    return parse(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** @throws IllegalArgumentException naming the field at fault */
  public InferenceRequest read(byte[] json) {
    if (json.length > bounds.maxBytes()) {
      throw new IllegalArgumentException("the value is " + json.length + " bytes, over limits.max_record_bytes ("
          + bounds.maxBytes() + ")");
    }
    JsonNode root;
    JsonParser parser = null;
    try (JsonParser p = mapper.createParser(json)) {
      parser = p;
      root = mapper.readTree(p);
    } catch (StreamConstraintsException e) {
      String path = path(parser);
      throw new IllegalArgumentException((path.isEmpty() ? "" : path + ": ") + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      String path = path(parser);
      throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage()
          + (path.isEmpty() ? "" : " (at " + path + ")"));
    } catch (IOException e) {
      throw new IllegalArgumentException("not valid JSON: " + e.getMessage());
    }
    return fromTree(root, bounds.maxItems());
  }

  /** Where the parser was when it failed, as a field path ({@code messages[0].content}); "" at the top. */
  private static String path(JsonParser parser) {
    if (parser == null) {
      return "";
    }
    java.util.ArrayDeque<String> parts = new java.util.ArrayDeque<>();
    for (JsonStreamContext c = parser.getParsingContext(); c != null && !c.inRoot(); c = c.getParent()) {
      if (c.inArray()) {
        parts.addFirst("[" + Math.max(c.getCurrentIndex(), 0) + "]");
      } else if (c.getCurrentName() != null) {
        String name = c.getCurrentName();
        parts.addFirst("." + (name.length() > 40 ? name.substring(0, 40) + "..." : name));
      }
    }
    String path = String.join("", parts);
    return path.startsWith(".") ? path.substring(1) : path;
  }

  static InferenceRequest fromTree(JsonNode root) {
    return fromTree(root, Bounds.DEFAULT.maxItems());
  }

  static InferenceRequest fromTree(JsonNode root, long maxItems) {
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("a request must be a JSON object");
    }
    checkKnown(root, FIELDS, "");
    InferenceRequest.Builder b = InferenceRequest.newBuilder();
    b.setRequestId(text(root, "request_id", true));
    b.setPrompt(text(root, "prompt", false));
    JsonNode messages = root.get("messages");
    if (messages != null && !messages.isNull()) {
      if (!messages.isArray()) {
        throw new IllegalArgumentException("messages: expected an array of {role, content}");
      }
      checkSize(messages, "messages", maxItems);
      List<ChatMessage> list = new ArrayList<>();
      for (int i = 0; i < messages.size(); i++) {
        JsonNode m = messages.get(i);
        String where = "messages[" + i + "]";
        if (!m.isObject()) {
          throw new IllegalArgumentException(where + ": expected an object {role, content}");
        }
        checkKnown(m, Set.of("role", "content"), where + ".");
        list.add(new ChatMessage(text(m, "role", true, where + ".role"), text(m, "content", true, where + ".content")));
      }
      b.setMessages(list);
    }
    if (root.has("max_new_tokens")) {
      b.setMaxNewTokens(integer(root.get("max_new_tokens"), "max_new_tokens"));
    }
    b.setSampling(sampling(root.get("sampling"), maxItems));
    JsonNode priority = root.get("priority");
    if (priority != null && !priority.isNull()) {
      b.setPriority(priority(priority));
    }
    JsonNode deadline = root.get("deadline_epoch_ms");
    b.setDeadlineEpochMs(deadline == null || deadline.isNull() ? null : longValue(deadline, "deadline_epoch_ms"));
    JsonNode floor = root.get("min_experts_per_token");
    b.setMinExpertsPerToken(floor == null || floor.isNull() ? null : integer(floor, "min_experts_per_token"));
    b.setChatTemplateKwargs(kwargs(root.get("chat_template_kwargs")));
    b.setReplyTopic(text(root, "reply_topic", false));
    return b.build();
  }

  private static boolean present(JsonNode node, String field) {
    return node.has(field) && !node.get(field).isNull();
  }

  /** A JSON object of template variables, checked, as the Avro map of JSON texts; null when absent. */
  private static Map<String, String> kwargs(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    ChatTemplateKwargs.fromJson(node, "chat_template_kwargs"); // names the key at fault
    Map<String, String> json = new LinkedHashMap<>();
    node.fields().forEachRemaining(e -> json.put(e.getKey(), e.getValue().toString()));
    return json;
  }

  private static Sampling sampling(JsonNode node, long maxItems) {
    Sampling.Builder s = Sampling.newBuilder();
    if (node == null || node.isNull()) {
      return s.build();
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException("sampling: expected an object");
    }
    checkKnown(node, SAMPLING_FIELDS, "sampling.");
    // absent or null: unset (the builder's default), so the model's generation_config.json decides
    if (present(node, "temperature")) {
      s.setTemperature(notSentinel((float) number(node.get("temperature"), "sampling.temperature"),
          "sampling.temperature"));
    }
    if (present(node, "top_p")) {
      s.setTopP(notSentinel((float) number(node.get("top_p"), "sampling.top_p"), "sampling.top_p"));
    }
    if (present(node, "top_k")) {
      int topK = integer(node.get("top_k"), "sampling.top_k");
      if (topK == UnsetSampling.UNSET_INT) {
        throw new IllegalArgumentException(sentinelGiven("sampling.top_k", "-1"));
      }
      s.setTopK(topK);
    }
    if (node.has("seed")) {
      s.setSeed(longValue(node.get("seed"), "sampling.seed"));
    }
    JsonNode stop = node.get("stop");
    if (stop != null && !stop.isNull()) {
      if (!stop.isArray()) {
        throw new IllegalArgumentException("sampling.stop: expected an array of strings");
      }
      checkSize(stop, "sampling.stop", maxItems);
      List<String> strings = new ArrayList<>();
      for (JsonNode item : stop) {
        if (!item.isTextual()) {
          throw new IllegalArgumentException("sampling.stop: expected strings, found " + item.getNodeType());
        }
        strings.add(item.asText());
      }
      s.setStop(strings);
    }
    return s.build();
  }

  /**
   * A JSON value of exactly -1 would read back as "unset" from the Avro record, not as the -1 written
   * (which the validator would refuse): refused here, where absence is how JSON says unset.
   */
  private static float notSentinel(float value, String where) {
    if (value == UnsetSampling.UNSET_FLOAT) {
      throw new IllegalArgumentException(sentinelGiven(where, "-1.0"));
    }
    return value;
  }

  private static String sentinelGiven(String where, String found) {
    return where + ": must not be negative, found " + found + " (leave the field out for the model's"
        + " generation_config.json value)";
  }

  private static Priority priority(JsonNode node) {
    if (!node.isTextual()) {
      throw new IllegalArgumentException("priority: expected one of LOW, NORMAL, HIGH");
    }
    try {
      return Priority.valueOf(node.asText().toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("priority: unknown value '" + shown(node.asText()) + "' (expected LOW, NORMAL or HIGH)");
    }
  }

  /** A value echoed in a reason, cut: it may be anything up to the whole value's size. */
  private static String shown(String value) {
    return value.length() > 40 ? value.substring(0, 40) + "..." : value;
  }

  private static void checkSize(JsonNode array, String where, long maxItems) {
    if (array.size() > maxItems) {
      throw new IllegalArgumentException(where + ": array of " + array.size() + " elements exceeds the limit of "
          + maxItems);
    }
  }

  private static void checkKnown(JsonNode node, Set<String> known, String prefix) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!known.contains(name)) {
        // the name is echoed; cut it, it may be anything up to the value's size
        throw new IllegalArgumentException(prefix + (name.length() > 40 ? name.substring(0, 40) + "..." : name)
            + ": unknown field");
      }
    }
  }

  private static String text(JsonNode node, String field, boolean required) {
    return text(node, field, required, field);
  }

  private static String text(JsonNode node, String field, boolean required, String where) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      if (required) {
        throw new IllegalArgumentException(where + ": missing");
      }
      return null;
    }
    if (!value.isTextual()) {
      throw new IllegalArgumentException(where + ": expected a string, found " + value.getNodeType());
    }
    return value.asText();
  }

  private static int integer(JsonNode value, String where) {
    if (!value.canConvertToInt() || !value.isIntegralNumber()) {
      throw new IllegalArgumentException(where + ": expected an integer in int range, found " + shown(value.toString()));
    }
    return value.asInt();
  }

  private static long longValue(JsonNode value, String where) {
    if (!value.canConvertToLong() || !value.isIntegralNumber()) {
      throw new IllegalArgumentException(where + ": expected an integer, found " + shown(value.toString()));
    }
    return value.asLong();
  }

  private static double number(JsonNode value, String where) {
    if (!value.isNumber()) {
      throw new IllegalArgumentException(where + ": expected a number, found " + shown(value.toString()));
    }
    return value.asDouble();
  }

  /** The JSON form of a request (what {@link #parse} reads back). */
  public static String toJson(InferenceRequest r) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("request_id", r.getRequestId());
    if (r.getPrompt() != null) {
      o.put("prompt", r.getPrompt());
    }
    if (r.getMessages() != null) {
      var array = o.putArray("messages");
      for (ChatMessage m : r.getMessages()) {
        array.addObject().put("role", m.getRole()).put("content", m.getContent());
      }
    }
    o.put("max_new_tokens", r.getMaxNewTokens());
    Sampling s = r.getSampling();
    ObjectNode so = o.putObject("sampling");
    // unset values are left out, which is how parse() reads them back as unset
    if (UnsetSampling.temperature(s) != null) {
      so.put("temperature", s.getTemperature());
    }
    if (UnsetSampling.topP(s) != null) {
      so.put("top_p", s.getTopP());
    }
    if (UnsetSampling.topK(s) != null) {
      so.put("top_k", s.getTopK());
    }
    so.put("seed", s.getSeed());
    var stop = so.putArray("stop");
    s.getStop().forEach(stop::add);
    o.put("priority", r.getPriority().name());
    if (r.getDeadlineEpochMs() != null) {
      o.put("deadline_epoch_ms", r.getDeadlineEpochMs());
    }
    if (r.getMinExpertsPerToken() != null) {
      o.put("min_experts_per_token", r.getMinExpertsPerToken());
    }
    if (r.getChatTemplateKwargs() != null) {
      ObjectNode kwargs = o.putObject("chat_template_kwargs");
      r.getChatTemplateKwargs().forEach((key, json) -> {
        try {
          kwargs.set(key, MAPPER.readTree(json));
        } catch (JsonProcessingException e) {
          throw new IllegalArgumentException("chat_template_kwargs." + key + ": not a JSON value", e);
        }
      });
    }
    if (r.getReplyTopic() != null) {
      o.put("reply_topic", r.getReplyTopic());
    }
    return o.toString();
  }

}
