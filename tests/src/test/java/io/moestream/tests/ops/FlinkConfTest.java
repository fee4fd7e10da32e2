package io.moestream.tests.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExternalResourceOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.metrics.prometheus.PrometheusReporterFactory;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.junit.jupiter.api.Test;

/**
 * The Flink configuration the stack mounts, read by Flink's own parser and options: the Prometheus
 * reporter (on the port Prometheus scrapes), the GPU external resource, the JVM options, memory
 * that Flink accepts, and the REST port the compose file publishes.
 */
class FlinkConfTest {
  static final ConfigOption<String> REPORTER_FACTORY =
      ConfigOptions.key("metrics.reporter.prom.factory.class").stringType().noDefaultValue();
  static final ConfigOption<Integer> REPORTER_PORT =
      ConfigOptions.key("metrics.reporter.prom.port").intType().noDefaultValue();
  static final ConfigOption<String> DISCOVERY_SCRIPT =
      ConfigOptions.key("external-resource.gpu.param.discovery-script.path").stringType().noDefaultValue();

  private final ComposeStack stack = ComposeStack.load();
  private final Configuration conf = load(stack);

  static Configuration load(ComposeStack stack) {
    Path dir = stack.dir.resolve("flink/conf");
    assertTrue(Files.isRegularFile(dir.resolve("config.yaml")), "Flink 2 reads conf/config.yaml");
    return GlobalConfiguration.loadConfiguration(dir.toString());
  }

  @Test
  void prometheusReporterIsConfigured() {
    assertEquals(PrometheusReporterFactory.class.getName(), conf.get(REPORTER_FACTORY));
    assertEquals(9249, conf.get(REPORTER_PORT));
  }

  @Test
  void gpuIsAnExternalResourceWithFlinksDriver() throws Exception {
    assertEquals(List.of("gpu"), conf.get(ExternalResourceOptions.EXTERNAL_RESOURCE_LIST));
    assertEquals(1L, conf.get(ConfigOptions.key(ExternalResourceOptions.getAmountConfigOptionForResource("gpu"))
        .longType().noDefaultValue()));
    assertEquals("org.apache.flink.externalresource.gpu.GPUDriverFactory",
        conf.get(ConfigOptions.key(ExternalResourceOptions.getExternalResourceDriverFactoryConfigOptionForResource("gpu"))
            .stringType().noDefaultValue()));
    String script = conf.get(DISCOVERY_SCRIPT);
    assertEquals("/opt/flink/plugins/external-resource-gpu/nvidia-gpu-discovery.sh", script);
    assertTrue(Files.readString(stack.dir.resolve("flink/Dockerfile")).contains("test -x " + script),
        "the image build checks that the discovery script is where the configuration says");
    // one GPU per TaskManager and one slot: each inference subtask gets a GPU of its own
    assertEquals(1, conf.get(TaskManagerOptions.NUM_TASK_SLOTS));
  }

  @Test
  void everyJvmGetsTheVectorApiAndTheJdk17Opens() {
    String opts = conf.get(CoreOptions.FLINK_JVM_OPTIONS);
    List<String> flags = List.of(opts.split("\\s+"));
    assertTrue(flags.contains("--add-modules=jdk.incubator.vector"), opts);
    assertTrue(flags.contains("--add-opens=java.base/java.util=ALL-UNNAMED"), opts);
    assertTrue(flags.contains("--add-opens=java.base/java.nio=ALL-UNNAMED"), opts);
  }

  /** Flink derives both processes' memory from the file without complaint; the task heap holds the KV cache. */
  @Test
  void memoryConfigurationIsAccepted() {
    TaskExecutorProcessSpec tm = TaskExecutorProcessUtils.processSpecFromConfig(conf);
    assertEquals(0, tm.getManagedMemorySize().getBytes(), "no managed memory: state is on the heap");
    long kvCacheMb = Long.parseLong(ComposeStack.jobDefault("model", "kv_cache_mb"));
    assertTrue(tm.getTaskHeapSize().getMebiBytes() >= 16 * kvCacheMb,
        "the task heap (" + tm.getTaskHeapSize() + ") holds the KV cache with room for larger ones");
    assertTrue(tm.getExtendedResources().containsKey("gpu"), "the GPU is part of the TaskManager's resources");
    JobManagerProcessUtils.processSpecFromConfig(conf);
  }

  /** The compose file publishes the REST port, and the JobManager listens beyond loopback. */
  @Test
  void restPortIsPublished() throws Exception {
    assertEquals("0.0.0.0", conf.get(RestOptions.BIND_ADDRESS));
    assertEquals("jobmanager", conf.get(RestOptions.ADDRESS));
    int port = conf.get(RestOptions.PORT);
    assertTrue(((List<?>) stack.service("jobmanager").get("ports")).contains("127.0.0.1:" + port + ":" + port));
    assertTrue(Files.readString(stack.dir.resolve("flink/submit.sh")).contains("rest=${FLINK_REST_ADDRESS:-jobmanager:" + port + "}"));
  }

  /** Prometheus scrapes the JobManager and every TaskManager on the reporter's port. */
  @Test
  @SuppressWarnings("unchecked")
  void prometheusScrapesTheReportersPort() throws Exception {
    int port = conf.get(REPORTER_PORT);
    Map<String, Object> prometheus = PrometheusConfig.read(stack.dir.resolve("prometheus/prometheus.yml"));
    boolean jobManager = false;
    boolean taskManagers = false;
    for (Map<String, Object> job : (List<Map<String, Object>>) prometheus.get("scrape_configs")) {
      for (Map<String, Object> s : (List<Map<String, Object>>) job.getOrDefault("static_configs", List.of())) {
        for (Object target : (List<Object>) s.get("targets")) {
          jobManager |= target.equals("jobmanager:" + port);
        }
      }
      for (Map<String, Object> dns : (List<Map<String, Object>>) job.getOrDefault("dns_sd_configs", List.of())) {
        taskManagers |= ((List<Object>) dns.get("names")).contains("taskmanagers") && Integer.valueOf(port).equals(dns.get("port"));
      }
    }
    assertTrue(jobManager, "a static target jobmanager:" + port);
    assertTrue(taskManagers, "a dns_sd_config for the 'taskmanagers' alias on port " + port);
    PrometheusConfig.check(stack.dir.resolve("prometheus/prometheus.yml"));
  }
}
