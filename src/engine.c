/* engine: placeholder, being written. */
