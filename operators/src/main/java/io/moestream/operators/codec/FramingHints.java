package io.moestream.operators.codec;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * What a value that failed to decode in the configured format looks like instead: a producer
 * writing registry-framed Avro, JSON or plain Avro to a topic configured for another format is the
 * usual reason. Only asked after the configured decoding failed: a value is never read in a format
 * other than the configured one.
 */
public final class FramingHints {
  private FramingHints() {}

  /** The reason for a dead letter: the hint first when there is one, then what the decoder said. */
  public static String reason(WireFormat configured, byte[] value, String decodeFailure) {
    String hint = hint(configured, value);
    return hint.isEmpty() ? decodeFailure
        : hint + " (decoding as " + configured.configName() + ": " + decodeFailure + ")";
  }

  /** The hint for {@code value}, which failed to decode as {@code configured}; "" when nothing tells. */
  public static String hint(WireFormat configured, byte[] value) {
    if (value == null || value.length == 0) {
      return "";
    }
    long schemaId = RegistryAvroCodec.schemaId(value);
    if (configured != WireFormat.AVRO_REGISTRY && schemaId >= 0) {
      return "magic byte 0x00 and a 4-byte schema id (" + schemaId + "): this looks registry-framed; set"
          + " kafka.input_format: avro-registry";
    }
    if (configured != WireFormat.JSON && looksLikeJson(value)) {
      return "this looks like JSON; set kafka.input_format: json";
    }
    if (configured == WireFormat.JSON && !isText(value)) {
      return "the value is not UTF-8 JSON text (it holds binary bytes): it may be Avro; set kafka.input_format: avro"
          + " (or avro-registry for values starting with the magic byte 0x00)";
    }
    if (configured == WireFormat.AVRO_REGISTRY && schemaId < 0) {
      return String.format("no magic byte 0x00 (the first byte is 0x%02x): this looks like plain Avro, not"
          + " registry-framed; set kafka.input_format: avro", value[0] & 0xff);
    }
    return "";
  }

  /** Starts, after JSON whitespace, with an object's brace. */
  public static boolean looksLikeJson(byte[] value) {
    for (byte b : value) {
      if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
        continue;
      }
      return b == '{';
    }
    return false;
  }

  /** Valid UTF-8 without control characters other than JSON's whitespace. */
  static boolean isText(byte[] value) {
    for (byte b : value) {
      if (b >= 0 && b < 0x20 && b != '\t' && b != '\n' && b != '\r') {
        return false;
      }
    }
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(value));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }
}
