package dev.kqat.dsl

import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest

/**
 * Finished FP32 pre-training results shared between runs, so that every QAT script can start from
 * the same checkpoint without retraining it. An entry is `ROOT/<cacheKey>-<hash>/` where the hash
 * covers everything that determines the weights (data, model, pre-training recipe, seed): change
 * any of them and a new entry is trained. ROOT is `$KQAT_CACHE`, else `~/.cache/kqat/pretrained`.
 */
class PretrainCache(val root: Path = defaultRoot()) {
    companion object {
        fun defaultRoot(): Path = System.getenv("KQAT_CACHE")?.let { Path.of(it) }
            ?: Path.of(System.getProperty("user.home"), ".cache", "kqat", "pretrained")
    }

    fun entry(e: Experiment): Path {
        val pretrain = requireNotNull(e.pretrain) { "no pretrain phase" }
        val identity = withoutNulls(buildJsonObject {
            put("data", ExperimentJson.encodeToJsonElement(DataSpec.serializer(), e.data))
            put("model", ExperimentJson.encodeToJsonElement(ModelSpec.serializer(), e.model))
            put("pretrain", ExperimentJson.encodeToJsonElement(PhaseSpec.serializer(), pretrain.copy(cacheKey = null)))
            put("seed", e.seed)
        }).toString()
        val digest = MessageDigest.getInstance("SHA-256").digest(identity.toByteArray())
        val hash = digest.take(6).joinToString("") { "%02x".format(it) }
        return root.resolve("${pretrain.cacheKey}-$hash")
    }

    /**
     * Unset (null) fields leave the key alone, so that adding an optional field to the experiment
     * (e.g. `model.bnEpsilon`) does not orphan every cached checkpoint.
     */
    private fun withoutNulls(e: JsonElement): JsonElement = when (e) {
        is JsonObject -> JsonObject(e.filterValues { it !is JsonNull }.mapValues { withoutNulls(it.value) })
        is JsonArray -> JsonArray(e.map(::withoutNulls))
        else -> e
    }

    /** The cached outcome, if this entry was completed. */
    fun lookup(e: Experiment): PhaseOutcome? {
        val file = entry(e).resolve("outcome.json")
        if (!Files.isRegularFile(file)) return null
        val outcome = ExperimentJson.decodeFromString(PhaseOutcome.serializer(), Files.readString(file))
        return outcome.copy(checkpoint = entry(e).resolve("checkpoint").toString())
    }

    /** Stores a finished phase: checkpoint first, outcome last (its presence marks completion). */
    fun store(e: Experiment, outcome: PhaseOutcome) {
        val dir = entry(e)
        AtomicFiles.copyDirectory(Path.of(outcome.checkpoint), dir.resolve("checkpoint"))
        AtomicFiles.write(dir.resolve("outcome.json"), ExperimentJson.encodeToString(PhaseOutcome.serializer(), outcome))
    }
}
