package io.moestream.job.corpus;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import org.apache.flink.api.connector.source.lib.util.IteratorSourceSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * One input file as a source split: read whole by one reader, from record {@code skip} on (the records
 * before it were emitted before the split was handed back or snapshotted).
 */
public record CorpusSplit(String path, String name, CorpusFormat format, PromptDefaults defaults, long skip)
    implements IteratorSourceSplit<CorpusRecord, CorpusReader>, Serializable {
  private static final long serialVersionUID = 1L;


  @Override
  public String splitId() {
    return name;
  }

  @Override
  public CorpusReader getIterator() {
    return new CorpusReader(Path.of(path), name, format, defaults, skip);
  }

  @Override
  public IteratorSourceSplit<CorpusRecord, CorpusReader> getUpdatedSplitForIterator(CorpusReader reader) {
    return new CorpusSplit(path, name, format, defaults, skip + reader.emitted());
  }

  /** Splits as bytes: the enumerator hands them to readers and both snapshot them. */
  static final class Serializer implements SimpleVersionedSerializer<CorpusSplit> {
    static final Serializer INSTANCE = new Serializer();

    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(CorpusSplit split) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        write(split, out);
      }
      return bytes.toByteArray();
    }

    @Override
    public CorpusSplit deserialize(int version, byte[] serialized) throws IOException {
      if (version != 1) {
        throw new IOException("unknown corpus split version " + version);
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        return read(in);
      }
    }

    static void write(CorpusSplit split, DataOutputStream out) throws IOException {
      out.writeUTF(split.path);
      out.writeUTF(split.name);
      out.writeUTF(split.format.name());
      PromptDefaults d = split.defaults;
      out.writeInt(d.maxNewTokens());
      out.writeFloat(d.temperature());
      out.writeFloat(d.topP());
      out.writeInt(d.topK());
      out.writeLong(d.seed());
      out.writeLong(split.skip);
    }

    static CorpusSplit read(DataInputStream in) throws IOException {
      String path = in.readUTF();
      String name = in.readUTF();
      CorpusFormat format = CorpusFormat.valueOf(in.readUTF());
      PromptDefaults defaults = new PromptDefaults(in.readInt(), in.readFloat(), in.readFloat(), in.readInt(),
          in.readLong());
      return new CorpusSplit(path, name, format, defaults, in.readLong());
    }
  }
}
