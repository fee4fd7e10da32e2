package io.moestream.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** Reads an operator metric of a running job from the MiniCluster's REST API, as the dashboard does. */
final class FlinkRest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private final String base;

  FlinkRest(MiniClusterExtension cluster) {
    base = base(cluster);
  }

  /** The MiniCluster's REST address, e.g. http://localhost:PORT. */
  static String base(MiniClusterExtension cluster) {
    var conf = cluster.getClientConfiguration();
    return "http://" + conf.get(RestOptions.ADDRESS) + ":" + conf.get(RestOptions.PORT);
  }

  /** The sum over the job's subtasks of the metric whose id ends with {@code .metricName}; -1 when absent. */
  long operatorMetric(JobID job, String metricName) throws Exception {
    long sum = -1;
    for (JsonNode vertex : get("/jobs/" + job).path("vertices")) {
      String path = "/jobs/" + job + "/vertices/" + vertex.get("id").asText() + "/metrics";
      for (JsonNode metric : get(path)) {
        String id = metric.get("id").asText();
        if (id.endsWith("." + metricName)) {
          JsonNode values = get(path + "?get=" + URLEncoder.encode(id, StandardCharsets.UTF_8));
          for (JsonNode value : values) {
            sum = Math.max(sum, 0) + (long) Double.parseDouble(value.get("value").asText());
          }
        }
      }
    }
    return sum;
  }

  /** The JSON a REST path answers (e.g. {@code /jobs/<id>/checkpoints}). */
  JsonNode get(String path) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET " + path + ": " + response.statusCode() + " " + response.body());
    }
    return JSON.readTree(response.body());
  }
}
