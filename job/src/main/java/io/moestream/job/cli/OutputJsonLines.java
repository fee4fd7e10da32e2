package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.FramingHints;
import io.moestream.operators.codec.GenerationJson;
import io.moestream.operators.codec.RegistryAvroCodec;
import io.moestream.operators.codec.WireFormat;
import io.moestream.operators.registry.RegistrySettings;
import io.moestream.operators.registry.SchemaRegistryClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * Output-topic values (generations or dead letters) as JSON lines, for consume: in the given wire
 * format, or, with none given, in the one each value looks like: '{' (after whitespace) is JSON; magic byte 0x00 with a
 * registry given is registry-framed (plain Avro when that fails: a plain dead letter without a
 * request id starts with 0x00 too); anything else plain Avro.
 */
final class OutputJsonLines<T extends SpecificRecordBase> {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final WireFormat format;
  private final AvroCodec<T> avro;
  private final RegistryAvroCodec<T> registry;

  /**
   * @param format null: detect per value
   * @param registry null: no registry (registry-framed values cannot be read)
   */
  OutputJsonLines(Class<T> type, WireFormat format, RegistrySettings registry) {
    if (format == WireFormat.AVRO_REGISTRY && registry == null) {
      throw new IllegalArgumentException("--format avro-registry needs --schema-registry-url");
    }
    this.format = format;
    this.avro = new AvroCodec<>(type);
    this.registry = registry == null ? null
        : new RegistryAvroCodec<>(type, AvroCodec.DEFAULT_MAX_ITEMS, new SchemaRegistryClient(registry));
  }

  /** @throws IllegalArgumentException when {@code value} is not a record in the format */
  String line(byte[] value, String topic) {
    WireFormat as = format != null ? format : detect(value);
    return switch (as) {
      case JSON -> json(value);
      case AVRO -> GenerationJson.toJson(avro.decode(value));
      case AVRO_REGISTRY -> {
        if (format != null) {
          yield GenerationJson.toJson(registry.decode(value, topic + "-value"));
        }
        try {
          yield GenerationJson.toJson(registry.decode(value, topic + "-value"));
        } catch (IllegalArgumentException notFramed) {
          yield GenerationJson.toJson(avro.decode(value));
        }
      }
    };
  }

  private WireFormat detect(byte[] value) {
    if (value != null && FramingHints.looksLikeJson(value)) {
      return WireFormat.JSON;
    }
    return registry != null && RegistryAvroCodec.schemaId(value) >= 0 ? WireFormat.AVRO_REGISTRY : WireFormat.AVRO;
  }

  /** The value itself, checked to be one JSON object and printed on one line. */
  private static String json(byte[] value) {
    try {
      var tree = JSON.readTree(new String(value, StandardCharsets.UTF_8));
      if (tree == null || !tree.isObject()) {
        throw new IllegalArgumentException("not a JSON object");
      }
      return tree.toString();
    } catch (IOException e) {
      throw new IllegalArgumentException("not valid JSON: " + e.getMessage());
    }
  }
}
