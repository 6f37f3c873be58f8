/* registry: placeholder, being written. */
