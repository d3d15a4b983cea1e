package darkknowledge.core;

import java.nio.charset.StandardCharsets;

/**
 * One master seed; every random stream in a run is derived from it by name
 * ({@code seeds.derive("specialist", 3)}), so adding a stream never shifts another. Derivation is a
 * SplitMix64 mix of the master seed, the name's bytes and the indices.
 */
public record Seeds(long master) {

    public long derive(String name, int... indices) {
        long h = mix(master ^ 0x243F6A8885A308D3L);
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ b);
        }
        for (int i : indices) {
            h = mix(h ^ (0x100L + i));
        }
        return h;
    }

    /** SplitMix64 finaliser (Steele, Lea &amp; Flood 2014). */
    static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
