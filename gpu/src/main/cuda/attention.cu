// Grouped-query causal attention over the paged KV cache (Qwen2/3-MoE, Mixtral, OLMoE).
//
// Cache layout, the same as io.moestream.engine.kv.PagedKvCache per layer:
//   keyCache, valueCache (numBlocks * blockSize, kvDim) float32, kvDim = numKvHeads * headDim;
//   the row of position p of a sequence is blockTable[p / blockSize] * blockSize + p % blockSize.
// Block tables are packed per step (BlockTables.java): blockTables (numSeqs, maxBlocksPerSeq) int,
// tokenSeq (numTokens) the packed sequence of each token, contextLens (numTokens) = position + 1.
// q (numTokens, numHeads * headDim); out (numTokens, numHeads * headDim); head h reads kv head
// h / (numHeads / numKvHeads). headDim <= 256 and a multiple of 32 (checked on the Java side).
//
// Decode tokens use flash-decoding (the context split into partitions scored in parallel, then a
// reduce); runs of consecutive prompt positions use the tiled prefill kernel, which loads each
// key/value chunk into shared memory once for up to 16 queries.

#define MAX_HEAD_DIM 256
#define DIMS_PER_LANE (MAX_HEAD_DIM / 32)

__device__ __forceinline__ float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  }
  return value;
}

__device__ __forceinline__ size_t cache_row(const int* blockTables, int seq, int maxBlocksPerSeq,
    int blockSize, int position) {
  return (size_t) blockTables[seq * maxBlocksPerSeq + position / blockSize] * blockSize
      + position % blockSize;
}

// keyCache[slots[t]] = k[t], valueCache[slots[t]] = v[t]. k, v (numTokens, kvDim); slots (numTokens).
// Grid (numTokens), block 128.
extern "C" __global__ void kv_write(const float* __restrict__ k, const float* __restrict__ v,
    const int* __restrict__ slots, int numTokens, int kvDim, float* __restrict__ keyCache,
    float* __restrict__ valueCache) {
  int t = blockIdx.x;
  size_t row = (size_t) slots[t] * kvDim;
  for (int c = threadIdx.x; c < kvDim; c += blockDim.x) {
    keyCache[row + c] = k[(size_t) t * kvDim + c];
    valueCache[row + c] = v[(size_t) t * kvDim + c];
  }
}

// Flash-decoding, pass 1: one block per (listed token, head, partition of partitionSize keys).
// Each of the 4 warps takes every 4th key of the partition with an online softmax; the warps are
// merged in shared memory and the partition's (max, sum, unnormalized output) is written out.
// tokenList (numListed): the step's tokens this launch covers.
// partialOut (numListed * numHeads, numPartitions, headDim); partialMax, partialSum
// (numListed * numHeads, numPartitions). Grid (numListed * numHeads, numPartitions), block 128.
extern "C" __global__ void paged_attention_decode_partial(const float* __restrict__ q,
    const float* __restrict__ keyCache, const float* __restrict__ valueCache,
    const int* __restrict__ blockTables, const int* __restrict__ tokenSeq,
    const int* __restrict__ contextLens, const int* __restrict__ tokenList, int numHeads,
    int numKvHeads, int headDim, int blockSize, int maxBlocksPerSeq, int partitionSize, float scale,
    float* __restrict__ partialOut, float* __restrict__ partialMax, float* __restrict__ partialSum) {
  __shared__ float warpMax[4];
  __shared__ float warpSum[4];
  __shared__ float warpAcc[4][MAX_HEAD_DIM];
  int task = blockIdx.x;
  int partition = blockIdx.y;
  int numPartitions = gridDim.y;
  int t = tokenList[task / numHeads];
  int h = task % numHeads;
  int kvHead = h / (numHeads / numKvHeads);
  int kvDim = numKvHeads * headDim;
  int seq = tokenSeq[t];
  int start = partition * partitionSize;
  int end = min(contextLens[t], start + partitionSize);
  int warp = threadIdx.x >> 5;
  int lane = threadIdx.x & 31;
  int dims = headDim / 32;

  float qr[DIMS_PER_LANE];
  float acc[DIMS_PER_LANE];
  const float* qHead = q + ((size_t) t * numHeads + h) * headDim;
  #pragma unroll
  for (int i = 0; i < DIMS_PER_LANE && i < dims; i++) {  // unrolled: registers, not local memory
    qr[i] = qHead[lane + 32 * i];
    acc[i] = 0.f;
  }
  float m = -INFINITY;
  float l = 0.f;
  for (int j = start + warp; j < end; j += 4) {
    size_t row = cache_row(blockTables, seq, maxBlocksPerSeq, blockSize, j) * kvDim + kvHead * headDim;
    float dot = 0.f;
    #pragma unroll
    for (int i = 0; i < DIMS_PER_LANE && i < dims; i++) {  // unrolled: registers, not local memory
      dot += qr[i] * keyCache[row + lane + 32 * i];
    }
    float score = warp_sum(dot) * scale;
    float mNew = fmaxf(m, score);
    float correction = expf(m - mNew);  // 0 on the first key (m = -inf)
    float p = expf(score - mNew);
    l = l * correction + p;
    #pragma unroll
    for (int i = 0; i < DIMS_PER_LANE && i < dims; i++) {  // unrolled: registers, not local memory
      acc[i] = acc[i] * correction + p * valueCache[row + lane + 32 * i];
    }
    m = mNew;
  }
  if (lane == 0) {
    warpMax[warp] = m;
    warpSum[warp] = l;
  }
  #pragma unroll
  for (int i = 0; i < DIMS_PER_LANE && i < dims; i++) {  // unrolled: registers, not local memory
    warpAcc[warp][lane + 32 * i] = acc[i];
  }
  __syncthreads();
  float blockMax = fmaxf(fmaxf(warpMax[0], warpMax[1]), fmaxf(warpMax[2], warpMax[3]));
  size_t outIndex = (size_t) task * numPartitions + partition;
  if (threadIdx.x == 0) {
    float sum = 0.f;
    for (int w = 0; w < 4; w++) {
      sum += warpSum[w] > 0.f ? warpSum[w] * expf(warpMax[w] - blockMax) : 0.f;
    }
    partialMax[outIndex] = blockMax;
    partialSum[outIndex] = sum;
  }
  for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
    float value = 0.f;
    for (int w = 0; w < 4; w++) {
      value += warpSum[w] > 0.f ? warpAcc[w][d] * expf(warpMax[w] - blockMax) : 0.f;
    }
    partialOut[outIndex * headDim + d] = value;
  }
}

// Flash-decoding, pass 2: merges the partitions of each (listed token, head) into out.
// Partitions past a token's context have sum 0 and are skipped. Grid (numListed * numHeads), block 128.
extern "C" __global__ void paged_attention_decode_reduce(const float* __restrict__ partialOut,
    const float* __restrict__ partialMax, const float* __restrict__ partialSum,
    const int* __restrict__ tokenList, int numHeads, int headDim, int numPartitions,
    float* __restrict__ out) {
  int task = blockIdx.x;
  int t = tokenList[task / numHeads];
  int h = task % numHeads;
  size_t base = (size_t) task * numPartitions;
  float globalMax = -INFINITY;
  for (int p = 0; p < numPartitions; p++) {
    if (partialSum[base + p] > 0.f) {
      globalMax = fmaxf(globalMax, partialMax[base + p]);
    }
  }
  float total = 0.f;
  for (int p = 0; p < numPartitions; p++) {
    if (partialSum[base + p] > 0.f) {
      total += partialSum[base + p] * expf(partialMax[base + p] - globalMax);
    }
  }
  float inv = 1.f / total;
  float* outHead = out + ((size_t) t * numHeads + h) * headDim;
  for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
    float value = 0.f;
    for (int p = 0; p < numPartitions; p++) {
      if (partialSum[base + p] > 0.f) {
        value += partialOut[(base + p) * headDim + d] * expf(partialMax[base + p] - globalMax);
      }
    }
    outHead[d] = value * inv;
  }
}

#define PREFILL_TILE 16
#define PREFILL_KEYS 16

// Prefill: one block per (query tile, head). A tile (tiles: numTiles x {firstToken, count}) is up to
// 16 step tokens of one sequence at consecutive positions (PrefillTiles.java builds them); its keys
// 0 .. lastPosition are loaded 16 at a time into shared memory and reused by every query of the
// tile. Warp w owns queries w, w+4, w+8, w+12 of the tile, each with its own online softmax.
// Grid (numTiles * numHeads), block 128.
extern "C" __global__ void attention_prefill(const float* __restrict__ q,
    const float* __restrict__ keyCache, const float* __restrict__ valueCache,
    const int* __restrict__ blockTables, const int* __restrict__ tokenSeq,
    const int* __restrict__ positions, const int* __restrict__ tiles, int numHeads, int numKvHeads,
    int headDim, int blockSize, int maxBlocksPerSeq, float scale, float* __restrict__ out) {
  __shared__ float keys[PREFILL_KEYS][MAX_HEAD_DIM];
  __shared__ float values[PREFILL_KEYS][MAX_HEAD_DIM];
  int tile = blockIdx.x / numHeads;
  int h = blockIdx.x % numHeads;
  int firstToken = tiles[2 * tile];
  int count = tiles[2 * tile + 1];
  int kvHead = h / (numHeads / numKvHeads);
  int kvDim = numKvHeads * headDim;
  int seq = tokenSeq[firstToken];
  int firstPosition = positions[firstToken];
  int lastPosition = firstPosition + count - 1;
  int warp = threadIdx.x >> 5;
  int lane = threadIdx.x & 31;
  int dims = headDim / 32;
  const int perWarp = PREFILL_TILE / 4;

  float qr[perWarp][DIMS_PER_LANE];
  float acc[perWarp][DIMS_PER_LANE];
  float m[perWarp];
  float l[perWarp];
  #pragma unroll
  for (int s = 0; s < perWarp; s++) {  // unrolled
    int query = warp + 4 * s;
    m[s] = -INFINITY;
    l[s] = 0.f;
    #pragma unroll
    for (int i = 0; i < DIMS_PER_LANE && i < dims; i++) {  // unrolled: registers, not local memory
      qr[s][i] = query < count ? q[((size_t) (firstToken + query) * numHeads + h) * headDim + lane + 32 * i] : 0.f;
      acc[s][i] = 0.f;
    }
  }
  for (int chunk = 0; chunk <= lastPosition; chunk += PREFILL_KEYS) {
    int chunkKeys = min(PREFILL_KEYS, lastPosition + 1 - chunk);
    __syncthreads();  // the previous chunk is no longer read
    for (int e = threadIdx.x; e < chunkKeys * headDim; e += blockDim.x) {
      int j = e / headDim;
      int d = e % headDim;
      size_t row = cache_row(blockTables, seq, maxBlocksPerSeq, blockSize, chunk + j) * kvDim + kvHead * headDim;
      keys[j][d] = keyCache[row + d];
      values[j][d] = valueCache[row + d];
    }
    __syncthreads();
    #pragma unroll
    for (int s = 0; s < perWarp; s++) {  // unrolled
      int query = warp + 4 * s;
      if (query >= count) {
        continue;
      }
      int visible = min(chunkKeys, firstPosition + query + 1 - chunk);  // causal mask
      for (int j = 0; j < visible; j++) {
        float dot = 0.f;
        #pragma unroll
        for (int i = 0; i < DIMS_PER_LANE && i < dims; i++) {  // unrolled: registers, not local memory
          dot += qr[s][i] * keys[j][lane + 32 * i];
        }
        float score = warp_sum(dot) * scale;
        float mNew = fmaxf(m[s], score);
        float correction = expf(m[s] - mNew);
        float p = expf(score - mNew);
        l[s] = l[s] * correction + p;
        #pragma unroll
        for (int i = 0; i < DIMS_PER_LANE && i < dims; i++) {  // unrolled: registers, not local memory
          acc[s][i] = acc[s][i] * correction + p * values[j][lane + 32 * i];
        }
        m[s] = mNew;
      }
    }
  }
  #pragma unroll
  for (int s = 0; s < perWarp; s++) {  // unrolled
    int query = warp + 4 * s;
    if (query < count) {
      float inv = 1.f / l[s];
      float* outHead = out + ((size_t) (firstToken + query) * numHeads + h) * headDim;
      #pragma unroll
      for (int i = 0; i < DIMS_PER_LANE && i < dims; i++) {  // unrolled: registers, not local memory
        outHead[lane + 32 * i] = acc[s][i] * inv;
      }
    }
  }
}
