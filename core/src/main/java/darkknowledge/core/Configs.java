package darkknowledge.core;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Maps config records to and from the flat key space. A record's component {@code temperature}
 * under prefix {@code distill} is the key {@code distill.temperature}; a nested record component
 * adds its own level ({@code teacher.hidden}). Supported component types: int, long, double,
 * boolean, String, enums (case-insensitive), {@code List<Integer>}, {@code List<Double>},
 * {@code List<String>} (comma-separated) and nested records.
 *
 * <p>Values missing from the settings come from a defaults instance, so a record's defaults live in
 * exactly one place: the experiment's {@code defaults()} factory. Validation stays in each record's
 * compact constructor; its {@link Check.InvalidValue} is reported here under the full key.
 */
public final class Configs {
    private Configs() {
    }

    /** Reads a record of the type of {@code defaults}, taking unset keys from {@code defaults}. */
    @SuppressWarnings("unchecked")
    public static <R extends Record> R read(Settings settings, String prefix, R defaults) {
        Class<R> type = (Class<R>) defaults.getClass();
        RecordComponent[] components = type.getRecordComponents();
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            types[i] = c.getType();
            String key = key(prefix, c.getName());
            Object fallback = accessor(c, defaults);
            if (Record.class.isAssignableFrom(c.getType())) {
                args[i] = read(settings, key, (Record) fallback);
                continue;
            }
            String raw = settings.get(key).orElse(null);
            args[i] = raw == null ? fallback : parse(key, raw, c.getGenericType(), settings.origin(key));
        }
        try {
            Constructor<R> ctor = type.getDeclaredConstructor(types);
            ctor.setAccessible(true);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Check.InvalidValue iv) {
                String key = key(prefix, iv.field());
                throw new ConfigException(key + " (from " + settings.origin(key) + "): " + iv.detail(), iv);
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw new ConfigException((prefix.isEmpty() ? "" : prefix + ": ") + re.getMessage(), re);
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + type.getName(), e);
        }
    }

    /** The record's values as flat keys, sorted. */
    public static SortedMap<String, String> write(String prefix, Record config) {
        SortedMap<String, String> out = new TreeMap<>();
        write(prefix, config, out);
        return out;
    }

    private static void write(String prefix, Record config, SortedMap<String, String> out) {
        for (RecordComponent c : config.getClass().getRecordComponents()) {
            String key = key(prefix, c.getName());
            Object v = accessor(c, config);
            if (v instanceof Record r) {
                write(key, r, out);
            } else {
                out.put(key, format(v));
            }
        }
    }

    /** Short, stable hash of a resolved configuration (first 8 hex digits of SHA-256). */
    public static String hash(SortedMap<String, String> resolved) {
        return Sha256.of(toText(resolved)).substring(0, 8);
    }

    /** {@code key=value} lines, sorted, readable by {@link java.util.Properties#load}. */
    public static String toText(SortedMap<String, String> resolved) {
        StringBuilder sb = new StringBuilder();
        resolved.forEach((k, v) -> sb.append(escape(k, true)).append('=').append(escape(v, false)).append('\n'));
        return sb.toString();
    }

    private static String escape(String s, boolean isKey) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '=', ':', '#', '!' -> sb.append(isKey ? "\\" + ch : String.valueOf(ch));
                case ' ' -> sb.append(isKey || i == 0 ? "\\ " : " ");
                default -> sb.append(ch);
            }
        }
        return sb.toString();
    }

    private static String key(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    private static Object accessor(RecordComponent c, Record r) {
        try {
            var m = c.getAccessor();
            m.setAccessible(true);
            return m.invoke(r);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String format(Object v) {
        if (v instanceof List<?> list) {
            List<String> parts = new ArrayList<>();
            list.forEach(x -> parts.add(format(x)));
            return String.join(",", parts);
        }
        if (v instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT);
        }
        return String.valueOf(v);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object parse(String key, String raw, Type type, String origin) {
        try {
            if (type == int.class || type == Integer.class) {
                return Integer.parseInt(raw);
            }
            if (type == long.class || type == Long.class) {
                return Long.parseLong(raw);
            }
            if (type == double.class || type == Double.class) {
                return Double.parseDouble(raw);
            }
            if (type == boolean.class || type == Boolean.class) {
                if (!raw.equalsIgnoreCase("true") && !raw.equalsIgnoreCase("false")) {
                    throw new IllegalArgumentException("expected true or false");
                }
                return Boolean.parseBoolean(raw);
            }
            if (type == String.class) {
                return raw;
            }
            if (type instanceof Class<?> cls && cls.isEnum()) {
                for (Object constant : cls.getEnumConstants()) {
                    if (((Enum<?>) constant).name().equalsIgnoreCase(raw.replace('-', '_'))) {
                        return constant;
                    }
                }
                List<String> allowed = new ArrayList<>();
                for (Object constant : cls.getEnumConstants()) {
                    allowed.add(format(constant));
                }
                throw new IllegalArgumentException("expected one of " + allowed);
            }
            if (type instanceof ParameterizedType pt && pt.getRawType() == List.class) {
                Type element = pt.getActualTypeArguments()[0];
                List<Object> out = new ArrayList<>();
                if (!raw.isBlank()) {
                    for (String part : raw.split(",")) {
                        out.add(parse(key, part.trim(), element, origin));
                    }
                }
                return List.copyOf(out);
            }
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            String why = e instanceof NumberFormatException ? "expected " + typeName(type) : e.getMessage();
            throw new ConfigException(key + " (from " + origin + "): cannot parse '" + raw + "': " + why);
        }
        throw new IllegalStateException("unsupported config type " + type + " for " + key);
    }

    private static String typeName(Type type) {
        return type == int.class || type == Integer.class || type == long.class || type == Long.class
                ? "an integer" : "a number";
    }

    /** Every key of {@code config} under {@code prefix}; the known keys for unknown-key checks. */
    public static List<String> keys(String prefix, Record config) {
        return new ArrayList<>(write(prefix, config).keySet());
    }

    /** Convenience: the values of a map as a sorted copy. */
    public static SortedMap<String, String> sorted(Map<String, String> m) {
        return new TreeMap<>(m);
    }
}
