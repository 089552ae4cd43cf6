package dev.kqat.dsl

import kotlinx.serialization.json.Json

/** The JSON dialect of `experiment.json`: readable, tolerant of fields added by later versions. */
val ExperimentJson = Json {
    prettyPrint = true
    encodeDefaults = true
    ignoreUnknownKeys = true
    classDiscriminator = "type"
}

/** One JSON object per line (metrics.jsonl). */
val LineJson = Json { encodeDefaults = true }

fun Experiment.toJson(): String = ExperimentJson.encodeToString(Experiment.serializer(), this)

fun experimentFromJson(text: String): Experiment = ExperimentJson.decodeFromString(Experiment.serializer(), text)
