package io.moestream.operators.codec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * The wire format of every topic: plain Avro binary of one record per Kafka value, written with the
 * schema in schemas/src/main/avro (no schema registry header, no single-object header).
 *
 * <p>Plain binary carries no schema, so a record written with an older version of the schema
 * ({@link OlderSchemas}) is read by trying the current schema first and then each older one as the
 * writer's schema, with Avro's schema resolution filling the fields it lacks from their defaults.
 */
public final class AvroCodec<T extends SpecificRecordBase> {
  /** Elements of one array or map a decoded record may hold unless told otherwise (token ids included). */
  public static final long DEFAULT_MAX_ITEMS = 1 << 20;

  private final Class<T> type;
  private final SpecificDatumWriter<T> writer;
  private final SpecificDatumReader<T> reader;
  private final AvroBounds bounds;
  /** Readers (and bounds) for bytes written with an older schema, tried in order after the current one. */
  private final List<SpecificDatumReader<T>> olderReaders = new ArrayList<>();
  private final List<AvroBounds> olderBounds = new ArrayList<>();

  public AvroCodec(Class<T> type) {
    this(type, DEFAULT_MAX_ITEMS);
  }

  /** @param maxItems the most elements of one array or map {@link #decode} lets Avro's reader allocate */
  public AvroCodec(Class<T> type, long maxItems) {
    this.type = type;
    this.writer = new SpecificDatumWriter<>(type);
    this.reader = new SpecificDatumReader<>(type);
    this.bounds = new AvroBounds(reader.getSchema(), maxItems);
    for (Schema writerSchema : OlderSchemas.of(type)) {
      olderReaders.add(new SpecificDatumReader<>(writerSchema, reader.getSchema()));
      olderBounds.add(new AvroBounds(writerSchema, maxItems));
    }
  }

  /** The schema records are written with (and read into). */
  public Schema schema() {
    return reader.getSchema();
  }

  public byte[] encode(T record) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
    try {
      writer.write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Decodes one record; trailing bytes are an error too (a value holding more than one record, or a
   * different schema's bytes that happen to parse). The bytes are walked by {@link AvroBounds} first:
   * Avro's reader allocates whatever a length prefix says.
   *
   * @throws IllegalArgumentException with a readable reason when the bytes are not one {@code T}
   */
  public T decode(byte[] value) {
    if (value == null) {
      throw new IllegalArgumentException("the record has no value");
    }
    try {
      return decode(value, bounds, reader);
    } catch (IllegalArgumentException current) {
      for (int i = 0; i < olderReaders.size(); i++) {
        try {
          return decode(value, olderBounds.get(i), olderReaders.get(i));
        } catch (IllegalArgumentException older) {
          // not that version either; the current schema's reason is the one to report
        }
      }
      throw current;
    }
  }

  /** One record of {@code walk}'s schema, read by {@code with}; {@link RegistryAvroCodec} passes the writer's. */
  T decode(byte[] value, AvroBounds walk, SpecificDatumReader<T> with) {
    try {
      walk.check(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a valid Avro " + type.getSimpleName() + ": " + e.getMessage());
    }
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(value, null);
    T record;
    try {
      record = with.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new IllegalArgumentException("not a " + type.getSimpleName() + ": bytes left over after the record");
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae && iae.getMessage() != null
          && iae.getMessage().startsWith("not a ")) {
        throw iae;
      }
      throw new IllegalArgumentException("not a valid Avro " + type.getSimpleName() + ": " + describe(e), e);
    }
    return record;
  }

  private static String describe(Exception e) {
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
  }
}
