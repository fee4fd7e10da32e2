package io.moestream.engine.testmodel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ConfigException;
import io.moestream.engine.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * A checkpoint for a released model's config.json ({@code make-test-model --from-config}): the release's
 * tensor names, dtypes, shapes and shard layout, either shape only (sparse files: a 700 GB checkpoint in
 * kilobytes) or with random weights, optionally cut to fewer layers and routed experts with every real
 * width (hidden size, heads, vocabulary, expert size) kept.
 *
 * <p>A cut keeps the first {@code numLayers} layers; where the model has dense layers
 * ({@code first_k_dense_replace}) the first stays dense and the rest have experts. Fewer experts keep
 * {@code num_experts_per_tok}, and DeepSeek's {@code n_group} / {@code topk_group}, which must then still
 * fit: n_group divides the experts and the chosen groups hold the top-k. Multi-token-prediction layers and
 * {@code modules_to_not_convert} entries of dropped layers go with them.
 */
public final class ReleasedModel {
  private ReleasedModel() {}

  /**
   * @param numLayers null for the released number
   * @param numExperts routed experts per layer; null for the released number
   */
  public record Options(boolean shapeOnly, Integer numLayers, Integer numExperts, long seed, long maxShardBytes) {}

  /** Writes {@code out/config.json} (the release's, or its cut) and the checkpoint it describes. */
  public static CheckpointWriter.Summary write(Path configJson, Options options, Path out) throws IOException {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    JsonNode read;
    try {
      read = json.readTree(configJson.toFile());
    } catch (IOException e) {
      throw new ConfigException(configJson + ": cannot read a config.json: " + e.getMessage(), e);
    }
    if (read == null || !read.isObject()) {
      throw new ConfigException(configJson + ": not a JSON object");
    }
    ObjectNode config = (ObjectNode) read;
    Files.createDirectories(out);
    Path written = out.resolve(ModelConfig.FILE);
    if (options.numLayers() != null || options.numExperts() != null) {
      cut(config, options.numLayers(), options.numExperts(), configJson.toString());
      json.writeValue(written.toFile(), config);
    } else if (!Files.exists(written) || !Files.isSameFile(configJson, written)) {
      Files.copy(configJson, written, StandardCopyOption.REPLACE_EXISTING); // the release's file as it is
    }
    List<CheckpointTensor> layout = CheckpointLayout.read(out);
    return options.shapeOnly()
        ? CheckpointWriter.writeShapeOnly(layout, options.maxShardBytes(), out)
        : CheckpointWriter.writeRandom(layout, options.seed(), options.maxShardBytes(), out);
  }

  /** Edits {@code config} in place to {@code numLayers} layers and {@code numExperts} routed experts. */
  static void cut(ObjectNode config, Integer numLayers, Integer numExperts, String file) {
    Architecture arch = Architecture.fromModelType(config.path("model_type").asText(""), file);
    int layers = config.path("num_hidden_layers").asInt(0);
    String expertsField = arch.isDeepseek() || arch == Architecture.GLM4_MOE ? "n_routed_experts"
        : arch == Architecture.MIXTRAL || arch == Architecture.GPT_OSS ? "num_local_experts" : "num_experts";
    int experts = config.path(expertsField).asInt(0);
    StringBuilder note = new StringBuilder("cut by moestream make-test-model from " + file + ":");
    if (numLayers != null) {
      if (numLayers < 1 || numLayers > layers) {
        throw new ConfigException(file + ": --num-layers must be in [1, " + layers + "] (num_hidden_layers), found "
            + numLayers);
      }
      config.put("num_hidden_layers", numLayers);
      note.append(String.format(Locale.ROOT, " %d of %d layers", numLayers, layers));
      int firstDense = config.path("first_k_dense_replace").asInt(0);
      if (firstDense > 0) { // keep a dense layer, then experts
        config.put("first_k_dense_replace", Math.min(firstDense, Math.max(1, numLayers - 1)));
      }
      if (config.has("num_nextn_predict_layers")) {
        config.put("num_nextn_predict_layers", 0);
      }
      if (config.path("layer_types").isArray()) { // gpt-oss: one entry per layer
        ArrayNode kept = config.arrayNode();
        for (int l = 0; l < numLayers && l < config.path("layer_types").size(); l++) {
          kept.add(config.path("layer_types").get(l));
        }
        config.set("layer_types", kept);
      }
      if (config.path("mlp_only_layers").isArray()) {
        ArrayNode kept = config.arrayNode();
        config.path("mlp_only_layers").forEach(l -> {
          if (l.asInt() < numLayers) {
            kept.add(l.asInt());
          }
        });
        config.set("mlp_only_layers", kept);
      }
      dropLayers(config.path("quantization_config"), numLayers);
    }
    if (numExperts != null) {
      int topK = config.path("num_experts_per_tok").asInt(0);
      if (numExperts < Math.max(1, topK) || numExperts > experts) {
        throw new ConfigException(file + ": --num-experts must be in [" + Math.max(1, topK) + " (num_experts_per_tok), "
            + experts + " (" + expertsField + ")], found " + numExperts);
      }
      if (arch.isDeepseek() || arch == Architecture.GLM4_MOE) {
        int groups = config.path("n_group").asInt(1);
        int groupsPerToken = config.path("topk_group").asInt(1);
        if (numExperts % groups != 0 || groupsPerToken * (numExperts / groups) < topK) {
          throw new ConfigException(file + ": --num-experts " + numExperts + " does not fit n_group " + groups
              + " and topk_group " + groupsPerToken + ": n_group must divide the experts and topk_group groups must"
              + " hold num_experts_per_tok " + topK + " of them (e.g. a multiple of " + groups + " from "
              + groups * ((topK + groupsPerToken - 1) / groupsPerToken) + ")");
        }
      }
      config.put(expertsField, numExperts);
      note.append(String.format(Locale.ROOT, " %d of %d routed experts", numExperts, experts));
    }
    config.put("_moestream_cut", note.toString());
  }

  /** Drops {@code modules_to_not_convert} / {@code ignored_layers} entries of layers at or after {@code numLayers}. */
  private static void dropLayers(JsonNode quantization, int numLayers) {
    for (String list : new String[] {"modules_to_not_convert", "ignored_layers"}) {
      if (quantization.path(list).isArray()) {
        ArrayNode kept = ((ObjectNode) quantization).arrayNode();
        quantization.path(list).forEach(entry -> {
          String name = entry.asText();
          if (!name.startsWith("model.layers.")) {
            kept.add(entry);
            return;
          }
          String index = name.substring("model.layers.".length()).split("\\.", 2)[0];
          if (!index.chars().allMatch(Character::isDigit) || Integer.parseInt(index) < numLayers) {
            kept.add(entry);
          }
        });
        ((ObjectNode) quantization).set(list, kept);
      }
    }
  }
}
