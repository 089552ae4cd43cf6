package dev.kqat.runtime.distill

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.Path
import kotlin.random.Random

/** The soft-label file format (a documented binary layout), its decoding and FKD's epoch accounting. */
class SoftLabelFileSpec : FunSpec({
    val dir = tempdir("kqat-kqsl").toPath()
    val header = SoftLabelFile.Header(3, 4, 10, 5, intArrayOf(28, 28, 1), 0x1234ABCDL, "teacher/ckpt", 7L, 0.08, 1.0)
    fun crops(image: Int) = List(4) { r ->
        val rnd = Random(image * 31 + r)
        StoredCrop(rnd.nextFloat() * 0.5f, rnd.nextFloat() * 0.5f, 0.5f, 0.25f + r * 0.1f, r % 2 == 1,
            IntArray(5) { (image + r + it) % 10 }, FloatArray(5) { 0.5f / (it + 1) })
    }
    fun write(path: Path) = SoftLabelFile.Writer(path, header).use { w ->
        repeat(3) { w.append(crops(it)) }
        w.finish()
    }

    test("round trip: header and every crop come back as written, at the documented size") {
        val file = dir.resolve("a.kqsl")
        write(file)
        val bytes = Files.readAllBytes(file)
        val headerLength = java.nio.ByteBuffer.wrap(bytes, 8, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt()
        // magic, version, header length, header, 3 images × 4 crops × (17 + 6·5) bytes
        bytes.size shouldBe 12 + headerLength + 3 * 4 * 47
        SoftLabelFile.open(file).use { f ->
            f.header().images() shouldBe 3
            f.header().topK() shouldBe 5
            f.header().labelsCrc32() shouldBe 0x1234ABCDL
            f.header().imageShape().toList() shouldBe listOf(28, 28, 1)
            for (image in 0 until 3) {
                val back = f.read(image)
                val sent = crops(image)
                for (r in 0 until 4) {
                    back[r].top() shouldBe sent[r].top()
                    back[r].left() shouldBe sent[r].left()
                    back[r].height() shouldBe sent[r].height()
                    back[r].width() shouldBe sent[r].width()
                    back[r].flip() shouldBe sent[r].flip()
                    back[r].classes().toList() shouldBe sent[r].classes().toList()
                    back[r].probabilities().toList() shouldBe sent[r].probabilities().toList()
                }
            }
        }
        // The layout as documented: "KQSL", version 1, then the JSON header, then the records.
        String(bytes, 0, 4) shouldBe "KQSL"
        java.nio.ByteBuffer.wrap(bytes, 4, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt() shouldBe 1
        String(bytes, 12, headerLength) shouldContain "\"labelsCrc32\":305441741"
        val first = java.nio.ByteBuffer.wrap(bytes, 12 + headerLength, 47).order(java.nio.ByteOrder.LITTLE_ENDIAN)
        first.getFloat() shouldBe crops(0)[0].top()
    }

    test("truncated, padded, foreign and missing files are refused by name and cause") {
        val good = dir.resolve("good.kqsl")
        write(good)
        val bytes = Files.readAllBytes(good)
        val truncated = dir.resolve("truncated.kqsl").also { Files.write(it, bytes.copyOf(bytes.size - 10)) }
        shouldThrow<IllegalArgumentException> { SoftLabelFile.open(truncated) }.message shouldContain "truncated.kqsl: corrupt soft-label file: ${bytes.size - 10} bytes"
        val padded = dir.resolve("padded.kqsl").also { Files.write(it, bytes + ByteArray(3)) }
        shouldThrow<IllegalArgumentException> { SoftLabelFile.open(padded) }.message shouldContain "padded.kqsl: corrupt soft-label file"
        val foreign = dir.resolve("foreign.kqsl").also { Files.write(it, "PK\u0003\u0004 a tar or zip".toByteArray()) }
        shouldThrow<IllegalArgumentException> { SoftLabelFile.open(foreign) }.message shouldContain "not a kqat soft-label file"
        shouldThrow<IllegalArgumentException> { SoftLabelFile.open(dir.resolve("none.kqsl")) }.message shouldContain "none.kqsl: no such soft-label file"
    }

    test("a writer stopped before the last image leaves no file, and never replaces a complete one") {
        val file = dir.resolve("kept.kqsl")
        write(file)
        val before = Files.readAllBytes(file)
        SoftLabelFile.Writer(file, header).use { w -> w.append(crops(0)) } // closed without finish(): a killed run
        Files.readAllBytes(file).toList() shouldBe before.toList()
        Files.exists(dir.resolve("kept.kqsl.part")) shouldBe false
        val fresh = dir.resolve("fresh.kqsl")
        shouldThrow<IllegalStateException> { SoftLabelFile.Writer(fresh, header).use { w -> w.append(crops(0)); w.finish() } }
            .message shouldContain "1 of 3 images written"
        Files.exists(fresh) shouldBe false
    }

    test("decoding: marginal smoothing spreads the rest evenly, marginal renorm rescales the top-k") {
        val classes = intArrayOf(3, 0, 7)
        val p = floatArrayOf(0.5f, 0.2f, 0.1f)
        val out = FloatArray(12) { -1f }
        SoftLabelDecoding.MARGINAL_SMOOTHING.decode(classes, p, 10, out, 2)
        out[0] shouldBe -1f
        out[1] shouldBe -1f
        out[2 + 3] shouldBe 0.5f
        out[2 + 0] shouldBe 0.2f
        out[2 + 7] shouldBe 0.1f
        for (c in listOf(1, 2, 4, 5, 6, 8, 9)) out[2 + c].toDouble() shouldBe (0.2 / 7 plusOrMinus 1e-7)
        SoftLabelDecoding.MARGINAL_RENORM.decode(classes, p, 10, out, 2)
        out[2 + 3].toDouble() shouldBe (0.625 plusOrMinus 1e-6)
        out[2 + 0].toDouble() shouldBe (0.25 plusOrMinus 1e-6)
        out[2 + 7].toDouble() shouldBe (0.125 plusOrMinus 1e-6)
        out[2 + 1] shouldBe 0f
    }

    test("epoch accounting: 150 epochs at 4 crops are 37 passes of 4, then epochs 148 and 149 single-crop") {
        val passes = CropPasses.of(150, 4)
        passes.size shouldBe 39
        passes.take(37).all { it.crops() == 4 } shouldBe true
        passes[36].firstEpoch() shouldBe 144
        passes.drop(37).map { it.firstEpoch() to it.crops() } shouldBe listOf(148 to 1, 149 to 1)
        passes.sumOf { it.crops() } shouldBe 150
        CropPasses.of(3, 2).map { it.firstEpoch() to it.crops() } shouldBe listOf(0 to 2, 2 to 1)
        CropPasses.of(3, 4).map { it.firstEpoch() to it.crops() } shouldBe listOf(0 to 1, 1 to 1, 2 to 1)
        CropPasses.of(5, 1).size shouldBe 5
        CropPasses.imagesPerStep(256, 4) shouldBe 64
        CropPasses.imagesPerStep(250, 4) shouldBe 63
    }

    test("the crop sampler draws torchvision's random resized crops inside the image, within the scale range") {
        val sampler = CropSampler(28, 28, 0.35, 1.0)
        val rnd = java.util.Random(3)
        var flips = 0
        repeat(2000) {
            val c = sampler.next(rnd)
            val area = c.height() * c.width()
            (c.top() >= 0f && c.left() >= 0f && c.top() + c.height() <= 1.0001f && c.left() + c.width() <= 1.0001f) shouldBe true
            // Rounding to whole pixels moves the area a little off the drawn fraction.
            (area > 0.30f && area <= 1.0001f) shouldBe true
            val ratio = (c.width() / c.height()).toDouble()
            (ratio > 0.70 && ratio < 1.43) shouldBe true
            if (c.flip()) flips++
        }
        (flips in 900..1100) shouldBe true
        val box = FloatArray(4)
        StoredCrop(0.25f, 0.5f, 0.5f, 0.25f, true, IntArray(0), FloatArray(0)).box(28, 28, box, 0)
        // rows 7..20, columns 14..20 of 28: CropAndResize's 0..1 spans pixel centres 0..27; a flip swaps x.
        box.toList() shouldBe listOf(7f / 27, 20f / 27, 20f / 27, 14f / 27)
    }
})

