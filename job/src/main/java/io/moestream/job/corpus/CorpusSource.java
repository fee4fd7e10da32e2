package io.moestream.job.corpus;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.lib.util.IteratorSourceEnumerator;
import org.apache.flink.api.connector.source.lib.util.IteratorSourceReader;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.runtime.execution.SuppressRestartsException;

/**
 * A bounded source over the corpus files: one split per file, handed to readers as they ask, each read
 * in file order. No Kafka and no extra connector: Flink's iterator source reader over
 * {@link CorpusReader}s.
 */
public final class CorpusSource implements Source<CorpusRecord, CorpusSplit, Collection<CorpusSplit>> {
  private static final long serialVersionUID = 1L;

  private final List<CorpusSplit> splits;

  public CorpusSource(List<CorpusFiles.InputFile> files, CorpusFormat format, PromptDefaults defaults) {
    List<CorpusSplit> list = new ArrayList<>();
    for (CorpusFiles.InputFile file : files) {
      list.add(new CorpusSplit(file.path().toString(), file.name(), format, defaults, 0));
    }
    this.splits = List.copyOf(list);
  }

  @Override
  public Boundedness getBoundedness() {
    return Boundedness.BOUNDED;
  }

  @Override
  public SourceReader<CorpusRecord, CorpusSplit> createReader(SourceReaderContext context) {
    return new Reader(context);
  }

  @Override
  public SplitEnumerator<CorpusSplit, Collection<CorpusSplit>> createEnumerator(
      SplitEnumeratorContext<CorpusSplit> context) {
    return new IteratorSourceEnumerator<>(context, splits);
  }

  @Override
  public SplitEnumerator<CorpusSplit, Collection<CorpusSplit>> restoreEnumerator(
      SplitEnumeratorContext<CorpusSplit> context, Collection<CorpusSplit> checkpoint) {
    return new IteratorSourceEnumerator<>(context, checkpoint);
  }

  @Override
  public SimpleVersionedSerializer<CorpusSplit> getSplitSerializer() {
    return CorpusSplit.Serializer.INSTANCE;
  }

  @Override
  public SimpleVersionedSerializer<Collection<CorpusSplit>> getEnumeratorCheckpointSerializer() {
    return new PendingSplitsSerializer();
  }

  /** Closes the file being read when the task ends before the file does (cancel, failure). */
  private static final class Reader extends IteratorSourceReader<CorpusRecord, CorpusReader, CorpusSplit> {
    Reader(SourceReaderContext context) {
      super(context);
    }

    /** Unreadable input fails the job at once: a restart would read the same bytes again. */
    @Override
    public InputStatus pollNext(ReaderOutput<CorpusRecord> output) {
      try {
        return super.pollNext(output);
      } catch (CorpusInputException e) {
        throw new SuppressRestartsException(e);
      }
    }

    @Override
    public void close() throws Exception {
      if (iterator != null) {
        iterator.close();
      }
      super.close();
    }
  }

  private static final class PendingSplitsSerializer implements SimpleVersionedSerializer<Collection<CorpusSplit>> {
    @Override
    public int getVersion() {
      return 2; // the splits' own version (CorpusSplit.Serializer)
    }

    @Override
    public byte[] serialize(Collection<CorpusSplit> pending) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeInt(pending.size());
        for (CorpusSplit split : pending) {
          CorpusSplit.Serializer.write(split, out);
        }
      }
      return bytes.toByteArray();
    }

    @Override
    public Collection<CorpusSplit> deserialize(int version, byte[] serialized) throws IOException {
      if (version != 1 && version != 2) {
        throw new IOException("unknown corpus enumerator checkpoint version " + version);
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        int n = in.readInt();
        List<CorpusSplit> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          list.add(CorpusSplit.Serializer.read(in, version));
        }
        return list;
      }
    }
  }
}
