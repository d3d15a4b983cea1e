package darkknowledge.core;

/**
 * How big an experiment runs: {@code tiny} (seconds; the CI twin of every experiment), {@code small}
 * (minutes; the default of {@code ./dk run}) or {@code full} (the paper's setting, up to about an
 * hour here). A scale is a preset of config values, never a separate code path.
 */
public enum Scale { TINY, SMALL, FULL }
