package darkknowledge.core;

import java.util.List;

/**
 * Range checks for the compact constructors of config records. Each failure names the record
 * component; {@link Configs} prefixes it with the section so the user sees the full key
 * ({@code distill.temperature: must be > 0, got -1.0}).
 */
public final class Check {
    private Check() {
    }

    /** A value outside its allowed range; {@link #field()} is the record component's name. */
    public static final class InvalidValue extends IllegalArgumentException {
        private final String field;

        InvalidValue(String field, String message) {
            super(field + ": " + message);
            this.field = field;
        }

        public String field() {
            return field;
        }

        public String detail() {
            return getMessage().substring(field.length() + 2);
        }
    }

    public static double positive(String field, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new InvalidValue(field, "must be a finite number > 0, got " + value);
        }
        return value;
    }

    public static int positive(String field, int value) {
        if (value <= 0) {
            throw new InvalidValue(field, "must be an integer > 0, got " + value);
        }
        return value;
    }

    public static int atLeast(String field, int value, int min) {
        if (value < min) {
            throw new InvalidValue(field, "must be an integer >= " + min + ", got " + value);
        }
        return value;
    }

    public static double nonNegative(String field, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new InvalidValue(field, "must be a finite number >= 0, got " + value);
        }
        return value;
    }

    /** {@code lo <= value <= hi}. */
    public static double inRange(String field, double value, double lo, double hi) {
        if (!(value >= lo && value <= hi)) {
            throw new InvalidValue(field, "must be in [" + lo + ", " + hi + "], got " + value);
        }
        return value;
    }

    /** {@code lo <= value < hi}. */
    public static double inHalfOpen(String field, double value, double lo, double hi) {
        if (!(value >= lo && value < hi)) {
            throw new InvalidValue(field, "must be in [" + lo + ", " + hi + "), got " + value);
        }
        return value;
    }

    public static int inRange(String field, int value, int lo, int hi) {
        if (value < lo || value > hi) {
            throw new InvalidValue(field, "must be an integer in [" + lo + ", " + hi + "], got " + value);
        }
        return value;
    }

    public static <T> List<T> nonEmpty(String field, List<T> value) {
        if (value == null || value.isEmpty()) {
            throw new InvalidValue(field, "must be a non-empty list");
        }
        return List.copyOf(value);
    }

    public static List<Integer> allPositive(String field, List<Integer> value) {
        for (int v : nonEmpty(field, value)) {
            if (v <= 0) {
                throw new InvalidValue(field, "every entry must be > 0, got " + value);
            }
        }
        return List.copyOf(value);
    }

    public static String notBlank(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new InvalidValue(field, "must not be blank");
        }
        return value;
    }

    /** Fails with {@code message} attributed to {@code field} unless {@code condition} holds. */
    public static void that(boolean condition, String field, String message) {
        if (!condition) {
            throw new InvalidValue(field, message);
        }
    }
}
