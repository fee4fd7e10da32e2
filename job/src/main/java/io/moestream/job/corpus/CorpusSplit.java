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
      // 2: temperature, top_p, top_k may be unset (issue 17); version 1 snapshots are still read
      return 2;
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
      if (version != 1 && version != 2) {
        throw new IOException("unknown corpus split version " + version);
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        return read(in, version);
      }
    }

    static void write(CorpusSplit split, DataOutputStream out) throws IOException {
      out.writeUTF(split.path);
      out.writeUTF(split.name);
      out.writeUTF(split.format.name());
      PromptDefaults d = split.defaults;
      out.writeInt(d.maxNewTokens());
      // each: a presence flag, then the value (absent: generation_config.json decides)
      out.writeBoolean(d.temperature() != null);
      out.writeFloat(d.temperature() == null ? 0f : d.temperature());
      out.writeBoolean(d.topP() != null);
      out.writeFloat(d.topP() == null ? 0f : d.topP());
      out.writeBoolean(d.topK() != null);
      out.writeInt(d.topK() == null ? 0 : d.topK());
      out.writeLong(d.seed());
      out.writeLong(split.skip);
    }

    static CorpusSplit read(DataInputStream in, int version) throws IOException {
      String path = in.readUTF();
      String name = in.readUTF();
      CorpusFormat format = CorpusFormat.valueOf(in.readUTF());
      int maxNewTokens = in.readInt();
      Float temperature;
      Float topP;
      Integer topK;
      if (version == 1) { // every value set
        temperature = in.readFloat();
        topP = in.readFloat();
        topK = in.readInt();
      } else {
        temperature = in.readBoolean() ? (Float) in.readFloat() : skipFloat(in);
        topP = in.readBoolean() ? (Float) in.readFloat() : skipFloat(in);
        topK = in.readBoolean() ? (Integer) in.readInt() : skipInt(in);
      }
      PromptDefaults defaults = new PromptDefaults(maxNewTokens, temperature, topP, topK, in.readLong());
      return new CorpusSplit(path, name, format, defaults, in.readLong());
    }

    private static Float skipFloat(DataInputStream in) throws IOException {
      in.readFloat();
      return null;
    }

    private static Integer skipInt(DataInputStream in) throws IOException {
      in.readInt();
      return null;
    }
  }
}
