package io.moestream.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/** The REST calls the Flink dashboard makes: upload a jar, run it, watch and cancel the job. */
final class SessionClusterRest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  final String base;

  SessionClusterRest(String base) {
    this.base = base;
  }

  /** Waits until the REST API answers and at least {@code taskManagers} TaskManagers have registered. */
  void awaitReady(Duration timeout, int taskManagers, Supplier<String> logs) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      try {
        JsonNode overview = get("/overview");
        if (overview.path("taskmanagers").asInt() >= taskManagers) {
          return;
        }
        last = overview.toString();
      } catch (Exception e) {
        last = e.toString();
      }
      Thread.sleep(500);
    }
    throw new AssertionError("Flink at " + base + " not ready with " + taskManagers + " TaskManager(s) after "
        + timeout + ": " + last + logs.get());
  }

  /** The dashboard page itself (HTML). */
  String dashboard() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(base + "/")).GET().build());
    return response.body();
  }

  /** {@code POST /jars/upload}, multipart field {@code jarfile}, as Submit New Job's "+ Add New"; the jar's id. */
  String uploadJar(Path jar) throws Exception {
    String boundary = "----moestream" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(("--" + boundary + "\r\n"
        + "Content-Disposition: form-data; name=\"jarfile\"; filename=\"" + jar.getFileName() + "\"\r\n"
        + "Content-Type: application/x-java-archive\r\n\r\n").getBytes(StandardCharsets.UTF_8));
    body.write(Files.readAllBytes(jar));
    body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    JsonNode answer = json(send(HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build()), "POST /jars/upload");
    String stored = answer.path("filename").asText();
    if (!"success".equals(answer.path("status").asText()) || stored.isEmpty()) {
      throw new IllegalStateException("POST /jars/upload: " + answer);
    }
    return Path.of(stored).getFileName().toString();
  }

  /** The entry classes the dashboard offers for an uploaded jar ({@code GET /jars}: its manifest's). */
  List<String> entryClasses(String jarId) throws Exception {
    for (JsonNode file : get("/jars").path("files")) {
      if (jarId.equals(file.path("id").asText())) {
        return file.path("entry").findValuesAsText("name");
      }
    }
    throw new IllegalStateException("jar " + jarId + " not listed by GET /jars");
  }

  /** {@code POST /jars/<id>/run}, as the dashboard's Submit button; the job id. */
  String runJar(String jarId, String entryClass, List<String> programArgs, int parallelism) throws Exception {
    String request = JSON.writeValueAsString(Map.of(
        "entryClass", entryClass, "programArgsList", programArgs, "parallelism", parallelism));
    JsonNode answer = json(send(HttpRequest.newBuilder(URI.create(base + "/jars/" + jarId + "/run"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(request)).build()), "POST /jars/" + jarId + "/run");
    return answer.path("jobid").asText();
  }

  /** {@code POST /jars/<id>/plan}, as the dashboard's Show Plan button: the job graph's vertex names. */
  List<String> plan(String jarId, String entryClass, List<String> programArgs) throws Exception {
    String request = JSON.writeValueAsString(Map.of("entryClass", entryClass, "programArgsList", programArgs));
    JsonNode answer = json(send(HttpRequest.newBuilder(URI.create(base + "/jars/" + jarId + "/plan"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(request)).build()), "POST /jars/" + jarId + "/plan");
    return answer.path("plan").path("nodes").findValuesAsText("description");
  }

  String jobState(String jobId) throws Exception {
    return get("/jobs/" + jobId).path("state").asText();
  }

  /** Waits until the job and all its vertices are RUNNING; fails at once when it failed. */
  void awaitRunning(String jobId, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    JsonNode job = null;
    while (System.nanoTime() < deadline) {
      job = get("/jobs/" + jobId);
      String state = job.path("state").asText();
      if (Set.of("FAILED", "CANCELED", "FINISHED").contains(state)) {
        throw new AssertionError("job " + jobId + " is " + state + ": " + get("/jobs/" + jobId + "/exceptions"));
      }
      boolean allRunning = "RUNNING".equals(state) && job.path("vertices").size() > 0;
      for (JsonNode vertex : job.path("vertices")) {
        allRunning &= "RUNNING".equals(vertex.path("status").asText());
      }
      if (allRunning) {
        return;
      }
      Thread.sleep(500);
    }
    throw new AssertionError("job " + jobId + " not running after " + timeout + ": " + job);
  }

  /** {@code PATCH /jobs/<id>?mode=cancel}, then waits for CANCELED. */
  void cancel(String jobId, Duration timeout) throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "?mode=cancel"))
        .method("PATCH", HttpRequest.BodyPublishers.noBody()).build());
    if (response.statusCode() != 202) {
      throw new IllegalStateException("PATCH /jobs/" + jobId + "?mode=cancel: " + response.statusCode() + " "
          + response.body());
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    String state = "";
    while (System.nanoTime() < deadline) {
      state = jobState(jobId);
      if ("CANCELED".equals(state)) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("job " + jobId + " is " + state + ", not CANCELED, " + timeout + " after the cancel");
  }

  /** What {@code GET /jobs/<id>/exceptions} says; for failure messages. */
  String exceptions(String jobId) {
    try {
      return get("/jobs/" + jobId + "/exceptions").toPrettyString();
    } catch (Exception e) {
      return "(GET /jobs/" + jobId + "/exceptions: " + e + ")";
    }
  }

  JsonNode get(String path) throws Exception {
    return json(send(HttpRequest.newBuilder(URI.create(base + path)).GET().build()), "GET " + path);
  }

  private HttpResponse<String> send(HttpRequest request) throws Exception {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> response, String what) throws Exception {
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException(what + ": " + response.statusCode() + " " + response.body());
    }
    return JSON.readTree(response.body());
  }
}
