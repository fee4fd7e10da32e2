package io.moestream.tests;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real schema registry for the suites: Apicurio Registry 2.4.2.Final with in-memory storage, run as
 * a child process on a free port, spoken to through its Confluent-compatible API
 * ({@link #confluentApi()}). Its runnable build is tests/registry-server (a Quarkus build of the
 * registry's application from Maven Central); .ci/run packages it, and a missing build is packaged here.
 * The registry's log is kept under tests/target/registry-server-logs and quoted when it fails to start.
 */
final class ApicurioRegistry implements AutoCloseable {
  static final Duration START_TIMEOUT = Duration.ofMinutes(2);
  static final Duration BUILD_TIMEOUT = Duration.ofMinutes(15);
  static final String RUNNER_JAR = "target/apicurio-registry-runner-1-runner.jar";

  private final Process process;
  private final Path log;
  private final String base;

  private ApicurioRegistry(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.base = "http://127.0.0.1:" + port;
  }

  /** Starts the registry and waits until its Confluent-compatible API answers. */
  static ApicurioRegistry start() throws Exception {
    Path dir = Path.of(System.getProperty("moestream.registry.dir", "registry-server")).toAbsolutePath();
    Path logs = Path.of(System.getProperty("moestream.registry.logs", "target/registry-server-logs")).toAbsolutePath();
    Files.createDirectories(logs);
    Path jar = runnerJar(dir, logs);
    int port = freePort();
    Path log = logs.resolve("registry-" + port + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Xmx384m", "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=" + port,
        "-jar", jar.toString())
        .directory(logs.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    ApicurioRegistry registry = new ApicurioRegistry(p, log, port);
    try {
      registry.awaitReady();
    } catch (Exception | AssertionError e) {
      registry.close();
      throw e;
    }
    return registry;
  }

  /** The base URL of the Confluent Schema Registry API, as kafka.schema_registry.url takes it. */
  String confluentApi() {
    return base + "/apis/ccompat/v7";
  }

  /** GET on the Confluent API: (status, body). */
  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(confluentApi() + path))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** POST of a JSON body on the Confluent API: (status, body). */
  HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(confluentApi() + path))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private void awaitReady() throws Exception {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("the registry exited with " + process.exitValue() + " before answering; " + logTail());
      }
      try {
        if (get("/subjects").statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    throw new AssertionError("the registry did not answer " + confluentApi() + "/subjects within " + START_TIMEOUT
        + "; " + logTail());
  }

  /** The runnable jar, packaged first when missing (needs Maven, and Maven Central unless cached). */
  private static Path runnerJar(Path dir, Path logs) throws Exception {
    Path jar = dir.resolve(RUNNER_JAR);
    if (Files.isRegularFile(jar)) {
      return jar;
    }
    Path buildLog = logs.resolve("registry-build.log");
    Process build = new ProcessBuilder(List.of("mvn", "-B", "-ntp", "-f", dir.resolve("pom.xml").toString(), "package"))
        .redirectErrorStream(true).redirectOutput(buildLog.toFile()).start();
    if (!build.waitFor(BUILD_TIMEOUT.toMinutes(), TimeUnit.MINUTES)) {
      build.destroyForcibly();
      throw new AssertionError("packaging the registry took over " + BUILD_TIMEOUT + "; see " + buildLog);
    }
    if (build.exitValue() != 0 || !Files.isRegularFile(jar)) {
      throw new AssertionError("mvn -f " + dir.resolve("pom.xml") + " package failed (exit " + build.exitValue()
          + "); see " + buildLog);
    }
    return jar;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private String logTail() {
    try {
      // decoded leniently: the log holds terminal escape sequences
      List<String> lines = new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList();
      return "the last lines of " + log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40),
          lines.size()));
    } catch (IOException e) {
      return "its log " + log + " cannot be read: " + e;
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
