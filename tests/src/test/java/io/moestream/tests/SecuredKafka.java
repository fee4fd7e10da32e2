package io.moestream.tests;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node broker (KRaft, in this JVM) with a SASL_SSL listener: PLAIN authentication of
 * one user over TLS with a self-signed certificate made here by the JDK's keytool. The test kit's own
 * listeners (broker and controller) stay plaintext for the broker's internal traffic; clients of the
 * secured cluster use {@link #bootstrapServers()}, the SASL_SSL one.
 */
final class SecuredKafka implements AutoCloseable {
  static final String USER = "moestream";
  private static final String LISTENER = "SECURE";
  private static final String STORE_PASSWORD = "store-pw-" + Long.toHexString(System.nanoTime());

  private final KafkaClusterTestKit cluster;
  private final Path truststore;

  private SecuredKafka(KafkaClusterTestKit cluster, Path truststore) {
    this.cluster = cluster;
    this.truststore = truststore;
  }

  /**
   * Makes the certificate (in {@code dir}) and starts the broker; {@code password} is the only one
   * the SASL_SSL listener accepts for {@link #USER}.
   */
  static SecuredKafka start(Path dir, String password) throws Exception {
    Path keystore = dir.resolve("broker.p12");
    Path certificate = dir.resolve("broker.pem");
    Path truststore = dir.resolve("truststore.p12");
    keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
        "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", STORE_PASSWORD);
    keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", keystore.toString(),
        "-storepass", STORE_PASSWORD, "-file", certificate.toString());
    keytool("-importcert", "-noprompt", "-alias", "broker", "-file", certificate.toString(),
        "-keystore", truststore.toString(), "-storetype", "PKCS12", "-storepass", STORE_PASSWORD);

    String broker = "INTERNAL";
    String controller = "CONTROLLER";
    String prefix = "listener.name." + LISTENER.toLowerCase(java.util.Locale.ROOT) + ".";
    Map<String, String> props = new HashMap<>(Map.of(
        "offsets.topic.replication.factor", "1",
        "offsets.topic.num.partitions", "1",
        "transaction.state.log.replication.factor", "1",
        "transaction.state.log.min.isr", "1",
        "transaction.state.log.num.partitions", "1",
        "group.initial.rebalance.delay.ms", "0",
        "auto.create.topics.enable", "false"));
    props.put("listeners", broker + "://localhost:0," + controller + "://localhost:0," + LISTENER + "://localhost:0");
    props.put("listener.security.protocol.map", broker + ":PLAINTEXT," + controller + ":PLAINTEXT," + LISTENER + ":SASL_SSL");
    props.put(prefix + "sasl.enabled.mechanisms", "PLAIN");
    props.put(prefix + "plain.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required"
        + " username=\"broker\" password=\"broker-pw\" user_broker=\"broker-pw\" user_" + USER + "=\"" + password + "\";");
    props.put(prefix + "ssl.keystore.location", keystore.toString());
    props.put(prefix + "ssl.keystore.password", STORE_PASSWORD);
    props.put(prefix + "ssl.keystore.type", "PKCS12");
    KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setCombined(true)
        .setNumBrokerNodes(1).setNumControllerNodes(1)
        .setBrokerListenerName(ListenerName.normalised(broker)).setControllerListenerName(ListenerName.normalised(controller))
        .setPerServerProperties(Map.of(0, props)).build()).build();
    PrintStream stdout = System.out;
    try {
      System.setOut(System.err); // the test kit's formatting notice
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
    } catch (Exception e) {
      cluster.close();
      throw e;
    } finally {
      System.setOut(stdout);
    }
    return new SecuredKafka(cluster, truststore);
  }

  /** The SASL_SSL listener. */
  String bootstrapServers() {
    int port = cluster.brokers().values().iterator().next().boundPort(ListenerName.normalised(LISTENER));
    return "localhost:" + port;
  }

  /** What a client of the SASL_SSL listener needs, as Kafka client properties; {@code password} as given. */
  Map<String, String> clientProperties(String password) {
    return Map.of(
        "security.protocol", "SASL_SSL",
        "sasl.mechanism", "PLAIN",
        "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + USER
            + "\" password=\"" + password + "\";",
        "ssl.truststore.location", truststore.toString(),
        "ssl.truststore.password", STORE_PASSWORD,
        "ssl.truststore.type", "PKCS12");
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("keytool " + args[0] + " failed: " + output);
    }
  }

  @Override
  public void close() throws Exception {
    cluster.close();
  }
}
