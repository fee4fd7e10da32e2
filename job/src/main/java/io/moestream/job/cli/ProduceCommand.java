package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.job.kafka.TopicClients;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.RequestJson;
import io.moestream.schemas.InferenceRequest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.RecordMetadata;
import io.moestream.operators.codec.RegistryAvroCodec;
import io.moestream.operators.registry.RegistrySettings;
import io.moestream.operators.registry.SchemaRegistryClient;
import io.moestream.operators.registry.SubjectStrategy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "produce",
    description = {"Writes inference requests to a Kafka topic.",
        "%nThe requests are JSON lines from --input (or stdin), or one --prompt sent --count times. Each line is"
            + " checked against the InferenceRequest schema first; values are Avro binary (the job's default input"
            + " format), registry-framed Avro with --format avro-registry (the schema registered or looked up under"
            + " the topic's subject, TopicNameStrategy), or the JSON itself with --format json."})
final class ProduceCommand implements Callable<Integer> {
  @Option(names = "--bootstrap-servers", required = true, paramLabel = "<host:port>",
      description = "Kafka bootstrap servers, comma-separated.")
  String bootstrapServers;

  @Option(names = "--topic", defaultValue = "moestream.requests", paramLabel = "<topic>",
      description = "Topic to write to. Default: ${DEFAULT-VALUE}.")
  String topic;

  @Option(names = "--input", paramLabel = "<file>",
      description = "JSON lines, one InferenceRequest each ('-' is stdin).")
  Path file;

  @Option(names = "--prompt", paramLabel = "<text>", description = "One prompt text, sent --count times.")
  String prompt;

  @Option(names = "--count", defaultValue = "1", paramLabel = "<n>",
      description = "How many times --prompt is sent. Default: ${DEFAULT-VALUE}.")
  int count;

  @Option(names = "--max-new-tokens", defaultValue = "16", paramLabel = "<n>",
      description = "With --prompt: tokens each request generates at most. Default: ${DEFAULT-VALUE}.")
  int maxNewTokens;

  @Option(names = "--format", defaultValue = "avro", paramLabel = "<format>",
      description = "Wire format of the values: avro, avro-registry or json. Default: ${DEFAULT-VALUE}.")
  String format;

  @Option(names = "--schema-registry-url", paramLabel = "<url>", description = "The registry's Confluent-compatible"
      + " API, for --format avro-registry, e.g. http://HOST:8080/apis/ccompat/v7.")
  String registryUrl;

  @Mixin CommandConfigOption commandConfig;

  private final ObjectMapper mapper = new ObjectMapper();
  private final List<Future<RecordMetadata>> pending = new ArrayList<>();
  private int schemaId = -1; // --format avro-registry: our schema's id under the topic's subject

  @Override
  public Integer call() throws Exception {
    if (!format.equals("avro") && !format.equals("avro-registry") && !format.equals("json")) {
      throw new IllegalArgumentException("--format must be avro, avro-registry or json, found '" + format + "'");
    }
    if (format.equals("avro-registry") != (registryUrl != null)) {
      throw new IllegalArgumentException(registryUrl == null
          ? "--format avro-registry needs --schema-registry-url <url>"
          : "--schema-registry-url is for --format avro-registry, found --format " + format);
    }
    if ((file == null) == (prompt == null)) {
      throw new IllegalArgumentException("give --input <file> or --prompt <text>");
    }
    AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
    if (registryUrl != null) { // one lookup (or registration) for the whole run, before anything is sent
      SchemaRegistryClient registry = new SchemaRegistryClient(
          new RegistrySettings(registryUrl, null, null, SubjectStrategy.TOPIC));
      schemaId = registry.idOf(SubjectStrategy.TOPIC.subject(topic, codec.schema().getFullName()), codec.schema());
    }
    int sent = 0;
    try (KafkaProducer<byte[], byte[]> producer = TopicClients.producer(bootstrapServers, 0, commandConfig.properties())) {
      if (prompt != null) {
        for (int i = 0; i < count; i++) {
          ObjectNode line = mapper.createObjectNode().put("request_id", "cli-" + System.currentTimeMillis() + "-" + i)
              .put("prompt", prompt).put("max_new_tokens", maxNewTokens);
          send(producer, codec, line.toString(), i + 1);
          sent++;
          checkSent(false);
        }
      } else {
        try (BufferedReader in = file.toString().equals("-")
            ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
            : Files.newBufferedReader(file)) {
          String line;
          int number = 0;
          while ((line = in.readLine()) != null) {
            number++;
            if (!line.isBlank()) {
              send(producer, codec, line, number);
              sent++;
              checkSent(false);
            }
          }
        }
      }
      producer.flush();
      checkSent(true);
    }
    System.err.println("moestream produce: " + sent + " requests written to " + topic);
    return 0;
  }

  private void send(KafkaProducer<byte[], byte[]> producer, AvroCodec<InferenceRequest> codec, String json, int line) {
    InferenceRequest request;
    try {
      request = RequestJson.parse(json);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("line " + line + ": " + e.getMessage());
    }
    byte[] value = switch (format) {
      case "avro" -> codec.encode(request);
      case "avro-registry" -> RegistryAvroCodec.frame(schemaId, codec.encode(request));
      default -> json.getBytes(StandardCharsets.UTF_8);
    };
    pending.add(producer.send(new ProducerRecord<>(topic, request.getRequestId().getBytes(StandardCharsets.UTF_8), value)));
  }

  /**
   * Fails on the first record the broker refused (authentication failed, no such topic, ...): a send
   * that fails reports it only through its future. {@code all}: wait for every record, else check the
   * finished ones.
   */
  private void checkSent(boolean all) throws InterruptedException {
    for (var it = pending.iterator(); it.hasNext(); ) {
      Future<RecordMetadata> f = it.next();
      if (!all && !f.isDone()) {
        continue;
      }
      try {
        f.get();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        throw new IllegalStateException("writing to " + topic + " at " + bootstrapServers + " failed: "
            + cause.getClass().getSimpleName() + ": " + cause.getMessage(), cause);
      }
      it.remove();
    }
  }
}
