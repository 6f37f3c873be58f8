/* timestamp: placeholder, being written. */
