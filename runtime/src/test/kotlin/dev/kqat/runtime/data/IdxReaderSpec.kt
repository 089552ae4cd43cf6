package dev.kqat.runtime.data

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.DataOutputStream
import java.nio.file.Files
import java.nio.file.Path
import java.util.zip.GZIPOutputStream

class IdxReaderSpec : FunSpec({
    fun idx(file: Path, dims: IntArray, data: ByteArray, gzip: Boolean) {
        val raw = Files.newOutputStream(file)
        DataOutputStream(if (gzip) GZIPOutputStream(raw) else raw).use { out ->
            out.writeInt(0x0800 or dims.size)
            dims.forEach { out.writeInt(it) }
            out.write(data)
        }
    }

    test("plain and gzip IDX files read the same") {
        val dir = tempdir("idx").toPath()
        val data = ByteArray(2 * 3 * 4) { it.toByte() }
        idx(dir.resolve("a.idx"), intArrayOf(2, 3, 4), data, false)
        idx(dir.resolve("a.idx.gz"), intArrayOf(2, 3, 4), data, true)
        for (name in listOf("a.idx", "a.idx.gz")) {
            val r = IdxReader.read(dir.resolve(name))
            r.dims().toList() shouldBe listOf(2, 3, 4)
            r.data().toList() shouldBe data.toList()
        }
    }

    test("a truncated file, a wrong magic and a missing file are named in the error") {
        val dir = tempdir("idx").toPath()
        idx(dir.resolve("short.gz"), intArrayOf(10, 28, 28), ByteArray(100), true)
        shouldThrow<DatasetException> { IdxReader.read(dir.resolve("short.gz")) }.message shouldContain
            "short.gz: truncated: header promises 7840 bytes of data, file holds 100"
        Files.write(dir.resolve("bad"), byteArrayOf(1, 2, 3, 4, 5, 6, 7, 8))
        shouldThrow<DatasetException> { IdxReader.read(dir.resolve("bad")) }.message shouldContain "bad: not an unsigned-byte IDX file"
        shouldThrow<DatasetException> { IdxReader.read(dir.resolve("nope")) }.message shouldContain "nope: file not found"
    }

    test("Fashion-MNIST from the Debian package: 60,000 + 10,000 normalised examples") {
        val train = FashionMnist.load(FashionMnist.DEBIAN_DIR, true)
        train.size() shouldBe 60_000
        FashionMnist.load(FashionMnist.DEBIAN_DIR, false).size() shouldBe 10_000
        train.imageShape().toList() shouldBe listOf(28, 28, 1)
        (0 until 1000).map { train.label(it) }.toSet() shouldBe (0..9).toSet()
    }
})
