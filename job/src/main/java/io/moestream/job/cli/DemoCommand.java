package io.moestream.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import io.moestream.job.pipeline.TrainedDemoModel;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.RegistryAvroCodec;
import io.moestream.operators.codec.WireFormat;
import io.moestream.operators.registry.RegistrySettings;
import io.moestream.operators.registry.SchemaRegistryClient;
import io.moestream.operators.codec.RequestJson;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo",
    description = {"Runs the streaming job with its own Kafka and Flink.",
        "%nThe whole job runs on this machine: a Kafka broker (KRaft) and a Flink cluster, with its dashboard on"
            + " 127.0.0.1:8081, start in this process; --count requests are produced and each generation is printed as"
            + " one JSON line on stdout as it arrives (logs go to stderr). The exit code is 0 once all are answered"
            + " (generations or dead letters), non-zero on failure or --timeout. Without --model it runs the small"
            + " Qwen3-MoE trained by tools/train on synthetic tasks, asks it held-out task questions and prints each"
            + " answer next to the expected one; --random-model runs a random-weight model instead (for speed tests)."})
final class DemoCommand implements Callable<Integer> {
  /** For a model given with --model (or the random-weight one): general questions. */
  private static final String[] SAMPLE_PROMPTS = {
      "Explain in one sentence what a mixture-of-experts model is.",
      "Write a haiku about stream processing.",
      "What is the capital of France?",
      "List three uses of Apache Kafka.",
      "Translate 'good morning' into German.",
      "Why do checkpoints make a streaming job fault tolerant?",
      "Give me a name for a friendly robot.",
      "Summarize the plot of a detective story in two sentences.",
  };

  @Mixin JobConfigOptions options;

  @Option(names = "--input", paramLabel = "<file>",
      description = "InferenceRequest-shaped JSON lines (request_id optional) instead of the sample prompts.")
  Path prompts;

  @Option(names = "--count", defaultValue = "8", paramLabel = "<n>",
      description = "Requests to send. Default: ${DEFAULT-VALUE}.")
  int count;

  @Option(names = "--random-model",
      description = "Without --model: a random-weight Qwen3-MoE with the real Qwen3 tokenizer (meaningless text) instead"
          + " of the trained demo model.")
  boolean randomModel;

  @Option(names = "--max-new-tokens", defaultValue = "24", paramLabel = "<n>",
      description = "Tokens each sample prompt generates at most. Default: ${DEFAULT-VALUE}.")
  int maxNewTokens;

  @Option(names = "--timeout", defaultValue = "300", paramLabel = "<seconds>",
      description = "Seconds to wait for all answers. Default: ${DEFAULT-VALUE}.")
  long timeoutSeconds;

  @Option(names = "--dashboard-port", defaultValue = "8081", paramLabel = "<port>",
      description = "Flink web dashboard port. Default: ${DEFAULT-VALUE}.")
  int dashboardPort;

  @Option(names = "--metrics-port", defaultValue = "9249", paramLabel = "<port>",
      description = "Prometheus metrics port (0: off). Default: ${DEFAULT-VALUE}.")
  int metricsPort;

  private final PrintStream log = System.err;

  @Override
  public Integer call() throws Exception {
    if (count < 1) {
      throw new IllegalArgumentException("--count must be >= 1, found " + count);
    }
    if (randomModel && options.model() != null) {
      throw new IllegalArgumentException("--random-model and --model: give one of them");
    }
    boolean madeModel = options.model() == null;
    boolean trained = madeModel && !randomModel;
    List<InferenceRequest> requests = requests(trained);
    Path model = !madeModel ? options.model().toAbsolutePath() : trained ? trainedModel() : makeModel();
    try {
      return run(requests, model, trained && prompts == null);
    } finally {
      if (madeModel) {
        deleteQuietly(trained ? model.getParent() : model);
      }
    }
  }

  /** @param samples the requests are the trained model's sample questions: print each answer against the expected */
  private int run(List<InferenceRequest> requests, Path model, boolean samples) throws Exception {
    Path given = options.model();
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      log.println("moestream demo: Kafka broker (KRaft, in this process) at " + kafka.bootstrapServers());
      options.model(model);
      options.bootstrapServers = kafka.bootstrapServers();
      JobConfig config = options.loader().set("kafka.starting_offsets", "earliest").build();
      int partitions = config.flink().parallelism();
      kafka.createTopics(partitions, config.kafka().inputTopic(), config.kafka().outputTopic(),
          config.kafka().deadLetterTopic());

      StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(flinkConf(partitions));
      InferencePipeline.define(env, config);
      JobClient job = env.executeAsync(config.flink().jobName());
      log.println("moestream demo: Flink dashboard at http://127.0.0.1:" + dashboardPort + " (job " + job.getJobID() + ")"
          + (metricsPort > 0 ? ", Prometheus metrics at http://127.0.0.1:" + metricsPort + "/metrics" : ""));
      try {
        produce(kafka.bootstrapServers(), config, requests);
        return collect(kafka.bootstrapServers(), config, requests.size(), job, samples);
      } finally {
        JobClients.cancelAndAwait(job, java.time.Duration.ofMinutes(1));
      }
    } finally {
      options.model(given);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (Exception e) {
      // a temporary folder left behind is harmless
    }
  }

  private Configuration flinkConf(int slots) {
    Configuration conf = new Configuration();
    conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    conf.set(RestOptions.ADDRESS, "127.0.0.1");
    conf.set(RestOptions.PORT, dashboardPort);
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
    if (metricsPort > 0) {
      conf.set(ConfigOptions.key("metrics.reporter.prom.factory.class").stringType().noDefaultValue(),
          "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
      conf.set(ConfigOptions.key("metrics.reporter.prom.port").stringType().noDefaultValue(),
          Integer.toString(metricsPort));
    }
    return conf;
  }

  private Path trainedModel() throws Exception {
    // named as the model folder: generations carry the folder's name as their model
    Path dir = TrainedDemoModel.write(Files.createTempDirectory("moestream-demo-").resolve("qwen3-moe-tasks"));
    log.println("moestream demo: no --model given, so this demo runs the small Qwen3-MoE that tools/train/train.py"
        + " trained here on synthetic tasks (model card: tools/train/models/qwen3-moe-tasks/README.md; written to " + dir
        + "). It answers copying, reversing, recalling and sorting questions in the format below (addition, subtraction"
        + " and counting it was trained on but mostly gets wrong) and writes a little English, nothing else. For a real"
        + " model: ./moestream demo --model /path/to/Qwen3-30B-A3B");
    return dir;
  }

  private Path makeModel() throws Exception {
    Path dir = Files.createTempDirectory("moestream-demo-model-");
    DemoModel.write(DemoModel.spec(), dir);
    log.println("moestream demo: NOTE no --model given, so this demo runs a small RANDOM-WEIGHT Qwen3-MoE model");
    log.println("  (written to " + dir + ") with the real Qwen3 tokenizer: prompts are tokenized for real, but the");
    log.println("  generated text is MEANINGLESS. For real text point it at a checkpoint, e.g.");
    log.println("  ./moestream demo --model /path/to/Qwen3-30B-A3B   (a Hugging Face folder: config.json, *.safetensors, tokenizer.json)");
    return dir;
  }

  private List<InferenceRequest> requests(boolean trained) throws Exception {
    List<InferenceRequest> list = new ArrayList<>();
    if (prompts == null && trained) {
      for (int i = 0; i < count; i++) {
        ObjectNode line = new ObjectMapper().createObjectNode().put("request_id", "demo-" + i)
            .put("max_new_tokens", maxNewTokens);
        line.putArray("messages").addObject().put("role", "user").put("content", sample(i).question());
        list.add(RequestJson.parse(line.toString())); // greedy: the answers are exact
      }
      return list;
    }
    if (prompts == null) {
      for (int i = 0; i < count; i++) {
        ObjectNode line = new ObjectMapper().createObjectNode().put("request_id", "demo-" + i)
            .put("prompt", SAMPLE_PROMPTS[i % SAMPLE_PROMPTS.length]).put("max_new_tokens", maxNewTokens);
        line.putObject("sampling").put("temperature", i % 2 == 0 ? 0.0 : 0.7).put("seed", i);
        list.add(RequestJson.parse(line.toString()));
      }
      return list;
    }
    if (!Files.isRegularFile(prompts)) {
      throw new IllegalArgumentException("--input: no such file " + prompts);
    }
    ObjectMapper mapper = new ObjectMapper();
    List<String> lines = Files.readAllLines(prompts).stream().filter(l -> !l.isBlank()).toList();
    if (lines.isEmpty()) {
      throw new IllegalArgumentException("--input " + prompts + " has no lines");
    }
    for (int i = 0; i < count; i++) {
      String text = lines.get(i % lines.size());
      JsonNode node;
      try {
        node = mapper.readTree(text);
      } catch (Exception e) {
        throw new IllegalArgumentException("--input line " + (i % lines.size() + 1) + ": not JSON");
      }
      if (node instanceof ObjectNode object && (!object.has("request_id") || i >= lines.size())) {
        object.put("request_id", "demo-" + i);
      }
      try {
        list.add(RequestJson.parse(node.toString()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--input line " + (i % lines.size() + 1) + ": " + e.getMessage());
      }
    }
    return list;
  }

  private static TrainedDemoModel.Sample sample(int i) {
    return TrainedDemoModel.SAMPLES.get(i % TrainedDemoModel.SAMPLES.size());
  }

  private void produce(String bootstrap, JobConfig config, List<InferenceRequest> requests) {
    String topic = config.kafka().inputTopic();
    WireFormat format = WireFormat.of(config.kafka().inputFormat());
    AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
    // registry-framed requests carry the id of our schema, registered under the input topic's subject
    RegistrySettings registry = InferencePipeline.registrySettings(config.kafka());
    int schemaId = format != WireFormat.AVRO_REGISTRY ? -1 : new SchemaRegistryClient(registry)
        .idOf(registry.subjectStrategy().subject(topic, codec.schema().getFullName()), codec.schema());
    try (KafkaProducer<byte[], byte[]> producer = TopicClients.producer(bootstrap)) {
      for (InferenceRequest r : requests) {
        byte[] value = switch (format) {
          case JSON -> RequestJson.toJson(r).getBytes(StandardCharsets.UTF_8);
          case AVRO -> codec.encode(r);
          case AVRO_REGISTRY -> RegistryAvroCodec.frame(schemaId, codec.encode(r));
        };
        producer.send(new ProducerRecord<>(topic, r.getRequestId().getBytes(StandardCharsets.UTF_8), value));
      }
      producer.flush();
    }
    log.println("moestream demo: produced " + requests.size() + " requests to " + topic);
  }

  /** Prints a trained-model answer next to its question and expected answer; true when they match. */
  private boolean printAnswer(String generationJson) throws Exception {
    JsonNode generation = new ObjectMapper().readTree(generationJson);
    String id = generation.path("request_id").asText();
    TrainedDemoModel.Sample sample = sample(Integer.parseInt(id.substring("demo-".length())));
    String answer = generation.path("text").asText().strip();
    boolean right = answer.equals(sample.answer());
    log.println("moestream demo: [" + sample.task() + "] " + sample.question() + "  ->  " + answer
        + (right ? "   (correct)" : "   (expected " + sample.answer() + ")"));
    return right;
  }

  /** Prints answers until all are in; 0 when they are, 1 on job failure or timeout. */
  private int collect(String bootstrap, JobConfig config, int expected, JobClient job, boolean samples)
      throws Exception {
    int correct = 0;
    RegistrySettings registry = InferencePipeline.registrySettings(config.kafka());
    var generations = new OutputJsonLines<>(Generation.class, WireFormat.of(config.kafka().outputFormat()), registry);
    var deadLetters = new OutputJsonLines<>(DeadLetter.class, WireFormat.of(config.kafka().deadLetterFormat()),
        registry);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
    int answered = 0;
    int rejected = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = TopicClients.committedReader(bootstrap, null)) {
      consumer.subscribe(List.of(config.kafka().outputTopic(), config.kafka().deadLetterTopic()));
      while (answered < expected) {
        if (System.nanoTime() > deadline) {
          log.println("moestream demo: error: timed out after " + timeoutSeconds + " s with " + answered + " of "
              + expected + " answers");
          return 1;
        }
        JobStatus status = job.getJobStatus().get();
        if (status.isGloballyTerminalState()) {
          log.println("moestream demo: error: the job ended (" + status + ") with " + answered + " of " + expected
              + " answers; see the log above");
          return 1;
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(300))) {
          answered++;
          if (record.topic().equals(config.kafka().outputTopic())) {
            String line = generations.line(record.value(), record.topic());
            out.println(line);
            if (samples) {
              correct += printAnswer(line) ? 1 : 0;
            }
          } else {
            rejected++;
            log.println("moestream demo: dead letter: " + deadLetters.line(record.value(), record.topic()));
          }
        }
      }
    }
    log.println("moestream demo: all " + expected + " requests answered (" + (expected - rejected) + " generations, "
        + rejected + " dead letters)" + (samples ? "; " + correct + " of " + expected + " answers as expected" : ""));
    return 0;
  }
}
