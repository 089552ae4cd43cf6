package dev.kqat.dsl

import java.io.IOException
import java.nio.channels.FileChannel
import java.nio.channels.FileLock
import java.nio.channels.OverlappingFileLockException
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption

/**
 * An exclusive lock on a run directory (`RUN_DIR/.lock`), held while a run writes there, so that a
 * second `kqat run` into the same `--out` refuses at once instead of mixing two runs' files. The
 * operating system releases it when the process ends, even by `kill -9`, so a killed run can be resumed.
 */
class RunLock private constructor(private val channel: FileChannel, private val lock: FileLock) : AutoCloseable {
    companion object {
        const val FILE = ".lock"

        /** Locks [runDir] (creating it), or fails naming the folder when another run holds it. */
        fun acquire(runDir: Path): RunLock {
            val file = runDir.resolve(FILE)
            val channel = try {
                Files.createDirectories(runDir)
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)
            } catch (e: IOException) {
                throw IllegalArgumentException("$runDir: cannot create the run directory (${e.message ?: e.javaClass.simpleName})", e)
            }
            val lock = try {
                channel.tryLock()
            } catch (_: OverlappingFileLockException) {
                null // held by this same process
            }
            if (lock == null) {
                channel.close()
                throw IllegalStateException("$runDir: another kqat run is writing to this folder (it holds $file); wait for it or choose another --out")
            }
            return RunLock(channel, lock)
        }
    }

    override fun close() {
        lock.release()
        channel.close()
    }
}
