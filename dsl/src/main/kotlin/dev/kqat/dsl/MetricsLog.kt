package dev.kqat.dsl

import java.io.BufferedWriter
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption

/**
 * Appends one [MetricsEvent] per line to `metrics.jsonl` (appending, so a resumed run continues the
 * same file); flushed per line so a killed run loses at most the line being written.
 */
class MetricsLog(file: Path) : AutoCloseable {
    private val out: BufferedWriter = Files.newBufferedWriter(
        file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE,
    ).also { w ->
        // A run killed in the middle of a line leaves it unterminated; the resumed run starts a new line.
        if (Files.size(file) > 0 && lastByte(file) != '\n'.code) {
            w.newLine()
            w.flush()
        }
    }

    private fun lastByte(file: Path): Int = java.io.RandomAccessFile(file.toFile(), "r").use { f ->
        f.seek(f.length() - 1)
        f.read()
    }

    fun write(event: MetricsEvent) {
        out.write(MetricsEvents.encode(event))
        out.newLine()
        out.flush()
    }

    override fun close() = out.close()
}
