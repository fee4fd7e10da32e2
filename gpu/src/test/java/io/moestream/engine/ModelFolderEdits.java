package io.moestream.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.format.SafetensorsFile;
import io.moestream.engine.format.SafetensorsWriter;
import io.moestream.engine.format.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Consumer;

/** Edits of a written test model folder: its config.json fields and its model.safetensors tensors. */
public final class ModelFolderEdits {
  private ModelFolderEdits() {}

  /** Adds each tensor (possibly changed, renamed or left out) of the rewritten file. */
  @FunctionalInterface
  public interface TensorEdit {
    void apply(TensorData tensor, SafetensorsWriter out);
  }

  public static void editConfig(Path folder, Consumer<ObjectNode> edit) throws IOException {
    ObjectMapper json = new ObjectMapper();
    Path file = folder.resolve("config.json");
    ObjectNode config = (ObjectNode) json.readTree(file.toFile());
    edit.accept(config);
    json.writeValue(file.toFile(), config);
  }

  /**
   * Rewrites model.safetensors tensor by tensor through {@code edit}, then appends what {@code extra}
   * adds. Values keep their dtype exactly (they are re-encoded from their own decoded floats).
   */
  public static void rewriteTensors(Path folder, TensorEdit edit, Consumer<SafetensorsWriter> extra) throws IOException {
    Path file = folder.resolve("model.safetensors");
    SafetensorsWriter out = new SafetensorsWriter();
    for (TensorData t : SafetensorsFile.open(file).tensors().values()) {
      edit.apply(t, out);
    }
    extra.accept(out);
    Path tmp = folder.resolve("model.safetensors.tmp");
    out.write(tmp);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
  }

  /** The tensor as it is. */
  public static void copy(TensorData t, SafetensorsWriter out) {
    out.add(t.name(), t.dtype(), t.shape(), t.toFloatArray());
  }
}
