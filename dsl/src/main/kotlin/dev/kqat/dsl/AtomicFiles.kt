package dev.kqat.dsl

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption

internal object AtomicFiles {
    /** Writes through a temporary file and a rename, so readers never see half a file. */
    fun write(target: Path, text: String) {
        val dir = target.toAbsolutePath().parent
        Files.createDirectories(dir)
        val tmp = Files.createTempFile(dir, ".${target.fileName}", ".tmp")
        Files.writeString(tmp, text)
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
    }

    /** Copies a folder into place under a temporary name first, then renames it. */
    fun copyDirectory(source: Path, target: Path) {
        val parent = target.toAbsolutePath().parent
        Files.createDirectories(parent)
        val tmp = Files.createTempDirectory(parent, ".${target.fileName}.tmp-")
        Files.list(source).use { files ->
            files.forEach { Files.copy(it, tmp.resolve(it.fileName), StandardCopyOption.REPLACE_EXISTING) }
        }
        if (Files.exists(target)) target.toFile().deleteRecursively()
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE)
    }
}
