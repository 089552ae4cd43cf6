package dev.kqat.scripts

import dev.kqat.dsl.Experiment
import dev.kqat.dsl.ExperimentJson
import kotlinx.serialization.SerializationException
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.jsonObject

/**
 * Applies `--set path=value` overrides to an experiment through its JSON form, so every field is
 * reachable without extra code: `qat.epochs=1`, `data.trainLimit=2000`, `quantization.weights.bits=3`,
 * `device=gpu:1`, `device.intraOpThreads=2`.
 * Values are parsed as JSON when they can be (numbers, booleans, null, objects), else as strings.
 */
object Overrides {
    fun apply(experiment: Experiment, assignments: List<String>): Experiment {
        if (assignments.isEmpty()) return experiment
        var tree: JsonElement = ExperimentJson.encodeToJsonElement(Experiment.serializer(), experiment)
        var result = experiment
        // One assignment at a time, so that a value of the wrong type is reported with its own --set.
        for (a in assignments) {
            val eq = a.indexOf('=')
            require(eq > 0) { "--set $a: expected path=value" }
            val path = a.substring(0, eq).split('.')
            tree = set(tree, path, value(a.substring(eq + 1)), a)
            result = try {
                ExperimentJson.decodeFromJsonElement(Experiment.serializer(), tree)
            } catch (e: SerializationException) {
                throw IllegalArgumentException("--set $a: ${e.message?.lineSequence()?.first()}", e)
            } catch (e: IllegalArgumentException) {
                throw IllegalArgumentException("--set $a: ${e.message?.lineSequence()?.first()}", e)
            }
            // Back to the full form, so that `device=gpu:1` can be followed by `device.intraOpThreads=2`.
            tree = ExperimentJson.encodeToJsonElement(Experiment.serializer(), result)
        }
        // The JSON dialect ignores unknown keys; a typo in a path must not pass silently.
        val check = ExperimentJson.encodeToJsonElement(Experiment.serializer(), result)
        for (a in assignments) {
            var node: JsonElement? = check
            for (key in a.substringBefore('=').split('.')) node = (node as? JsonObject)?.get(key)
            requireNotNull(node) { "--set $a: no such field '${a.substringBefore('=')}'" }
        }
        return result
    }

    /** JSON numbers, booleans, null, objects and quoted strings as such; any other word as a string. */
    private fun value(raw: String): JsonElement {
        val parsed = runCatching { ExperimentJson.parseToJsonElement(raw) }.getOrNull()
        val bareWord = parsed is JsonPrimitive && !parsed.isString && parsed !is JsonNull &&
            parsed.content.toDoubleOrNull() == null && parsed.content !in setOf("true", "false")
        return if (parsed == null || bareWord) JsonPrimitive(raw) else parsed
    }

    private fun set(node: JsonElement, path: List<String>, value: JsonElement, original: String): JsonElement {
        if (path.isEmpty()) return value
        val obj = if (node is JsonNull) JsonObject(emptyMap()) else node as? JsonObject
            ?: throw IllegalArgumentException("--set $original: '${path.first()}' is inside a value that is not an object")
        val key = path.first()
        val child = obj[key] ?: if (path.size == 1) JsonNull else JsonObject(emptyMap())
        return JsonObject(obj.jsonObject + (key to set(child, path.drop(1), value, original)))
    }
}
