package darkknowledge.core.engine;

import java.io.Serializable;

/**
 * Bytes the driver hands to every task of a stage (a saved model, a run's data), made once by
 * {@link Engine#share} and carried inside the tasks as this small handle: the in-process engine
 * keeps the bytes in memory, Spark broadcasts them (each executor fetches them once, from the driver
 * or from other executors), so no executor needs a file system it shares with the driver. The
 * receiver checks what it got (a model's parameter hash, a data set's SHA-256): a handle says where
 * bytes come from, not that they are the right ones.
 */
public interface SharedBytes extends Serializable {
    /** What the bytes are, for logs and errors ({@code generalist 3f2a…}). */
    String name();

    /** The bytes: in process the driver's array, on an executor the broadcast value (fetched on first use). */
    byte[] get();
}
