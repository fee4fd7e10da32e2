// Element-wise and per-row kernels of a decoder step: embedding, RMSNorm, bias, clamp, RoPE,
// residual add, SiLU-mul, the shared expert's gated add, row gathers and argmax.
//
// Conventions of every file under gpu/src/main/cuda (read by io.moestream.engine.cuda):
// - Activations are float32, row-major; "(numTokens, hidden)" means numTokens rows of hidden floats.
// - Weights are BF16 stored as raw unsigned shorts (no cuda_bf16.h needed: bf16 -> float is a shift).
// - Every kernel is extern "C" so its PTX entry name is the name the Java side asks for
//   (CudaKernels holds the names as constants; a test checks each one is in the committed PTX).
// - Launch geometry is stated above each kernel; the Java side computes it in LaunchGeometry.
// - No fast-math: results are compared with the CPU reference at 1e-2 (BF16) / 1e-4 (F32 paths).

__device__ __forceinline__ float bf16_to_float(unsigned short h) {
  return __uint_as_float(((unsigned int) h) << 16);
}

// Sum over the block, returned to every thread. blockDim.x must be a multiple of 32 and <= 1024.
__device__ float block_sum(float value) {
  __shared__ float partial[32];
  for (int offset = 16; offset > 0; offset >>= 1) {
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  }
  int warp = threadIdx.x >> 5;
  int lane = threadIdx.x & 31;
  __syncthreads();  // partial[] may still be read by a previous call
  if (lane == 0) {
    partial[warp] = value;
  }
  __syncthreads();
  int numWarps = blockDim.x >> 5;
  float total = 0.f;
  for (int w = 0; w < numWarps; w++) {
    total += partial[w];
  }
  return total;
}

// out (numTokens, hidden) = table[tokenIds[t]] as float.
// table (vocabSize, hidden) BF16. Grid (numTokens), block 256.
extern "C" __global__ void embedding_gather_bf16(const unsigned short* __restrict__ table,
    const int* __restrict__ tokenIds, int numTokens, int hidden, float* __restrict__ out) {
  int t = blockIdx.x;
  const unsigned short* row = table + (size_t) tokenIds[t] * hidden;
  for (int c = threadIdx.x; c < hidden; c += blockDim.x) {
    out[(size_t) t * hidden + c] = bf16_to_float(row[c]);
  }
}

// out (rows, n) = x * rsqrt(mean(x^2) + eps) * weight, per row. weight (n). out may alias x.
// Covers the layer norms (rows = tokens, n = hidden), Qwen3's per-head q/k norm (rows = tokens *
// heads, n = headDim) and OLMoE's norm over the whole projection (rows = tokens, n = heads * headDim).
// Grid (rows), block 256.
extern "C" __global__ void rms_norm_rows(const float* x, const float* __restrict__ weight, float eps,
    int rows, int n, float* out) {
  int r = blockIdx.x;
  const float* in = x + (size_t) r * n;
  float sumSquares = 0.f;
  for (int c = threadIdx.x; c < n; c += blockDim.x) {
    sumSquares += in[c] * in[c];
  }
  float scale = rsqrtf(block_sum(sumSquares) / n + eps);
  for (int c = threadIdx.x; c < n; c += blockDim.x) {
    out[(size_t) r * n + c] = in[c] * scale * weight[c];
  }
}

// x (rows, n) += bias (n). Grid (ceil(rows * n / 256)), block 256.
extern "C" __global__ void add_bias_rows(float* x, const float* __restrict__ bias, int rows, int n) {
  size_t i = (size_t) blockIdx.x * blockDim.x + threadIdx.x;
  if (i < (size_t) rows * n) {
    x[i] += bias[i % n];
  }
}

// x (count) clamped to [-limit, limit] (OLMoE's clip_qkv). Grid (ceil(count / 256)), block 256.
extern "C" __global__ void clamp_values(float* x, int count, float limit) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < count) {
    x[i] = fminf(limit, fmaxf(-limit, x[i]));
  }
}

// Rotate-half RoPE in place (Hugging Face's Qwen / Mixtral / OLMoE): for each head the pairs are
// (x[i], x[i + headDim/2]). x (numTokens, numHeads * headDim); positions (numTokens);
// invFreq (headDim / 2), already divided by the linear scaling factor. The angle is
// float(position) * invFreq[i] in float32, as the reference computes it.
// Grid (numTokens), block 128.
extern "C" __global__ void rope_rotate_half(float* x, const int* __restrict__ positions,
    const float* __restrict__ invFreq, int numTokens, int numHeads, int headDim) {
  int t = blockIdx.x;
  int half = headDim / 2;
  float position = (float) positions[t];
  for (int task = threadIdx.x; task < numHeads * half; task += blockDim.x) {
    int h = task / half;
    int i = task % half;
    float s, c;
    sincosf(position * invFreq[i], &s, &c);
    float* head = x + ((size_t) t * numHeads + h) * headDim;
    float first = head[i];
    float second = head[i + half];
    head[i] = first * c - second * s;
    head[i + half] = second * c + first * s;
  }
}

// target (count) += addend (count): the residual connections. Grid (ceil(count / 256)), block 256.
extern "C" __global__ void add_rows(float* target, const float* __restrict__ addend, int count) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < count) {
    target[i] += addend[i];
  }
}

// gate (count) = silu(gate) * up, in place. Grid (ceil(count / 256)), block 256.
extern "C" __global__ void silu_mul(float* gate, const float* __restrict__ up, int count) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < count) {
    float g = gate[i];
    gate[i] = g / (1.f + expf(-g)) * up[i];
  }
}

// Qwen2-MoE's shared expert: out (numTokens, hidden) += sigmoid(gateLogit[t]) * shared (numTokens,
// hidden); gateLogit (numTokens) or null for an ungated shared expert (scale 1).
// Grid (ceil(numTokens * hidden / 256)), block 256.
extern "C" __global__ void add_sigmoid_scaled(float* out, const float* __restrict__ shared,
    const float* __restrict__ gateLogit, int numTokens, int hidden) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < numTokens * hidden) {
    float scale = gateLogit == nullptr ? 1.f : 1.f / (1.f + expf(-gateLogit[i / hidden]));
    out[i] += scale * shared[i];
  }
}

// out (numRows, n) = x[rowIndex[i]] for i < numRows: the MoE permutation (tokens grouped by expert)
// and the rows of the tokens whose logits are wanted. Grid (numRows), block 256.
extern "C" __global__ void gather_rows(const float* __restrict__ x, const int* __restrict__ rowIndex,
    int numRows, int n, float* __restrict__ out) {
  int i = blockIdx.x;
  const float* in = x + (size_t) rowIndex[i] * n;
  for (int c = threadIdx.x; c < n; c += blockDim.x) {
    out[(size_t) i * n + c] = in[c];
  }
}

// out (rows) = the index of each row's largest logit, lowest index among equals (greedy sampling
// on the device). logits (rows, vocab). Grid (rows), block 256.
extern "C" __global__ void argmax_rows(const float* __restrict__ logits, int rows, int vocab,
    int* __restrict__ out) {
  __shared__ float bestValue[256];
  __shared__ int bestIndex[256];
  const float* row = logits + (size_t) blockIdx.x * vocab;
  float value = -INFINITY;
  int index = vocab;
  for (int c = threadIdx.x; c < vocab; c += blockDim.x) {
    if (row[c] > value) {
      value = row[c];
      index = c;
    }
  }
  bestValue[threadIdx.x] = value;
  bestIndex[threadIdx.x] = index;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) {
      float otherValue = bestValue[threadIdx.x + stride];
      int otherIndex = bestIndex[threadIdx.x + stride];
      if (otherValue > bestValue[threadIdx.x]
          || (otherValue == bestValue[threadIdx.x] && otherIndex < bestIndex[threadIdx.x])) {
        bestValue[threadIdx.x] = otherValue;
        bestIndex[threadIdx.x] = otherIndex;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    out[blockIdx.x] = bestIndex[0] == vocab ? 0 : bestIndex[0];
  }
}
