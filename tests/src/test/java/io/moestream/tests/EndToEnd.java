package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.generate.SamplingDefaults;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.tokenizer.IncrementalDecoder;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.job.cli.MoestreamCli;
import io.moestream.job.config.JobConfig;
import io.moestream.job.config.JobConfigLoader;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.UnsetSampling;
import io.moestream.operators.tokenize.PromptTokenizer;
import io.moestream.schemas.ChatMessage;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.FinishReason;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/** What the end-to-end suites share: requests, the reference generation, Kafka reads and writes. */
final class EndToEnd {
  static final AvroCodec<InferenceRequest> REQUESTS = new AvroCodec<>(InferenceRequest.class);
  static final AvroCodec<Generation> GENERATIONS = new AvroCodec<>(Generation.class);
  static final AvroCodec<DeadLetter> DEAD_LETTERS = new AvroCodec<>(DeadLetter.class);

  private EndToEnd() {}

  static MiniClusterExtension miniCluster() {
    return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
        .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).setConfiguration(restMetricsEverySecond()).build());
  }

  /** The REST API serves metrics from a store refreshed every 10 s by default; suites read them sooner. */
  private static Configuration restMetricsEverySecond() {
    Configuration conf = new Configuration();
    conf.set(org.apache.flink.configuration.MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, java.time.Duration.ofSeconds(1));
    return conf;
  }

  /** The job's configuration for one suite: its own topics, group and transactional ids. */
  static JobConfig config(String name, Path model, String bootstrap, Map<String, Object> extra) {
    JobConfigLoader loader = JobConfigLoader.defaults()
        .set("model.dir", model.toString())
        .set("model.threads", 1)
        .set("model.kv_cache_mb", 64)
        .set("kafka.bootstrap_servers", bootstrap)
        .set("kafka.group_id", name)
        .set("kafka.input_topic", name + ".requests")
        .set("kafka.output_topic", name + ".generations")
        .set("kafka.dead_letter_topic", name + ".dead-letters")
        .set("kafka.transactional_id_prefix", name)
        .set("kafka.starting_offsets", "earliest")
        .set("flink.checkpoint_interval_ms", 500)
        .set("flink.restart_delay_ms", 200)
        .set("batching.max_in_flight", 32)
        .set("batching.max_batch_size", 8)
        // suites compare with the full model's reference; adaptive is exercised by the load-ramp suite
        .set("experts.policy", "full");
    extra.forEach(loader::set);
    return loader.build();
  }

  /** {@code n} good requests: prompts and chat messages, greedy and sampled, 4 to 8 new tokens. */
  static List<InferenceRequest> goodRequests(int n) {
    List<InferenceRequest> list = new ArrayList<>();
    String[] topics = {"the sea", "mixture of experts", "Flink checkpoints", "Kafka", "a quiet morning", "numbers"};
    for (int i = 0; i < n; i++) {
      InferenceRequest.Builder b = InferenceRequest.newBuilder().setRequestId("req-" + i).setMaxNewTokens(4 + i % 5);
      String text = "Request " + i + ": write about " + topics[i % topics.length] + ".";
      if (i % 3 == 0) {
        List<ChatMessage> messages = new ArrayList<>();
        if (i % 2 == 0) {
          messages.add(new ChatMessage("system", "You are terse."));
        }
        messages.add(new ChatMessage("user", text));
        b.setMessages(messages);
      } else {
        b.setPrompt(text);
      }
      Sampling sampling = i % 2 == 0
          ? Sampling.newBuilder().build()
          : Sampling.newBuilder().setTemperature(0.8f).setTopP(0.95f).setTopK(50).setSeed(1000 + i).build();
      list.add(b.setSampling(sampling).build());
    }
    return list;
  }

  /** What {@code ./moestream generate} gives for a request: the engine alone, one request, streaming decode. */
  static final class Reference implements AutoCloseable {
    private final LoadedModel model;
    private final Tokenizer tokenizer;
    private final PromptTokenizer prompts;
    private final SamplingDefaults defaults;

    Reference(Path modelDir) {
      defaults = SamplingDefaults.read(modelDir);
      model = LoadedModel.load(modelDir, EngineOptions.defaults().withThreads(2).withKvCacheBytes(128L << 20));
      tokenizer = Tokenizer.load(modelDir);
      prompts = new PromptTokenizer(tokenizer, model.config().maxPositionEmbeddings());
    }

    /** The prompt's length in tokens, as the job tokenizes it (template applied for chat messages). */
    int promptLength(InferenceRequest r) {
      return prompts.promptIds(r).length;
    }

    /** (token ids, text) of one request run alone, as {@code generate} runs it. */
    Map.Entry<List<Integer>, String> generate(InferenceRequest r) {
      return generateAll(List.of(r)).get(r.getRequestId());
    }

    /**
     * (token ids, text) of each request, all submitted to one engine together (continuous batching
     * gives each sequence the logits it gets alone; {@code generate} checks a sample alone).
     */
    Map<String, Map.Entry<List<Integer>, String>> generateAll(List<InferenceRequest> requests) {
      Engine engine = model.engine();
      Map<String, List<Integer>> ids = new HashMap<>();
      Map<String, IncrementalDecoder> decoders = new HashMap<>();
      Map<String, StringBuilder> texts = new HashMap<>();
      for (InferenceRequest r : requests) {
        Sampling s = r.getSampling();
        engine.submit(new GenerationRequest(r.getRequestId(), prompts.promptIds(r),
            UnsetSampling.resolve(s, defaults), r.getMaxNewTokens(),
            model.expertsPerLayer(0)));
        ids.put(r.getRequestId(), new ArrayList<>());
        decoders.put(r.getRequestId(), tokenizer.newIncrementalDecoder(true));
        texts.put(r.getRequestId(), new StringBuilder());
      }
      while (engine.hasWork()) {
        for (TokenEvent event : engine.step()) {
          if (event.tokenId() >= 0) {
            ids.get(event.requestId()).add(event.tokenId());
            texts.get(event.requestId()).append(decoders.get(event.requestId()).accept(event.tokenId()));
          }
        }
      }
      Map<String, Map.Entry<List<Integer>, String>> out = new HashMap<>();
      for (InferenceRequest r : requests) {
        String id = r.getRequestId();
        out.put(id, Map.entry(ids.get(id), texts.get(id).append(decoders.get(id).flush()).toString()));
      }
      return out;
    }

    @Override
    public void close() {
      model.close();
    }
  }

  /**
   * Runs the whole job on {@code model} (Kafka in and out, the MiniCluster) over {@code requests} and checks
   * that every request is answered exactly once, without error, with the {@code expected} token ids and text
   * (by request id, from {@link Reference#generateAll}).
   */
  static void assertJobAnswersAsExpected(EmbeddedKafka kafka, String name, Path model, List<InferenceRequest> requests,
      Map<String, Map.Entry<List<Integer>, String>> expected) throws Exception {
    String job = name.replace('_', '-');
    JobConfig config = config(job, model, kafka.bootstrapServers(), Map.of());
    kafka.createTopics(2, config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic());
    List<byte[]> values = new ArrayList<>();
    requests.forEach(r -> values.add(REQUESTS.encode(r)));
    produce(kafka.bootstrapServers(), config.kafka().inputTopic(), values);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    InferencePipeline.configure(env, config);
    InferencePipeline.attachSinks(InferencePipeline.build(env, config), config);
    JobClient client = env.executeAsync(job);
    List<Generation> out;
    try {
      out = readCommitted(kafka.bootstrapServers(), config.kafka().outputTopic(), GENERATIONS::decode,
          requests.size(), Duration.ofMinutes(3), Duration.ofSeconds(2));
    } finally {
      JobClients.cancelAndAwait(client, Duration.ofMinutes(1));
    }

    Map<String, Generation> byId = new HashMap<>();
    for (Generation g : out) {
      assertTrue(byId.put(g.getRequestId(), g) == null, "duplicate generation for " + g.getRequestId());
    }
    assertEquals(requests.size(), out.size());
    for (InferenceRequest r : requests) {
      Generation g = byId.get(r.getRequestId());
      assertTrue(g.getFinishReason() != FinishReason.ERROR, r.getRequestId() + ": " + g.getError());
      assertEquals(expected.get(r.getRequestId()).getKey(), g.getTokenIds(), name + " " + r.getRequestId() + " token ids");
      assertEquals(expected.get(r.getRequestId()).getValue(), g.getText(), name + " " + r.getRequestId() + " text");
    }
  }

  /** Writes the values and waits until each is acknowledged: a lost input record fails here, not later. */
  static void produce(String bootstrap, String topic, List<byte[]> values) throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    // big enough for the oversized bad records (the embedded broker takes 4 MiB)
    try (KafkaProducer<byte[], byte[]> producer = TopicClients.producer(bootstrap, 4 << 20)) {
      for (byte[] value : values) {
        sent.add(producer.send(new ProducerRecord<>(topic, value)));
      }
      producer.flush();
      for (Future<RecordMetadata> ack : sent) {
        ack.get(60, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * Reads committed records until {@code expected} have arrived, then keeps reading for
   * {@code settle} to catch any extra (duplicate) record; fails after {@code timeout}.
   */
  static <T> List<T> readCommitted(String bootstrap, String topic, Function<byte[], T> decode, int expected,
      Duration timeout, Duration settle) {
    List<T> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = TopicClients.committedReader(bootstrap, null)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      long settleUntil = Long.MAX_VALUE;
      while (System.nanoTime() < Math.min(deadline, settleUntil)) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          out.add(decode.apply(record.value()));
        }
        if (out.size() >= expected && settleUntil == Long.MAX_VALUE) {
          settleUntil = System.nanoTime() + settle.toNanos();
        }
      }
    }
    return out;
  }

  /** Runs a {@code ./moestream} command in this JVM; returns its stdout after checking its exit code. */
  static String command(int expectedExit, List<String> args) {
    Cli run = Cli.run(args.toArray(String[]::new));
    assertEquals(expectedExit, run.exit(), "exit code of " + args + "; stderr: " + run.err());
    return run.out();
  }

  /**
   * {@code ./moestream ...} in this JVM (a Flink job runs on the suite's MiniCluster), with its exit code and
   * output; what it wrote to stderr is echoed there too.
   */
  record Cli(int exit, String out, String err) {
    static Cli run(String... args) {
      PrintStream stdout = System.out;
      PrintStream stderr = System.err;
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int exit;
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      try {
        exit = MoestreamCli.execute(args);
      } finally {
        System.setOut(stdout);
        System.setErr(stderr);
      }
      String errText = err.toString(StandardCharsets.UTF_8);
      stderr.print(errText);
      return new Cli(exit, out.toString(StandardCharsets.UTF_8), errText);
    }
  }
}
