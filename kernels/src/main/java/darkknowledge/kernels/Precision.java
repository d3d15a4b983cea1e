package darkknowledge.kernels;

/**
 * The arithmetic of a net's hidden-layer matrix products, or of its convolutions ({@link DnnlConv},
 * {@code conv.precision}).
 *
 * <ul>
 *   <li>{@code FP32}: everything in IEEE single precision (the default).
 *   <li>{@code BF16}: mixed precision as CPU autocast does it: each product {@code x W},
 *       {@code xᵀ δ} and {@code δ Wᵀ} of a {@link ReluDense} layer takes bfloat16 operands (fp32 rounded
 *       to 8 significant bits, {@link Bf16#round}) and accumulates in fp32; the weights the optimiser
 *       updates (master weights), biases, activations, the output layer, the loss and the update
 *       stay fp32. Needs a CPU with {@code avx512_bf16} or {@code amx_bf16} and Intel MKL 2025
 *       ({@link Bf16#unsupported}). For {@link DnnlConv}'s convolutions: oneDNN's bf16 primitives with
 *       fp32 accumulation, outputs and gradients, on a CPU with either flag ({@link DnnlConv#bf16Unsupported}).
 * </ul>
 */
public enum Precision {
    FP32,
    BF16
}
