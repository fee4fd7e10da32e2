package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed PTX must come from the current kernel sources: a .cu edited without rerunning the
 * build on a machine with nvcc (which regenerates the PTX and its recorded hash) fails here, nvcc or not.
 */
class PtxFreshnessTest {
  private static final Path SOURCES = Path.of("src/main/cuda");
  private static final Path PTX = Path.of("src/main/resources/io/moestream/engine/cuda/ptx");

  @Test
  void everyKernelSourceHasPtxCompiledFromItsCurrentText() throws Exception {
    List<Path> sources = list(SOURCES, ".cu");
    assertFalse(sources.isEmpty(), "no .cu files under " + SOURCES.toAbsolutePath());
    for (Path source : sources) {
      String module = source.getFileName().toString().replace(".cu", "");
      assertTrue(Files.exists(PTX.resolve(module + ".ptx")), module + ".ptx is missing: run the gpu build where nvcc is");
      String recorded = Files.readString(PTX.resolve(module + ".ptx.sha256")).trim();
      assertEquals(sha256(source), recorded, source + " changed after its PTX was generated: rebuild gpu/ on a machine"
          + " with nvcc (profile cuda-ptx, see docs/CUDA.md) and commit " + PTX + "/" + module + ".ptx");
      assertEquals(recorded, PtxModules.recordedSourceHash(module), "the classpath copy of the hash is stale");
    }
  }

  @Test
  void noPtxWithoutItsSource() throws IOException {
    for (Path ptx : list(PTX, ".ptx")) {
      String module = ptx.getFileName().toString().replace(".ptx", "");
      assertTrue(Files.exists(SOURCES.resolve(module + ".cu")), ptx + " has no source " + module + ".cu");
    }
  }

  @Test
  void ptxTargetsCompute80WithAnIsaOlderDriversAccept() {
    for (CudaKernel kernel : CudaKernel.values()) {
      String text = new String(PtxModules.load(kernel.module()), java.nio.charset.StandardCharsets.US_ASCII);
      assertTrue(text.contains("\n.target sm_80\n"), kernel.module() + ": PTX should target sm_80 (JIT for newer GPUs)");
      assertTrue(text.contains("\n.version 8.0\n"), kernel.module() + ": PTX ISA should be 8.0 (CUDA 12.0 drivers)");
    }
  }

  private static List<Path> list(Path folder, String suffix) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      return files.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }

  static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
