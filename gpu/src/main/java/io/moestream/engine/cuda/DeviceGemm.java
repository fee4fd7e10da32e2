package io.moestream.engine.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import io.moestream.engine.cuda.DeviceWeights.MatrixSet;
import io.moestream.engine.cuda.DeviceWeights.Mlp;
import java.util.HashMap;
import java.util.Map;
import jcuda.Pointer;

/**
 * y = x W^T for every projection of the model through the GEMM kernels of moe.cu: dense projections over
 * work lists, which depend only on (x rows, weight rows) and are uploaded once and kept; the routed
 * experts over the device-built aligned layout ({@link MoeAlign}).
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
  private void grouped(MatrixSet w, DevicePointer workList, int numItems, DevicePointer x, DevicePointer y) {
    if (numItems > 0) {
      launcher.launch(CudaKernel.GEMM_BF16_GROUPED, numItems, LaunchGeometry.GEMM_THREADS, workList, w.table(), x,
          w.rows(), w.cols(), y);
    }
  }

  /** h = silu(x Wg^T) * (x Wu^T) over a grouped work list built for the intermediate size. */
  private void gateUpSilu(Mlp mlp, DevicePointer workList, int numItems, DevicePointer x, DevicePointer h) {
    if (numItems > 0) {
      launcher.launch(CudaKernel.GEMM_BF16_GATE_UP_SILU, numItems, LaunchGeometry.GEMM_THREADS, workList,
          mlp.gate().table(), mlp.up().table(), x, mlp.gate().rows(), mlp.gate().cols(), h);
    }
  }

  /**
   * h (numPairs, inter) = silu(x Wg^T) * (x Wu^T) per pair of the aligned layout, x (numTokens, hidden) read
   * at the pair's token (pair / maxK), the weights of the pair's expert.
   */
  void gateUpSiluAligned(Mlp experts, MoeAlign.Layout layout, int maxK, DevicePointer x, DevicePointer h) {
    MatrixSet gate = experts.gate();
    launcher.launch2d(CudaKernel.MOE_GEMM_BF16_GATE_UP_SILU_ALIGNED, layout.gemmChunks(),
        GemmWorkList.ceilDiv(gate.rows(), GemmWorkList.TILE_ROWS), LaunchGeometry.GEMM_THREADS, 0,
        layout.sortedPairs(), layout.expertOfBlock(), layout.summary(), MoeAlign.BLOCK, maxK, gate.table(),
        experts.up().table(), x, gate.rows(), gate.cols(), h);
  }

  /** y (numPairs, w.rows) = x (numPairs, w.cols) W^T per pair of the aligned layout: the experts' down projection. */
  void alignedByPair(MatrixSet w, MoeAlign.Layout layout, DevicePointer x, DevicePointer y) {
    launcher.launch2d(CudaKernel.MOE_GEMM_BF16_ALIGNED, layout.gemmChunks(),
        GemmWorkList.ceilDiv(w.rows(), GemmWorkList.TILE_ROWS), LaunchGeometry.GEMM_THREADS, 0,
        layout.sortedPairs(), layout.expertOfBlock(), layout.summary(), MoeAlign.BLOCK, 1, w.table(), x, w.rows(),
        w.cols(), y);
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
