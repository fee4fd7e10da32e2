package io.moestream.engine.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

/**
 * The kernels' modules loaded from the committed PTX (cuModuleLoadData: the driver JITs it for the
 * device; no NVRTC, no CUDA toolkit at run time), and launches on one stream.
 *
 * <p>Arguments are given in the kernel's order: a {@link DevicePointer} (or null for a null pointer)
 * is passed as its 64-bit address, an Integer as int, a Float as float.
 */
final class KernelLauncher implements AutoCloseable {
  private final Map<String, CUmodule> modules = new HashMap<>();
  private final EnumMap<CudaKernel, CUfunction> functions = new EnumMap<>(CudaKernel.class);
  private final CUstream stream;

  KernelLauncher(CUstream stream) {
    this.stream = stream;
    for (CudaKernel kernel : CudaKernel.values()) {
      CUmodule module = modules.computeIfAbsent(kernel.module(), name -> {
        CUmodule m = new CUmodule();
        cuModuleLoadData(m, PtxModules.load(name));
        return m;
      });
      CUfunction function = new CUfunction();
      cuModuleGetFunction(function, module, kernel.entry());
      functions.put(kernel, function);
    }
  }

  CUstream stream() {
    return stream;
  }

  /** A 1-D launch. */
  void launch(CudaKernel kernel, int blocks, int threads, Object... args) {
    launch2d(kernel, blocks, 1, threads, 0, args);
  }

  /** A (gridX, gridY) launch with {@code sharedBytes} of dynamic shared memory. */
  void launch2d(CudaKernel kernel, int gridX, int gridY, int threads, int sharedBytes, Object... args) {
    kernel.checkArguments(args);
    Pointer[] params = new Pointer[args.length];
    for (int i = 0; i < args.length; i++) {
      Object arg = args[i];
      if (arg == null) {
        params[i] = Pointer.to(new long[] {0L});
      } else if (arg instanceof DevicePointer p) {
        params[i] = Pointer.to(new long[] {p.address()});
      } else if (arg instanceof Integer n) {
        params[i] = Pointer.to(new int[] {n});
      } else if (arg instanceof Float f) {
        params[i] = Pointer.to(new float[] {f});
      } else {
        throw new IllegalArgumentException(kernel.entry() + ": argument " + i + " of unsupported type " + arg.getClass());
      }
    }
    cuLaunchKernel(functions.get(kernel), gridX, gridY, 1, threads, 1, 1, sharedBytes, stream, Pointer.to(params),
        null);
  }

  @Override
  public void close() {
    for (CUmodule module : modules.values()) {
      cuModuleUnload(module);
    }
    modules.clear();
  }
}
