package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.job.corpus.CorpusFiles;
import io.moestream.job.corpus.CorpusFormat;
import io.moestream.job.corpus.CorpusOutput;
import io.moestream.job.corpus.CorpusReader;
import io.moestream.job.corpus.CorpusRecord;
import io.moestream.job.corpus.CorpusSource;
import io.moestream.job.corpus.CorpusSplit;
import io.moestream.job.corpus.PromptDefaults;
import io.moestream.operators.codec.RequestJson;
import io.moestream.schemas.InferenceRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Corpus input without Flink: which files an --input names, the records and keys of a file, resuming a split. */
class CorpusInputTest {
  @TempDir Path tmp;

  @Test
  void aDirectoryOrAGlobNamesItsFilesInNameOrderWithoutHiddenFilesOrTheOutput() throws Exception {
    Path in = tmp.resolve("in");
    Files.createDirectories(in.resolve("sub"));
    Files.createDirectories(in.resolve(".git"));
    Files.createDirectories(in.resolve("out"));
    for (String name : List.of("b.jsonl", "a.jsonl", "sub/c.jsonl", "notes.txt", ".hidden.jsonl", ".git/x.jsonl",
        "out/generations-1-0-0.jsonl")) {
      Files.writeString(in.resolve(name), "{}\n");
    }
    Path output = in.resolve("out");
    assertEquals(List.of("a.jsonl", "b.jsonl", "notes.txt", "sub/c.jsonl"), names(CorpusFiles.resolve(in.toString(), output)));
    assertEquals(List.of("a.jsonl", "b.jsonl"), names(CorpusFiles.resolve(in + "/*.jsonl", output)));
    assertEquals(List.of("sub/c.jsonl"), names(CorpusFiles.resolve(in + "/**/*.jsonl", output)));
    assertEquals(List.of("b.jsonl"), names(CorpusFiles.resolve(in.resolve("b.jsonl").toString(), output)));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> CorpusFiles.resolve(in + "/*.avro", output))
        .getMessage().contains("no file matches"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> CorpusFiles.resolve(in + "/missing", output))
        .getMessage().contains("no such file or directory"));
  }

  @Test
  void jsonLinesKeysAreRequestIdsElseFileAndLine() throws Exception {
    Path file = tmp.resolve("r.jsonl");
    String lines = "\uFEFF{\"request_id\": \"x1\", \"prompt\": \"hi\"}\r\n"
        + "\n"
        + "{\"prompt\": \"no id\"}\r\n"
        + "{not json\n"
        + "{\"request_id\": \"x2\", \"prompt\": \"hi\", \"colour\": 1}\n"
        + "{\"request_id\": \"x3\", \"prompt\": \"last, no newline\"}";
    Files.writeString(file, lines, StandardCharsets.UTF_8);
    List<CorpusRecord> records = read(file, "r.jsonl", CorpusFormat.JSONL, 0);
    assertEquals(List.of("x1", "r.jsonl:3", "r.jsonl:4", "r.jsonl:5", "x3"), records.stream().map(r -> r.key).toList());
    assertEquals(List.of(1L, 3L, 4L, 5L, 6L), records.stream().map(r -> r.line).toList());
    InferenceRequest noId = RequestJson.parse(records.get(1).value);
    assertEquals("r.jsonl:3", noId.getRequestId()); // the id the generation will carry
    assertEquals("no id", noId.getPrompt());
    assertEquals("{not json", new String(records.get(2).value, StandardCharsets.UTF_8)); // dead-lettered as it is
  }

  @Test
  void textLinesArePromptsWithTheGivenOptions() throws Exception {
    Path file = tmp.resolve("p.txt");
    Files.writeString(file, "first prompt\n\n  \nsecond prompt\n");
    List<CorpusRecord> records = read(file, "p.txt", CorpusFormat.TEXT, 0);
    assertEquals(List.of("p.txt:1", "p.txt:4"), records.stream().map(r -> r.key).toList());
    InferenceRequest second = RequestJson.parse(records.get(1).value);
    assertEquals("p.txt:4", second.getRequestId());
    assertEquals("second prompt", second.getPrompt());
    assertEquals(9, second.getMaxNewTokens());
    assertEquals(0.5f, second.getSampling().getTemperature());
    assertEquals(3L, second.getSampling().getSeed());
  }

  @Test
  void aSplitResumesAfterTheRecordsItEmittedAndSurvivesSerialization() throws Exception {
    Path file = tmp.resolve("p.txt");
    Files.writeString(file, "a\nb\nc\nd\ne\n");
    CorpusSource source = new CorpusSource(List.of(new CorpusFiles.InputFile(file, "p.txt")), CorpusFormat.TEXT,
        PromptDefaults.schemaDefaults());
    CorpusSplit split = new CorpusSplit(file.toString(), "p.txt", CorpusFormat.TEXT, PromptDefaults.schemaDefaults(), 0);
    try (CorpusReader reader = split.getIterator()) {
      reader.next();
      reader.next();
      CorpusSplit after = (CorpusSplit) split.getUpdatedSplitForIterator(reader);
      assertEquals(2, after.skip());
      SimpleVersionedSerializer<CorpusSplit> serializer = source.getSplitSerializer();
      CorpusSplit restored = serializer.deserialize(serializer.getVersion(), serializer.serialize(after));
      assertEquals(after, restored);
      try (CorpusReader resumed = restored.getIterator()) {
        assertEquals("p.txt:3", resumed.next().key);
        assertEquals(3, ((CorpusSplit) restored.getUpdatedSplitForIterator(resumed)).skip());
      }
    }
  }

  @Test
  void finishedKeysTolerateAndCutALineAKillLeftUnfinished() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(out.resolve("generations-R-0-0.jsonl"),
        "{\"request_id\":\"g1\",\"completion_tokens\":3}\n{\"request_id\":\"g2\",\"text\":\"cut sh");
    Files.writeString(out.resolve("dead-letters-R-0-0-0.jsonl"),
        "{\"request_id\":null,\"file\":\"a.jsonl\",\"line\":7,\"stage\":\"decode\",\"reason\":\"not valid JSON\"}\n"
            + "{\"request_id\":\"d1\",\"file\":\"a.jsonl\",\"line\":9,\"stage\":\"validate\",\"reason\":\"x\"}\n");
    Files.writeString(out.resolve("notes.txt"), "not an output file\n");
    CorpusOutput.Finished read = CorpusOutput.finished(out, false);
    assertEquals(Set.of("g1", "a.jsonl:7", "d1"), read.keys());
    assertTrue(read.repaired().isEmpty());
    assertTrue(Files.readString(out.resolve("generations-R-0-0.jsonl")).endsWith("cut sh"), "read without repair changed the file");
    CorpusOutput.Finished repaired = CorpusOutput.finished(out, true);
    assertEquals(read.keys(), repaired.keys());
    assertEquals(1, repaired.repaired().size());
    assertEquals("{\"request_id\":\"g1\",\"completion_tokens\":3}\n", Files.readString(out.resolve("generations-R-0-0.jsonl")));
    assertEquals(1, repaired.generations());
    assertEquals(2, repaired.deadLetters());
  }

  private static List<CorpusRecord> read(Path file, String name, CorpusFormat format, long skip) {
    List<CorpusRecord> records = new ArrayList<>();
    try (CorpusReader reader = new CorpusReader(file, name, format, new PromptDefaults(9, 0.5f, 1f, 0, 3L), skip)) {
      reader.forEachRemaining(records::add);
    }
    return records;
  }

  private static List<String> names(List<CorpusFiles.InputFile> files) {
    return files.stream().map(CorpusFiles.InputFile::name).toList();
  }
}
