// The MoE permutation on the device, as vLLM's moe_align_block_size: from the router's top-k ids, the
// (token, slot) pairs sorted by expert and padded to blocks of alignBlock, so the expert GEMMs of
// moe.cu run over them with a grid sized for the worst case and no host round trip.
//
// Pairs: pair = token * maxK + slot over the router's (numTokens, maxK) ids. A slot is *used* when
// slot < selectedK[token] (every slot when selectedK is null) and its id is not -1 (a slot a policy
// dropped); a used slot whose id lies outside [0, numExperts) (the router's "no selectable expert")
// is *invalid*: placed nowhere, counted in summary[2] for the host to report. k-max shape throughout,
// so a per-token k needs nothing new.
//
// Output, all on the device:
//   expertCounts (numExperts)   used pairs per expert
//   expertStart (numExperts)    first padded position of each expert; its run is
//                               roundUp(count, alignBlock) long (0 for an expert nobody chose)
//   sortedPairs (maxPadded)     [0, total): each expert's pairs in ascending pair order, then -1 padding
//   expertOfBlock (maxPadded / alignBlock)  the expert of each alignBlock run below the total
//   summary (3)                 {padded total, experts with at least one pair, invalid slots}
// maxPadded = numPairs + min(numExperts, numPairs) * (alignBlock - 1) bounds the total, so every
// buffer can be allocated once for the largest step.
//
// Determinism: counting and placing never race (no atomics); a pair's position is its expert's start
// + the pairs of that expert in earlier chunks + the earlier pairs of its own chunk. The layout is a
// function of the ids alone.
//
// Three launches: moe_align_count (grid numChunks), moe_align_scan (grid 1), moe_align_scatter (grid
// numChunks), with numChunks = ceil(numPairs / ALIGN_THREADS), block ALIGN_THREADS, in stream order.

#define ALIGN_THREADS 256
#define UNUSED_SLOT (-1)
#define INVALID_SLOT (-2)

// The expert of pair `pair`, UNUSED_SLOT or INVALID_SLOT.
__device__ __forceinline__ int pair_expert(const int* __restrict__ topkIds, const int* __restrict__ selectedK,
    int pair, int maxK, int numExperts) {
  int slot = pair % maxK;
  if (selectedK != nullptr && slot >= selectedK[pair / maxK]) {
    return UNUSED_SLOT;
  }
  int expert = topkIds[pair];
  if (expert == UNUSED_SLOT) {
    return UNUSED_SLOT;
  }
  return expert >= 0 && expert < numExperts ? expert : INVALID_SLOT;
}

// Per chunk of ALIGN_THREADS pairs: chunkCounts[chunk, e] = its used pairs of expert e;
// chunkInvalid[chunk] = its invalid slots.
extern "C" __global__ void moe_align_count(const int* __restrict__ topkIds, const int* __restrict__ selectedK,
    int numTokens, int maxK, int numExperts, int* __restrict__ chunkCounts, int* __restrict__ chunkInvalid) {
  __shared__ int chunkExperts[ALIGN_THREADS];
  int pair = blockIdx.x * ALIGN_THREADS + threadIdx.x;
  chunkExperts[threadIdx.x] = pair < numTokens * maxK ? pair_expert(topkIds, selectedK, pair, maxK, numExperts)
                                                      : UNUSED_SLOT;
  __syncthreads();
  for (int e = threadIdx.x; e < numExperts; e += blockDim.x) {
    int count = 0;
    for (int i = 0; i < ALIGN_THREADS; i++) {
      count += chunkExperts[i] == e ? 1 : 0;
    }
    chunkCounts[(size_t) blockIdx.x * numExperts + e] = count;
  }
  if (threadIdx.x == 0) {
    int invalid = 0;
    for (int i = 0; i < ALIGN_THREADS; i++) {
      invalid += chunkExperts[i] == INVALID_SLOT ? 1 : 0;
    }
    chunkInvalid[blockIdx.x] = invalid;
  }
}

// One block: turns chunkCounts into each chunk's offset within its expert (in place), then the
// expert counts, starts, padding, block experts and the summary.
extern "C" __global__ void moe_align_scan(int* __restrict__ chunkCounts, const int* __restrict__ chunkInvalid,
    int numChunks, int numExperts, int alignBlock, int* __restrict__ expertCounts, int* __restrict__ expertStart,
    int* __restrict__ sortedPairs, int* __restrict__ expertOfBlock, int* __restrict__ summary) {
  for (int e = threadIdx.x; e < numExperts; e += blockDim.x) {
    int running = 0;
    for (int c = 0; c < numChunks; c++) {
      int count = chunkCounts[(size_t) c * numExperts + e];
      chunkCounts[(size_t) c * numExperts + e] = running;
      running += count;
    }
    expertCounts[e] = running;
  }
  __syncthreads();
  // A serial scan over the experts (a few hundred adds): simple, and in a fixed order.
  if (threadIdx.x == 0) {
    int start = 0;
    int active = 0;
    for (int e = 0; e < numExperts; e++) {
      int count = expertCounts[e];
      expertStart[e] = start;
      start += (count + alignBlock - 1) / alignBlock * alignBlock;
      active += count > 0 ? 1 : 0;
    }
    int invalid = 0;
    for (int c = 0; c < numChunks; c++) {
      invalid += chunkInvalid[c];
    }
    summary[0] = start;
    summary[1] = active;
    summary[2] = invalid;
  }
  __syncthreads();
  for (int e = threadIdx.x; e < numExperts; e += blockDim.x) {
    int start = expertStart[e];
    int count = expertCounts[e];
    int end = start + (count + alignBlock - 1) / alignBlock * alignBlock;
    for (int p = start + count; p < end; p++) {
      sortedPairs[p] = UNUSED_SLOT;
    }
    for (int b = start / alignBlock; b < end / alignBlock; b++) {
      expertOfBlock[b] = e;
    }
  }
}

// Per chunk: each used pair to its position, its expert's start + the expert's pairs in earlier
// chunks (chunkOffsets, from moe_align_scan) + the earlier pairs of this chunk with the same expert.
extern "C" __global__ void moe_align_scatter(const int* __restrict__ topkIds, const int* __restrict__ selectedK,
    int numTokens, int maxK, int numExperts, const int* __restrict__ chunkOffsets,
    const int* __restrict__ expertStart, int* __restrict__ sortedPairs) {
  __shared__ int chunkExperts[ALIGN_THREADS];
  int pair = blockIdx.x * ALIGN_THREADS + threadIdx.x;
  int expert = pair < numTokens * maxK ? pair_expert(topkIds, selectedK, pair, maxK, numExperts) : UNUSED_SLOT;
  chunkExperts[threadIdx.x] = expert;
  __syncthreads();
  if (expert >= 0) {
    int rank = 0;
    for (int i = 0; i < (int) threadIdx.x; i++) {
      rank += chunkExperts[i] == expert ? 1 : 0;
    }
    sortedPairs[expertStart[expert] + chunkOffsets[(size_t) blockIdx.x * numExperts + expert] + rank] = pair;
  }
}
