package io.moestream.job.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.moestream.engine.generate.LoadedModel;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "logits",
    description = {"Prints next-token logits of token ids as one JSON object.",
        "%nThe object, {\"logits\": [[...], ...]}, has one row per position (the last one unless"
            + " --all-positions is given), each over the full vocabulary. The model folder needs no tokenizer."})
final class LogitsCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "<dir>", description = "Hugging Face model folder.")
  Path model;

  @Option(names = "--token-ids", required = true, paramLabel = "<ids>",
      description = "Comma-separated token ids, e.g. 1,2,3.")
  String tokenIds;

  @Option(names = "--experts-per-token", defaultValue = "0", paramLabel = "<n>",
      description = "Routed experts per token in every sparse layer, 1 to num_experts_per_tok: a shorthand for"
          + " --policy fixed:<n> (default: the config's num_experts_per_tok).")
  int expertsPerToken;

  @Option(names = "--all-positions", description = "One row per position instead of the last only.")
  boolean allPositions;

  @Mixin PolicyOptions policyOptions;

  @Mixin EngineOptionsMixin engineOptions;

  @Override
  public Integer call() throws Exception {
    int[] ids = TokenIds.parse(tokenIds, "--token-ids");
    try (LoadedModel loaded = policyOptions.load(model, engineOptions.toOptions())) {
      int k = ExpertsOption.check(expertsPerToken, loaded.config());
      io.moestream.engine.policy.ExpertPolicy policy = policyOptions.policy(k);
      float[][] rows = policy == null ? loaded.logits(ids, loaded.expertsPerLayer(0), allPositions)
          : loaded.logits(ids, policy.expertsPerLayer(loaded.config()), policy.selection(loaded.config()), allPositions);
      PrintStream stdout = System.out;
      try (JsonGenerator json = new JsonFactory().createGenerator((OutputStream) new java.io.BufferedOutputStream(stdout, 1 << 16))) {
        json.writeStartObject();
        json.writeArrayFieldStart("logits");
        for (float[] row : rows) {
          json.writeStartArray();
          for (float v : row) {
            json.writeNumber(v);
          }
          json.writeEndArray();
        }
        json.writeEndArray();
        json.writeEndObject();
      }
      stdout.println();
      return 0;
    }
  }
}
