package io.moestream.engine.testmodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.format.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Tensors split into {@code model-0000i-of-0000N.safetensors} shards as Hugging Face's save_pretrained
 * splits them: in order, a new shard when the next tensor would take the current one over the maximum,
 * a tensor larger than the maximum alone in its shard; and the {@code model.safetensors.index.json} that
 * lists them ({@code metadata.total_size}, {@code weight_map} with sorted keys).
 *
 * @param shards each shard's tensors, in order
 */
public record ShardPlan(List<List<CheckpointTensor>> shards) {
  /** save_pretrained's default {@code max_shard_size="5GB"} (decimal gigabytes). */
  public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

  public static ShardPlan of(List<CheckpointTensor> tensors, long maxShardBytes) {
    if (maxShardBytes < 1) {
      throw new IllegalArgumentException("max shard size must be > 0 bytes, found " + maxShardBytes);
    }
    List<List<CheckpointTensor>> shards = new ArrayList<>();
    List<CheckpointTensor> current = new ArrayList<>();
    long size = 0;
    for (CheckpointTensor t : tensors) {
      if (!current.isEmpty() && size + t.byteSize() > maxShardBytes) {
        shards.add(current);
        current = new ArrayList<>();
        size = 0;
      }
      current.add(t);
      size += t.byteSize();
    }
    if (!current.isEmpty()) {
      shards.add(current);
    }
    return new ShardPlan(List.copyOf(shards));
  }

  public String fileName(int shard) {
    return String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", shard + 1, shards.size());
  }

  public long totalBytes() {
    return shards.stream().mapToLong(CheckpointLayout::totalBytes).sum();
  }

  public int tensorCount() {
    return shards.stream().mapToInt(List::size).sum();
  }

  /** Writes {@code folder/model.safetensors.index.json} (2-space indent and sorted keys, as transformers does). */
  public void writeIndex(Path folder) throws IOException {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = json.createObjectNode();
    root.putObject("metadata").put("total_size", totalBytes());
    Map<String, String> weightMap = new TreeMap<>();
    for (int s = 0; s < shards.size(); s++) {
      for (CheckpointTensor t : shards.get(s)) {
        weightMap.put(t.name(), fileName(s));
      }
    }
    ObjectNode map = root.putObject("weight_map");
    weightMap.forEach(map::put);
    json.writeValue(folder.resolve(Checkpoint.INDEX_FILE).toFile(), root);
  }

  /** "5GB", "500MB", "2GiB", "123" (bytes): the sizes save_pretrained's max_shard_size takes. */
  public static long parseSize(String text) {
    String s = text.trim().toUpperCase(Locale.ROOT);
    long unit = 1;
    String[][] units = {{"GIB", "1073741824"}, {"MIB", "1048576"}, {"KIB", "1024"}, {"GB", "1000000000"},
        {"MB", "1000000"}, {"KB", "1000"}, {"B", "1"}};
    for (String[] u : units) {
      if (s.endsWith(u[0])) {
        unit = Long.parseLong(u[1]);
        s = s.substring(0, s.length() - u[0].length()).trim();
        break;
      }
    }
    try {
      long value = Math.round(Double.parseDouble(s) * unit);
      if (value < 1) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("max shard size must be a positive size such as 5GB, 500MB or 2GiB, found '"
          + text + "'");
    }
  }
}
