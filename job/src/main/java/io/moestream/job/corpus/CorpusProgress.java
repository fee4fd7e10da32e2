package io.moestream.job.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The progress of a run, read from what it has written (decoupled from the operators): tails this
 * run's output files, counts their whole lines and the generated tokens, and formats
 * {@code done/total, tokens per second, time left}. On a terminal the line is redrawn in place; else
 * {@link #print} is meant to be called every few seconds and writes plain lines.
 */
public final class CorpusProgress {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final Path dir;
  private final String runId;
  private final long total;
  private final long doneBefore;
  private final long startNanos;
  private final Map<Path, Long> offsets = new HashMap<>();
  private long generations;
  private long deadLetters;
  private long tokens;

  /**
   * @param total the input's records
   * @param doneBefore those the output held before this run
   */
  public CorpusProgress(Path dir, String runId, long total, long doneBefore) {
    this.dir = dir;
    this.runId = runId;
    this.total = total;
    this.doneBefore = doneBefore;
    this.startNanos = System.nanoTime();
  }

  /** Reads the whole lines this run's files gained since the last poll. */
  public void poll() {
    if (!Files.isDirectory(dir)) {
      return;
    }
    for (Path file : CorpusOutput.outputFiles(dir)) {
      if (CorpusOutput.isOfRun(file, runId)) {
        tail(file);
      }
    }
  }

  private void tail(Path file) {
    long offset = offsets.getOrDefault(file, 0L);
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long length = in.length();
      if (length <= offset) {
        return;
      }
      byte[] bytes = new byte[(int) Math.min(length - offset, 64L << 20)];
      in.seek(offset);
      in.readFully(bytes);
      int end = CorpusOutput.lastNewline(bytes) + 1;
      boolean isGenerations = CorpusOutput.isGenerations(file);
      for (String line : new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n")) {
        if (line.isBlank()) {
          continue;
        }
        if (isGenerations) {
          generations++;
          tokens += completionTokens(line);
        } else {
          deadLetters++;
        }
      }
      offsets.put(file, offset + end);
    } catch (IOException e) {
      // a file being created or rotated: read it at the next poll
    }
  }

  private static long completionTokens(String line) {
    try {
      JsonNode node = MAPPER.readTree(line);
      return node.path("completion_tokens").asLong();
    } catch (IOException e) {
      return 0;
    }
  }

  public long doneThisRun() {
    return generations + deadLetters;
  }

  public long generations() {
    return generations;
  }

  public long deadLetters() {
    return deadLetters;
  }

  public long tokens() {
    return tokens;
  }

  /** e.g. {@code corpus: 120/500 (24.0%) | 35.1 tok/s | 2.3 rec/s | 2m45s left | 3 dead letters} */
  public String line() {
    double seconds = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
    long done = doneBefore + doneThisRun();
    long left = Math.max(0, total - done);
    double recordsPerSecond = doneThisRun() / seconds;
    StringBuilder s = new StringBuilder("corpus: ").append(done).append('/').append(total)
        .append(String.format(" (%.1f%%)", total == 0 ? 100.0 : 100.0 * done / total))
        .append(String.format(" | %.1f tok/s", tokens / seconds))
        .append(String.format(" | %.2f rec/s", recordsPerSecond))
        .append(" | ").append(left == 0 ? "0s" : recordsPerSecond > 0 ? duration(left / recordsPerSecond) : "?")
        .append(" left");
    if (deadLetters > 0) {
      s.append(" | ").append(deadLetters).append(" dead letters");
    }
    return s.toString();
  }

  /** Polls and prints: in place ({@code \r}, line cleared) on a terminal, else as a line of its own. */
  public void print(PrintStream err, boolean terminal) {
    poll();
    if (terminal) {
      err.print("\r" + line() + "\u001b[K");
    } else {
      err.println(line());
    }
    err.flush();
  }

  static String duration(double seconds) {
    long s = Math.round(seconds);
    if (s >= 3600) {
      return String.format("%dh%02dm", s / 3600, (s % 3600) / 60);
    }
    if (s >= 60) {
      return String.format("%dm%02ds", s / 60, s % 60);
    }
    return s + "s";
  }

  /** Whether stderr is a terminal: where /proc tells (Linux), else whether the JVM has a console. */
  public static boolean stderrIsTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (IOException | UnsupportedOperationException e) {
      return System.console() != null;
    }
  }
}
