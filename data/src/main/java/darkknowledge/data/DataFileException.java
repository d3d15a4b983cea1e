package darkknowledge.data;

import java.nio.file.Path;

/**
 * A data file is missing, truncated, corrupt or not what its checksum says. The message names the
 * file, what was expected and what was found.
 */
public final class DataFileException extends RuntimeException {
    private final Path file;

    public DataFileException(Path file, String expected, String found) {
        this(file, expected, found, null);
    }

    public DataFileException(Path file, String expected, String found, Throwable cause) {
        super(file + ": expected " + expected + ", found " + found, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
