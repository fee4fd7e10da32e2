package io.moestream.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code quantization_config} of config.json, read the same way for every family. The one scheme
 * supported is {@code quant_method: fp8} with {@code weight_block_size} (DeepSeek-V3's and the Qwen3 FP8
 * releases: E4M3 weights, one F32 {@code weight_scale_inv} per block). Which tensors are quantized is
 * told by the checkpoint itself (an F8_E4M3 {@code <name>.weight} next to its {@code weight_scale_inv});
 * {@code modules_to_not_convert} / {@code ignored_layers} name modules left unquantized, which then have
 * no scales and are read in their own dtype, so they need nothing more than a well-formed list.
 */
public final class QuantizationConfig {
  static final String SUPPORTED = "fp8 (E4M3 weights with weight_block_size block scales)";

  private static final String[] UNCONVERTED_LISTS = {"modules_to_not_convert", "ignored_layers"};

  private QuantizationConfig() {}

  /**
   * The modules {@code quantization_config} of {@code modelFolder/config.json} leaves unquantized
   * ({@code modules_to_not_convert} and {@code ignored_layers} together), e.g. {@code lm_head},
   * {@code model.layers.0.mlp.gate}; empty when the model is not quantized or lists none. Validated as
   * {@link ModelConfig#read} validates it.
   */
  public static List<String> modulesToNotConvert(Path modelFolder) {
    ConfigJson json = ConfigJson.read(modelFolder.resolve(ModelConfig.FILE));
    JsonNode node = json.node("quantization_config");
    List<String> modules = new ArrayList<>();
    if (fp8WeightBlock(node, json.file()) == null) {
      return modules;
    }
    for (String list : UNCONVERTED_LISTS) {
      JsonNode names = node.get(list);
      if (names != null && names.isArray()) {
        names.forEach(n -> modules.add(n.asText()));
      }
    }
    return modules;
  }

  /** (rows, cols) of the FP8 block scales, or null when the model is not quantized. */
  static int[] fp8WeightBlock(JsonNode node, String file) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isObject()) {
      throw new ConfigException(file + ": quantization_config must be an object, found " + node);
    }
    JsonNode methodNode = node.get("quant_method");
    String method = methodNode == null ? "" : methodNode.asText("");
    if (!method.equals("fp8")) {
      throw new ConfigException(file + ": quantization_config.quant_method '" + method
          + "' is not supported; supported: " + SUPPORTED);
    }
    String format = node.path("fmt").asText("e4m3");
    if (!format.equals("e4m3")) {
      throw new ConfigException(file + ": quantization_config.fmt '" + format + "' is not supported (e4m3)");
    }
    JsonNode block = node.get("weight_block_size");
    if (block == null || !block.isArray() || block.size() != 2 || !block.get(0).canConvertToInt()
        || !block.get(1).canConvertToInt() || block.get(0).asInt() < 1 || block.get(1).asInt() < 1) {
      throw new ConfigException(file + ": quantization_config.weight_block_size must be [rows, cols] of positive"
          + " integers, found " + block + " (per-tensor or per-channel FP8 scales are not supported)");
    }
    for (String list : UNCONVERTED_LISTS) {
      JsonNode names = node.get(list);
      if (names != null && !names.isNull() && !names.isArray()) {
        throw new ConfigException(file + ": quantization_config." + list + " must be a list of module names, found "
            + names);
      }
    }
    return new int[] {block.get(0).asInt(), block.get(1).asInt()};
  }
}
