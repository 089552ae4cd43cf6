package dev.kqat.runtime.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Prepares batches on a background thread so that the training step never waits on Java-side
 * copying. Close it to stop the producer and free batches not consumed.
 */
public final class Prefetcher implements Iterator<Batch>, AutoCloseable {
  private static final Object END = new Object();
  private final BlockingQueue<Object> queue;
  private final Thread producer;
  private Object head;
  private volatile boolean closed;

  public Prefetcher(Iterator<Batch> source, int depth) {
    this.queue = new ArrayBlockingQueue<>(depth);
    this.producer =
        new Thread(
            () -> {
              try {
                while (!closed && source.hasNext()) {
                  queue.put(source.next());
                }
                queue.put(END);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (RuntimeException e) {
                try {
                  queue.put(e);
                } catch (InterruptedException ie) {
                  Thread.currentThread().interrupt();
                }
              }
            },
            "kqat-prefetch");
    producer.setDaemon(true);
    producer.start();
  }

  @Override
  public boolean hasNext() {
    if (head == null) {
      try {
        head = queue.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for a batch", e);
      }
    }
    if (head instanceof RuntimeException e) {
      throw e;
    }
    return head != END;
  }

  @Override
  public Batch next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    Batch b = (Batch) head;
    head = null;
    return b;
  }

  @Override
  public void close() {
    closed = true;
    producer.interrupt();
    if (head instanceof Batch b) {
      b.close();
    }
    Object o;
    while ((o = queue.poll()) != null) {
      if (o instanceof Batch b) {
        b.close();
      }
    }
  }
}
