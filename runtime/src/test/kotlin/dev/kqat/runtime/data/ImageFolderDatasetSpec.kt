package dev.kqat.runtime.data

import dev.kqat.runtime.toFloatArray
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.floats.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.awt.image.BufferedImage
import java.nio.file.Files
import java.nio.file.Path
import javax.imageio.ImageIO

/** Writes an RGB image whose pixel (x, y) is [rgb](x, y). */
fun writeImage(file: Path, width: Int, height: Int, format: String = "png", rgb: (Int, Int) -> Int) {
    Files.createDirectories(file.parent)
    val img = BufferedImage(width, height, BufferedImage.TYPE_INT_RGB)
    for (y in 0 until height) for (x in 0 until width) img.setRGB(x, y, rgb(x, y))
    ImageIO.write(img, format, file.toFile()) shouldBe true
}

private fun rgb(r: Int, g: Int, b: Int) = (r shl 16) or (g shl 8) or b

class ImageFolderDatasetSpec : FunSpec({
    val mean = floatArrayOf(0.5f, 0.25f, 0.125f)
    val std = floatArrayOf(0.5f, 0.25f, 0.5f)

    fun batchOf(ds: Dataset, shuffle: Boolean = false, seed: Long = 0): Pair<FloatArray, IntArray> =
        ds.batches(ds.size(), shuffle, seed, false).next().use { b ->
            val labels = IntArray(b.size())
            b.labels().copyTo(org.tensorflow.ndarray.buffer.DataBuffers.of(labels, false, false))
            Pair(b.images().toFloatArray(), labels)
        }

    test("classes are the sorted folder names; evaluation images are uniform colours normalised per channel") {
        val root = tempdir("kqat-folder").toPath()
        writeImage(root.resolve("val/zebra/a.png"), 50, 40) { _, _ -> rgb(255, 0, 51) }
        writeImage(root.resolve("val/apple/b.jpg"), 40, 60, "jpg") { _, _ -> rgb(0, 128, 255) }
        writeImage(root.resolve("val/apple/c.png"), 33, 33) { _, _ -> rgb(10, 10, 10) }
        Files.writeString(root.resolve("val/apple/readme.txt"), "not an image")
        val classes = ImageFolderDataset.classNames(root.resolve("val"))
        classes shouldContainExactly listOf("apple", "zebra")
        ImageFolderDataset.open(root.resolve("val"), classes, ImageFolderDataset.Transform.EVAL_CENTER_CROP,
            ImagePipeline(16, 18, mean, std)).use { ds ->
            ds.size() shouldBe 3
            ds.imageShape().toList() shouldBe listOf(16, 16, 3)
            val (x, y) = batchOf(ds)
            y.toList() shouldBe listOf(0, 0, 1)
            fun expected(v: Int, c: Int) = (v / 255f - mean[c]) / std[c]
            val pixels = 16 * 16
            // b.jpg (JPEG, so within a few levels), c.png and a.png exactly
            val colours = listOf(intArrayOf(0, 128, 255), intArrayOf(10, 10, 10), intArrayOf(255, 0, 51))
            val tolerance = listOf(4f, 0.01f, 0.01f)
            for (i in 0 until 3) for (p in 0 until pixels) for (c in 0 until 3) {
                x[(i * pixels + p) * 3 + c] shouldBe (expected(colours[i][c], c) plusOrMinus tolerance[i] / 255f / std[c])
            }
        }
    }

    test("evaluation resizes the shorter side and centre-crops like torchvision") {
        val root = tempdir("kqat-crop").toPath()
        // 72 wide, 36 high: with resize 36 no resampling happens, so the crop is exact.
        writeImage(root.resolve("val/a/wide.png"), 72, 36) { x, y -> rgb(x * 3, y * 7, 0) }
        ImageFolderDataset.open(root.resolve("val"), listOf("a"), ImageFolderDataset.Transform.EVAL_CENTER_CROP,
            ImagePipeline(32, 36, floatArrayOf(0f, 0f, 0f), floatArrayOf(1f, 1f, 1f))).use { ds ->
            val (x, _) = batchOf(ds)
            // top = round((36 - 32) / 2) = 2, left = round((72 - 32) / 2) = 20
            for (row in 0 until 32) for (col in 0 until 32) {
                val at = (row * 32 + col) * 3
                x[at] * 255f shouldBe (((col + 20) * 3).toFloat() plusOrMinus 0.01f)
                x[at + 1] * 255f shouldBe (((row + 2) * 7).toFloat() plusOrMinus 0.01f)
            }
        }
    }

    test("training crops and flips are random, but the same for the same epoch seed") {
        val root = tempdir("kqat-aug").toPath()
        for (i in 0 until 6) {
            writeImage(root.resolve("train/c${i % 2}/img$i.png"), 64, 48) { x, y -> rgb(x * 4, y * 5, 40 * i) }
        }
        val classes = listOf("c0", "c1")
        ImageFolderDataset.open(root.resolve("train"), classes, ImageFolderDataset.Transform.TRAIN_AUGMENT,
            ImagePipeline(24, 28, floatArrayOf(0f, 0f, 0f), floatArrayOf(1f, 1f, 1f))).use { ds ->
            val (a, la) = batchOf(ds, shuffle = true, seed = 11)
            val (b, lb) = batchOf(ds, shuffle = true, seed = 11)
            a.toList() shouldBe b.toList()
            la.toList() shouldBe lb.toList()
            val (c, _) = batchOf(ds, shuffle = true, seed = 12)
            c.toList() shouldNotBe a.toList()
            // The red channel grows with x, so a crop's first row rises unless the image was flipped.
            var flipped = 0
            var kept = 0
            for (seed in 0L until 12L) {
                val (x, _) = batchOf(ds, seed = seed)
                val first = x[0]
                val last = x[23 * 3]
                if (last > first) kept++ else flipped++
            }
            (flipped > 0 && kept > 0) shouldBe true
        }
    }

    test("a corrupt image names its file; missing folders and unknown classes are clear errors") {
        val root = tempdir("kqat-bad").toPath()
        writeImage(root.resolve("train/a/good.png"), 20, 20) { _, _ -> 0 }
        Files.write(root.resolve("train/a/broken.png"), byteArrayOf(1, 2, 3, 4, 5))
        ImageFolderDataset.open(root.resolve("train"), listOf("a"), ImageFolderDataset.Transform.EVAL_CENTER_CROP,
            ImagePipeline(16, 16, mean, std)).use { ds ->
            val e = shouldThrow<DatasetException> { ds.batches(2, false, 0, false).next() }
            e.message shouldContain "broken.png"
        }
        shouldThrow<DatasetException> { ImageFolderDataset.classNames(root.resolve("val")) }.message shouldContain "not found"
        writeImage(root.resolve("val/b/x.png"), 20, 20) { _, _ -> 0 }
        shouldThrow<DatasetException> {
            ImageFolderDataset.open(root.resolve("val"), listOf("a"), ImageFolderDataset.Transform.EVAL_CENTER_CROP,
                ImagePipeline(16, 16, mean, std))
        }.message shouldContain "'b' is not among the training classes"
    }
})
