package io.moestream.engine.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The tensors of a Hugging Face model folder: {@code model.safetensors}, or the shards listed by
 * {@code model.safetensors.index.json}. All files are memory-mapped on open; nothing is copied.
 */
public final class Checkpoint {
  public static final String SINGLE_FILE = "model.safetensors";
  public static final String INDEX_FILE = "model.safetensors.index.json";

  private final Path folder;
  private final Map<String, TensorData> tensors;

  private Checkpoint(Path folder, Map<String, TensorData> tensors) {
    this.folder = folder;
    this.tensors = tensors;
  }

  public static Checkpoint open(Path folder) {
    return open(folder, SafetensorsFile.MAX_WINDOW_BYTES);
  }

  /** As {@link #open(Path)} with mapping windows of at most {@code windowBytes} (tests force tiny ones). */
  static Checkpoint open(Path folder, long windowBytes) {
    Path index = folder.resolve(INDEX_FILE);
    Path single = folder.resolve(SINGLE_FILE);
    if (Files.isRegularFile(index)) {
      return openSharded(folder, index, windowBytes);
    }
    if (Files.isRegularFile(single)) {
      return new Checkpoint(folder, new LinkedHashMap<>(SafetensorsFile.open(single, windowBytes).tensors()));
    }
    throw new CheckpointException(folder + ": no " + SINGLE_FILE + " and no " + INDEX_FILE
        + " (is this a Hugging Face model folder with safetensors weights?)");
  }

  private static Checkpoint openSharded(Path folder, Path index, long windowBytes) {
    JsonNode weightMap;
    try {
      JsonNode root = new ObjectMapper().readTree(index.toFile());
      weightMap = root.get("weight_map");
    } catch (IOException e) {
      throw new CheckpointException(index + ": cannot parse: " + e.getMessage(), e);
    }
    if (weightMap == null || !weightMap.isObject()) {
      throw new CheckpointException(index + ": no 'weight_map' object");
    }
    Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
    for (String shardName : new TreeSet<>(valuesOf(weightMap))) {
      Path shard = folder.resolve(shardName);
      if (!Files.isRegularFile(shard)) {
        throw new CheckpointException(shard + ": shard listed in " + INDEX_FILE + " is missing");
      }
      shards.put(shardName, SafetensorsFile.open(shard, windowBytes));
    }
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    weightMap.fields().forEachRemaining(entry -> {
      String name = entry.getKey();
      String shardName = entry.getValue().asText();
      TensorData tensor = shards.get(shardName).tensors().get(name);
      if (tensor == null) {
        throw new CheckpointException(folder.resolve(shardName) + ": tensor '" + name
            + "' is listed for this shard in " + INDEX_FILE + " but the shard does not hold it");
      }
      tensors.put(name, tensor);
    });
    return new Checkpoint(folder, tensors);
  }

  private static java.util.List<String> valuesOf(JsonNode object) {
    java.util.List<String> values = new java.util.ArrayList<>();
    object.elements().forEachRemaining(v -> values.add(v.asText()));
    return values;
  }

  public Path folder() {
    return folder;
  }

  public Map<String, TensorData> tensors() {
    return Collections.unmodifiableMap(tensors);
  }

  public Optional<TensorData> find(String name) {
    return Optional.ofNullable(tensors.get(name));
  }

  /** The tensor, or an error naming it and the folder. */
  public TensorData require(String name) {
    TensorData tensor = tensors.get(name);
    if (tensor == null) {
      throw new CheckpointException(folder + ": missing tensor '" + name + "'");
    }
    return tensor;
  }
}
