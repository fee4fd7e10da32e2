package io.moestream.engine.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import io.moestream.engine.cuda.DeviceWeights.MatrixSet;
import io.moestream.engine.cuda.DeviceWeights.Mlp;
import java.util.HashMap;
import java.util.Map;
import jcuda.Pointer;

/**
 * y = x W^T for every projection of the model through the two GEMM kernels of moe.cu. Work lists of
 * single matrices depend only on (x rows, weight rows): they are uploaded once and kept.
 */
final class DeviceGemm {
  private static final int MAX_CACHED_LISTS = 4096;

  private final KernelLauncher launcher;
  private final DeviceMemory memory;
  private final Map<Long, DevicePointer> singleLists = new HashMap<>();

  DeviceGemm(KernelLauncher launcher, DeviceMemory memory) {
    this.launcher = launcher;
    this.memory = memory;
  }

  /** y (xRows, w.rows) = x (xRows, w.cols) W^T for the set's only matrix. */
  void linear(MatrixSet w, DevicePointer x, int xRows, DevicePointer y) {
    grouped(w, singleList(xRows, w.rows()), numSingleItems(xRows, w.rows()), x, y);
  }

  /** h (xRows, inter) = silu(x Wg^T) * (x Wu^T), then y (xRows, hidden) = h Wd^T: a whole dense MLP. */
  void mlp(Mlp mlp, DevicePointer x, int xRows, DevicePointer h, DevicePointer y) {
    gateUpSilu(mlp, singleList(xRows, mlp.intermediateSize()), numSingleItems(xRows, mlp.intermediateSize()), x, h);
    linear(mlp.down(), h, xRows, y);
  }

  /** y = x W^T over a grouped work list (GemmWorkList) built for w.rows(). */
  void grouped(MatrixSet w, DevicePointer workList, int numItems, DevicePointer x, DevicePointer y) {
    if (numItems > 0) {
      launcher.launch(CudaKernel.GEMM_BF16_GROUPED, numItems, LaunchGeometry.GEMM_THREADS, workList, w.table(), x,
          w.rows(), w.cols(), y);
    }
  }

  /** h = silu(x Wg^T) * (x Wu^T) over a grouped work list built for the intermediate size. */
  void gateUpSilu(Mlp mlp, DevicePointer workList, int numItems, DevicePointer x, DevicePointer h) {
    if (numItems > 0) {
      launcher.launch(CudaKernel.GEMM_BF16_GATE_UP_SILU, numItems, LaunchGeometry.GEMM_THREADS, workList,
          mlp.gate().table(), mlp.up().table(), x, mlp.gate().rows(), mlp.gate().cols(), h);
    }
  }

  private static int numSingleItems(int xRows, int weightRows) {
    return GemmWorkList.ceilDiv(xRows, GemmWorkList.MAX_CHUNK) * GemmWorkList.ceilDiv(weightRows, GemmWorkList.TILE_ROWS);
  }

  private DevicePointer singleList(int xRows, int weightRows) {
    long key = ((long) xRows << 32) | weightRows;
    DevicePointer list = singleLists.get(key);
    if (list == null) {
      if (singleLists.size() >= MAX_CACHED_LISTS) {
        singleLists.values().forEach(memory::free);
        singleLists.clear();
      }
      int[] work = GemmWorkList.single(xRows, weightRows);
      list = memory.alloc((long) work.length * Integer.BYTES);
      cuMemcpyHtoD(list, Pointer.to(work), (long) work.length * Integer.BYTES);
      singleLists.put(key, list);
    }
    return list;
  }
}
