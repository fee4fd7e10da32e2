package io.moestream.job.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import org.junit.jupiter.api.Test;

/** Splits keep unset sampling values unset (version 2) and version 1 snapshots still restore. */
class CorpusSplitSerializerTest {
  private final CorpusSplit.Serializer serializer = CorpusSplit.Serializer.INSTANCE;

  @Test
  void unsetAndSetValuesRoundTrip() throws Exception {
    for (PromptDefaults d : new PromptDefaults[] {PromptDefaults.schemaDefaults(),
        new PromptDefaults(9, 0f, 0.9f, 20, 3L), new PromptDefaults(4, 0.7f, null, null, 1L)}) {
      CorpusSplit split = new CorpusSplit("/in/a.txt", "a.txt", CorpusFormat.TEXT, d, 12);
      assertEquals(split, serializer.deserialize(serializer.getVersion(), serializer.serialize(split)));
    }
  }

  @Test
  void version1SnapshotsRestoreWithTheirValues() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF("/in/a.txt");
      out.writeUTF("a.txt");
      out.writeUTF(CorpusFormat.TEXT.name());
      out.writeInt(16);
      out.writeFloat(0f);
      out.writeFloat(1f);
      out.writeInt(0);
      out.writeLong(7L);
      out.writeLong(3L);
    }
    assertEquals(new CorpusSplit("/in/a.txt", "a.txt", CorpusFormat.TEXT, new PromptDefaults(16, 0f, 1f, 0, 7L), 3),
        serializer.deserialize(1, bytes.toByteArray()));
  }
}
