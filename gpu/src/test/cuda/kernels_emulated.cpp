// Every kernel of src/main/cuda against a plain reference, run under cuda_emu.h on the CPU.
// Built and run by run-emulated.sh; prints one line per check and exits non-zero on a mismatch.
// The GPU twin of this file is CudaKernelsTest (Java, run where a device is usable).
#include "cuda_emu.h"
#include <cstdio>
#include <random>
#include <string>

namespace elementwise {
#include "elementwise.emu.cu"
}
namespace attention {
#include "attention.emu.cu"
}
namespace moe {
#include "moe.emu.cu"
}

static int failures = 0;
static std::mt19937 rng(42);

static std::vector<float> randoms(size_t n, float scale = 1.f) {
  std::normal_distribution<float> normal(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

static unsigned short to_bf16(float f) {
  unsigned int bits;
  std::memcpy(&bits, &f, 4);
  return (unsigned short) ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

static float from_bf16(unsigned short h) {
  return __uint_as_float(((unsigned int) h) << 16);
}

static void check(const std::string& what, const std::vector<float>& got, const std::vector<float>& want,
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

static void check_ints(const std::string& what, const std::vector<int>& got, const std::vector<int>& want) {
  bool ok = got == want;
  failures += ok ? 0 : 1;
  std::printf("%-4s %s\n", ok ? "ok" : "FAIL", what.c_str());
}

static void rms_norm_and_rope() {
  int rows = 5, n = 96;
  auto x = randoms(rows * n), w = randoms(n);
  std::vector<float> out(rows * n), want(rows * n);
  emu_launch({(unsigned) rows, 1, 1}, {256, 1, 1}, [&] {
    elementwise::rms_norm_rows(x.data(), w.data(), 1e-6f, rows, n, out.data());
  });
  for (int r = 0; r < rows; r++) {
    double ss = 0;
    for (int c = 0; c < n; c++) ss += (double) x[r * n + c] * x[r * n + c];
    float scale = (float) (1.0 / std::sqrt(ss / n + 1e-6));
    for (int c = 0; c < n; c++) want[r * n + c] = x[r * n + c] * scale * w[c];
  }
  check("rms_norm_rows (5 x 96)", out, want, 1e-5f);

  int tokens = 3, heads = 4, headDim = 64;
  std::vector<int> positions = {0, 7, 1234};
  std::vector<float> invFreq(headDim / 2);
  for (int i = 0; i < headDim / 2; i++) invFreq[i] = (float) (1.0 / std::pow(1e6, 2.0 * i / headDim));
  auto q = randoms(tokens * heads * headDim);
  auto rotated = q;
  emu_launch({(unsigned) tokens, 1, 1}, {128, 1, 1}, [&] {
    elementwise::rope_rotate_half(rotated.data(), positions.data(), invFreq.data(), tokens, heads, headDim);
  });
  std::vector<float> ref = q;
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
  std::vector<unsigned short> bf(vocab * hidden);
  for (size_t i = 0; i < bf.size(); i++) bf[i] = to_bf16(table[i]);
  std::vector<int> ids = {3, 49, 0, 3};
  std::vector<float> out(tokens * hidden), want(tokens * hidden);
  emu_launch({(unsigned) tokens, 1, 1}, {256, 1, 1}, [&] {
    elementwise::embedding_gather_bf16(bf.data(), ids.data(), tokens, hidden, out.data());
  });
  for (int t = 0; t < tokens; t++)
    for (int c = 0; c < hidden; c++) want[t * hidden + c] = from_bf16(bf[ids[t] * hidden + c]);
  check("embedding_gather_bf16", out, want, 0.f);

  int rows = 3, n = 1000;
  auto logits = randoms(rows * n);
  logits[0 * n + 999] = 50.f;
  logits[1 * n + 17] = 50.f;
  logits[1 * n + 700] = 50.f;  // a tie: the lower index wins
  logits[2 * n + 0] = 50.f;
  std::vector<int> best(rows);
  emu_launch({(unsigned) rows, 1, 1}, {256, 1, 1}, [&] {
    elementwise::argmax_rows(logits.data(), rows, n, best.data());
  });
  check_ints("argmax_rows (ties to the lower index)", best, {999, 17, 0});
}

// Paged KV: blocks handed out in a scrambled order, two sequences, decode and prefill tokens.
static void attention_kernels() {
  const int numHeads = 8, numKvHeads = 2, headDim = 64, blockSize = 4, numBlocks = 64;
  const int kvDim = numKvHeads * headDim, qDim = numHeads * headDim;
  std::vector<int> seqLen = {37, 21};  // tokens cached per sequence after this step
  int maxBlocks = 10;
  std::vector<int> table(2 * maxBlocks, 0);
  std::vector<int> freeBlocks;
  for (int b = numBlocks - 1; b >= 0; b -= 3) freeBlocks.push_back(b);
  for (int b = 0; b < numBlocks; b++)
    if (std::find(freeBlocks.begin(), freeBlocks.end(), b) == freeBlocks.end()) freeBlocks.push_back(b);
  int next = 0;
  for (int s = 0; s < 2; s++)
    for (int b = 0; b < (seqLen[s] + blockSize - 1) / blockSize; b++) table[s * maxBlocks + b] = freeBlocks[next++];
  auto row = [&](int s, int p) { return table[s * maxBlocks + p / blockSize] * blockSize + p % blockSize; };

  // the step: seq 0 decodes position 36; seq 1 runs a prompt chunk at positions 0..20
  std::vector<int> tokenSeq, positions;
  tokenSeq.push_back(0);
  positions.push_back(36);
  for (int p = 0; p < 21; p++) {
    tokenSeq.push_back(1);
    positions.push_back(p);
  }
  int n = (int) positions.size();
  std::vector<float> keyCache((size_t) numBlocks * blockSize * kvDim, 0.f), valueCache = keyCache;
  // earlier steps cached seq 0's positions 0..35
  for (int p = 0; p < 36; p++) {
    auto k = randoms(kvDim), v = randoms(kvDim);
    std::copy(k.begin(), k.end(), keyCache.begin() + (size_t) row(0, p) * kvDim);
    std::copy(v.begin(), v.end(), valueCache.begin() + (size_t) row(0, p) * kvDim);
  }
  auto q = randoms(n * qDim), k = randoms(n * kvDim), v = randoms(n * kvDim);
  std::vector<int> slots(n), contextLens(n);
  for (int t = 0; t < n; t++) {
    slots[t] = row(tokenSeq[t], positions[t]);
    contextLens[t] = positions[t] + 1;
  }
  emu_launch({(unsigned) n, 1, 1}, {128, 1, 1}, [&] {
    attention::kv_write(k.data(), v.data(), slots.data(), n, kvDim, keyCache.data(), valueCache.data());
  });
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
  std::vector<float> want(n * qDim);
  for (int t = 0; t < n; t++)
    for (int h = 0; h < numHeads; h++) {
      int kvHead = h / (numHeads / numKvHeads);
      std::vector<double> scores(contextLens[t]);
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
  std::vector<int> all(n);
  for (int t = 0; t < n; t++) all[t] = t;
  int partitionSize = 8, partitions = (37 + partitionSize - 1) / partitionSize;
  std::vector<float> partialOut((size_t) n * numHeads * partitions * headDim), partialMax(n * numHeads * partitions),
      partialSum(n * numHeads * partitions), out(n * qDim, 0.f);
  emu_launch({(unsigned) (n * numHeads), (unsigned) partitions, 1}, {128, 1, 1}, [&] {
    attention::paged_attention_decode_partial(q.data(), keyCache.data(), valueCache.data(), table.data(),
        tokenSeq.data(), contextLens.data(), all.data(), numHeads, numKvHeads, headDim, blockSize, maxBlocks,
        partitionSize, scale, partialOut.data(), partialMax.data(), partialSum.data());
  });
  emu_launch({(unsigned) (n * numHeads), 1, 1}, {128, 1, 1}, [&] {
    attention::paged_attention_decode_reduce(partialOut.data(), partialMax.data(), partialSum.data(), all.data(),
        numHeads, headDim, partitions, out.data());
  });
  check("paged_attention_decode (22 tokens, GQA 8/2, partitions of 8)", out, want, 1e-5f);

  // the prompt chunk through the prefill kernel: tiles of 16 + 5
  std::vector<int> tiles = {1, 16, 17, 5};
  std::vector<float> prefillOut(n * qDim, 0.f);
  emu_launch({(unsigned) (2 * numHeads), 1, 1}, {128, 1, 1}, [&] {
    attention::attention_prefill(q.data(), keyCache.data(), valueCache.data(), table.data(), tokenSeq.data(),
        positions.data(), tiles.data(), numHeads, numKvHeads, headDim, blockSize, maxBlocks, scale,
        prefillOut.data());
  });
  std::vector<float> gotChunk(prefillOut.begin() + qDim, prefillOut.end()), wantChunk(want.begin() + qDim, want.end());
  check("attention_prefill (21-token chunk in tiles of 16 + 5)", gotChunk, wantChunk, 1e-5f);
}

// Work list as GemmWorkList.grouped builds it.
static std::vector<int> work_list(const std::vector<int>& groupStart, const std::vector<int>& groupMatrix, int rows) {
  std::vector<int> work;
  int tiles = (rows + 31) / 32;
  for (size_t g = 0; g < groupMatrix.size(); g++)
    for (int tile = 0; tile < tiles; tile++)
      for (int r = groupStart[g]; r < groupStart[g + 1]; r += 8)
        work.insert(work.end(), {groupMatrix[g], r, std::min(8, groupStart[g + 1] - r), tile});
  return work;
}

static void gemm_kernels(int cols) {
  int rows = 70, numExperts = 3;
  std::vector<std::vector<unsigned short>> w(numExperts), u(numExperts);
  for (int e = 0; e < numExperts; e++) {
    auto values = randoms(rows * cols, 0.1f), values2 = randoms(rows * cols, 0.1f);
    for (float f : values) w[e].push_back(to_bf16(f));
    for (float f : values2) u[e].push_back(to_bf16(f));
  }
  std::vector<unsigned long long> table, upTable;
  for (int e = 0; e < numExperts; e++) {
    table.push_back((unsigned long long) w[e].data());
    upTable.push_back((unsigned long long) u[e].data());
  }
  // expert 2 has 11 rows of x, expert 0 has 1 (expert 1 is not active)
  std::vector<int> groupStart = {0, 11, 12}, groupMatrix = {2, 0};
  int xRows = 12;
  auto x = randoms(xRows * cols);
  auto work = work_list(groupStart, groupMatrix, rows);
  int items = (int) work.size() / 4;
  std::vector<float> y(xRows * rows, -1.f), h(xRows * rows, -1.f), want(xRows * rows), wantH(xRows * rows);
  emu_launch({(unsigned) items, 1, 1}, {256, 1, 1}, [&] {
    moe::gemm_bf16_grouped(reinterpret_cast<const int4*>(work.data()), table.data(), x.data(), rows, cols, y.data());
  });
  emu_launch({(unsigned) items, 1, 1}, {256, 1, 1}, [&] {
    moe::gemm_bf16_gate_up_silu(reinterpret_cast<const int4*>(work.data()), table.data(), upTable.data(), x.data(),
        rows, cols, h.data());
  });
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
  check("gemm_bf16_grouped (2 experts, 11 + 1 rows, cols " + std::to_string(cols) + ")", y, want, 1e-4f);
  check("gemm_bf16_gate_up_silu (cols " + std::to_string(cols) + ")", h, wantH, 1e-4f);
}

static void router_and_combine() {
  int tokens = 6, numExperts = 40, maxK = 4;
  auto logits = randoms(tokens * numExperts, 2.f);
  logits[1 * numExperts + 5] = logits[1 * numExperts + 9] = 9.f;  // a tie: expert 5 first
  std::vector<float> bias(numExperts, 0.f);
  bias[7] = -INFINITY;  // pruned
  logits[2 * numExperts + 7] = 100.f;  // would win if not pruned
  std::vector<int> requestedK = {4, 2, 1, 3, 4, 4};
  for (int normTopK = 0; normTopK < 2; normTopK++) {
    std::vector<float> scores(tokens * numExperts), weights(tokens * maxK);
    std::vector<int> candidates(tokens * maxK);
    emu_launch({(unsigned) tokens, 1, 1}, {256, 1, 1}, [&] {
      moe::router_softmax_topk(logits.data(), bias.data(), requestedK.data(), numExperts, maxK, normTopK,
          scores.data(), candidates.data(), weights.data());
    });
    std::vector<float> wantScores(tokens * numExperts), wantWeights(tokens * maxK, 0.f);
    std::vector<int> wantCandidates(tokens * maxK);
    for (int t = 0; t < tokens; t++) {
      double mx = -1e30, sum = 0;
      for (int e = 0; e < numExperts; e++) mx = std::max(mx, (double) logits[t * numExperts + e] + bias[e]);
      for (int e = 0; e < numExperts; e++) sum += std::exp(logits[t * numExperts + e] + bias[e] - mx);
      for (int e = 0; e < numExperts; e++)
        wantScores[t * numExperts + e] = (float) (std::exp(logits[t * numExperts + e] + bias[e] - mx) / sum);
      std::vector<int> order(numExperts);
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
    std::string mode = normTopK ? " (norm_topk_prob)" : "";
    check("router_softmax_topk scores" + mode, scores, wantScores, 1e-5f);
    check_ints("router_softmax_topk candidates: ties to the lower index, pruned never" + mode, candidates,
        wantCandidates);
    check("router_softmax_topk weights for per-token k" + mode, weights, wantWeights, 1e-5f);
  }

  int hidden = 48;
  std::vector<int> selectedK = {2, 1};
  std::vector<int> entryRow = {2, 0, /* t1 */ 1, 0};
  std::vector<float> routing = {0.75f, 0.25f, 1.f, 0.f};
  auto expertOut = randoms(3 * hidden);
  std::vector<float> out(2 * hidden), want(2 * hidden);
  emu_launch({2, 1, 1}, {256, 1, 1}, [&] {
    moe::moe_combine(expertOut.data(), entryRow.data(), routing.data(), selectedK.data(), 2, hidden, out.data());
  });
  for (int c = 0; c < hidden; c++) {
    want[c] = 0.75f * expertOut[2 * hidden + c] + 0.25f * expertOut[c];
    want[hidden + c] = expertOut[hidden + c];
  }
  check("moe_combine", out, want, 1e-6f);
}

int main() {
  rms_norm_and_rope();
  embedding_gather_argmax();
  attention_kernels();
  gemm_kernels(96);  // the 16-byte vector path
  gemm_kernels(90);  // the scalar path (cols not a multiple of 8)
  router_and_combine();
  std::printf(failures == 0 ? "all kernels match their references\n" : "%d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
