package io.moestream.job.ramp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.job.ramp.RampRun.Sample;
import io.moestream.operators.metrics.MetricNames;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the inference operator's metrics of a running job once a second through Flink's REST API (as
 * the dashboard does): generated tokens (a counter: throughput is its rate), requests in, mean experts
 * per token of the last second, the policy's level and the requests in flight, summed or averaged over
 * the subtasks. {@link #onDemand} reads them only when asked (bench-soak samples them with its own readings).
 */
public final class JobMetricsSampler implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> METRICS = List.of(MetricNames.GENERATED_TOKENS, MetricNames.REQUESTS_IN,
      MetricNames.EXPERTS_PER_TOKEN, MetricNames.EXPERT_LEVEL, MetricNames.IN_FLIGHT_REQUESTS);

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String base;
  private final String jobId;
  private final long startMs;
  private final List<Sample> samples = new ArrayList<>();
  private final Thread thread;
  private volatile boolean running;
  private volatile Exception failure;

  JobMetricsSampler(String restBase, String jobId, long startMs) {
    this(restBase, jobId, startMs, true);
  }

  private JobMetricsSampler(String restBase, String jobId, long startMs, boolean background) {
    this.base = restBase;
    this.jobId = jobId;
    this.startMs = startMs;
    this.running = background;
    this.thread = new Thread(this::loop, "ramp-metrics");
    thread.setDaemon(true);
    if (background) {
      thread.start();
    }
  }

  /** A reader without its own thread: {@link #sampleNow} reads the metrics, {@link #rest} any REST path. */
  public static JobMetricsSampler onDemand(String restBase, String jobId, long startMs) {
    return new JobMetricsSampler(restBase, jobId, startMs, false);
  }

  /** The operator's metrics now ({@code atS} from this sampler's start). */
  public Sample sampleNow() throws Exception {
    return sample();
  }

  /** GET of a path of the job's REST API (e.g. {@code /jobs/<id>/checkpoints}), as JSON. */
  public JsonNode rest(String path) throws Exception {
    return get(path);
  }

  private void loop() {
    long next = System.currentTimeMillis();
    while (running) {
      try {
        Sample s = sample();
        synchronized (samples) {
          samples.add(s);
        }
      } catch (Exception e) {
        failure = e; // kept for the caller; a REST hiccup must not end the ramp
      }
      next += 1000;
      long wait = next - System.currentTimeMillis();
      if (wait > 0) {
        try {
          Thread.sleep(wait);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  private Sample sample() throws Exception {
    double at = (System.currentTimeMillis() - startMs) / 1000.0;
    Map<String, List<Double>> values = operatorMetrics(METRICS);
    return new Sample(at, (long) sum(values, MetricNames.GENERATED_TOKENS), (long) sum(values, MetricNames.REQUESTS_IN),
        mean(values, MetricNames.EXPERTS_PER_TOKEN), (int) max(values, MetricNames.EXPERT_LEVEL),
        (long) sum(values, MetricNames.IN_FLIGHT_REQUESTS));
  }

  /**
   * The job's operator metrics named {@code names} (the last part of each metric's id; metrics inside the
   * per-layer groups are left out), by name, one value per subtask that has it.
   */
  public Map<String, List<Double>> operatorMetrics(Collection<String> names) throws Exception {
    Map<String, List<Double>> values = new TreeMap<>();
    for (JsonNode vertex : get("/jobs/" + jobId).path("vertices")) {
      String path = "/jobs/" + jobId + "/vertices/" + vertex.get("id").asText() + "/metrics";
      List<String> ids = new ArrayList<>();
      for (JsonNode metric : get(path)) {
        String id = metric.get("id").asText();
        if (names.contains(id.substring(id.lastIndexOf('.') + 1)) && id.indexOf(".layer.") < 0) {
          ids.add(id);
        }
      }
      if (ids.isEmpty()) {
        continue;
      }
      for (JsonNode value : get(path + "?get=" + URLEncoder.encode(String.join(",", ids), StandardCharsets.UTF_8))) {
        String id = value.get("id").asText();
        String name = id.substring(id.lastIndexOf('.') + 1);
        values.computeIfAbsent(name, k -> new ArrayList<>()).add(Double.parseDouble(value.get("value").asText()));
      }
    }
    return values;
  }

  /** The sum over subtasks of {@code name} in {@link #operatorMetrics}' result; 0 when absent. */
  public static double sum(Map<String, List<Double>> v, String name) {
    return v.getOrDefault(name, List.of()).stream().mapToDouble(Double::doubleValue).sum();
  }

  private static double mean(Map<String, List<Double>> v, String name) {
    return v.getOrDefault(name, List.of()).stream().mapToDouble(Double::doubleValue).filter(d -> !Double.isNaN(d))
        .average().orElse(Double.NaN);
  }

  private static double max(Map<String, List<Double>> v, String name) {
    return v.getOrDefault(name, List.of()).stream().mapToDouble(Double::doubleValue).max().orElse(0);
  }

  private JsonNode get(String path) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET " + path + ": " + response.statusCode() + " " + response.body());
    }
    return JSON.readTree(response.body());
  }

  /** Stops sampling; the readings so far, in time order. */
  List<Sample> stop() throws InterruptedException {
    running = false;
    thread.interrupt();
    thread.join(10_000);
    synchronized (samples) {
      if (samples.isEmpty() && failure != null) {
        throw new IllegalStateException("no metrics could be read from " + base + ": " + failure.getMessage(), failure);
      }
      return List.copyOf(samples);
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
