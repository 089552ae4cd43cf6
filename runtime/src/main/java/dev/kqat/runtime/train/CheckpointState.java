package dev.kqat.runtime.train;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Trainer position stored next to the variables of a checkpoint.
 *
 * @param phase phase name
 * @param epoch epochs completed in the phase
 * @param epochs epochs the phase has in total
 * @param globalStep optimizer steps completed in the phase
 */
public record CheckpointState(String phase, int epoch, int epochs, long globalStep) {
  static final String FILE = "state.properties";

  public boolean phaseComplete() {
    return epoch >= epochs;
  }

  void write(Path dir) throws IOException {
    Properties p = new Properties();
    p.setProperty("phase", phase);
    p.setProperty("epoch", Integer.toString(epoch));
    p.setProperty("epochs", Integer.toString(epochs));
    p.setProperty("globalStep", Long.toString(globalStep));
    try (Writer w = Files.newBufferedWriter(dir.resolve(FILE))) {
      p.store(w, "kqat checkpoint");
    }
  }

  static CheckpointState read(Path dir) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(dir.resolve(FILE))) {
      p.load(r);
    }
    try {
      return new CheckpointState(
          p.getProperty("phase"),
          Integer.parseInt(p.getProperty("epoch")),
          Integer.parseInt(p.getProperty("epochs")),
          Long.parseLong(p.getProperty("globalStep")));
    } catch (NumberFormatException | NullPointerException e) {
      throw new IOException(dir.resolve(FILE) + ": incomplete checkpoint state", e);
    }
  }
}
