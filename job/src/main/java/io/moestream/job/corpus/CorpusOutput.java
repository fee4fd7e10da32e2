package io.moestream.job.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.operators.codec.GenerationJson;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.Generation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The output directory: JSON lines files written by the sinks of each run, one per subtask and
 * attempt, never appended to by a later run:
 *
 * <pre>
 *   generations-RUN-S-A.jsonl    one Generation per line (request_id, text, token_ids, finish_reason, ...)
 *   dead-letters-RUN-S-A.jsonl   one rejected record per line (request_id or null, file, line, stage, reason, raw)
 * </pre>
 *
 * <p>A record is finished when a line with its key is in either kind of file. A run killed mid-write
 * leaves at most a truncated last line per file; {@link #finished} ignores it and, with {@code repair},
 * cuts it off so that every file holds whole lines only.
 */
public final class CorpusOutput {
  public static final String GENERATIONS = "generations";
  public static final String DEAD_LETTERS = "dead-letters";
  private static final String SUFFIX = ".jsonl";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private CorpusOutput() {}

  /** A new run's id: the UTC start time to the millisecond (file names sort by run). */
  public static String newRunId() {
    return ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'"));
  }

  static String fileName(String kind, String runId, int subtask, int attempt) {
    return kind + "-" + runId + "-" + subtask + "-" + attempt + SUFFIX;
  }

  static boolean isOutput(Path file) {
    String name = file.getFileName().toString();
    return name.endsWith(SUFFIX) && (name.startsWith(GENERATIONS + "-") || name.startsWith(DEAD_LETTERS + "-"));
  }

  static boolean isOfRun(Path file, String runId) {
    String name = file.getFileName().toString();
    return isOutput(file) && (name.startsWith(GENERATIONS + "-" + runId + "-") || name.startsWith(DEAD_LETTERS + "-" + runId + "-"));
  }

  static boolean isGenerations(Path file) {
    return file.getFileName().toString().startsWith(GENERATIONS + "-");
  }

  static String generationLine(Generation g) {
    return GenerationJson.toJson(g);
  }

  static String deadLetterLine(DeadLetter d) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("request_id", d.getRequestId());
    o.put("file", d.getTopic());
    o.put("line", d.getOffset());
    o.put("stage", d.getStage());
    o.put("reason", d.getReason());
    if (d.getRaw() != null) {
      ByteBuffer raw = d.getRaw().duplicate();
      byte[] bytes = new byte[raw.remaining()];
      raw.get(bytes);
      o.put("raw", new String(bytes, StandardCharsets.UTF_8));
    }
    if (d.getRawLength() != null) { // raw may be cut: the whole value's length and hash find the original
      o.put("raw_length", d.getRawLength());
      o.put("raw_sha256", d.getRawSha256());
    }
    return o.toString();
  }

  /** The key a line of either file marks finished: its request id, else its FILE:LINE. */
  static String keyOf(JsonNode line) {
    JsonNode id = line.get("request_id");
    if (id != null && id.isTextual()) {
      return id.asText();
    }
    return CorpusRecord.locationKey(line.path("file").asText(), line.path("line").asLong());
  }

  /** What the output directory holds. */
  public record Finished(Set<String> keys, long generations, long deadLetters, List<String> repaired) {}

  /** The finished keys of every output file in {@code dir} (none when it does not exist). */
  public static Finished finished(Path dir, boolean repair) {
    Set<String> keys = new HashSet<>();
    long generations = 0;
    long deadLetters = 0;
    List<String> repaired = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return new Finished(keys, 0, 0, repaired);
    }
    for (Path file : outputFiles(dir)) {
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read output file " + file + ": " + e.getMessage(), e);
      }
      int end = lastNewline(bytes) + 1;
      if (end < bytes.length && repair) {
        truncate(file, end);
        repaired.add(file.getFileName() + " (" + (bytes.length - end) + " bytes of an unfinished line)");
      }
      int lineNumber = 0;
      for (String line : new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n")) {
        lineNumber++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode node;
        try {
          node = MAPPER.readTree(line);
        } catch (IOException e) {
          throw new IllegalStateException("output file " + file + " line " + lineNumber + " is not JSON: "
              + "it was not written by corpus mode; move it out of the output directory", e);
        }
        if (keys.add(keyOf(node))) {
          if (isGenerations(file)) {
            generations++;
          } else {
            deadLetters++;
          }
        }
      }
    }
    return new Finished(keys, generations, deadLetters, repaired);
  }

  static List<Path> outputFiles(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(Files::isRegularFile).filter(CorpusOutput::isOutput).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list output directory " + dir + ": " + e.getMessage(), e);
    }
  }

  static int lastNewline(byte[] bytes) {
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private static void truncate(Path file, long size) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(size);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot cut the unfinished last line of " + file + ": " + e.getMessage(), e);
    }
  }
}
