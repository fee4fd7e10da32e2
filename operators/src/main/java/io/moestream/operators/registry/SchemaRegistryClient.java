package io.moestream.operators.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.apache.avro.Schema;

/**
 * The few calls of the Confluent Schema Registry REST API the job needs (Apicurio Registry serves the
 * same API under {@code /apis/ccompat/v7}): look a schema up under a subject or register it, and fetch
 * a schema by id. Plain {@code java.net.http} and Jackson: Confluent's own client is not on Maven Central.
 *
 * <p>Two kinds of failure, told apart on purpose: a registry that answers that it does not know a
 * schema id throws {@link IllegalArgumentException} (that record is bad: dead-letter it); a registry
 * that cannot be reached, refuses the credentials or fails throws {@link SchemaRegistryException}
 * (every record would fail the same way: fail the task and let the restarts wait for it).
 */
public final class SchemaRegistryClient {
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final RegistrySettings settings;
  private final HttpClient http;

  public SchemaRegistryClient(RegistrySettings settings) {
    this.settings = settings;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  public RegistrySettings settings() {
    return settings;
  }

  /**
   * The id of {@code schema} under {@code subject}: looked up when the subject already has it,
   * registered otherwise (the registry's compatibility rules may refuse it: that is an error).
   */
  public int idOf(String subject, Schema schema) {
    String body = JSON.createObjectNode().put("schema", schema.toString()).put("schemaType", "AVRO").toString();
    String path = "/subjects/" + URLEncoder.encode(subject, StandardCharsets.UTF_8);
    Answer lookedUp = send(post(path, body), "look up the schema " + schema.getFullName() + " under subject " + subject);
    if (lookedUp.status == 200) {
      return id(lookedUp, subject);
    }
    if (lookedUp.status != 404) {
      throw lookedUp.failure();
    }
    Answer registered = send(post(path + "/versions", body),
        "register the schema " + schema.getFullName() + " under subject " + subject);
    if (registered.status != 200) {
      throw registered.failure();
    }
    return id(registered, subject);
  }

  /**
   * The schema the registry holds under {@code id}.
   *
   * @throws IllegalArgumentException when the registry does not know the id, or holds no Avro schema there
   * @throws SchemaRegistryException when the registry cannot be asked
   */
  public Schema schemaById(int id) {
    HttpRequest request = request("/schemas/ids/" + Integer.toUnsignedString(id)).GET().build();
    Answer answer = send(request, "fetch schema id " + id);
    if (answer.status == 404) {
      throw new IllegalArgumentException("schema id " + id + " is not known to the schema registry at " + settings.url()
          + " (HTTP 404" + answer.message() + ")");
    }
    if (answer.status != 200) {
      throw answer.failure();
    }
    JsonNode json = answer.json();
    String type = json.path("schemaType").asText("AVRO");
    if (!type.equals("AVRO")) {
      throw new IllegalArgumentException("schema id " + id + " is a " + type + " schema, not Avro");
    }
    try {
      return new Schema.Parser().parse(json.path("schema").asText());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("schema id " + id + " is not a valid Avro schema: " + e.getMessage(), e);
    }
  }

  private int id(Answer answer, String subject) {
    JsonNode id = answer.json().get("id");
    if (id == null || !id.canConvertToInt()) {
      throw new SchemaRegistryException(settings.url() + ": the answer for subject " + subject + " has no schema id: "
          + answer.body);
    }
    return id.intValue();
  }

  private HttpRequest post(String path, String body) {
    return request(path).header("Content-Type", CONTENT_TYPE)
        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(settings.url() + path)).timeout(TIMEOUT)
        .header("Accept", CONTENT_TYPE + ", application/json");
    if (settings.user() != null) {
      String pair = settings.user() + ":" + (settings.password() == null ? "" : settings.password());
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
    }
    return b;
  }

  private Answer send(HttpRequest request, String what) {
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Answer(what, request.uri(), response.statusCode(), response.body());
    } catch (IOException e) {
      throw new SchemaRegistryException("cannot " + what + ": the schema registry at " + settings.url()
          + " did not answer: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaRegistryException("interrupted while trying to " + what, e);
    }
  }

  /** One HTTP answer, with what was being done for the error messages. */
  private record Answer(String what, URI uri, int status, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new SchemaRegistryException("cannot " + what + ": " + uri + " answered HTTP " + status
            + " with a body that is not JSON: " + cut(body));
      }
    }

    /** ": <the registry's message>" when its error body has one. */
    String message() {
      try {
        JsonNode m = JSON.readTree(body).get("message");
        return m == null ? "" : ": " + m.asText();
      } catch (IOException e) {
        return "";
      }
    }

    SchemaRegistryException failure() {
      return new SchemaRegistryException("cannot " + what + ": " + uri + " answered HTTP " + status + ": " + cut(body));
    }

    private static String cut(String s) {
      return s == null ? "" : s.length() <= 500 ? s : s.substring(0, 500) + "...";
    }
  }
}
