// The MoE checks of kernels_emulated.cpp (included by it after its helpers: rng, randoms, check,
// check_ints, to_bf16, from_bf16, failures): the device align against a plain reference, and the whole
// layer router -> align -> gate/up/SiLU -> down -> combine against a plain double-precision reference,
// with a token's output bitwise the same whatever else is in the batch and whatever the align block.
#pragma once
#include <vector>

// What moe_align_count / _scan / _scatter must produce, computed the plain way.
struct AlignLayout {
  std::vector<int> sortedPairs, expertOfBlock, expertCounts, expertStart, summary;
};

static AlignLayout align_reference(const vec<int>& ids, const int* selectedK, int numTokens, int maxK,
    int numExperts, int alignBlock) {
  std::vector<std::vector<int>> pairsOf(numExperts);
  int invalid = 0;
  for (int pair = 0; pair < numTokens * maxK; pair++) {
    int t = pair / maxK, slot = pair % maxK, e = ids[pair];
    if ((selectedK != nullptr && slot >= selectedK[t]) || e == -1) continue;
    if (e < 0 || e >= numExperts) {
      invalid++;
      continue;
    }
    pairsOf[e].push_back(pair);
  }
  AlignLayout want;
  int active = 0;
  for (int e = 0; e < numExperts; e++) {
    int count = (int) pairsOf[e].size();
    want.expertCounts.push_back(count);
    want.expertStart.push_back((int) want.sortedPairs.size());
    active += count > 0 ? 1 : 0;
    int padded = (count + alignBlock - 1) / alignBlock * alignBlock;
    for (int i = 0; i < padded; i++) want.sortedPairs.push_back(i < count ? pairsOf[e][i] : -1);
    for (int b = 0; b < padded / alignBlock; b++) want.expertOfBlock.push_back(e);
  }
  want.summary = {(int) want.sortedPairs.size(), active, invalid};
  return want;
}

static int max_padded(int numPairs, int numExperts, int alignBlock) {
  return numPairs + std::min(numExperts, numPairs) * (alignBlock - 1);
}

// Device buffers of one align, sized for the worst case and filled with a canary, so a write past
// the padded total shows.
struct DeviceAlign {
  int numChunks, maxPadded;
  vec<int> chunkCounts, chunkInvalid, expertCounts, expertStart, sortedPairs, expertOfBlock, summary;
  DeviceAlign(int numPairs, int numExperts, int alignBlock)
      : numChunks((numPairs + 255) / 256), maxPadded(max_padded(numPairs, numExperts, alignBlock)),
        chunkCounts((size_t) numChunks * numExperts, -7), chunkInvalid(numChunks, -7), expertCounts(numExperts, -7),
        expertStart(numExperts, -7), sortedPairs(maxPadded, -7), expertOfBlock(maxPadded / alignBlock, -7),
        summary(3, -7) {}

  void run(const int* ids, const int* selectedK, int numTokens, int maxK, int numExperts, int alignBlock) {
    LAUNCH(moe_align::moe_align_count, G((unsigned) numChunks, 1), 256, 0, ids, selectedK, numTokens, maxK, numExperts, chunkCounts.data(), chunkInvalid.data());
    LAUNCH(moe_align::moe_align_scan, G(1, 1), 256, 0, chunkCounts.data(), chunkInvalid.data(), numChunks, numExperts, alignBlock, expertCounts.data(), expertStart.data(), sortedPairs.data(), expertOfBlock.data(), summary.data());
    LAUNCH(moe_align::moe_align_scatter, G((unsigned) numChunks, 1), 256, 0, ids, selectedK, numTokens, maxK, numExperts, chunkCounts.data(), expertStart.data(), sortedPairs.data());
  }
};

static vec<int> prefix(const vec<int>& v, size_t n) {
  return vec<int>(v.begin(), v.begin() + std::min(n, v.size()));
}

static void check_align(const std::string& what, const vec<int>& ids, const vec<int>* selectedK, int numTokens,
    int maxK, int numExperts, int alignBlock) {
  const int* k = selectedK == nullptr ? nullptr : selectedK->data();
  AlignLayout want = align_reference(ids, k, numTokens, maxK, numExperts, alignBlock);
  DeviceAlign got(numTokens * maxK, numExperts, alignBlock);
  got.run(ids.data(), k, numTokens, maxK, numExperts, alignBlock);
  int total = want.summary[0];
  bool canaries = total <= got.maxPadded;
  for (int p = total; p < got.maxPadded; p++) canaries = canaries && got.sortedPairs[p] == -7;
  for (size_t b = total / alignBlock; b < got.expertOfBlock.size(); b++) canaries = canaries && got.expertOfBlock[b] == -7;
  bool ok = got.summary == vec<int>(want.summary.begin(), want.summary.end())
      && got.expertCounts == vec<int>(want.expertCounts.begin(), want.expertCounts.end())
      && got.expertStart == vec<int>(want.expertStart.begin(), want.expertStart.end())
      && prefix(got.sortedPairs, total) == vec<int>(want.sortedPairs.begin(), want.sortedPairs.end())
      && prefix(got.expertOfBlock, total / alignBlock) == vec<int>(want.expertOfBlock.begin(), want.expertOfBlock.end())
      && canaries;
  failures += ok ? 0 : 1;
  std::printf("%-4s moe_align %s (%d tokens x k %d, %d experts, block %d: %d padded of at most %d, %d active, %d invalid)\n",
      ok ? "ok" : "FAIL", what.c_str(), numTokens, maxK, numExperts, alignBlock, got.summary[0], got.maxPadded,
      got.summary[1], got.summary[2]);
}

// Random routings as top-k gives them: distinct experts per token.
static vec<int> topk(int numTokens, int maxK, int numExperts) {
  vec<int> ids(numTokens * maxK);
  for (int t = 0; t < numTokens; t++) {
    std::vector<int> experts(numExperts);
    for (int e = 0; e < numExperts; e++) experts[e] = e;
    std::shuffle(experts.begin(), experts.end(), rng);
    for (int j = 0; j < maxK; j++) ids[t * maxK + j] = experts[j];
  }
  return ids;
}

// Several chunks of 256 pairs, per-token k, dropped and invalid slots, skew, empty experts, blocks 8/16/64.
static void moe_align_kernels() {
  std::uniform_int_distribution<int> coin(0, 99);
  for (int block : {16, 64}) {
    check_align("random, every slot", topk(300, 4, 40), nullptr, 300, 4, 40, block);
    // per-token k below k-max, and slots a policy dropped (-1)
    auto ids = topk(300, 4, 40);
    vec<int> k(300);
    for (int t = 0; t < 300; t++) k[t] = 1 + coin(rng) % 4;
    for (int pair = 0; pair < 1200; pair++)
      if (coin(rng) < 10) ids[pair] = -1;
    check_align("per-token k and dropped slots", ids, &k, 300, 4, 40, block);
    // skewed: every pair to one expert (the other 39 empty)
    check_align("skewed, all to expert 7", vec<int>(600, 7), nullptr, 300, 2, 40, block);
    // few tokens over many experts (most empty), with two slots the router could not fill
    auto sparse = topk(5, 2, 64);
    sparse[3] = 64;
    sparse[8] = 64;
    check_align("mostly empty experts, 2 invalid slots", sparse, nullptr, 5, 2, 64, block);
  }
  check_align("random, every slot", topk(37, 8, 128), nullptr, 37, 8, 128, 8);  // the engine's block
  check_align("one token", topk(1, 8, 128), nullptr, 1, 8, 128, 8);
}

// A prefill-sized step of a released checkpoint (Qwen3-30B-A3B: 128 experts, k 8).
static void moe_align_large() {
  check_align("random, every slot", topk(2048, 8, 128), nullptr, 2048, 8, 128, 8);
  check_align("skewed, all to expert 0", vec<int>(2048 * 8, 0), nullptr, 2048, 8, 128, 64);
}

static double silu(double g) {
  return g / (1 + std::exp(-g));
}

// One MoE layer on the device: router -> align -> gate/up/SiLU -> down -> combine. logits (numTokens,
// numExperts) stand for the router GEMM's output; out (numTokens, hidden).
struct MoeLayer {
  int numExperts, maxK, hidden, inter;
  vec<vec<unsigned short>> gate, up, down;
  vec<unsigned long long> gateTable, upTable, downTable;

  MoeLayer(int numExperts, int maxK, int hidden, int inter)
      : numExperts(numExperts), maxK(maxK), hidden(hidden), inter(inter), gate(numExperts), up(numExperts),
        down(numExperts) {
    for (int e = 0; e < numExperts; e++) {
      for (float f : randoms(inter * hidden, 0.1f)) gate[e].push_back(to_bf16(f));
      for (float f : randoms(inter * hidden, 0.1f)) up[e].push_back(to_bf16(f));
      for (float f : randoms(hidden * inter, 0.1f)) down[e].push_back(to_bf16(f));
      gateTable.push_back((unsigned long long) gate[e].data());
      upTable.push_back((unsigned long long) up[e].data());
      downTable.push_back((unsigned long long) down[e].data());
    }
  }

  // out (numTokens, hidden); candidates and weights (numTokens, maxK) as the router chose them.
  void forward(const vec<float>& x, const vec<float>& logits, const vec<int>& k, int numTokens, int alignBlock,
      vec<float>& out, vec<int>& candidates, vec<float>& weights) {
    int numPairs = numTokens * maxK;
    vec<float> scores(numTokens * numExperts);
    candidates.assign(numPairs, 0);
    weights.assign(numPairs, 0.f);
    LAUNCH(moe::router_softmax_topk, G((unsigned) numTokens, 1), 256, numExperts * 4, logits.data(), nullptr, k.data(), numExperts, maxK, 1, scores.data(), candidates.data(), weights.data());
    DeviceAlign align(numPairs, numExperts, alignBlock);
    align.run(candidates.data(), k.data(), numTokens, maxK, numExperts, alignBlock);
    unsigned chunks = (unsigned) ((align.maxPadded + 7) / 8);  // the worst case: the host knows no count
    vec<float> h((size_t) numPairs * inter, 0.f), expertOut((size_t) numPairs * hidden, 0.f);
    LAUNCH(moe::moe_gemm_bf16_gate_up_silu_aligned, G(chunks, (unsigned) ((inter + 31) / 32)), 256, 0, align.sortedPairs.data(), align.expertOfBlock.data(), align.summary.data(), alignBlock, maxK, gateTable.data(), upTable.data(), x.data(), inter, hidden, h.data());
    LAUNCH(moe::moe_gemm_bf16_aligned, G(chunks, (unsigned) ((hidden + 31) / 32)), 256, 0, align.sortedPairs.data(), align.expertOfBlock.data(), align.summary.data(), alignBlock, 1, downTable.data(), h.data(), hidden, inter, expertOut.data());
    out.assign((size_t) numTokens * hidden, 0.f);
    LAUNCH(moe::moe_combine, G((unsigned) numTokens, 1), 256, 0, expertOut.data(), candidates.data(), weights.data(), k.data(), maxK, numExperts, hidden, out.data());
  }

  // The plain reference in double, from the router's choices (checked on their own by router_and_combine).
  vec<float> reference(const vec<float>& x, const vec<int>& k, int numTokens, const vec<int>& candidates,
      const vec<float>& weights) {
    vec<float> want((size_t) numTokens * hidden, 0.f);
    std::vector<double> hRow(inter);
    for (int t = 0; t < numTokens; t++) {
      std::vector<double> acc(hidden, 0.0);
      for (int j = 0; j < k[t]; j++) {
        int e = candidates[t * maxK + j];
        for (int r = 0; r < inter; r++) {
          double g = 0, u = 0;
          for (int c = 0; c < hidden; c++) {
            g += (double) from_bf16(gate[e][r * hidden + c]) * x[t * hidden + c];
            u += (double) from_bf16(up[e][r * hidden + c]) * x[t * hidden + c];
          }
          hRow[r] = silu(g) * u;
        }
        for (int r = 0; r < hidden; r++) {
          double y = 0;
          for (int c = 0; c < inter; c++) y += (double) from_bf16(down[e][r * inter + c]) * hRow[c];
          acc[r] += weights[t * maxK + j] * y;
        }
      }
      for (int r = 0; r < hidden; r++) want[t * hidden + r] = (float) acc[r];
    }
    return want;
  }
};

static bool same_bits(const float* a, const float* b, size_t n) {
  return std::memcmp(a, b, n * sizeof(float)) == 0;
}

// hidden 96 (the gate/up GEMM's 16-byte path), intermediate 60 (the down GEMM's scalar path, a partial tile).
static void moe_layer(int numExperts, int maxK, int hidden, int inter) {
  int numTokens = 13;
  MoeLayer layer(numExperts, maxK, hidden, inter);
  auto x = randoms(numTokens * hidden);
  auto logits = randoms(numTokens * numExperts, 2.f);
  for (int t = 0; t < numTokens; t++) logits[t * numExperts + 3] += 8.f;  // skewed: expert 3 for every token
  vec<int> k(numTokens);
  for (int t = 0; t < numTokens; t++) k[t] = 1 + (t * 5) % maxK;  // per-token k below k-max
  std::string shape = " (" + std::to_string(numTokens) + " tokens, " + std::to_string(numExperts) + " experts, k "
      + std::to_string(maxK) + ", " + std::to_string(hidden) + " / " + std::to_string(inter) + ")";

  vec<float> first;
  for (int block : {8, 16, 64}) {
    vec<float> out, weights;
    vec<int> candidates;
    layer.forward(x, logits, k, numTokens, block, out, candidates, weights);
    check("MoE layer, align block " + std::to_string(block) + shape, out,
        layer.reference(x, k, numTokens, candidates, weights), 1e-4f);
    if (first.empty()) {
      first = out;
    } else {
      bool ok = same_bits(out.data(), first.data(), out.size());
      failures += ok ? 0 : 1;
      std::printf("%-4s MoE layer, align block %d bitwise equal to block 8\n", ok ? "ok" : "FAIL", block);
    }
  }
  // each of some tokens alone: the same bits as in the batch
  bool ok = true;
  for (int t : {0, 4, 12}) {
    vec<float> xAlone(x.begin() + t * hidden, x.begin() + (t + 1) * hidden);
    vec<float> logitsAlone(logits.begin() + t * numExperts, logits.begin() + (t + 1) * numExperts);
    vec<int> kAlone = {k[t]};
    vec<float> out, weights;
    vec<int> candidates;
    layer.forward(xAlone, logitsAlone, kAlone, 1, 16, out, candidates, weights);
    ok = ok && same_bits(out.data(), first.data() + t * hidden, hidden);
  }
  failures += ok ? 0 : 1;
  std::printf("%-4s MoE layer: tokens 0, 4, 12 alone bitwise equal to the batch of %d\n", ok ? "ok" : "FAIL",
      numTokens);
}
