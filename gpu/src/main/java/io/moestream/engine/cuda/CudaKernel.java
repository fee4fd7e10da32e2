package io.moestream.engine.cuda;

/**
 * Every kernel the CUDA backend launches: the PTX module it lives in (a file under
 * {@code src/main/cuda}, compiled to {@code ptx/<module>.ptx}), its entry name and its parameters
 * ('p' a device pointer, 'i' an int, 'f' a float, in order). The names live here only;
 * {@code PtxModulesTest} checks each entry and its parameter list against the committed PTX, and
 * {@link KernelLauncher} checks every launch's arguments against the list, so a mismatch fails with
 * a message instead of corrupting device memory.
 */
enum CudaKernel {
  EMBEDDING_GATHER_BF16("elementwise", "embedding_gather_bf16", "ppiip"),
  RMS_NORM_ROWS("elementwise", "rms_norm_rows", "ppfiip"),
  ADD_BIAS_ROWS("elementwise", "add_bias_rows", "ppii"),
  CLAMP_VALUES("elementwise", "clamp_values", "pif"),
  ROPE_ROTATE_HALF("elementwise", "rope_rotate_half", "pppiii"),
  ADD_ROWS("elementwise", "add_rows", "ppi"),
  SILU_MUL("elementwise", "silu_mul", "ppi"),
  ADD_SIGMOID_SCALED("elementwise", "add_sigmoid_scaled", "pppii"),
  GATHER_ROWS("elementwise", "gather_rows", "ppiip"),
  ARGMAX_ROWS("elementwise", "argmax_rows", "piip"),
  KV_WRITE("attention", "kv_write", "pppiipp"),
  PAGED_ATTENTION_DECODE_PARTIAL("attention", "paged_attention_decode_partial", "pppppppiiiiiifppp"),
  PAGED_ATTENTION_DECODE_REDUCE("attention", "paged_attention_decode_reduce", "ppppiiip"),
  ATTENTION_PREFILL("attention", "attention_prefill", "pppppppiiiiifp"),
  GEMM_BF16_GROUPED("moe", "gemm_bf16_grouped", "pppiip"),
  GEMM_BF16_GATE_UP_SILU("moe", "gemm_bf16_gate_up_silu", "ppppiip"),
  MOE_GEMM_BF16_ALIGNED("moe", "moe_gemm_bf16_aligned", "pppiippiip"),
  MOE_GEMM_BF16_GATE_UP_SILU_ALIGNED("moe", "moe_gemm_bf16_gate_up_silu_aligned", "pppiipppiip"),
  ROUTER_SOFTMAX_TOPK("moe", "router_softmax_topk", "pppiiippp"),
  MOE_COMBINE("moe", "moe_combine", "ppppiiip"),
  MOE_ALIGN_COUNT("moe_align", "moe_align_count", "ppiiipp"),
  MOE_ALIGN_SCAN("moe_align", "moe_align_scan", "ppiiippppp"),
  MOE_ALIGN_SCATTER("moe_align", "moe_align_scatter", "ppiiippp");

  private final String module;
  private final String entry;
  private final String parameters;

  CudaKernel(String module, String entry, String parameters) {
    this.module = module;
    this.entry = entry;
    this.parameters = parameters;
  }

  /** Throws when {@code args} do not match the parameter list (null stands for a null pointer). */
  void checkArguments(Object[] args) {
    if (args.length != parameters.length()) {
      throw new IllegalArgumentException(entry + " takes " + parameters.length() + " arguments, given " + args.length);
    }
    for (int i = 0; i < args.length; i++) {
      char expected = parameters.charAt(i);
      Object arg = args[i];
      boolean ok = switch (expected) {
        case 'p' -> arg == null || arg instanceof DevicePointer;
        case 'i' -> arg instanceof Integer;
        case 'f' -> arg instanceof Float;
        default -> false;
      };
      if (!ok) {
        throw new IllegalArgumentException(entry + ": argument " + i + " must be "
            + (expected == 'p' ? "a device pointer" : expected == 'i' ? "an int" : "a float") + ", given "
            + (arg == null ? "null" : arg.getClass().getSimpleName()));
      }
    }
  }

  String parameters() {
    return parameters;
  }

  String module() {
    return module;
  }

  String entry() {
    return entry;
  }
}
