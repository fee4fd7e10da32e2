package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which jar {@code run --jobmanager} uploads: the slim job jar, never the launcher it runs from. */
class RunCommandJobJarTest {
  @TempDir Path tmp;

  @Test
  void theJobJarNextToTheLauncherIsUploaded() throws Exception {
    Path launcher = Files.writeString(tmp.resolve("moestream.jar"), "launcher");
    Path jobJar = Files.writeString(tmp.resolve("moestream-job.jar"), "job");
    assertEquals(jobJar.toAbsolutePath(), RunCommand.jobJar(null, launcher));
  }

  @Test
  void aMissingJobJarIsNamedWithTheBuildThatWritesIt() throws Exception {
    Path launcher = Files.writeString(tmp.resolve("moestream.jar"), "launcher");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunCommand.jobJar(null, launcher));
    assertEquals("--jobmanager uploads the job jar " + tmp.resolve("moestream-job.jar").toAbsolutePath()
        + ", which does not exist: build it with `mvn -DskipTests -pl job -am package` (./moestream does when a "
        + "source changed)", e.getMessage());
  }

  @Test
  void theJobJarOptionWinsAndIsChecked() throws Exception {
    Path launcher = Files.writeString(tmp.resolve("moestream.jar"), "launcher");
    Files.writeString(tmp.resolve("moestream-job.jar"), "job next to the launcher");
    Path elsewhere = Files.writeString(Files.createDirectory(tmp.resolve("elsewhere")).resolve("my-job.jar"), "job");
    assertEquals(elsewhere.toAbsolutePath(), RunCommand.jobJar(elsewhere, launcher));

    Path missing = tmp.resolve("no-such.jar");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunCommand.jobJar(missing, launcher));
    assertTrue(e.getMessage().startsWith("--jobmanager uploads the job jar " + missing.toAbsolutePath() + ", which does "
        + "not exist"), e.getMessage());
    assertTrue(e.getMessage().endsWith("or correct --job-jar"), e.getMessage());
  }

  @Test
  void fromAClassesFolderTheJobJarMustBeNamed() throws Exception {
    Path classes = Files.createDirectory(tmp.resolve("classes"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunCommand.jobJar(null, classes));
    assertEquals("--jobmanager uploads moestream-job.jar, found next to moestream.jar; this command runs from "
        + classes + ", not a jar: name the job jar with --job-jar FILE", e.getMessage());
  }
}
