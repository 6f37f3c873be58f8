/* keys: placeholder, being written. */
