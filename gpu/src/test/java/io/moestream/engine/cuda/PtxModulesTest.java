package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Java side's kernel names and parameter lists agree with the committed PTX. */
class PtxModulesTest {
  private static final Pattern PARAM = Pattern.compile("\\.param \\.(u64|u32|s32|f32)");

  @Test
  void everyKernelIsAnEntryWithTheDeclaredParameters() {
    for (CudaKernel kernel : CudaKernel.values()) {
      byte[] bytes = PtxModules.load(kernel.module());
      assertEquals(0, bytes[bytes.length - 1], "cuModuleLoadData needs NUL-terminated PTX");
      String ptx = new String(bytes, 0, bytes.length - 1, StandardCharsets.US_ASCII);
      String header = ".visible .entry " + kernel.entry() + "(";
      int start = ptx.indexOf(header);
      assertTrue(start >= 0, kernel.entry() + " is not an entry of " + kernel.module() + ".ptx");
      String params = ptx.substring(start + header.length(), ptx.indexOf(')', start));
      StringBuilder signature = new StringBuilder();
      Matcher m = PARAM.matcher(params);
      while (m.find()) {
        signature.append(switch (m.group(1)) {
          case "u64" -> 'p';
          case "f32" -> 'f';
          default -> 'i';
        });
      }
      assertEquals(kernel.parameters(), signature.toString(), kernel.entry() + " parameters");
    }
  }

  @Test
  void launchArgumentsAreChecked() {
    CudaKernel kernel = CudaKernel.CLAMP_VALUES; // (float* x, int count, float limit)
    kernel.checkArguments(new Object[] {null, 3, 1f});
    assertThrows(IllegalArgumentException.class, () -> kernel.checkArguments(new Object[] {null, 3}));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> kernel.checkArguments(new Object[] {null, 3f, 1f}));
    assertTrue(e.getMessage().contains("argument 1 must be an int"), e.getMessage());
  }
}
