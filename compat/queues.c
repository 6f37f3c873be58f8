/* queues: placeholder, being written. */
