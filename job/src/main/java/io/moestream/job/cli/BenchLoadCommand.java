package io.moestream.job.cli;

import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.policy.ControllerSettings;
import io.moestream.engine.policy.ExpertPolicy;
import io.moestream.engine.policy.FixedPolicy;
import io.moestream.engine.policy.LoadSignals;
import io.moestream.engine.policy.PolicyDriver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench-load",
    description = {"Measures throughput against concurrency for each policy.",
        "%nThis is the paper's throughput-vs-concurrency measurement, in this process: for each concurrency C and"
            + " policy, C requests of --prompt-tokens random ids are in flight together and each generates"
            + " --max-new-tokens tokens (end-of-sequence ignored). Throughput is generated tokens over wall time,"
            + " prefill included, as the paper's output throughput.",
        "%nThe gain is over the full model (fixed:K with the config's K), which is measured too when it is not"
            + " listed. adaptive is driven by the decode step time against --target-tpot-ms."})
final class BenchLoadCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "<dir>", description = "Hugging Face model folder.")
  Path model;

  @Option(names = "--concurrency", defaultValue = "1,2,4,8,16,32", split = ",", paramLabel = "<n>",
      description = "Requests in flight, comma-separated. Default: ${DEFAULT-VALUE}.")
  List<Integer> concurrency;

  @Option(names = "--policies", defaultValue = "fixed:8,fixed:6,fixed:4,fixed:2,adaptive", paramLabel = "<policies>",
      description = "Expert policies, comma-separated (a new one starts at a comma followed by a letter)."
          + " Default: ${DEFAULT-VALUE}.")
  String policies;

  @Option(names = "--prompt-tokens", defaultValue = "128", paramLabel = "<n>",
      description = "Prompt length in tokens. Default: ${DEFAULT-VALUE}.")
  int promptTokens;

  @Option(names = "--max-new-tokens", defaultValue = "128", paramLabel = "<n>",
      description = "Tokens each request generates. Default: ${DEFAULT-VALUE}.")
  int newTokens;

  @Option(names = "--warmup-tokens", defaultValue = "16", paramLabel = "<n>",
      description = "Untimed decode tokens first, for the JIT to warm up. Default: ${DEFAULT-VALUE}.")
  int warmupTokens;

  @Option(names = "--target-tpot-ms", defaultValue = "0", paramLabel = "<ms>",
      description = "adaptive: the target decode time per output token (0: --target-factor times one sequence's,"
          + " measured in the warm-up). Default: ${DEFAULT-VALUE}.")
  double targetTpotMs;

  @Option(names = "--target-factor", defaultValue = "2", paramLabel = "<number>",
      description = "adaptive, without --target-tpot-ms: the target over one sequence's decode time per token."
          + " Default: ${DEFAULT-VALUE}.")
  double targetFactor;

  @Option(names = "--dwell-down-ms", defaultValue = "1000", paramLabel = "<ms>",
      description = "adaptive: how long the load must stay high before each step down. Default: ${DEFAULT-VALUE}.")
  long dwellDownMs;

  @Option(names = "--dwell-up-ms", defaultValue = "3000", paramLabel = "<ms>",
      description = "adaptive: how long the load must stay low before each step up. Default: ${DEFAULT-VALUE}.")
  long dwellUpMs;

  @Option(names = "--repeat", defaultValue = "1", paramLabel = "<n>",
      description = "Runs of each cell, interleaved over the policies; the fastest is reported (for noisy"
          + " machines). Default: ${DEFAULT-VALUE}.")
  int repeat;

  @Option(names = "--csv", paramLabel = "<file>",
      description = "Write policy,concurrency,throughput_tok_s,gain_vs_full to this file.")
  Path csv;

  @Option(names = "--markdown", paramLabel = "<file>", description = "Write the gain table as markdown to this file.")
  Path markdown;

  @Option(names = "--chart", paramLabel = "<file>",
      description = "Write a PNG chart (throughput and gain against concurrency) to this file.")
  Path chart;

  @Mixin PruneOptions pruneOptions;

  @Mixin EngineOptionsMixin engineOptions;

  /** One measurement. */
  record Result(String policy, int concurrency, double throughputTokS, double expertsPerToken, double seconds,
      double decodeDistinctExperts) {}

  @Override
  public Integer call() throws Exception {
    if (promptTokens < 1 || newTokens < 1) {
      throw new IllegalArgumentException("--prompt-tokens and --max-new-tokens must be >= 1");
    }
    int maxConcurrency = concurrency.stream().mapToInt(Integer::intValue).max().orElse(1);
    EngineOptions options = engineOptions.toOptions().withMaxRunningSequences(Math.max(256, maxConcurrency));
    try (LoadedModel loaded = pruneOptions.load(model, options)) {
      ModelConfig config = loaded.config();
      List<ExpertPolicy> list = new ArrayList<>(PolicyList.parse(policies, "--policies"));
      ExpertPolicy full = new FixedPolicy(config.numExpertsPerTok());
      if (list.stream().noneMatch(p -> p.spec().equals(full.spec()))) {
        list.add(0, full);
      }
      for (ExpertPolicy p : list) {
        p.expertsPerLayer(config); // every policy checked before any measurement
      }
      System.err.printf(Locale.ROOT, "model %s, backend %s, Java %s%n", model, loaded.backend().name(), Runtime.version());
      double warmupTpot = run(loaded, options, full, 1, warmupTokens, Double.NaN).seconds;
      double target = targetTpotMs > 0 ? targetTpotMs : targetFactor * warmupTpot * 1000;
      System.err.printf(Locale.ROOT, "adaptive target: %.1f ms per output token%n", target);
      List<Result> results = new ArrayList<>();
      if (repeat < 1) {
        throw new IllegalArgumentException("--repeat must be >= 1, found " + repeat);
      }
      for (int c : concurrency) {
        Result[] best = new Result[list.size()];
        for (int rep = 0; rep < repeat; rep++) {
          for (int i = 0; i < list.size(); i++) {
            Result r = run(loaded, options, list.get(i), c, newTokens, target);
            System.err.printf(Locale.ROOT,
                "  C=%-4d %-24s %9.2f tok/s  %5.2f experts/token  %6.1f distinct experts/layer/decode step  %7.1f s%n",
                c, list.get(i).spec(), r.throughputTokS, r.expertsPerToken, r.decodeDistinctExperts, r.seconds);
            if (best[i] == null || r.throughputTokS > best[i].throughputTokS) {
              best[i] = r;
            }
          }
        }
        results.addAll(Arrays.asList(best));
      }
      BenchLoadReport report = new BenchLoadReport(full.spec(), results);
      System.out.print(report.markdown(model.getFileName() + ", " + loaded.backend().name() + ", prompt " + promptTokens
          + " + " + newTokens + " new tokens"));
      if (csv != null) {
        report.writeCsv(csv);
      }
      if (markdown != null) {
        java.nio.file.Files.writeString(markdown, report.markdown(model.getFileName() + ", " + loaded.backend().name()
            + ", prompt " + promptTokens + " + " + newTokens + " new tokens"));
      }
      if (chart != null) {
        report.writeChart(chart, model.getFileName() + ": " + promptTokens + "+" + newTokens + " tokens, "
            + loaded.backend().name());
      }
    }
    return 0;
  }

  /**
   * C requests in flight until each has {@code tokens} new tokens. With a NaN target, returns the
   * median decode step time in seconds (the warm-up) instead of the run's length.
   */
  private Result run(LoadedModel loaded, EngineOptions options, ExpertPolicy policy, int c, int tokens, double targetMs) {
    ModelConfig config = loaded.config();
    CountingBackend backend = new CountingBackend(loaded.backend());
    Engine engine = new Engine(backend, options, new int[0]); // no EOS: every request runs to the end
    ControllerSettings settings = ControllerSettings.defaults()
        .withDwell(dwellDownMs * 1_000_000L, dwellUpMs * 1_000_000L);
    PolicyDriver driver = new PolicyDriver(engine, policy, settings);
    SplittableRandom random = new SplittableRandom(1000L + c); // the same prompts for every policy
    for (int s = 0; s < c; s++) {
      engine.submit(new GenerationRequest("load-" + s, random.ints(promptTokens, 0, config.vocabSize()).toArray(),
          SamplingParams.GREEDY, tokens, null));
    }
    long start = System.nanoTime();
    int generated = 0;
    int started = 0;
    List<Double> decodeSteps = new ArrayList<>();
    // The policy lives in this engine and the batches it builds: the shared backend keeps no trace of it.
    while (engine.hasWork()) {
      long t0 = System.nanoTime();
      boolean decodeOnly = started == c;
      if (decodeOnly && decodeSteps.isEmpty()) {
        backend.resetDistinct(); // from here on: decode steps only
      }
      List<TokenEvent> events = engine.step();
      long t1 = System.nanoTime();
      for (TokenEvent e : events) {
        if (e.tokenId() >= 0) {
          generated++;
          started += e.index() == 0 ? 1 : 0;
        }
      }
      if (decodeOnly) {
        double stepMs = (t1 - t0) / 1e6;
        decodeSteps.add(stepMs);
        double latency = Double.isNaN(targetMs) ? 0 : stepMs / targetMs;
        driver.onSignals(t1, new LoadSignals(engine.waitingCount(), engine.runningCount(),
            engine.runningCount() / (double) options.maxRunningSequences(), 0, latency, -1));
      }
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    double seconds = elapsed;
    if (Double.isNaN(targetMs)) {
      double[] sorted = decodeSteps.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      seconds = sorted.length == 0 ? elapsed : sorted[sorted.length / 2] / 1000;
    }
    return new Result(policy.spec(), c, generated / elapsed, backend.expertsPerToken(), seconds,
        backend.distinctExpertsPerLayer());
  }
}
