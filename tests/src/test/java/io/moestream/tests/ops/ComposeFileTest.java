package io.moestream.tests.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.moestream.job.cli.MoestreamCli;
import io.moestream.job.config.ConfigException;
import io.moestream.job.config.JobConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The compose file without a Docker engine: it parses, every file it names exists, and what it says
 * about Kafka, topics, GPUs and the job agrees with the job's own defaults and code.
 */
class ComposeFileTest {
  private static final Pattern SCRIPT_DEFAULT = Pattern.compile("\\$\\{(MOESTREAM_[A-Z_]+):-([^}]*)}");

  private final ComposeStack stack = ComposeStack.load();

  @Test
  void definesTheStacksServices() {
    assertEquals(Set.of("kafka", "topics", "jobmanager", "taskmanager", "taskmanager-gpu1", "taskmanager-gpu2",
        "taskmanager-gpu3", "submit", "prometheus", "grafana"), stack.services().keySet());
    assertEquals("moestream", stack.compose.get("name"));
  }

  /** Bind mounts, env files, build contexts, Dockerfile COPY sources, and scripts run from the mounts. */
  @Test
  @SuppressWarnings("unchecked")
  void everyFileItReferencesExists() throws Exception {
    Set<String> namedVolumes = ((Map<String, Object>) stack.compose.getOrDefault("volumes", Map.of())).keySet();
    List<String> missing = new ArrayList<>();
    for (String name : stack.services().keySet()) {
      Map<String, Object> service = stack.service(name);
      Set<String> inContainer = new HashSet<>();
      for (Object volume : (List<Object>) service.getOrDefault("volumes", List.of())) {
        String[] parts = stack.interpolate(volume.toString()).split(":");
        String source = parts[0];
        inContainer.add(parts[1]);
        if (!source.startsWith(".") && !source.startsWith("/")) {
          if (!namedVolumes.contains(source)) {
            missing.add(name + ": named volume '" + source + "' is not declared under volumes:");
          }
          continue;
        }
        Path path = stack.dir.resolve(source).normalize();
        if (isBuildOutput(path)) {
          assertBuiltByJobModule(path);
        } else if (!Files.exists(path)) {
          missing.add(name + ": mount source " + source + " (" + path + ")");
        }
      }
      for (Object file : (List<Object>) service.getOrDefault("env_file", List.of())) {
        if (!Files.isRegularFile(stack.dir.resolve(file.toString()))) {
          missing.add(name + ": env_file " + file);
        }
      }
      if (service.get("build") instanceof Map<?, ?> build) {
        Path context = stack.dir.resolve(build.get("context").toString()).normalize();
        Path dockerfile = context.resolve(String.valueOf(((Map<String, Object>) build).getOrDefault("dockerfile", "Dockerfile")));
        if (!Files.isRegularFile(dockerfile)) {
          missing.add(name + ": Dockerfile " + dockerfile);
        } else {
          inContainer.addAll(copyDestinations(dockerfile, context, missing));
        }
      }
      // a script the container runs must come from a mount or from the image's COPY lines
      for (String word : words(service.get("entrypoint"), service.get("command"))) {
        if (word.startsWith("/opt/moestream/") && inContainer.stream().noneMatch(word::startsWith)) {
          missing.add(name + ": runs " + word + ", which no mount or COPY puts there");
        }
      }
    }
    assertTrue(missing.isEmpty(), "docker-compose/ references what is not there:\n  " + String.join("\n  ", missing));
  }

  @Test
  void scriptsAreValidBash() throws Exception {
    for (String script : List.of("kafka/create-topics.sh", "flink/submit.sh", "flink/entrypoint.sh")) {
      Path file = stack.dir.resolve(script);
      assertTrue(Files.isExecutable(file), script + " must be executable");
      Process bash = new ProcessBuilder("bash", "-n", file.toString()).redirectErrorStream(true).start();
      String out = new String(bash.getInputStream().readAllBytes());
      assertEquals(0, bash.waitFor(), script + ": bash -n: " + out);
    }
  }

  /** The host listener is the job's default bootstrap address; containers use the internal one. */
  @Test
  void kafkaListenersAgreeWithTheJobsDefaults() {
    String bootstrap = ComposeStack.jobDefault("kafka", "bootstrap_servers");
    String port = bootstrap.substring(bootstrap.lastIndexOf(':') + 1);
    Map<String, String> env = stack.environment("kafka");
    assertTrue(List.of(env.get("KAFKA_ADVERTISED_LISTENERS").split(",")).contains("HOST://" + bootstrap),
        "the host listener is advertised as the job's default " + bootstrap + ": " + env.get("KAFKA_ADVERTISED_LISTENERS"));
    assertTrue(List.of(env.get("KAFKA_LISTENERS").split(",")).contains("HOST://:" + port), env.get("KAFKA_LISTENERS"));
    assertTrue(ports("kafka").contains("127.0.0.1:" + port + ":" + port), "kafka publishes " + port + ": " + ports("kafka"));

    String internal = listener(env.get("KAFKA_ADVERTISED_LISTENERS"), env.get("KAFKA_INTER_BROKER_LISTENER_NAME"));
    assertEquals(internal, stack.environment("topics").get("KAFKA_BOOTSTRAP"));
    assertEquals(internal, stack.environment("submit").get("KAFKA_BOOTSTRAP"));
    assertEquals("1", env.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"), "one broker: internal topics need one replica");
    assertEquals("1", env.get("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"));
    long brokerMax = Long.parseLong(env.getOrDefault("KAFKA_TRANSACTION_MAX_TIMEOUT_MS", "900000"));
    assertTrue(Long.parseLong(ComposeStack.jobDefault("kafka", "transaction_timeout_ms")) <= brokerMax,
        "the job's transaction timeout must not exceed the broker's transaction.max.timeout.ms");
  }

  /**
   * Kafka's own configuration check accepts the broker's settings, converted from the environment as
   * the apache/kafka image does (KAFKA_A_B -> a.b, '__' -> '_', '___' -> '-'); the log directory is
   * the only setting replaced, since KafkaConfig looks at it.
   */
  @Test
  void kafkaAcceptsTheBrokerSettings() {
    java.util.Properties props = new java.util.Properties();
    stack.environment("kafka").forEach((name, value) -> {
      if (name.startsWith("KAFKA_")) {
        String key = name.substring("KAFKA_".length()).toLowerCase(java.util.Locale.ROOT)
            .replace("___", "-").replace("__", "\0").replace('_', '.').replace('\0', '_');
        props.put(key, value);
      }
    });
    assertEquals("broker,controller", props.get("process.roles"));
    props.put("log.dirs", System.getProperty("java.io.tmpdir") + "/moestream-ops-kafka-config-check");
    kafka.server.KafkaConfig config = kafka.server.KafkaConfig.fromProps(props);
    assertEquals("INTERNAL", config.interBrokerListenerName().value());
    assertEquals(List.of("CONTROLLER"), config.controllerListenerNames());
    assertTrue(stack.environment("kafka").get("CLUSTER_ID").matches("[A-Za-z0-9_-]{22}"), "a base64 UUID");
  }

  /** .env, the topic script and the submit script all name the job's default topics. */
  @Test
  void topicNamesAreTheJobsDefaults() throws Exception {
    Map<String, String> expected = Map.of(
        "MOESTREAM_INPUT_TOPIC", ComposeStack.jobDefault("kafka", "input_topic"),
        "MOESTREAM_OUTPUT_TOPIC", ComposeStack.jobDefault("kafka", "output_topic"),
        "MOESTREAM_DEAD_LETTER_TOPIC", ComposeStack.jobDefault("kafka", "dead_letter_topic"));
    expected.forEach((variable, topic) -> assertEquals(topic, stack.dotEnv.get(variable), ".env " + variable));
    for (String script : List.of("kafka/create-topics.sh", "flink/submit.sh")) {
      Set<String> seen = new HashSet<>();
      Matcher m = SCRIPT_DEFAULT.matcher(Files.readString(stack.dir.resolve(script)));
      while (m.find()) {
        if (expected.containsKey(m.group(1))) {
          assertEquals(expected.get(m.group(1)), m.group(2), script + ": default of " + m.group(1));
          seen.add(m.group(1));
        }
      }
      assertEquals(expected.keySet(), seen, script + " names all three topics");
    }
  }

  /**
   * The submit script passes {@code ./moestream run}'s arguments (what the entry class parses): every
   * option is one {@code run} has, every {@code --set} field one the job knows; the entry class exists.
   */
  @Test
  void submitPassesArgumentsTheJobKnows() throws Exception {
    String submit = Files.readString(stack.dir.resolve("flink/submit.sh"));
    String args = submit.substring(submit.indexOf("args=("), submit.indexOf(")", submit.indexOf("args=(")));
    CommandSpec run = new CommandLine(new MoestreamCli()).getSubcommands().get("run").getCommandSpec();
    Set<String> options = new LinkedHashSet<>();
    Matcher option = Pattern.compile("(?m)^\\s*(--[a-z-]+)").matcher(args);
    while (option.find()) {
      options.add(option.group(1));
      assertTrue(run.findOption(option.group(1)) != null, "submit.sh passes " + option.group(1) + ", not an option of run");
    }
    assertTrue(options.containsAll(List.of("--model", "--bootstrap-servers", "--parallelism", "--set")), options.toString());
    Matcher field = Pattern.compile("--set \"([a-z_]+\\.[a-z_]+)=").matcher(args);
    JobConfigLoader loader = JobConfigLoader.defaults();
    int fields = 0;
    while (field.find()) {
      fields++;
      try {
        loader.set(field.group(1), "x");
      } catch (ConfigException e) {
        fail("submit.sh sets " + field.group(1) + ", which the job does not know: " + e.getMessage());
      }
    }
    assertTrue(fields > 0, "submit.sh names the job with --set flink.job_name=...");
    Matcher entry = Pattern.compile("-c (io\\.moestream\\.[\\w.]+)").matcher(submit);
    assertTrue(entry.find(), "submit.sh names its entry class with -c");
    Class.forName(entry.group(1)).getMethod("main", String[].class);
    assertTrue(submit.contains("model_dir=\"${MOESTREAM_MODELS_MOUNT:-/models}/${MOESTREAM_MODEL"), "the model folder comes from the models mount");
    assertTrue(submit.contains("--model \"${model_dir}\""));
  }

  /** One GPU per TaskManager, each a different device, each reachable by Prometheus's DNS name. */
  @Test
  @SuppressWarnings("unchecked")
  void taskManagersReserveOneDistinctGpuEach() {
    Set<String> devices = new HashSet<>();
    int taskManagers = 0;
    for (String name : stack.services().keySet()) {
      Map<String, Object> service = stack.service(name);
      if (!"taskmanager".equals(service.get("command"))) {
        continue;
      }
      taskManagers++;
      Map<String, Object> reservations = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>)
          service.get("deploy")).get("resources")).get("reservations");
      List<Map<String, Object>> requested = (List<Map<String, Object>>) reservations.get("devices");
      assertEquals(1, requested.size(), name);
      Map<String, Object> gpu = requested.get(0);
      assertEquals("nvidia", gpu.get("driver"), name);
      assertTrue(((List<Object>) gpu.get("capabilities")).contains("gpu"), name);
      List<Object> ids = (List<Object>) gpu.get("device_ids");
      assertEquals(1, ids.size(), name + " holds exactly one GPU");
      assertTrue(devices.add(ids.get(0).toString()), name + " shares GPU " + ids.get(0) + " with another TaskManager");
      Map<String, Object> network = (Map<String, Object>) ((Map<String, Object>) service.get("networks")).get("default");
      assertTrue(((List<Object>) network.get("aliases")).contains("taskmanagers"), name + ": Prometheus finds it by alias");
      assertTrue(stack.environment(name).get("NVIDIA_DRIVER_CAPABILITIES").contains("utility"),
          name + ": the GPU discovery script needs nvidia-smi (the utility capability)");
      assertEquals("jobmanager", stack.environment(name).get("JOB_MANAGER_RPC_ADDRESS"), name);
    }
    assertEquals(4, taskManagers);
    assertFalse(stack.service("taskmanager").containsKey("profiles"), "the first TaskManager starts by default");
  }

  /** The JCuda jars the image puts into lib/ are the engine's JCuda version. */
  @Test
  void jcudaInTheImageIsTheEnginesVersion() throws Exception {
    String image = Files.readString(stack.dir.resolve("flink/jcuda/pom.xml"));
    String engine = Files.readString(stack.root.resolve("gpu/pom.xml"));
    assertEquals(property(engine, "jcuda.version"), property(image, "jcuda.version"));
    for (String artifact : List.of("jcuda", "jcuda-natives", "jcublas", "jcublas-natives")) {
      assertTrue(image.contains("<artifactId>" + artifact + "</artifactId>"), artifact);
    }
    assertTrue(image.contains("<classifier>linux-x86_64</classifier>"));
    String dockerfile = Files.readString(stack.dir.resolve("flink/Dockerfile"));
    assertTrue(dockerfile.contains("COPY --from=jcuda /build/lib/ /opt/flink/lib/"), "JCuda goes into the cluster's lib/");
    assertTrue(dockerfile.contains("ARG FLINK_IMAGE=flink:2.2.1-"), "Flink 2.2.1 image");
    assertTrue(dockerfile.contains("-java17"), "Java 17 image");
  }

  private List<String> ports(String service) {
    List<String> out = new ArrayList<>();
    for (Object p : (List<?>) stack.service(service).get("ports")) {
      out.add(stack.interpolate(p.toString()));
    }
    return out;
  }

  private static String listener(String advertised, String name) {
    for (String l : advertised.split(",")) {
      if (l.startsWith(name + "://")) {
        return l.substring(name.length() + 3);
      }
    }
    throw new AssertionError("no advertised listener " + name + " in " + advertised);
  }

  private static String property(String pom, String name) {
    Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
    assertTrue(m.find(), "no <" + name + ">");
    return m.group(1).strip();
  }

  private static boolean isBuildOutput(Path path) {
    for (Path part : path) {
      if (part.toString().equals("target")) {
        return true;
      }
    }
    return false;
  }

  /** A build output is not in the checkout; the job module's pom must produce it under that name. */
  private void assertBuiltByJobModule(Path jar) throws Exception {
    Path module = stack.root.relativize(jar).getName(0);
    String pom = Files.readString(stack.root.resolve(module).resolve("pom.xml"));
    String file = jar.getFileName().toString();
    String base = file.endsWith(".jar") ? file.substring(0, file.length() - 4) : file;
    assertTrue(pom.contains(file) || pom.contains("<finalName>" + base + "</finalName>"),
        "the stack mounts " + stack.root.relativize(jar) + ", but " + module + "/pom.xml builds no " + file);
  }

  private static Set<String> copyDestinations(Path dockerfile, Path context, List<String> missing) throws Exception {
    Set<String> destinations = new HashSet<>();
    for (String line : Files.readAllLines(dockerfile)) {
      String s = line.strip();
      if (!s.startsWith("COPY ")) {
        continue;
      }
      String[] words = s.split("\\s+");
      destinations.add(words[words.length - 1]);
      if (s.startsWith("COPY --from=")) {
        continue;
      }
      for (int i = 1; i < words.length - 1; i++) {
        if (!Files.exists(context.resolve(words[i]))) {
          missing.add(dockerfile + ": COPY source " + words[i]);
        }
      }
    }
    return destinations;
  }

  private static List<String> words(Object... values) {
    List<String> out = new ArrayList<>();
    for (Object value : values) {
      if (value instanceof List<?> list) {
        list.forEach(v -> out.add(v.toString()));
      } else if (value != null) {
        out.addAll(List.of(value.toString().split("\\s+")));
      }
    }
    return out;
  }
}
