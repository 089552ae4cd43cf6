package dev.kqat.runtime.io

import dev.kqat.runtime.fetchFloats
import dev.kqat.runtime.models.VisionTransformer
import dev.kqat.runtime.nn.ModelState
import dev.kqat.runtime.nn.NetContext
import dev.kqat.runtime.nn.PassMode
import dev.kqat.runtime.nn.QuantHooks
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.tf.ParamRole
import dev.kqat.runtime.tf.ParamStore
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path
import kotlin.random.Random
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.op.core.Placeholder
import org.tensorflow.types.TFloat32

/** `.safetensors` files written here, read back, and a timm DeiT layout (fused qkv) imported into a ViT. */
class SafetensorsImportSpec : FunSpec({
    data class Stored(val name: String, val shape: List<Long>, val values: FloatArray, val dtype: String = "F32")

    /** The format as Hugging Face writes it: u64 LE header length, JSON header padded with spaces to 8 bytes, data. */
    fun write(file: Path, tensors: List<Stored>, metadata: Boolean = true): Path {
        var offset = 0L
        val entries = tensors.map { t ->
            val width = when (t.dtype) { "F32" -> 4; "I64" -> 8; else -> 2 }
            val begin = offset
            offset += t.values.size * width
            "\"${t.name}\":{\"dtype\":\"${t.dtype}\",\"shape\":${t.shape},\"data_offsets\":[$begin,$offset]}"
        }
        var header = "{" + (if (metadata) listOf("\"__metadata__\":{\"format\":\"pt\"}") else listOf<String>()).plus(entries).joinToString(",") + "}"
        header += " ".repeat((8 - header.length % 8) % 8)
        val data = ByteBuffer.allocate(offset.toInt()).order(ByteOrder.LITTLE_ENDIAN)
        for (t in tensors) for (v in t.values) when (t.dtype) {
            "F32" -> data.putFloat(v)
            "BF16" -> data.putShort((java.lang.Float.floatToIntBits(v) ushr 16).toShort())
            "I64" -> data.putLong(v.toLong())
            else -> error("test writes F32 and BF16")
        }
        val bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length.toLong()).array() +
            header.toByteArray() + data.array()
        Files.write(file, bytes)
        return file
    }

    val dir = tempdir("kqat-safetensors").toPath()

    test("F32 and BF16 tensors read back with their shapes; metadata is skipped; F16 converts exactly") {
        val file = write(dir.resolve("a.safetensors"), listOf(
            Stored("w", listOf(2, 3), floatArrayOf(1f, -2f, 0.5f, 3.25f, -0f, 1e-3f)),
            Stored("b", listOf(2), floatArrayOf(1.5f, -0.375f), "BF16"),
        ))
        val read = SafetensorsFile.read(file)
        read.keys.toList() shouldBe listOf("w", "b")
        read.getValue("w").shape().toList() shouldBe listOf(2L, 3L)
        read.getValue("w").values().toList() shouldBe listOf(1f, -2f, 0.5f, 3.25f, -0f, 1e-3f)
        read.getValue("b").values().toList() shouldBe listOf(1.5f, -0.375f) // exact in bfloat16
        // Half precision: 1, -2, 0.5, the largest finite 65504, the smallest subnormal 2^-24, infinity.
        listOf(0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00).map { SafetensorsFile.halfToFloat(it.toShort()) } shouldBe
            listOf(1f, -2f, 0.5f, 65504f, Math.scalb(1f, -24), Float.POSITIVE_INFINITY)
    }

    test("a corrupt file is refused naming the file and what is wrong") {
        val truncated = dir.resolve("truncated.safetensors")
        Files.write(truncated, ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(400).putInt(0).array())
        shouldThrow<IllegalArgumentException> { SafetensorsFile.read(truncated) }.message shouldContain "truncated.safetensors: not a valid safetensors file: header length 400"
        val good = write(dir.resolve("short.safetensors"), listOf(Stored("w", listOf(4), floatArrayOf(1f, 2f, 3f, 4f))))
        val bytes = Files.readAllBytes(good)
        Files.write(good, bytes.copyOf(bytes.size - 4)) // one value cut off
        shouldThrow<IllegalArgumentException> { SafetensorsFile.read(good) }.message shouldContain "w: data_offsets [0,16] do not hold 4 F32 values"
        val json = dir.resolve("json.safetensors")
        Files.write(json, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(8).array() + "{not js}".toByteArray())
        shouldThrow<IllegalArgumentException> { SafetensorsFile.read(json) }.message shouldContain "header is not JSON"
        val ints = write(dir.resolve("ints.safetensors"), listOf(Stored("w", listOf(1), floatArrayOf(1f))))
        Files.write(ints, String(Files.readAllBytes(ints), Charsets.ISO_8859_1).replace("\"F32\"", "\"I32\"").toByteArray(Charsets.ISO_8859_1))
        // Integer tensors (index buffers) are listed without values; using one as a weight names it.
        val intTensor = SafetensorsFile.read(ints).getValue("w")
        intTensor.dtype() shouldBe "I32"
        shouldThrow<IllegalArgumentException> { intTensor.floats(ints) }.message shouldContain "w is I32; only F32, F16 and BF16"
    }

    // A DeiT-shaped ViT small enough to check every value: patch 2 on 4x4 grey images, width 4, 2 blocks of 2 heads, MLP 8.
    val config = VisionTransformer.Config(2, 4, 2, 2, 2.0, 0.0, 1e-6f)
    val c = 4L
    val hidden = 8L

    /** timm's state dict of that ViT, as `timm.create_model(...).state_dict()` names and shapes it. */
    fun timmTensors(classes: Long, random: Random): List<Stored> {
        fun t(name: String, vararg shape: Long) = Stored(name, shape.toList(), FloatArray(shape.fold(1L) { a, b -> a * b }.toInt()) { random.nextFloat() - 0.5f })
        return buildList {
            add(t("cls_token", 1, 1, c))
            add(t("pos_embed", 1, 5, c))
            add(t("patch_embed.proj.weight", c, 1, 2, 2))
            add(t("patch_embed.proj.bias", c))
            for (i in 0 until 2) {
                add(t("blocks.$i.norm1.weight", c)); add(t("blocks.$i.norm1.bias", c))
                add(t("blocks.$i.attn.qkv.weight", 3 * c, c)); add(t("blocks.$i.attn.qkv.bias", 3 * c))
                add(t("blocks.$i.attn.proj.weight", c, c)); add(t("blocks.$i.attn.proj.bias", c))
                add(t("blocks.$i.norm2.weight", c)); add(t("blocks.$i.norm2.bias", c))
                add(t("blocks.$i.mlp.fc1.weight", hidden, c)); add(t("blocks.$i.mlp.fc1.bias", hidden))
                add(t("blocks.$i.mlp.fc2.weight", c, hidden)); add(t("blocks.$i.mlp.fc2.bias", c))
            }
            add(t("norm.weight", c)); add(t("norm.bias", c))
            add(t("head.weight", classes, c)); add(t("head.bias", classes))
        }
    }

    /** Builds the ViT, imports [file], returns the import's result and every model variable's value. */
    fun import(file: Path, classes: Int): Pair<WeightImport.Result, Map<String, FloatArray>> = Graph().use { g ->
        val tf = Ops.create(g)
        val params = ParamStore(tf, 0)
        val ctx = NetContext(ModelState(params, QuantPolicy.FLOAT, listOf(), FakeQuantKernel.TF_OPS, QuantHooks.NONE), PassMode.EVAL, null)
        VisionTransformer("vit", config, classes, intArrayOf(4, 4, 1)).forward(ctx, tf.placeholder(TFloat32::class.java, Placeholder.shape(Shape.of(-1, 4, 4, 1))))
        Session(g).use { s ->
            s.initialize()
            val result = WeightImport.timmVit(s, params, file, "head")
            result to params.withRole(ParamRole.WEIGHT).associate { it.name() to s.fetchFloats(it.variable()).single() }
        }
    }

    test("a timm DeiT state dict with fused qkv: every variable set, linears transposed, qkv split in row thirds, the patch kernel as HWIO") {
        val tensors = timmTensors(3, Random(1)).associateBy { it.name }
        val file = write(dir.resolve("deit.safetensors"), tensors.values.toList())
        val (result, values) = import(file, 3)
        result.loaded() shouldBe values.size
        result.skipped() shouldBe listOf()
        fun timm(name: String) = tensors.getValue(name).values
        // Linear [out, in] -> kernel [in, out]: kernel[i][o] = weight[o][i].
        for ((layer, rowsFrom) in listOf("q" to 0, "k" to 4, "v" to 8)) for (i in 0 until 4) for (o in 0 until 4) {
            withClue("blocks/1/attn/$layer kernel[$i][$o]") {
                values.getValue("blocks/1/attn/$layer/kernel")[i * 4 + o] shouldBe timm("blocks.1.attn.qkv.weight")[(rowsFrom + o) * 4 + i]
            }
        }
        values.getValue("blocks/0/attn/k/bias").toList() shouldBe timm("blocks.0.attn.qkv.bias").slice(4 until 8)
        for (i in 0 until 4) for (o in 0 until 8) values.getValue("blocks/0/mlp/fc1/kernel")[i * 8 + o] shouldBe timm("blocks.0.mlp.fc1.weight")[o * 4 + i]
        // Conv [out, in, kh, kw] -> [kh, kw, in, out] (in = 1).
        for (o in 0 until 4) for (y in 0 until 2) for (x in 0 until 2) {
            values.getValue("patch_embed/kernel")[(y * 2 + x) * 4 + o] shouldBe timm("patch_embed.proj.weight")[(o * 2 + y) * 2 + x]
        }
        values.getValue("blocks/1/norm2/gamma").toList() shouldBe timm("blocks.1.norm2.weight").toList()
        values.getValue("norm/beta").toList() shouldBe timm("norm.bias").toList()
        values.getValue("embed/pos_embed").toList() shouldBe timm("pos_embed").toList()
        values.getValue("embed/cls_token").toList() shouldBe timm("cls_token").toList()
        values.getValue("head/bias").toList() shouldBe timm("head.bias").toList()
    }

    test("another class count skips the head and reports it; a distillation token has no counterpart and is named") {
        val file = write(dir.resolve("deit-1000.safetensors"), timmTensors(7, Random(2)))
        val (result, _) = import(file, 3)
        result.skipped().size shouldBe 2
        result.skipped()[0] shouldContain "head/kernel has shape [4, 3], the file [4, 7]"
        val distilled = write(dir.resolve("distilled.safetensors"), timmTensors(3, Random(3)) + Stored("dist_token", listOf(1, 1, c), FloatArray(4)))
        shouldThrow<IllegalArgumentException> { import(distilled, 3) }.message shouldContain "dist_token"
    }

    test("a training phase started from a .safetensors file imports every variable of the ViT (initFrom)") {
        val file = write(dir.resolve("init.safetensors"), timmTensors(3, Random(4)))
        val data = dev.kqat.runtime.data.SyntheticDataset.generate(64, intArrayOf(4, 4, 1), 3, 0.5, 1)
        val frozen = dev.kqat.runtime.train.OptimizerConfig.adamW(dev.kqat.runtime.schedule.Schedule.Constant(0.0), 0.0)
        val setup = dev.kqat.runtime.train.TrainingSetup(VisionTransformer("vit", config, 3, intArrayOf(4, 4, 1)), QuantPolicy.FLOAT, frozen, frozen, 0.0, 0)
        var imported = -1
        dev.kqat.runtime.run.PhaseRunner(setup).use { runner ->
            runner.train(dev.kqat.runtime.train.PhasePlan("pretrain", 1, 32, data, data, null, 1, false), null, file,
                object : dev.kqat.runtime.events.RunListener {
                    override fun weightsImported(phase: String, file: Path, loaded: Int, skipped: List<String>) {
                        imported = loaded
                    }
                })
        }
        // Class token and positions, patch projection, 16 per block (2 norms, q, k, v, proj, fc1, fc2), final norm, head.
        imported shouldBe 2 + 2 + 16 * 2 + 2 + 2
    }

    test("a timm Swin state dict (timm >= 0.9 layout): bias tables as they are, index buffers skipped, head.fc the head") {
        val swin = dev.kqat.runtime.models.SwinTransformer.Config(2, 8, intArrayOf(2, 1), intArrayOf(2, 4), 4, 2.0, 0.0)
        val random = Random(5)
        fun t(name: String, vararg shape: Long) = Stored(name, shape.toList(), FloatArray(shape.fold(1L) { a, b -> a * b }.toInt()) { random.nextFloat() - 0.5f })
        fun block(prefix: String, dim: Long, heads: Long) = listOf(
            t("$prefix.norm1.weight", dim), t("$prefix.norm1.bias", dim),
            t("$prefix.attn.qkv.weight", 3 * dim, dim), t("$prefix.attn.qkv.bias", 3 * dim),
            t("$prefix.attn.relative_position_bias_table", 49, heads),
            Stored("$prefix.attn.relative_position_index", listOf(16, 16), FloatArray(256), "I64"),
            t("$prefix.attn.proj.weight", dim, dim), t("$prefix.attn.proj.bias", dim),
            t("$prefix.norm2.weight", dim), t("$prefix.norm2.bias", dim),
            t("$prefix.mlp.fc1.weight", 2 * dim, dim), t("$prefix.mlp.fc1.bias", 2 * dim),
            t("$prefix.mlp.fc2.weight", dim, 2 * dim), t("$prefix.mlp.fc2.bias", dim),
        )
        val tensors = listOf(t("patch_embed.proj.weight", 8, 1, 2, 2), t("patch_embed.proj.bias", 8), t("patch_embed.norm.weight", 8), t("patch_embed.norm.bias", 8)) +
            block("layers.0.blocks.0", 8, 2) + block("layers.0.blocks.1", 8, 2) +
            listOf(t("layers.1.downsample.norm.weight", 32), t("layers.1.downsample.norm.bias", 32), t("layers.1.downsample.reduction.weight", 16, 32)) +
            block("layers.1.blocks.0", 16, 4) +
            listOf(t("norm.weight", 16), t("norm.bias", 16), t("head.fc.weight", 3, 16), t("head.fc.bias", 3))
        val file = write(dir.resolve("swin.safetensors"), tensors)
        val byName = tensors.associateBy { it.name }
        Graph().use { g ->
            val tf = Ops.create(g)
            val params = ParamStore(tf, 0)
            val ctx = NetContext(ModelState(params, QuantPolicy.FLOAT, listOf(), FakeQuantKernel.TF_OPS, QuantHooks.NONE), PassMode.EVAL, null)
            dev.kqat.runtime.models.SwinTransformer("swin", swin, 3, intArrayOf(16, 16, 1)).forward(ctx, tf.placeholder(TFloat32::class.java, Placeholder.shape(Shape.of(-1, 16, 16, 1))))
            Session(g).use { s ->
                s.initialize()
                val result = WeightImport.timmVit(s, params, file, "head")
                result.loaded() shouldBe params.withRole(ParamRole.WEIGHT).size
                s.fetchFloats(params.get("layers/0/blocks/1/attn/relative_position_bias_table").variable()).single().toList() shouldBe
                    byName.getValue("layers.0.blocks.1.attn.relative_position_bias_table").values.toList()
                val reduction = s.fetchFloats(params.get("layers/1/downsample/reduction/kernel").variable()).single()
                reduction[5 * 16 + 2] shouldBe byName.getValue("layers.1.downsample.reduction.weight").values[2 * 32 + 5]
                s.fetchFloats(params.get("head/bias").variable()).single().toList() shouldBe byName.getValue("head.fc.bias").values.toList()
            }
        }
    }
})
