// Every kernel of src/main/cuda against a plain reference. Two ways to run the same checks:
// - without a GPU: run-emulated.sh builds it with g++ against cuda_emu.h (a CPU emulation of CUDA);
// - on a GPU: run-on-gpu.sh builds it with nvcc (-DKERNELS_ON_GPU), every buffer in managed memory.
// Prints one line per check and exits non-zero on a mismatch.
#ifdef KERNELS_ON_GPU
#include "cuda_gpu.h"
namespace elementwise {
#include "elementwise.cu"
}
namespace attention {
#include "attention.cu"
}
namespace moe {
#include "moe.cu"
}
namespace moe_align {
#include "moe_align.cu"
}
#else
#include "cuda_emu.h"
namespace elementwise {
#include "elementwise.emu.cu"
}
namespace attention {
#include "attention.emu.cu"
}
namespace moe {
#include "moe.emu.cu"
}
namespace moe_align {
#include "moe_align.emu.cu"
}
#endif
#include <cstdio>
#include <random>
#include <string>

static int failures = 0;
static std::mt19937 rng(42);

static vec<float> randoms(size_t n, float scale = 1.f) {
  std::normal_distribution<float> normal(0.f, scale);
  vec<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

static unsigned short to_bf16(float f) {
  unsigned int bits;
  std::memcpy(&bits, &f, 4);
  return (unsigned short) ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

static float from_bf16(unsigned short h) {
  unsigned int bits = ((unsigned int) h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

static void check(const std::string& what, const vec<float>& got, const vec<float>& want,
    float tolerance) {
  float worst = 0.f;
  size_t at = 0;
  for (size_t i = 0; i < want.size(); i++) {
    float error = std::fabs(got[i] - want[i]) / std::max(1.f, std::fabs(want[i]));
    if (!(error <= worst)) {
      worst = error;
      at = i;
    }
  }
  bool ok = worst <= tolerance;
  failures += ok ? 0 : 1;
  std::printf("%-4s %-55s max rel error %.2e (at %zu: %g vs %g)\n", ok ? "ok" : "FAIL", what.c_str(), worst, at,
      want.empty() ? 0.0 : got[at], want.empty() ? 0.0 : want[at]);
}

static void check_ints(const std::string& what, const vec<int>& got, const vec<int>& want) {
  bool ok = got == want;
  failures += ok ? 0 : 1;
  std::printf("%-4s %s\n", ok ? "ok" : "FAIL", what.c_str());
}

static void rms_norm_and_rope() {
  int rows = 5, n = 96;
  auto x = randoms(rows * n), w = randoms(n);
  vec<float> out(rows * n), want(rows * n);
  LAUNCH(elementwise::rms_norm_rows, G((unsigned) rows, 1), 256, 0, x.data(), w.data(), 1e-6f, rows, n, out.data());
  for (int r = 0; r < rows; r++) {
    double ss = 0;
    for (int c = 0; c < n; c++) ss += (double) x[r * n + c] * x[r * n + c];
    float scale = (float) (1.0 / std::sqrt(ss / n + 1e-6));
    for (int c = 0; c < n; c++) want[r * n + c] = x[r * n + c] * scale * w[c];
  }
  check("rms_norm_rows (5 x 96)", out, want, 1e-5f);

  int tokens = 3, heads = 4, headDim = 64;
  vec<int> positions = {0, 7, 1234};
  vec<float> invFreq(headDim / 2);
  for (int i = 0; i < headDim / 2; i++) invFreq[i] = (float) (1.0 / std::pow(1e6, 2.0 * i / headDim));
  auto q = randoms(tokens * heads * headDim);
  auto rotated = q;
  LAUNCH(elementwise::rope_rotate_half, G((unsigned) tokens, 1), 128, 0, rotated.data(), positions.data(), invFreq.data(), tokens, heads, headDim);
  vec<float> ref = q;
  for (int t = 0; t < tokens; t++)
    for (int h = 0; h < heads; h++)
      for (int i = 0; i < headDim / 2; i++) {
        float angle = (float) positions[t] * invFreq[i];
        float c = (float) std::cos(angle), s = (float) std::sin(angle);
        float* head = &ref[(t * heads + h) * headDim];
        float a = q[(t * heads + h) * headDim + i], b = q[(t * heads + h) * headDim + i + headDim / 2];
        head[i] = a * c - b * s;
        head[i + headDim / 2] = b * c + a * s;
      }
  check("rope_rotate_half (3 tokens x 4 heads x 64)", rotated, ref, 1e-5f);
}

static void embedding_gather_argmax() {
  int vocab = 50, hidden = 40, tokens = 4;
  auto table = randoms(vocab * hidden);
  vec<unsigned short> bf(vocab * hidden);
  for (size_t i = 0; i < bf.size(); i++) bf[i] = to_bf16(table[i]);
  vec<int> ids = {3, 49, 0, 3};
  vec<float> out(tokens * hidden), want(tokens * hidden);
  LAUNCH(elementwise::embedding_gather_bf16, G((unsigned) tokens, 1), 256, 0, bf.data(), ids.data(), tokens, hidden, out.data());
  for (int t = 0; t < tokens; t++)
    for (int c = 0; c < hidden; c++) want[t * hidden + c] = from_bf16(bf[ids[t] * hidden + c]);
  check("embedding_gather_bf16", out, want, 0.f);

  int rows = 3, n = 1000;
  auto logits = randoms(rows * n);
  logits[0 * n + 999] = 50.f;
  logits[1 * n + 17] = 50.f;
  logits[1 * n + 700] = 50.f;  // a tie: the lower index wins
  logits[2 * n + 0] = 50.f;
  vec<int> best(rows);
  LAUNCH(elementwise::argmax_rows, G((unsigned) rows, 1), 256, 0, logits.data(), rows, n, best.data());
  check_ints("argmax_rows (ties to the lower index)", best, {999, 17, 0});
}

// Paged KV: blocks handed out in a scrambled order, two sequences, decode and prefill tokens.
static void attention_kernels(const int numHeads, const int numKvHeads, const int headDim, int partitionSize) {
  const int blockSize = 4, numBlocks = 64;
  const std::string shape = " (22 tokens, heads " + std::to_string(numHeads) + "/" + std::to_string(numKvHeads)
      + ", head_dim " + std::to_string(headDim) + ")";
  const int kvDim = numKvHeads * headDim, qDim = numHeads * headDim;
  vec<int> seqLen = {37, 21};  // tokens cached per sequence after this step
  int maxBlocks = 10;
  vec<int> table(2 * maxBlocks, 0);
  vec<int> freeBlocks;
  for (int b = numBlocks - 1; b >= 0; b -= 3) freeBlocks.push_back(b);
  for (int b = 0; b < numBlocks; b++)
    if (std::find(freeBlocks.begin(), freeBlocks.end(), b) == freeBlocks.end()) freeBlocks.push_back(b);
  int next = 0;
  for (int s = 0; s < 2; s++)
    for (int b = 0; b < (seqLen[s] + blockSize - 1) / blockSize; b++) table[s * maxBlocks + b] = freeBlocks[next++];
  auto row = [&](int s, int p) { return table[s * maxBlocks + p / blockSize] * blockSize + p % blockSize; };

  // the step: seq 0 decodes position 36; seq 1 runs a prompt chunk at positions 0..20
  vec<int> tokenSeq, positions;
  tokenSeq.push_back(0);
  positions.push_back(36);
  for (int p = 0; p < 21; p++) {
    tokenSeq.push_back(1);
    positions.push_back(p);
  }
  int n = (int) positions.size();
  vec<float> keyCache((size_t) numBlocks * blockSize * kvDim, 0.f), valueCache = keyCache;
  // earlier steps cached seq 0's positions 0..35
  for (int p = 0; p < 36; p++) {
    auto k = randoms(kvDim), v = randoms(kvDim);
    std::copy(k.begin(), k.end(), keyCache.begin() + (size_t) row(0, p) * kvDim);
    std::copy(v.begin(), v.end(), valueCache.begin() + (size_t) row(0, p) * kvDim);
  }
  auto q = randoms(n * qDim), k = randoms(n * kvDim), v = randoms(n * kvDim);
  vec<int> slots(n), contextLens(n);
  for (int t = 0; t < n; t++) {
    slots[t] = row(tokenSeq[t], positions[t]);
    contextLens[t] = positions[t] + 1;
  }
  LAUNCH(attention::kv_write, G((unsigned) n, 1), 128, 0, k.data(), v.data(), slots.data(), n, kvDim, keyCache.data(), valueCache.data());
  for (int t = 0; t < n; t++)
    for (int c = 0; c < kvDim; c++) {
      if (keyCache[(size_t) slots[t] * kvDim + c] != k[t * kvDim + c]) {
        std::printf("FAIL kv_write token %d\n", t);
        failures++;
        return;
      }
    }
  std::printf("ok   kv_write\n");

  float scale = 1.f / std::sqrt((float) headDim);
  vec<float> want(n * qDim);
  for (int t = 0; t < n; t++)
    for (int h = 0; h < numHeads; h++) {
      int kvHead = h / (numHeads / numKvHeads);
      vec<double> scores(contextLens[t]);
      double mx = -1e30;
      for (int j = 0; j < contextLens[t]; j++) {
        double dot = 0;
        for (int d = 0; d < headDim; d++)
          dot += q[(t * numHeads + h) * headDim + d] * keyCache[(size_t) row(tokenSeq[t], j) * kvDim + kvHead * headDim + d];
        scores[j] = dot * scale;
        mx = std::max(mx, scores[j]);
      }
      double sum = 0;
      for (auto& s : scores) sum += (s = std::exp(s - mx));
      for (int d = 0; d < headDim; d++) {
        double acc = 0;
        for (int j = 0; j < contextLens[t]; j++)
          acc += scores[j] / sum * valueCache[(size_t) row(tokenSeq[t], j) * kvDim + kvHead * headDim + d];
        want[(t * numHeads + h) * headDim + d] = (float) acc;
      }
    }

  // every token through flash-decoding, with partitions of 8 keys (several per token)
  vec<int> all(n);
  for (int t = 0; t < n; t++) all[t] = t;
  int partitions = (37 + partitionSize - 1) / partitionSize;
  vec<float> partialOut((size_t) n * numHeads * partitions * headDim), partialMax(n * numHeads * partitions),
      partialSum(n * numHeads * partitions), out(n * qDim, 0.f);
  LAUNCH(attention::paged_attention_decode_partial, G((unsigned) (n * numHeads), (unsigned) partitions), 128, 0, q.data(), keyCache.data(), valueCache.data(), table.data(), tokenSeq.data(), contextLens.data(), all.data(), numHeads, numKvHeads, headDim, blockSize, maxBlocks, partitionSize, scale, partialOut.data(), partialMax.data(), partialSum.data());
  LAUNCH(attention::paged_attention_decode_reduce, G((unsigned) (n * numHeads), 1), 128, 0, partialOut.data(), partialMax.data(), partialSum.data(), all.data(), numHeads, headDim, partitions, out.data());
  check("paged_attention_decode, partitions of " + std::to_string(partitionSize) + shape, out, want, 1e-5f);

  // the prompt chunk through the prefill kernel: tiles of 16 + 5
  vec<int> tiles = {1, 16, 17, 5};
  vec<float> prefillOut(n * qDim, 0.f);
  LAUNCH(attention::attention_prefill, G((unsigned) (2 * numHeads), 1), 128, 0, q.data(), keyCache.data(), valueCache.data(), table.data(), tokenSeq.data(), positions.data(), tiles.data(), numHeads, numKvHeads, headDim, blockSize, maxBlocks, scale, prefillOut.data());
  vec<float> gotChunk(prefillOut.begin() + qDim, prefillOut.end()), wantChunk(want.begin() + qDim, want.end());
  check("attention_prefill, tiles of 16 + 5" + shape, gotChunk, wantChunk, 1e-5f);
}

// Work list as GemmWorkList.grouped builds it.
static vec<int> work_list(const vec<int>& groupStart, const vec<int>& groupMatrix, int rows) {
  vec<int> work;
  int tiles = (rows + 31) / 32;
  for (size_t g = 0; g < groupMatrix.size(); g++)
    for (int tile = 0; tile < tiles; tile++)
      for (int r = groupStart[g]; r < groupStart[g + 1]; r += 8)
        work.insert(work.end(), {groupMatrix[g], r, std::min(8, groupStart[g + 1] - r), tile});
  return work;
}

static void gemm_kernels(int cols, int rows) {
  int numExperts = 3;
  vec<vec<unsigned short>> w(numExperts), u(numExperts);
  for (int e = 0; e < numExperts; e++) {
    auto values = randoms(rows * cols, 0.1f), values2 = randoms(rows * cols, 0.1f);
    for (float f : values) w[e].push_back(to_bf16(f));
    for (float f : values2) u[e].push_back(to_bf16(f));
  }
  vec<unsigned long long> table, upTable;
  for (int e = 0; e < numExperts; e++) {
    table.push_back((unsigned long long) w[e].data());
    upTable.push_back((unsigned long long) u[e].data());
  }
  // expert 2 has 11 rows of x, expert 0 has 1 (expert 1 is not active)
  vec<int> groupStart = {0, 11, 12}, groupMatrix = {2, 0};
  int xRows = 12;
  auto x = randoms(xRows * cols);
  auto work = work_list(groupStart, groupMatrix, rows);
  int items = (int) work.size() / 4;
  vec<float> y(xRows * rows, -1.f), h(xRows * rows, -1.f), want(xRows * rows), wantH(xRows * rows);
  LAUNCH(moe::gemm_bf16_grouped, G((unsigned) items, 1), 256, 0, reinterpret_cast<const int4*>(work.data()), table.data(), x.data(), rows, cols, y.data());
  LAUNCH(moe::gemm_bf16_gate_up_silu, G((unsigned) items, 1), 256, 0, reinterpret_cast<const int4*>(work.data()), table.data(), upTable.data(), x.data(), rows, cols, h.data());
  for (int g = 0; g < 2; g++)
    for (int i = groupStart[g]; i < groupStart[g + 1]; i++)
      for (int r = 0; r < rows; r++) {
        double acc = 0, up = 0;
        for (int c = 0; c < cols; c++) {
          acc += (double) from_bf16(w[groupMatrix[g]][r * cols + c]) * x[i * cols + c];
          up += (double) from_bf16(u[groupMatrix[g]][r * cols + c]) * x[i * cols + c];
        }
        want[i * rows + r] = (float) acc;
        wantH[i * rows + r] = (float) (acc / (1 + std::exp(-acc)) * up);
      }
  std::string shape = " (2 experts, 11 + 1 rows, " + std::to_string(rows) + " x " + std::to_string(cols) + ")";
  check("gemm_bf16_grouped" + shape, y, want, 1e-4f);
  check("gemm_bf16_gate_up_silu" + shape, h, wantH, 1e-4f);
}

static void router_and_combine(int numExperts, int maxK) {
  int tokens = 6;
  auto logits = randoms(tokens * numExperts, 2.f);
  logits[1 * numExperts + 5] = logits[1 * numExperts + 9] = 9.f;  // a tie: expert 5 first
  vec<float> bias(numExperts, 0.f);
  bias[7] = -INFINITY;  // pruned
  logits[2 * numExperts + 7] = 100.f;  // would win if not pruned
  vec<int> requestedK = {4, 2, 1, 3, 4, 4};
  for (int normTopK = 0; normTopK < 2; normTopK++) {
    vec<float> scores(tokens * numExperts), weights(tokens * maxK);
    vec<int> candidates(tokens * maxK);
    LAUNCH(moe::router_softmax_topk, G((unsigned) tokens, 1), 256, numExperts * 4, logits.data(), bias.data(), requestedK.data(), numExperts, maxK, normTopK, scores.data(), candidates.data(), weights.data());
    vec<float> wantScores(tokens * numExperts), wantWeights(tokens * maxK, 0.f);
    vec<int> wantCandidates(tokens * maxK);
    for (int t = 0; t < tokens; t++) {
      double mx = -1e30, sum = 0;
      for (int e = 0; e < numExperts; e++) mx = std::max(mx, (double) logits[t * numExperts + e] + bias[e]);
      for (int e = 0; e < numExperts; e++) sum += std::exp(logits[t * numExperts + e] + bias[e] - mx);
      for (int e = 0; e < numExperts; e++)
        wantScores[t * numExperts + e] = (float) (std::exp(logits[t * numExperts + e] + bias[e] - mx) / sum);
      vec<int> order(numExperts);
      for (int e = 0; e < numExperts; e++) order[e] = e;
      std::stable_sort(order.begin(), order.end(),
          [&](int a, int b) { return wantScores[t * numExperts + a] > wantScores[t * numExperts + b]; });
      double chosen = 0;
      for (int j = 0; j < maxK; j++) {
        wantCandidates[t * maxK + j] = order[j];
        if (j < requestedK[t]) chosen += wantScores[t * numExperts + order[j]];
      }
      for (int j = 0; j < requestedK[t]; j++)
        wantWeights[t * maxK + j] = (float) (wantScores[t * numExperts + order[j]] / (normTopK ? chosen : 1.0));
    }
    std::string mode = " (" + std::to_string(numExperts) + " experts, k " + std::to_string(maxK) + ")"
        + (normTopK ? " norm_topk_prob" : "");
    check("router_softmax_topk scores" + mode, scores, wantScores, 1e-5f);
    check_ints("router_softmax_topk candidates: ties to the lower index, pruned never" + mode, candidates,
        wantCandidates);
    check("router_softmax_topk weights for per-token k" + mode, weights, wantWeights, 1e-5f);
  }

  // combine by pair: token 0 uses 3 slots; token 1 only its first; token 2 has k 3, a slot a policy
  // dropped (-1) and one the router could not fill (numExperts): only slot 0 counts
  int hidden = 48, k = 3, experts = 6;
  vec<int> selectedK = {3, 1, 3};
  vec<int> candidates = {4, 0, 2, /* t1 */ 1, 5, 3, /* t2 */ 2, -1, 6};
  vec<float> routing = {0.5f, 0.25f, 0.25f, 1.f, 0.f, 0.f, 0.75f, 0.125f, 0.125f};
  auto expertOut = randoms(9 * hidden);
  vec<float> out(3 * hidden), want(3 * hidden);
  LAUNCH(moe::moe_combine, G(3, 1), 256, 0, expertOut.data(), candidates.data(), routing.data(), selectedK.data(), k, experts, hidden, out.data());
  for (int c = 0; c < hidden; c++) {
    want[c] = 0.5f * expertOut[c] + 0.25f * expertOut[hidden + c] + 0.25f * expertOut[2 * hidden + c];
    want[hidden + c] = expertOut[3 * hidden + c];
    want[2 * hidden + c] = 0.75f * expertOut[6 * hidden + c];
  }
  check("moe_combine (per-token k, dropped and invalid slots skipped)", out, want, 1e-6f);
}

#include "moe_checks.h"

int main() {
  rms_norm_and_rope();
  embedding_gather_argmax();
  attention_kernels(8, 2, 64, 8);
  gemm_kernels(96, 70);  // the 16-byte vector path
  gemm_kernels(90, 70);  // the scalar path (cols not a multiple of 8)
  router_and_combine(40, 4);
  moe_align_kernels();
  moe_layer(16, 4, 96, 60);
#if defined(KERNELS_ON_GPU) || defined(KERNELS_ALL_SHAPES)
  // shapes of released checkpoints (minutes under the emulator: -DKERNELS_ALL_SHAPES)
  attention_kernels(32, 4, 128, 64);
  attention_kernels(16, 16, 256, 16);
  attention_kernels(4, 1, 32, 512);
  gemm_kernels(2048, 768);
  gemm_kernels(7168, 130);
  router_and_combine(128, 8);
  router_and_combine(256, 8);
  moe_align_large();
  moe_layer(128, 8, 2048, 768);
#endif
  std::printf(failures == 0 ? "all kernels match their references\n" : "%d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
