package io.moestream.operators.codec;

import java.util.Arrays;
import java.util.Locale;

/**
 * How the records of one topic are written in Kafka values: the input, generations and dead-letter
 * topics each have one ({@code kafka.input_format}, {@code output_format}, {@code dead_letter_format}).
 */
public enum WireFormat {
  /** Plain Avro binary with the schemas of schemas/src/main/avro: no header, no schema id. */
  AVRO("avro"),
  /**
   * The Confluent Schema Registry wire format: magic byte 0x00, the writer schema's 4-byte id (big
   * endian), then Avro binary written with that schema ({@link RegistryAvroCodec}).
   */
  AVRO_REGISTRY("avro-registry"),
  /** One UTF-8 JSON object per value, with the Avro schemas' field names. */
  JSON("json");

  private final String configName;

  WireFormat(String configName) {
    this.configName = configName;
  }

  /** The name in the job configuration: avro, avro-registry or json. */
  public String configName() {
    return configName;
  }

  /** @throws IllegalArgumentException naming the known formats when {@code name} is none of them */
  public static WireFormat of(String name) {
    String wanted = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    for (WireFormat f : values()) {
      if (f.configName.equals(wanted)) {
        return f;
      }
    }
    throw new IllegalArgumentException("'" + name + "' is not a wire format (known: "
        + Arrays.stream(values()).map(WireFormat::configName).toList() + ")");
  }
}
