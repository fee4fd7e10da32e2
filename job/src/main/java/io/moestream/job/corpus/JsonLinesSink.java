package io.moestream.job.corpus;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Writes each record as one JSON line to its own file per subtask and attempt, handing every line to
 * the operating system as it comes (one unbuffered write per record): a run that is killed keeps each
 * record it finished, with at most its last line cut short. No checkpoints are involved; reruns and
 * restarts skip what is already written ({@link SkipFinishedFunction}), which is what makes each
 * record appear once.
 */
final class JsonLinesSink<T> implements Sink<T> {
  private static final long serialVersionUID = 1L;

  /** A record as one line of JSON, without the newline. */
  interface LineFormat<T> extends Serializable {
    String line(T record);
  }

  private final String dir;
  private final String kind;
  private final String runId;
  private final LineFormat<T> format;

  JsonLinesSink(Path dir, String kind, String runId, LineFormat<T> format) {
    this.dir = dir.toString();
    this.kind = kind;
    this.runId = runId;
    this.format = format;
  }

  @Override
  public SinkWriter<T> createWriter(WriterInitContext context) {
    Path file = Path.of(dir).resolve(CorpusOutput.fileName(kind, runId, context.getTaskInfo().getIndexOfThisSubtask(),
        context.getTaskInfo().getAttemptNumber()));
    return new Writer<>(file, format);
  }

  private static final class Writer<T> implements SinkWriter<T> {
    private final Path file;
    private final LineFormat<T> format;
    private OutputStream out;

    Writer(Path file, LineFormat<T> format) {
      this.file = file;
      this.format = format;
    }

    @Override
    public void write(T record, Context context) throws IOException {
      if (out == null) { // created with the first record: a subtask with nothing to write leaves no file
        Files.createDirectories(file.getParent());
        out = new FileOutputStream(file.toFile(), true);
      }
      out.write((format.line(record) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
      if (out != null) {
        out.flush();
      }
    }

    @Override
    public void close() throws IOException {
      if (out != null) {
        out.close();
      }
    }
  }
}
