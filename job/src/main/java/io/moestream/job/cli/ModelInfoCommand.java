package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "model-info", mixinStandardHelpOptions = true,
    description = {"Prints JSON about a model folder: architecture, attention kind, parameters, KV cache bytes per",
        "token (float32 cache, all layers) and the weight bytes one decode token reads at each experts-per-token.",
        "A folder with config.json only (no weights) gives the fields that follow from the config."})
final class ModelInfoCommand implements Callable<Integer> {
  @Option(names = "--model", required = true) Path model;

  @Override
  public Integer call() throws Exception {
    ModelConfig config = ModelConfig.read(model);
    boolean hasWeights;
    try (var files = Files.list(model)) {
      hasWeights = files.anyMatch(f -> f.getFileName().toString().endsWith(".safetensors"));
    }
    ModelWeights weights = hasWeights ? ModelWeights.load(config, Checkpoint.open(model)) : null;
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode out = json.createObjectNode();
    out.put("model", model.toString());
    out.put("model_type", config.architecture().modelType());
    out.put("layers", config.numLayers());
    out.put("hidden_size", config.hiddenSize());
    out.put("attention", config.mla() != null ? "multi-head latent" : "grouped-query");
    out.put("routed_experts", config.numExperts());
    out.put("experts_per_token", config.numExpertsPerTok());
    if (weights != null) {
      out.put("parameters", weights.parameterCount());
    }
    out.put("kv_cache_key_floats_per_layer", config.kvKeyWidth());
    out.put("kv_cache_value_floats_per_layer", config.kvValueWidth());
    out.put("kv_cache_element_bytes", Float.BYTES);
    out.put("kv_cache_bytes_per_token", config.kvCacheBytesPerToken());
    if (weights != null) {
      ObjectNode perK = out.putObject("decode_weight_bytes_per_token");
      for (int k = 1; k <= config.numExpertsPerTok(); k++) {
        perK.put(Integer.toString(k), weights.bytesPerTokenAt(k));
      }
    }
    System.out.println(json.writeValueAsString(out));
    return 0;
  }
}
