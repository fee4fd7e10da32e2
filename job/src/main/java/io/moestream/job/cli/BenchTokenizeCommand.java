package io.moestream.job.cli;

import io.moestream.engine.tokenizer.BundledTokenizers;
import io.moestream.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench-tokenize",
    description = {"Measures tokenizer load time and encode throughput.",
        "%nEncode throughput is in MB of UTF-8 input per second, on one thread (one core), then on all cores. The"
            + " default text is the bundled English prose."})
final class BenchTokenizeCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "<dir>", description = "Folder with tokenizer.json.")
  Path model;

  @Option(names = "--input", paramLabel = "<file>",
      description = "UTF-8 text file to encode (default: the bundled English prose).")
  Path input;

  @Option(names = "--seconds", defaultValue = "5", paramLabel = "<seconds>",
      description = "Measuring time per phase. Default: ${DEFAULT-VALUE}.")
  double seconds;

  @Option(names = "--loads", defaultValue = "3", paramLabel = "<n>",
      description = "Times to load tokenizer.json. Default: ${DEFAULT-VALUE}.")
  int loads;

  @Override
  public Integer call() throws Exception {
    if (seconds <= 0 || loads < 1) {
      throw new IllegalArgumentException("--seconds must be > 0 and --loads >= 1");
    }
    String text = input == null ? BundledTokenizers.englishProse() : Files.readString(input);
    long bytes = text.getBytes(StandardCharsets.UTF_8).length;
    Path tokenizerJson = model.resolve("tokenizer.json");
    System.out.printf("tokenizer.json: %s (%.1f MB)%n", tokenizerJson, Files.size(tokenizerJson) / 1e6);
    System.out.printf("text: %s (%d bytes)%n", input == null ? "bundled english-prose.txt" : input, bytes);

    Tokenizer tokenizer = null;
    for (int i = 1; i <= loads; i++) {
      long start = System.nanoTime();
      tokenizer = Tokenizer.load(model);
      System.out.printf("load %d: %.0f ms%s%n", i, (System.nanoTime() - start) / 1e6,
          i == 1 ? " (cold JVM)" : "");
    }
    int tokens = tokenizer.encode(text).length;
    System.out.printf("tokens per pass: %d (%.2f bytes/token)%n", tokens, (double) bytes / tokens);

    Tokenizer warm = tokenizer;
    measure(warm, text, bytes, seconds / 2); // JIT warm-up, not reported
    double single = measure(warm, text, bytes, seconds);
    System.out.printf("encode, 1 thread: %.1f MB/s%n", single);
    int cores = Runtime.getRuntime().availableProcessors();
    ExecutorService pool = Executors.newFixedThreadPool(cores);
    try {
      List<Future<Double>> results = new ArrayList<>();
      for (int i = 0; i < cores; i++) {
        results.add(pool.submit(() -> measure(warm, text, bytes, seconds)));
      }
      double total = 0;
      for (Future<Double> r : results) {
        total += r.get();
      }
      System.out.printf("encode, %d threads: %.1f MB/s total, %.1f MB/s per core%n", cores, total,
          total / cores);
    } finally {
      pool.shutdownNow();
    }
    return 0;
  }

  /** MB/s of input encoded by repeated passes over {@code text} for about {@code seconds}. */
  private static double measure(Tokenizer tokenizer, String text, long bytes, double seconds) {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    long start = System.nanoTime();
    long done = 0;
    int sink = 0;
    while (System.nanoTime() < deadline) {
      sink += tokenizer.encode(text).length;
      done += bytes;
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    if (sink == 42) {
      System.out.print(""); // keeps the encode calls observable to the JIT
    }
    return done / 1e6 / elapsed;
  }
}
