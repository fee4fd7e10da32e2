package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.job.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandConfigOptionTest {
  @TempDir Path tmp;

  @Test
  void readsAPropertiesFileWithEnvironmentReferences() throws Exception {
    CommandConfigOption option = option("client.properties", String.join("\n", "# as kafka-console-producer takes it",
        "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512",
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\",
        "    username=\"moestream\" password=\"${KAFKA_PASSWORD}\";", ""));
    var p = option.properties(Map.of("KAFKA_PASSWORD", "pw1"));
    assertEquals("SASL_SSL", p.values().get("security.protocol"));
    assertEquals("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"moestream\""
        + " password=\"pw1\";", p.values().get("sasl.jaas.config"));
    assertTrue(new CommandConfigOption().properties(Map.of()).isEmpty(), "no option, no properties");
  }

  @Test
  void errorsNameTheFileAndTheProperty() throws Exception {
    CommandConfigOption owned = option("owned.properties", "group.id=mine\n");
    ConfigException e = assertThrows(ConfigException.class, () -> owned.properties(Map.of()));
    assertEquals("configuration field '--command-config " + tmp.resolve("owned.properties")
        + ": group.id': cannot be set here: it is --group-id", e.getMessage());
    CommandConfigOption unset = option("unset.properties", "ssl.key.password=${NOT_SET_HERE}\n");
    e = assertThrows(ConfigException.class, () -> unset.properties(Map.of()));
    assertTrue(e.getMessage().contains("ssl.key.password': refers to the environment variable NOT_SET_HERE"),
        e.getMessage());
    CommandConfigOption missing = new CommandConfigOption();
    missing.file = tmp.resolve("absent.properties");
    e = assertThrows(ConfigException.class, () -> missing.properties(Map.of()));
    assertTrue(e.getMessage().endsWith("absent.properties': no such file"), e.getMessage());
  }

  private CommandConfigOption option(String name, String text) throws Exception {
    CommandConfigOption option = new CommandConfigOption();
    option.file = Files.writeString(tmp.resolve(name), text);
    return option;
  }
}
