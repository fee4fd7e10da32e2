// The sparse MLP in vLLM's stages, and the one GEMM every projection uses:
//   Router (router_softmax_topk) -> Align (moe_align_count / _scan / _scatter in moe_align.cu: the
//   (token, slot) pairs sorted by expert, padded to blocks, all on the device) -> Experts
//   (moe_gemm_bf16_gate_up_silu_aligned, moe_gemm_bf16_aligned over that layout) -> Combine
//   (moe_combine, per token in slot order: deterministic).
//
// Dense work lists (GemmWorkList.java): one int4 per block, {matrix, firstRow, numRows, rowTile}: the
// block computes output columns [rowTile * 32, rowTile * 32 + 32) of rows [firstRow, firstRow +
// numRows) of x (numRows <= 8) with weight matrix `matrix` of the set. A set is a table of device
// addresses of BF16 (rows, cols) matrices of one shape (a layer's experts; or a single matrix: q/k/v/o
// projections, dense MLPs, shared experts, the LM head).
//
// The experts' aligned layout (moe_align.cu): sortedPairs lists pair indexes (token * maxK + slot)
// grouped by expert, ascending within an expert, each expert's run padded with -1 to a multiple of
// alignBlock (a multiple of MAX_CHUNK); expertOfBlock names the expert of each alignBlock run;
// summary[0] is the padded total. The grid covers the worst-case total and blocks past the real one
// exit at once, so the host never needs the counts. An expert's token chunks of one row tile are
// neighbours in the grid (x fastest), so the tile is read from DRAM once per step and from L2 by the
// other chunks. Rows are addressed by pair, so no gather and no scatter is needed: the gate/up GEMM
// reads x row pair / maxK (the token) and writes h row pair; the down GEMM reads h row pair and
// writes row pair of the expert output, which moe_combine reads by (token, slot).
//
// A row's result depends only on its own x row and the weights (each lane accumulates in a fixed
// order, then a fixed shuffle tree), never on which other rows share its block: a token's output is
// bitwise the same whatever else is in the batch.
//
// DeepSeek (MLA attention, sigmoid + group-limited routing, FP8 weights with 128x128 block scales)
// is a later step: it needs an FP8 variant of these GEMMs and the latent attention kernels.

#define TILE_ROWS 32   // output columns (weight rows) per block: 8 warps x 4 rows
#define MAX_CHUNK 8    // x rows per work item
#define GEMM_THREADS 256

__device__ __forceinline__ float bf16_lo(unsigned int pair) {
  return __uint_as_float(pair << 16);
}

__device__ __forceinline__ float bf16_hi(unsigned int pair) {
  return __uint_as_float(pair & 0xffff0000u);
}

// acc[i] += W[row, :] . xRow[i][:] for i < numRows, partial per lane (the caller reduces).
// Vector path (cols % 8 == 0): each lane reads 8 BF16 weights (16 bytes) and 8 floats of each x row.
__device__ __forceinline__ void dot_rows(const unsigned short* __restrict__ w,
    const float* const xRow[MAX_CHUNK], int numRows, int cols, int lane, float acc[MAX_CHUNK]) {
  if ((cols & 7) == 0) {
    for (int c = lane * 8; c < cols; c += 32 * 8) {
      uint4 packed = *reinterpret_cast<const uint4*>(w + c);
      float wv[8] = {bf16_lo(packed.x), bf16_hi(packed.x), bf16_lo(packed.y), bf16_hi(packed.y),
                     bf16_lo(packed.z), bf16_hi(packed.z), bf16_lo(packed.w), bf16_hi(packed.w)};
      #pragma unroll
      for (int i = 0; i < MAX_CHUNK; i++) {
        if (i < numRows) {
          const float4* xv = reinterpret_cast<const float4*>(xRow[i] + c);
          float4 a = xv[0];
          float4 b = xv[1];
          acc[i] += wv[0] * a.x + wv[1] * a.y + wv[2] * a.z + wv[3] * a.w
                  + wv[4] * b.x + wv[5] * b.y + wv[6] * b.z + wv[7] * b.w;
        }
      }
    }
  } else {
    for (int c = lane; c < cols; c += 32) {
      float wc = __uint_as_float(((unsigned int) w[c]) << 16);
      #pragma unroll
      for (int i = 0; i < MAX_CHUNK; i++) {
        if (i < numRows) {
          acc[i] += wc * xRow[i][c];
        }
      }
    }
  }
}

__device__ __forceinline__ float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  }
  return value;
}

// Row addresses of a dense work item: rows firstRow.. of x (the ones past numRows are never read).
__device__ __forceinline__ void consecutive_rows(const float* x, int firstRow, int numRows, int cols,
    const float* xRow[MAX_CHUNK]) {
  #pragma unroll
  for (int i = 0; i < MAX_CHUNK; i++) {
    xRow[i] = x + (size_t) (firstRow + min(i, numRows - 1)) * cols;
  }
}

// y (xRows, rows) = x (xRows, cols) W^T over a work list, W from the set `weights` (numMatrices
// addresses). x rows must be 16-byte aligned when cols % 8 == 0 (device allocations are).
// Grid (numWork), block 256.
extern "C" __global__ void gemm_bf16_grouped(const int4* __restrict__ work,
    const unsigned long long* __restrict__ weights, const float* __restrict__ x, int rows, int cols,
    float* __restrict__ y) {
  int4 item = work[blockIdx.x];
  const unsigned short* w = reinterpret_cast<const unsigned short*>(weights[item.x]);
  int warp = threadIdx.x >> 5;
  int lane = threadIdx.x & 31;
  const float* xRow[MAX_CHUNK];
  consecutive_rows(x, item.y, item.z, cols, xRow);
  for (int r = 0; r < TILE_ROWS / 8; r++) {
    int row = item.w * TILE_ROWS + warp * (TILE_ROWS / 8) + r;
    if (row >= rows) {
      break;
    }
    float acc[MAX_CHUNK] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    dot_rows(w + (size_t) row * cols, xRow, item.z, cols, lane, acc);
    #pragma unroll
    for (int i = 0; i < MAX_CHUNK; i++) {
      float sum = warp_sum(acc[i]);
      if (lane == 0 && i < item.z) {
        y[(size_t) (item.y + i) * rows + row] = sum;
      }
    }
  }
}

// h (xRows, rows) = silu(x Wg^T) * (x Wu^T): the gate and up projections of SiLU-gated MLPs fused,
// so the intermediate activations are written once. gateWeights and upWeights are parallel sets.
// Grid (numWork), block 256.
extern "C" __global__ void gemm_bf16_gate_up_silu(const int4* __restrict__ work,
    const unsigned long long* __restrict__ gateWeights, const unsigned long long* __restrict__ upWeights,
    const float* __restrict__ x, int rows, int cols, float* __restrict__ h) {
  int4 item = work[blockIdx.x];
  const unsigned short* wg = reinterpret_cast<const unsigned short*>(gateWeights[item.x]);
  const unsigned short* wu = reinterpret_cast<const unsigned short*>(upWeights[item.x]);
  int warp = threadIdx.x >> 5;
  int lane = threadIdx.x & 31;
  const float* xRow[MAX_CHUNK];
  consecutive_rows(x, item.y, item.z, cols, xRow);
  for (int r = 0; r < TILE_ROWS / 8; r++) {
    int row = item.w * TILE_ROWS + warp * (TILE_ROWS / 8) + r;
    if (row >= rows) {
      break;
    }
    float gate[MAX_CHUNK] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    float up[MAX_CHUNK] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    dot_rows(wg + (size_t) row * cols, xRow, item.z, cols, lane, gate);
    dot_rows(wu + (size_t) row * cols, xRow, item.z, cols, lane, up);
    #pragma unroll
    for (int i = 0; i < MAX_CHUNK; i++) {
      float g = warp_sum(gate[i]);
      float u = warp_sum(up[i]);
      if (lane == 0 && i < item.z) {
        h[(size_t) (item.y + i) * rows + row] = g / (1.f + expf(-g)) * u;
      }
    }
  }
}

// The MAX_CHUNK padded positions [blockIdx.x * MAX_CHUNK, +MAX_CHUNK) of the aligned layout: their
// pairs (real ones first, then -1 padding: alignBlock is a multiple of MAX_CHUNK, so a chunk never
// spans two experts) and the expert. Returns how many are real; 0 for a chunk past the padded total
// or of padding only (the same for every thread of the block, so the caller may return at once).
__device__ __forceinline__ int aligned_chunk(const int* __restrict__ sortedPairs,
    const int* __restrict__ expertOfBlock, const int* __restrict__ summary, int alignBlock, int* expert,
    int pairs[MAX_CHUNK]) {
  int first = blockIdx.x * MAX_CHUNK;
  if (first >= summary[0]) {
    return 0;
  }
  *expert = expertOfBlock[first / alignBlock];
  int numRows = 0;
  #pragma unroll
  for (int i = 0; i < MAX_CHUNK; i++) {
    pairs[i] = sortedPairs[first + i];
    numRows += pairs[i] >= 0 ? 1 : 0;
  }
  return numRows;
}

// Row addresses of an aligned chunk: x row pair / xRowDivisor (maxK: the pair's token; 1: the pair).
__device__ __forceinline__ void pair_rows(const float* x, const int pairs[MAX_CHUNK], int numRows,
    int xRowDivisor, int cols, const float* xRow[MAX_CHUNK]) {
  #pragma unroll
  for (int i = 0; i < MAX_CHUNK; i++) {
    xRow[i] = x + (size_t) (pairs[min(i, numRows - 1)] / xRowDivisor) * cols;
  }
}

// Experts over the aligned layout: for every real pair p, y row p (of numPairs rows, `rows` wide) =
// x row (p / xRowDivisor) W[expert of p]^T. The down projection: x = h (numPairs, cols), divisor 1.
// Grid (ceil(maxPadded / MAX_CHUNK), ceil(rows / TILE_ROWS)), block 256; maxPadded the worst-case
// total (numPairs + min(numExperts, numPairs) * (alignBlock - 1)).
extern "C" __global__ void moe_gemm_bf16_aligned(const int* __restrict__ sortedPairs,
    const int* __restrict__ expertOfBlock, const int* __restrict__ summary, int alignBlock, int xRowDivisor,
    const unsigned long long* __restrict__ weights, const float* __restrict__ x, int rows, int cols,
    float* __restrict__ y) {
  int expert = 0;
  int pairs[MAX_CHUNK];
  int numRows = aligned_chunk(sortedPairs, expertOfBlock, summary, alignBlock, &expert, pairs);
  if (numRows == 0) {
    return;
  }
  const unsigned short* w = reinterpret_cast<const unsigned short*>(weights[expert]);
  int warp = threadIdx.x >> 5;
  int lane = threadIdx.x & 31;
  const float* xRow[MAX_CHUNK];
  pair_rows(x, pairs, numRows, xRowDivisor, cols, xRow);
  for (int r = 0; r < TILE_ROWS / 8; r++) {
    int row = blockIdx.y * TILE_ROWS + warp * (TILE_ROWS / 8) + r;
    if (row >= rows) {
      break;
    }
    float acc[MAX_CHUNK] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    dot_rows(w + (size_t) row * cols, xRow, numRows, cols, lane, acc);
    #pragma unroll
    for (int i = 0; i < MAX_CHUNK; i++) {
      float sum = warp_sum(acc[i]);
      if (lane == 0 && i < numRows) {
        y[(size_t) pairs[i] * rows + row] = sum;
      }
    }
  }
}

// h row p (numPairs, rows) = silu(x_t Wg[e]^T) * (x_t Wu[e]^T) for every real pair p of the aligned
// layout, t = p / xRowDivisor (maxK: x is the layer input, one row per token), e the pair's expert.
// Grid (ceil(maxPadded / MAX_CHUNK), ceil(rows / TILE_ROWS)), block 256.
extern "C" __global__ void moe_gemm_bf16_gate_up_silu_aligned(const int* __restrict__ sortedPairs,
    const int* __restrict__ expertOfBlock, const int* __restrict__ summary, int alignBlock, int xRowDivisor,
    const unsigned long long* __restrict__ gateWeights, const unsigned long long* __restrict__ upWeights,
    const float* __restrict__ x, int rows, int cols, float* __restrict__ h) {
  int expert = 0;
  int pairs[MAX_CHUNK];
  int numRows = aligned_chunk(sortedPairs, expertOfBlock, summary, alignBlock, &expert, pairs);
  if (numRows == 0) {
    return;
  }
  const unsigned short* wg = reinterpret_cast<const unsigned short*>(gateWeights[expert]);
  const unsigned short* wu = reinterpret_cast<const unsigned short*>(upWeights[expert]);
  int warp = threadIdx.x >> 5;
  int lane = threadIdx.x & 31;
  const float* xRow[MAX_CHUNK];
  pair_rows(x, pairs, numRows, xRowDivisor, cols, xRow);
  for (int r = 0; r < TILE_ROWS / 8; r++) {
    int row = blockIdx.y * TILE_ROWS + warp * (TILE_ROWS / 8) + r;
    if (row >= rows) {
      break;
    }
    float gate[MAX_CHUNK] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    float up[MAX_CHUNK] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    dot_rows(wg + (size_t) row * cols, xRow, numRows, cols, lane, gate);
    dot_rows(wu + (size_t) row * cols, xRow, numRows, cols, lane, up);
    #pragma unroll
    for (int i = 0; i < MAX_CHUNK; i++) {
      float g = warp_sum(gate[i]);
      float u = warp_sum(up[i]);
      if (lane == 0 && i < numRows) {
        h[(size_t) pairs[i] * rows + row] = g / (1.f + expf(-g)) * u;
      }
    }
  }
}

// Router: for each token, softmax over all experts -> the maxK most probable (ties to the lower
// index, as torch.topk; -inf and NaN never chosen) -> the weights of the first requestedK[t]
// (renormalized when normTopK). logitBias (numExperts) is 0 or -inf (pruned experts), or null.
// routerLogits, scores (numTokens, numExperts); candidates, routingWeights (numTokens, maxK).
// Grid (numTokens), block 256, dynamic shared memory numExperts floats.
extern "C" __global__ void router_softmax_topk(const float* __restrict__ routerLogits,
    const float* __restrict__ logitBias, const int* __restrict__ requestedK, int numExperts, int maxK,
    int normTopK, float* __restrict__ scores, int* __restrict__ candidates,
    float* __restrict__ routingWeights) {
  extern __shared__ float probs[];
  __shared__ float reduceValue[GEMM_THREADS];
  __shared__ int reduceIndex[GEMM_THREADS];
  int t = blockIdx.x;
  const float* logits = routerLogits + (size_t) t * numExperts;

  float localMax = -INFINITY;
  for (int e = threadIdx.x; e < numExperts; e += blockDim.x) {
    float logit = logits[e] + (logitBias == nullptr ? 0.f : logitBias[e]);
    probs[e] = logit;
    localMax = fmaxf(localMax, logit);
  }
  reduceValue[threadIdx.x] = localMax;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) {
      reduceValue[threadIdx.x] = fmaxf(reduceValue[threadIdx.x], reduceValue[threadIdx.x + stride]);
    }
    __syncthreads();
  }
  float max = reduceValue[0];
  __syncthreads();
  float localSum = 0.f;
  for (int e = threadIdx.x; e < numExperts; e += blockDim.x) {
    float p = expf(probs[e] - max);
    probs[e] = p;
    localSum += p;
  }
  reduceValue[threadIdx.x] = localSum;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) {
      reduceValue[threadIdx.x] += reduceValue[threadIdx.x + stride];
    }
    __syncthreads();
  }
  float inv = 1.f / reduceValue[0];
  __syncthreads();
  for (int e = threadIdx.x; e < numExperts; e += blockDim.x) {
    probs[e] *= inv;
    scores[(size_t) t * numExperts + e] = probs[e];
  }
  __syncthreads();

  // Top-k by maxK rounds of an arg-max; a chosen expert is marked -inf in probs (scores keeps it).
  float chosenSum = 0.f;
  int k = requestedK[t];
  for (int j = 0; j < maxK; j++) {
    float best = -INFINITY;
    int bestIndex = numExperts;
    for (int e = threadIdx.x; e < numExperts; e += blockDim.x) {
      if (probs[e] > best) {  // strict: the lower index wins ties within a thread
        best = probs[e];
        bestIndex = e;
      }
    }
    reduceValue[threadIdx.x] = best;
    reduceIndex[threadIdx.x] = bestIndex;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
      if (threadIdx.x < stride) {
        float other = reduceValue[threadIdx.x + stride];
        int otherIndex = reduceIndex[threadIdx.x + stride];
        if (other > reduceValue[threadIdx.x]
            || (other == reduceValue[threadIdx.x] && otherIndex < reduceIndex[threadIdx.x])) {
          reduceValue[threadIdx.x] = other;
          reduceIndex[threadIdx.x] = otherIndex;
        }
      }
      __syncthreads();
    }
    int chosen = reduceIndex[0];
    if (threadIdx.x == 0) {
      // numExperts marks "no selectable expert"; the host checks for it.
      candidates[(size_t) t * maxK + j] = chosen;
      float p = chosen < numExperts ? scores[(size_t) t * numExperts + chosen] : 0.f;
      routingWeights[(size_t) t * maxK + j] = j < k ? p : 0.f;
      if (j < k) {
        chosenSum += p;
      }
      if (chosen < numExperts) {
        probs[chosen] = -INFINITY;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0 && normTopK) {
    for (int j = 0; j < k; j++) {
      routingWeights[(size_t) t * maxK + j] /= chosenSum;
    }
  }
}

// Combine: out[t] = sum of routingWeights[t, j] * expertOut[t * maxK + j] over the slots the align
// kernels placed (j < selectedK[t], or every slot when selectedK is null, and 0 <= candidates[t, j] <
// numExperts), summed in slot order so a token's result does not depend on the rest of the step.
// expertOut (numTokens * maxK, hidden): the down projections by pair; candidates, routingWeights
// (numTokens, maxK); out (numTokens, hidden). Grid (numTokens), block 256.
extern "C" __global__ void moe_combine(const float* __restrict__ expertOut,
    const int* __restrict__ candidates, const float* __restrict__ routingWeights,
    const int* __restrict__ selectedK, int maxK, int numExperts, int hidden, float* __restrict__ out) {
  int t = blockIdx.x;
  int k = selectedK == nullptr ? maxK : selectedK[t];
  for (int c = threadIdx.x; c < hidden; c += blockDim.x) {
    float sum = 0.f;
    for (int j = 0; j < k; j++) {
      int pair = t * maxK + j;
      int expert = candidates[pair];
      if (expert >= 0 && expert < numExperts) {
        sum += routingWeights[pair] * expertOut[(size_t) pair * hidden + c];
      }
    }
    out[(size_t) t * hidden + c] = sum;
  }
}
