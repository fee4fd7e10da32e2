package io.moestream.engine.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.model.GenerationDefaults;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sampling defaults of a model folder's generation_config.json, used for the sampling fields a
 * request leaves unset, as transformers' generate() does. Precedence: the request's value, then this
 * file's, then the built-in greedy defaults (temperature 0, top_p 1, top_k 0).
 *
 * <p>As in transformers, the file's temperature, top_p and top_k only sample when its
 * {@code do_sample} is true (transformers' own default is false): a file without it means greedy by
 * default, whatever else it says. {@code repetition_penalty} has no counterpart in {@link Sampler}
 * and is ignored with a log line, so an answer never silently differs from what the file asks
 * without a trace. (The same file's eos_token_id is read by {@link GenerationDefaults}.)
 *
 * @param temperature the default temperature (0: greedy)
 * @param topP the default top_p in (0, 1]
 * @param topK the default top_k (0: off)
 * @param source where the values came from, for logs and errors
 */
public record SamplingDefaults(float temperature, float topP, int topK, String source)
    implements java.io.Serializable {
  public static final String FILE = GenerationDefaults.FILE;
  /** No generation_config.json: greedy, as before this file was read. */
  public static final SamplingDefaults GREEDY = new SamplingDefaults(0f, 1f, 0, "built-in greedy");

  private static final Logger LOG = LoggerFactory.getLogger(SamplingDefaults.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  public SamplingDefaults {
    // SamplingParams checks the ranges and names the fields; the source names the file.
    try {
      new SamplingParams(temperature, topP, topK, 0L);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  /** The defaults of {@code modelDir}/generation_config.json; {@link #GREEDY} without one. */
  public static SamplingDefaults read(Path modelDir) {
    Path file = modelDir.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      return GREEDY;
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": not valid JSON: " + e.getMessage(), e);
    }
    return parse(root, file.toString());
  }

  /** The defaults of a parsed generation_config.json; {@code source} names it in errors. */
  public static SamplingDefaults parse(JsonNode root, String source) {
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(source + ": expected a JSON object");
    }
    JsonNode penalty = root.get("repetition_penalty");
    if (penalty != null && !penalty.isNull() && !(penalty.isNumber() && penalty.asDouble() == 1.0)) {
      LOG.info("{}: repetition_penalty {} ignored: the sampler has no repetition penalty", source, penalty);
    }
    JsonNode doSample = root.get("do_sample");
    if (doSample != null && !doSample.isNull() && !doSample.isBoolean()) {
      throw new IllegalArgumentException(source + ": do_sample must be true or false, found " + doSample);
    }
    float temperature = (float) number(root, "temperature", 1.0, source);
    float topP = (float) number(root, "top_p", 1.0, source);
    double topK = number(root, "top_k", 0, source);
    if (topK != Math.rint(topK) || topK > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(source + ": top_k must be an integer, found " + root.get("top_k"));
    }
    boolean sample = doSample != null && doSample.asBoolean();
    return new SamplingDefaults(sample ? temperature : 0f, topP, (int) topK, source);
  }

  private static double number(JsonNode root, String field, double absent, String source) {
    JsonNode value = root.get(field);
    if (value == null || value.isNull()) {
      return absent;
    }
    if (!value.isNumber()) {
      throw new IllegalArgumentException(source + ": " + field + " must be a number, found " + value);
    }
    return value.asDouble();
  }

  /**
   * The sampling of a request: each argument that is null takes this file's value.
   *
   * @throws IllegalArgumentException naming the field when a value given is out of range
   */
  public SamplingParams resolve(Float temperature, Float topP, Integer topK, long seed) {
    return new SamplingParams(temperature != null ? temperature : this.temperature,
        topP != null ? topP : this.topP, topK != null ? topK : this.topK, seed);
  }

  /** One line for start-up logs and --help: what an unset field becomes. */
  public String describe() {
    return "temperature " + temperature + ", top_p " + topP + ", top_k " + topK + " (" + source + ")";
  }
}
