package io.moestream.job.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.RequestJson;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.schemas.InferenceRequest;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * The records of one input file, read lazily in file order. Text and JSONL: one record per non-blank
 * line (blank lines are skipped but counted, so line numbers are the file's). A line that is not a
 * request (bad JSON, a field the job rejects) is still a record: the decode/validate stage dead-letters
 * it with its reason. Input that cannot be read at all (not UTF-8, not an Avro container of requests)
 * throws {@link CorpusInputException} naming the file and line. Closes itself when exhausted.
 */
public final class CorpusReader implements Iterator<CorpusRecord>, Closeable {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final String name;
  private final CorpusFormat format;
  private final PromptDefaults defaults;
  private final InputStream lines;
  private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
  private final ByteArrayOutputStream lineBytes = new ByteArrayOutputStream(256);
  private final DataFileReader<InferenceRequest> avro;
  private final AvroCodec<InferenceRequest> codec;
  /** Lines (or Avro records) consumed so far; the last record's line number. */
  private long position;
  /** Records handed out so far. */
  private long emitted;
  private CorpusRecord next;
  private boolean closed;

  /** Opens {@code path} and skips its first {@code skip} records (already emitted before a restore). */
  public CorpusReader(Path path, String name, CorpusFormat format, PromptDefaults defaults, long skip) {
    this.name = name;
    this.format = format;
    this.defaults = defaults;
    try {
      if (format == CorpusFormat.AVRO) {
        lines = null;
        codec = new AvroCodec<>(InferenceRequest.class);
        avro = openAvro(path);
      } else {
        avro = null;
        codec = null;
        lines = new BufferedInputStream(Files.newInputStream(path), 1 << 16);
      }
    } catch (IOException e) {
      throw new CorpusInputException(name, 0, "cannot open: " + e.getMessage(), e);
    }
    while (skip-- > 0 && hasNext()) {
      next();
    }
    emitted = 0;
  }

  private DataFileReader<InferenceRequest> openAvro(Path path) throws IOException {
    try {
      return new DataFileReader<>(path.toFile(), new SpecificDatumReader<>(InferenceRequest.class));
    } catch (IOException | RuntimeException e) {
      throw new CorpusInputException(name, 0, "not an Avro container file of InferenceRequest records ("
          + e.getMessage() + ")", e);
    }
  }

  /** Records handed out since the skipped ones: the split resumes at its skip plus these. */
  long emitted() {
    return emitted;
  }

  String name() {
    return name;
  }

  @Override
  public boolean hasNext() {
    if (next == null && !closed) {
      next = format == CorpusFormat.AVRO ? readAvro() : readLine();
      if (next == null) {
        close();
      }
    }
    return next != null;
  }

  @Override
  public CorpusRecord next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    CorpusRecord record = next;
    next = null;
    emitted++;
    return record;
  }

  private CorpusRecord readLine() {
    String line;
    do {
      byte[] bytes;
      try {
        bytes = nextLineBytes();
      } catch (IOException e) {
        throw new CorpusInputException(name, position + 1, "cannot read: " + e.getMessage(), e);
      }
      if (bytes == null) {
        return null;
      }
      position++;
      try {
        line = utf8.decode(ByteBuffer.wrap(bytes)).toString();
        if (position == 1 && line.startsWith("\uFEFF")) { // a byte order mark is not part of the first record
          line = line.substring(1);
        }
      } catch (CharacterCodingException e) {
        throw new CorpusInputException(name, position, "not UTF-8 text", e);
      }
    } while (line.isBlank());
    return format == CorpusFormat.TEXT ? textRecord(line) : jsonRecord(line);
  }

  /** The next line's bytes without its line end (LF or CRLF), or null at the end of the file. */
  private byte[] nextLineBytes() throws IOException {
    lineBytes.reset();
    int b = lines.read();
    if (b < 0) {
      return null;
    }
    while (b >= 0 && b != '\n') {
      lineBytes.write(b);
      b = lines.read();
    }
    byte[] bytes = lineBytes.toByteArray();
    int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
    return length == bytes.length ? bytes : java.util.Arrays.copyOf(bytes, length);
  }

  private CorpusRecord textRecord(String prompt) {
    String key = CorpusRecord.locationKey(name, position);
    byte[] value = RequestJson.toJson(defaults.request(key, prompt)).getBytes(StandardCharsets.UTF_8);
    return new CorpusRecord(key, value, name, position);
  }

  /**
   * A JSON line as the job's JSON request format; a line without request_id gets {@code FILE:LINE}.
   * The key is the request id when the line decodes as a request, else {@code FILE:LINE} (the dead
   * letter of a line that does not decode carries no request id, only its file and line).
   */
  private CorpusRecord jsonRecord(String line) {
    String location = CorpusRecord.locationKey(name, position);
    byte[] value = line.getBytes(StandardCharsets.UTF_8);
    try {
      JsonNode tree = MAPPER.readTree(line);
      if (tree instanceof ObjectNode object && !object.has("request_id")) {
        object.put("request_id", location);
        value = MAPPER.writeValueAsBytes(object);
      }
      // keyed as its dead letter would carry the id (cut when over-long), so a rerun finds it
      return new CorpusRecord(DeadLetters.requestId(RequestJson.parse(value).getRequestId()), value, name, position);
    } catch (IOException | IllegalArgumentException e) {
      return new CorpusRecord(location, value, name, position);
    }
  }

  private CorpusRecord readAvro() {
    try {
      if (!avro.hasNext()) {
        return null;
      }
      InferenceRequest request = avro.next();
      position++;
      return new CorpusRecord(DeadLetters.requestId(request.getRequestId()), codec.encode(request), name, position);
    } catch (RuntimeException e) {
      throw new CorpusInputException(name, position + 1, "unreadable Avro record (" + e.getMessage() + ")", e);
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (lines != null) {
        lines.close();
      }
      if (avro != null) {
        avro.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
