package io.moestream.operators.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The inference operator's work metrics: requests and tokens (counters with per-second meters),
 * latency histograms over the most recent requests, the size of each engine step, and the memory the
 * backend holds. Updated by the task thread; read by metric reporters.
 */
public final class InferenceMetrics {
  /** Requests the latency histograms keep: the percentiles describe roughly the last minutes. */
  private static final int HISTOGRAM_WINDOW = 1024;
  /** Seconds a per-second meter averages over. */
  private static final int METER_SECONDS = 10;

  private final Counter generations;
  private final Counter generatedTokens;
  private final Counter promptTokens;
  private final Counter decodeSteps;
  private final Counter replayed;
  private final Counter givenUp;
  private final Histogram timeToFirstTokenMs;
  private final Histogram timePerOutputTokenMs;
  private volatile int stepTokens;

  /**
   * @param weightBytes bytes of the model's weight files
   * @param kvCacheBytes bytes of the KV cache pool
   * @param deviceMemory device memory the backend holds, -1 on the CPU
   */
  public InferenceMetrics(MetricGroup group, boolean cuda, long weightBytes, long kvCacheBytes,
      java.util.function.LongSupplier deviceMemory) {
    generations = group.counter(MetricNames.GENERATIONS);
    group.meter(MetricNames.GENERATIONS_PER_SECOND, new MeterView(generations, METER_SECONDS));
    generatedTokens = group.counter(MetricNames.GENERATED_TOKENS);
    group.meter(MetricNames.GENERATED_TOKENS_PER_SECOND, new MeterView(generatedTokens, METER_SECONDS));
    promptTokens = group.counter(MetricNames.PROMPT_TOKENS);
    group.meter(MetricNames.PROMPT_TOKENS_PER_SECOND, new MeterView(promptTokens, METER_SECONDS));
    decodeSteps = group.counter(MetricNames.DECODE_STEPS);
    replayed = group.counter(MetricNames.REPLAYED_REQUESTS);
    givenUp = group.counter(MetricNames.REQUESTS_GIVEN_UP);
    timeToFirstTokenMs = group.histogram(MetricNames.TIME_TO_FIRST_TOKEN_MS,
        new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    timePerOutputTokenMs = group.histogram(MetricNames.TIME_PER_OUTPUT_TOKEN_MS,
        new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    group.gauge(MetricNames.STEP_TOKENS, () -> stepTokens);
    group.gauge(MetricNames.BACKEND_CUDA, () -> cuda ? 1 : 0);
    group.gauge(MetricNames.WEIGHT_BYTES, () -> weightBytes);
    group.gauge(MetricNames.KV_CACHE_BYTES, () -> kvCacheBytes);
    group.gauge(MetricNames.DEVICE_MEMORY_USED_BYTES, deviceMemory::getAsLong);
  }

  public void admitted(int promptTokenCount) {
    promptTokens.inc(promptTokenCount);
  }

  public void replayed() {
    replayed.inc();
  }

  public void givenUp() {
    givenUp.inc();
  }

  public void step(int tokensInStep) {
    decodeSteps.inc();
    stepTokens = tokensInStep;
  }

  public void generatedToken() {
    generatedTokens.inc();
  }

  /**
   * A generation ended.
   *
   * @param firstTokenMs receipt to first token, ms; negative when no token was generated
   * @param decodeMs first token to the end, ms
   */
  public void generation(long firstTokenMs, long decodeMs, int completionTokens) {
    generations.inc();
    if (firstTokenMs >= 0) {
      timeToFirstTokenMs.update(firstTokenMs);
      if (completionTokens > 1) {
        timePerOutputTokenMs.update(Math.round(decodeMs / (double) (completionTokens - 1)));
      }
    }
  }

  public long generations() {
    return generations.getCount();
  }

  /** Bytes of the model's weight files (what the CPU backend maps). */
  public static long weightBytes(Path dir) {
    try (var files = Files.list(dir)) {
      long bytes = 0;
      for (Path f : (Iterable<Path>) files::iterator) {
        if (f.getFileName().toString().endsWith(".safetensors")) {
          bytes += Files.size(f);
        }
      }
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }
}
