package dev.kqat.dsl

import org.apache.batik.transcoder.TranscoderInput
import org.apache.batik.transcoder.TranscoderOutput
import org.apache.batik.transcoder.image.PNGTranscoder
import org.jetbrains.letsPlot.Figure
import org.jetbrains.letsPlot.export.ggsave
import java.nio.file.Files
import java.nio.file.Path

/**
 * Saves a lets-plot figure as `NAME.svg` and `NAME.png`: lets-plot draws the SVG, Batik rasterises
 * it (the lets-plot raster exporter is not on the Maven Central this project builds from).
 */
object PngExport {
    fun save(figure: Figure, dir: Path, name: String): Path {
        Files.createDirectories(dir)
        val svg = Path.of(ggsave(figure, "$name.svg", path = dir.toString()))
        val png = dir.resolve("$name.png")
        val tmp = dir.resolve(".$name.png.tmp")
        Files.newOutputStream(tmp).use { out ->
            Files.newInputStream(svg).use { input ->
                PNGTranscoder().transcode(TranscoderInput(input), TranscoderOutput(out))
            }
        }
        // Renamed into place: a reader never sees half a picture.
        Files.move(tmp, png, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE)
        return png
    }
}
