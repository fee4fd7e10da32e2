package io.moestream.operators.codec;

import io.moestream.operators.registry.SchemaRegistryClient;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * The Confluent Schema Registry wire format: magic byte 0x00, the writer schema's id (4 bytes, big
 * endian), then Avro binary written with that schema.
 *
 * <p>Reading looks the writer schema up by its id (once per id: cached) and decodes with Avro's schema
 * resolution from it to ours, so a producer may evolve its schema compatibly (add fields with
 * defaults, drop fields ours has defaults for). {@link AvroBounds} walks the bytes over the WRITER
 * schema first: that is the layout the bytes have. An id the registry does not know, or a writer
 * schema that does not resolve against ours, is an {@link IllegalArgumentException} naming the id.
 */
public final class RegistryAvroCodec<T extends SpecificRecordBase> {
  public static final byte MAGIC_BYTE = 0;
  public static final int HEADER_BYTES = 5;
  /** Ids remembered, resolved or refused; a stream of made-up ids must not grow the heap without end. */
  static final int MAX_CACHED_IDS = 1024;

  private final AvroCodec<T> codec;
  private final Schema readerSchema;
  private final long maxItems;
  private final SchemaRegistryClient registry;
  private final Map<Integer, Resolution<T>> byId = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Integer, Resolution<T>> eldest) {
      return size() > MAX_CACHED_IDS;
    }
  };

  /** How records written with one schema id are read: a reader and bounds, or why they cannot be. */
  private record Resolution<T>(SpecificDatumReader<T> reader, AvroBounds bounds, String refusal) {}

  public RegistryAvroCodec(Class<T> type, long maxItems, SchemaRegistryClient registry) {
    this.codec = new AvroCodec<>(type, maxItems);
    this.readerSchema = codec.schema();
    this.maxItems = maxItems;
    this.registry = registry;
  }

  /** The value for {@code record}, written with our schema, registered under {@code schemaId}. */
  public byte[] encode(T record, int schemaId) {
    return frame(schemaId, codec.encode(record));
  }

  /** {@code avro} behind the header of {@code schemaId}. */
  public static byte[] frame(int schemaId, byte[] avro) {
    return ByteBuffer.allocate(HEADER_BYTES + avro.length).put(MAGIC_BYTE).putInt(schemaId).put(avro).array();
  }

  /** The schema id of a registry-framed value; -1 when {@code value} does not start with the header. */
  public static long schemaId(byte[] value) {
    if (value == null || value.length < HEADER_BYTES || value[0] != MAGIC_BYTE) {
      return -1;
    }
    return Integer.toUnsignedLong(ByteBuffer.wrap(value, 1, 4).getInt());
  }

  /**
   * @param subject the subject the value's schema should be under, named in errors
   * @throws IllegalArgumentException when the value is not framed, its id is unknown or does not
   *     resolve against our schema, or the bytes are not a record of the writer schema
   * @throws io.moestream.operators.registry.SchemaRegistryException when the registry cannot be asked
   */
  public T decode(byte[] value, String subject) {
    if (value == null) {
      throw new IllegalArgumentException("the record has no value");
    }
    long id = schemaId(value);
    if (id < 0) {
      throw new IllegalArgumentException(value.length < HEADER_BYTES
          ? "not registry-framed: " + value.length + " bytes, shorter than the 5-byte header (magic byte 0x00, schema id)"
          : String.format("not registry-framed: the first byte is 0x%02x, not the magic byte 0x00", value[0] & 0xff));
    }
    Resolution<T> resolution = resolve((int) id, subject);
    if (resolution.refusal() != null) {
      throw new IllegalArgumentException(resolution.refusal());
    }
    byte[] avro = Arrays.copyOfRange(value, HEADER_BYTES, value.length);
    try {
      return codec.decode(avro, resolution.bounds(), resolution.reader());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("schema id " + id + ": " + e.getMessage(), e);
    }
  }

  private Resolution<T> resolve(int id, String subject) {
    Resolution<T> known = byId.get(id);
    if (known != null) {
      return known;
    }
    Resolution<T> resolution;
    try {
      resolution = resolution(id, registry.schemaById(id));
    } catch (IllegalArgumentException unknown) {
      resolution = new Resolution<>(null, null, unknown.getMessage() + " (subject " + subject + ")");
    }
    byId.put(id, resolution);
    return resolution;
  }

  private Resolution<T> resolution(int id, Schema writer) {
    SchemaCompatibility.SchemaPairCompatibility pair =
        SchemaCompatibility.checkReaderWriterCompatibility(readerSchema, writer);
    if (pair.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      String why = pair.getResult().getIncompatibilities().stream()
          .map(i -> i.getType() + " at " + i.getLocation() + (i.getMessage() == null ? "" : ": " + i.getMessage()))
          .reduce((a, b) -> a + "; " + b).orElse(pair.getDescription());
      return new Resolution<>(null, null, "schema id " + id + " (" + writer.getFullName() + ") does not resolve"
          + " against ours (" + readerSchema.getFullName() + "): " + why);
    }
    return new Resolution<>(new SpecificDatumReader<>(writer, readerSchema), new AvroBounds(writer, maxItems), null);
  }
}
