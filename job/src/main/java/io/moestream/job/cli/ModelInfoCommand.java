package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.plan.MachineMemory;
import io.moestream.engine.plan.MemoryCheck;
import io.moestream.engine.plan.MemoryPlan;
import io.moestream.engine.plan.MemoryReport;
import io.moestream.engine.plan.MemoryVerdict;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "model-info",
    description = {"Describes a model folder; with --memory, whether it fits.",
        "%nIt prints JSON with the architecture, attention kind, parameters, KV cache bytes per token (float32 cache,"
            + " all layers) and the weight bytes one decode token reads at each experts-per-token. A folder with"
            + " config.json only (no weights) gives the fields that follow from the config.",
        "%nWith --memory: the memory plan for the engine options given (weights mapped and copied, KV cache, step"
            + " scratch at --max-batch-tokens) against this machine's RAM, cgroup limit, max heap and GPU, as a table"
            + " (JSON with --json) and a verdict; the exit code is 1 when the model does not fit."})
final class ModelInfoCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "<dir>", description = "Hugging Face model folder.")
  Path model;

  @Option(names = "--memory", description = "Plan the memory of an engine with the options given and check it here.")
  boolean memory;

  @Option(names = "--json", description = "With --memory: the JSON above with a \"memory\" object, not the table.")
  boolean json;

  @Mixin EngineOptionsMixin engineOptions;

  @Override
  public Integer call() throws Exception {
    if (memory) {
      return memoryPlan();
    }
    System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(info()));
    return 0;
  }

  private Integer memoryPlan() throws Exception {
    ModelConfig config = ModelConfig.read(model);
    EngineOptions options = engineOptions.toOptions();
    MemoryPlan plan = MemoryPlan.of(config, Checkpoint.open(model), options);
    MachineMemory machine = MachineMemory.read(options.backend(), options.deviceIndex());
    MemoryVerdict verdict = MemoryCheck.check(plan, machine, options.allowWeightsOverRam(), MemoryCheck.Knobs.ENGINE);
    if (json) {
      ObjectNode out = info();
      out.set("memory", MemoryPlanJson.of(plan, machine, verdict));
      System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
    } else {
      System.out.print(MemoryReport.render(plan, machine, verdict));
    }
    return verdict.fits() ? 0 : 1;
  }

  private ObjectNode info() throws Exception {
    ModelConfig config = ModelConfig.read(model);
    boolean hasWeights;
    try (var files = Files.list(model)) {
      hasWeights = files.anyMatch(f -> f.getFileName().toString().endsWith(".safetensors"));
    }
    ModelWeights weights = hasWeights ? ModelWeights.load(config, Checkpoint.open(model)) : null;
    ObjectNode out = new ObjectMapper().createObjectNode();
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
    return out;
  }
}
