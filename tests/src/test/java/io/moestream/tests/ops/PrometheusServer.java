package io.moestream.tests.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus server (the {@code prometheus} binary) on loopback, scraping one target every
 * second; queried through its HTTP API. {@link #close} stops it.
 */
final class PrometheusServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Process process;
  private final Path log;
  final int port;

  private PrometheusServer(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /** Starts Prometheus scraping {@code 127.0.0.1:targetPort} (job "flink"); ready when this returns. */
  static PrometheusServer start(Path dir, int targetPort) throws Exception {
    Path binary = PrometheusConfig.binary("prometheus");
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, String.join("\n",
        "global:", "  scrape_interval: 1s", "  scrape_timeout: 1s", "  evaluation_interval: 1s",
        "scrape_configs:", "  - job_name: flink", "    static_configs:",
        "      - targets: ['127.0.0.1:" + targetPort + "']", ""));
    int port = freePort();
    Path log = dir.resolve("prometheus.log");
    Process process = new ProcessBuilder(binary.toString(), "--config.file=" + config,
        "--web.listen-address=127.0.0.1:" + port, "--storage.tsdb.path=" + dir.resolve("tsdb"),
        "--storage.tsdb.retention.time=1h")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    PrometheusServer server = new PrometheusServer(process, log, port);
    try {
      server.awaitReady(Duration.ofSeconds(60));
    } catch (Exception e) {
      server.close();
      throw e;
    }
    return server;
  }

  private void awaitReady(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("prometheus exited with " + process.exitValue() + ":\n" + log());
      }
      try {
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(base() + "/-/ready")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        if (ready.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("prometheus not ready after " + timeout + ":\n" + log());
  }

  /** {@code /api/v1/query}: the result vector of an instant query (fails on an API error). */
  JsonNode query(String promql) throws Exception {
    JsonNode body = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    if (!"success".equals(body.path("status").asText())) {
      throw new AssertionError("query " + promql + ": " + body);
    }
    return body.path("data").path("result");
  }

  /** The first sample's value of an instant query, or NaN when the result is empty. */
  double value(String promql) throws Exception {
    JsonNode result = query(promql);
    return result.isEmpty() ? Double.NaN : Double.parseDouble(result.get(0).path("value").get(1).asText());
  }

  JsonNode targets() throws Exception {
    return get("/api/v1/targets").path("data").path("activeTargets");
  }

  private JsonNode get(String path) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base() + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(response.body());
  }

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
