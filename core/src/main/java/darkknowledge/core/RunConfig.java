package darkknowledge.core;

/**
 * Settings every experiment has.
 *
 * @param seed  the master seed; every random stream is derived from it by name ({@link Seeds})
 * @param scale the preset the other values started from (recorded, not re-applied)
 */
public record RunConfig(long seed, Scale scale) {
    public RunConfig {
        Check.that(scale != null, "scale", "must be tiny, small or full");
    }

    public Seeds seeds() {
        return new Seeds(seed);
    }
}
