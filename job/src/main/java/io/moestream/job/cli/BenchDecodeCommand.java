package io.moestream.job.cli;

import io.moestream.engine.backend.PhaseTimes;
import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.model.ModelConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench-decode",
    description = {"Measures engine prefill and decode throughput.",
        "%nIt measures each batch size and experts per token: for each batch size B, B sequences of --prompt-tokens"
            + " random ids are prefilled together, then each decodes --max-new-tokens more (end-of-sequence"
            + " ignored). Decode tok/s is the aggregate over the batch."
            + "%nWith --identical-sequences every prompt is token id 0 repeated, as llama-batched-bench feeds:"
            + " greedy decoding then keeps the B sequences identical, so a step routes all of them to the same k"
            + " experts per layer (the experts/layer column says so) instead of up to B x k."})
final class BenchDecodeCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "<dir>", description = "Hugging Face model folder.")
  Path model;

  @Option(names = "--batch", defaultValue = "1,4,16", split = ",", paramLabel = "<n>",
      description = "Batch sizes, comma-separated. Default: ${DEFAULT-VALUE}.")
  List<Integer> batches;

  @Option(names = "--experts-per-token", split = ",", paramLabel = "<n>",
      description = "Values of k to measure, comma-separated (default: the config's num_experts_per_tok).")
  List<Integer> expertsPerToken;

  @Option(names = "--max-new-tokens", defaultValue = "128", paramLabel = "<n>",
      description = "Decoded tokens per sequence. Default: ${DEFAULT-VALUE}.")
  int tokens;

  @Option(names = "--prompt-tokens", defaultValue = "32", paramLabel = "<n>",
      description = "Prompt length in tokens. Default: ${DEFAULT-VALUE}.")
  int promptTokens;

  @Option(names = "--identical-sequences",
      description = "Every prompt token id 0, as llama-batched-bench feeds: all sequences of a batch stay identical"
          + " and read the same k experts per layer (its workload, for a like-for-like comparison; real batches"
          + " hold different sequences).")
  boolean identicalSequences;

  @Option(names = "--warmup-tokens", defaultValue = "32", paramLabel = "<n>",
      description = "Untimed decode tokens first, for the JIT to warm up. Default: ${DEFAULT-VALUE}.")
  int warmupTokens;

  @Option(names = "--csv", paramLabel = "<file>",
      description = "Also write batch,experts_per_token,prefill_tok_s,decode_tok_s to this file.")
  Path csv;

  @Option(names = "--profile", description = "Print where prefill and decode time go (attention, router, experts, LM head).")
  boolean profile;

  @Mixin PolicyOptions policyOptions;

  @Mixin EngineOptionsMixin engineOptions;

  record Result(int batch, int k, double prefillTokS, double decodeTokS, double distinctExperts, double weightGbS) {}

  @Override
  public Integer call() throws Exception {
    try (LoadedModel loaded = policyOptions.load(model, engineOptions.toOptions().withMaxRunningSequences(1024))) {
      ModelConfig config = loaded.config();
      List<Integer> ks = expertsPerToken == null ? List.of(config.numExpertsPerTok()) : expertsPerToken;
      System.err.printf(Locale.ROOT, "model %s, %s, backend %s, Java %s%n", model, config, loaded.backend().name(),
          Runtime.version());
      // End-of-sequence ids are left out so every sequence decodes exactly --max-new-tokens tokens.
      CountingBackend counting = new CountingBackend(loaded.backend());
      Engine engine = new Engine(counting, engineOptions.toOptions().withMaxRunningSequences(1024), new int[0]);
      io.moestream.engine.policy.ExpertPolicy policy = policyOptions.policy(0);
      if (policy != null) { // caps every k below (adaptive: its first level)
        new io.moestream.engine.policy.PolicyDriver(engine, policy);
        System.err.println("policy " + policy.spec());
      }
      run(engine, loaded, counting, 1, ks.get(0), warmupTokens);
      List<Result> results = new ArrayList<>();
      System.out.printf(Locale.ROOT, "%6s %4s %14s %14s %18s %22s%n", "batch", "k", "prefill tok/s", "decode tok/s",
          "experts/layer*", "decode weight GB/s**");
      for (int batch : batches) {
        for (int k : ks) {
          ExpertsOption.check(k, config);
          Result r = run(engine, loaded, counting, batch, k, tokens);
          results.add(r);
          System.out.printf(Locale.ROOT, "%6d %4d %14.1f %14.1f %18.1f %22.1f%n", r.batch, r.k, r.prefillTokS,
              r.decodeTokS, r.distinctExperts, r.weightGbS);
        }
      }
      System.out.println("* distinct experts a decode step read per sparse layer, mean over the steps (B=1: k)");
      System.out.println("** bytes of weights a decode step reads (those experts, attention, LM head) x decode steps a"
          + " second (memory-bandwidth use)");
      if (csv != null) {
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(csv))) {
          w.println("batch,experts_per_token,prefill_tok_s,decode_tok_s,distinct_experts_per_layer,decode_weight_gb_s");
          for (Result r : results) {
            w.printf(Locale.ROOT, "%d,%d,%.2f,%.2f,%.2f,%.2f%n", r.batch, r.k, r.prefillTokS, r.decodeTokS,
                r.distinctExperts, r.weightGbS);
          }
        }
      }
    }
    return 0;
  }

  private Result run(Engine engine, LoadedModel loaded, CountingBackend counting, int batch, int k, int decodeTokens) {
    SplittableRandom random = new SplittableRandom(batch * 31L + k);
    int vocab = loaded.config().vocabSize();
    for (int s = 0; s < batch; s++) {
      int[] prompt = identicalSequences ? new int[promptTokens] : random.ints(promptTokens, 0, vocab).toArray();
      engine.submit(new GenerationRequest("bench-" + s, prompt, SamplingParams.GREEDY, decodeTokens + 1,
          loaded.expertsPerLayer(k)));
    }
    PhaseTimes times = loaded.backend().phaseTimes();
    times.reset();
    long start = System.nanoTime();
    int firstTokens = 0;
    while (firstTokens < batch) {
      for (TokenEvent e : engine.step()) {
        if (e.index() == 0) {
          firstTokens++;
        }
      }
    }
    long prefillDone = System.nanoTime();
    if (profile) {
      System.err.printf(Locale.ROOT, "  prefill B=%d k=%d: %s | outside the backend %.1f ms%n", batch, k,
          times.summary(), (prefillDone - start - inBackend(times)) / 1e6);
    }
    times.reset();
    counting.resetDistinct();
    int decoded = 0;
    while (engine.hasWork()) {
      for (TokenEvent e : engine.step()) {
        if (e.tokenId() >= 0 && e.index() > 0) {
          decoded++;
        }
      }
    }
    long end = System.nanoTime();
    if (profile) {
      System.err.printf(Locale.ROOT, "  decode B=%d k=%d: %s | outside the backend (scheduling, sampling) %.1f ms%n",
          batch, k, times.summary(), (end - prefillDone - inBackend(times)) / 1e6);
    }
    double prefill = batch * (double) promptTokens / ((prefillDone - start) / 1e9);
    double decode = decoded / ((end - prefillDone) / 1e9);
    // Every sequence decodes the same number of tokens, so each decode step holds the whole batch.
    double distinct = counting.distinctExpertsPerLayer();
    long withoutExperts = loaded.weights().bytesPerTokenAt(0);
    double bytesPerStep = withoutExperts + distinct * (loaded.weights().bytesPerTokenAt(1) - withoutExperts);
    return new Result(batch, k, prefill, decode, distinct, bytesPerStep * (decode / batch) / 1e9);
  }

  private static long inBackend(PhaseTimes times) {
    long nanos = 0;
    for (PhaseTimes.Phase phase : PhaseTimes.Phase.values()) {
      nanos += times.nanos(phase);
    }
    return nanos;
  }
}
