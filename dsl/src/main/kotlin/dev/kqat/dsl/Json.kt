package dev.kqat.dsl

import kotlinx.serialization.json.Json

/** The JSON dialect of `experiment.json`: readable, tolerant of fields added by later versions. */
val ExperimentJson = Json {
    prettyPrint = true
    encodeDefaults = true
    ignoreUnknownKeys = true
    classDiscriminator = "type"
}

fun Experiment.toJson(): String = ExperimentJson.encodeToString(Experiment.serializer(), this)

fun experimentFromJson(text: String): Experiment = ExperimentJson.decodeFromString(Experiment.serializer(), text)

/** Reads an `experiment.json`; a file that is not one is reported with its path. */
fun readExperimentFile(file: java.nio.file.Path): Experiment {
    require(java.nio.file.Files.isRegularFile(file)) { "$file: experiment file not found" }
    return try {
        experimentFromJson(java.nio.file.Files.readString(file))
    } catch (e: kotlinx.serialization.SerializationException) {
        throw IllegalArgumentException("$file: not an experiment.json (${e.message?.lineSequence()?.first()})", e)
    }
}
